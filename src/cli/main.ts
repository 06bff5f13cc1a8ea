#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { DosError, exitStatusFor } from '../core/errors.js';
import { loadConfig, type Config } from './config.js';
import { registerBot } from './commands/bot.js';
import { registerGet } from './commands/get.js';
import { registerInit } from './commands/init.js';
import { registerLs } from './commands/ls.js';
import { registerMount } from './commands/mount.js';
import { registerPasswd } from './commands/passwd.js';
import { registerPut } from './commands/put.js';
import { registerResume } from './commands/resume.js';
import { registerRm } from './commands/rm.js';
import { registerSlice } from './commands/slice.js';
import { registerStatus } from './commands/status.js';
import { registerVerify } from './commands/verify.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

let cached: Config | undefined;
const config = (): Config => (cached ??= loadConfig());

const program = new Command('dos')
  .description('Discord Object Store: your files, encrypted and compressed, as attachments in your own Discord server (or a local folder)')
  .version(version)
  .showHelpAfterError('(dos <command> --help shows usage)')
  .exitOverride();

registerInit(program, config);
registerPut(program, config);
registerLs(program, config);
registerGet(program, config);
registerMount(program, config);
registerVerify(program, config);
registerRm(program, config);
registerResume(program, config);
registerStatus(program, config);
registerPasswd(program, config);
registerSlice(program, config);
registerBot(program, config);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = exitCodeFor(err);
}

/** Prints the error once, plainly, and maps it to a stable exit status. */
function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed help/usage; --help and --version are not failures.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof DosError) {
    if (!err.details.quiet) process.stderr.write(`dos: error [${err.code}]: ${err.message}\n`);
    return exitStatusFor[err.code];
  }
  process.stderr.write(`dos: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}

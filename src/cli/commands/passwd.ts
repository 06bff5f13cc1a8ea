import type { Command } from 'commander';
import { read } from 'read';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { Config } from '../config.js';
import { printJson } from '../format.js';
import { notice, withStore } from '../open.js';

export function registerPasswd(program: Command, config: () => Config): void {
  program
    .command('passwd')
    .description('change the passphrase (USER_KEY): the master key is rewrapped, no data moves')
    .option('--force', 'change it even though archives the Python seed made will then need the old one as SEED_USER_KEY')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nThe current passphrase comes from USER_KEY. The new one from NEW_USER_KEY when set (for scripts),\nelse it is asked for twice on the terminal, without echo. Afterwards set USER_KEY to the new one\nwherever it is kept (.env, a secret store): the old passphrase no longer opens this store.')
    .action(async (opts: { force?: boolean; json?: boolean }) => {
      const cfg = config();
      // Asked before the store opens, so a typo costs no scrypt run and touches nothing.
      const newKey = await newPassphrase();
      await withStore(cfg, false, async (store) => {
        const change = await store.changePassphrase(cfg.userKey, newKey, { force: opts.force });
        if (change.seedArchivesOnOldKey > 0) notice(`${change.seedArchivesOnOldKey} archive(s) made by the Python seed still need the OLD passphrase: set SEED_USER_KEY to it to read them`);
        if (opts.json) printJson({ storeId: change.storeId, kdf: change.kdf, seedArchivesOnOldKey: change.seedArchivesOnOldKey });
        else process.stdout.write(`passphrase changed for store ${change.storeId}: set USER_KEY to the new passphrase (in .env or your environment); the old one no longer opens this store\n`);
      });
    });
}

async function newPassphrase(): Promise<string> {
  const fromEnv = process.env.NEW_USER_KEY?.trim();
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new DosError(ErrorCodes.BAD_INPUT, 'no new passphrase: set NEW_USER_KEY, or run dos passwd in a terminal to be asked for it');
  }
  const ask = async (prompt: string) => {
    try {
      return await read({ prompt, silent: true, replace: '', output: process.stderr });
    } catch (err) {
      // Ctrl-C or Ctrl-D at the prompt.
      throw new DosError(ErrorCodes.BAD_INPUT, 'cancelled; nothing was changed', {}, { cause: err });
    } finally {
      process.stderr.write('\n'); // the muted terminal did not echo the Enter
    }
  };
  const first = (await ask('new passphrase:')).trim();
  if (!first) throw new DosError(ErrorCodes.BAD_INPUT, 'the new passphrase is empty; nothing was changed');
  if ((await ask('the same again:')).trim() !== first) throw new DosError(ErrorCodes.BAD_INPUT, 'the two passphrases differ; nothing was changed');
  return first;
}

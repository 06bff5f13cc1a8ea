import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DOS_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const PRELOAD = fileURLToPath(new URL('../helpers/report-module-loads.mjs', import.meta.url));

/** The Discord side of the bundle (backend, bot) or of node_modules, whichever the CLI runs from. */
const DISCORD_CODE = /\/bundle\/(discord|bot)-[^/]*\.js$|\/node_modules\/(discord\.js|@discordjs)\//;

/** `timeout`: a command that would go on retrying is stopped; what it loaded by then is known. */
function discordModulesLoaded(args: string[], env: Record<string, string>, timeout?: number): string[] {
  const child = spawnSync(process.execPath, ['--import', PRELOAD, DOS_BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout });
  const loaded = [...child.stderr.matchAll(/DOS_TEST_LOADED=(\S+)/g)].map((m) => m[1]!);
  if (!loaded.some((url) => url.endsWith('/main.js'))) throw new Error(`the child did not report its modules: ${child.stderr}`);
  return loaded.filter((url) => DISCORD_CODE.test(url));
}

describe('start-up', () => {
  it('local commands never load the Discord code (discord.js and its REST client take most of a second)', () => {
    const env = { DOS_HOME: tempDir(), USER_KEY: 'k' };
    expect(discordModulesLoaded(['--version'], env)).toEqual([]);
    expect(discordModulesLoaded(['ls'], env)).toEqual([]);
    // The same probe does see it when the Discord backend is configured (nothing listens there:
    // the command would retry for a while, so it is stopped after a few seconds).
    const discord = { ...env, DISCORD_BOT_TOKEN: 'x.y.z', DISCORD_DRIVE_ARCHIVE_CHANNEL_ID: '1', DISCORD_API_BASE: 'http://127.0.0.1:9/api' };
    expect(discordModulesLoaded(['ls'], discord, 4000).length).toBeGreaterThan(0);
  });

  it('the Discord backend runs on discord.js\'s REST client alone, without loading discord.js itself', () => {
    const backend = fileURLToPath(new URL('../../dist/backends/discord/index.js', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', PRELOAD, '--input-type=module', '-e', `await import(${JSON.stringify(backend)})`], { encoding: 'utf8' });
    const loaded = [...child.stderr.matchAll(/DOS_TEST_LOADED=(\S+)/g)].map((m) => m[1]!);
    expect(loaded.some((url) => url.includes('/node_modules/@discordjs/rest/'))).toBe(true);
    expect(loaded.filter((url) => url.includes('/node_modules/discord.js/'))).toEqual([]);
  });
});

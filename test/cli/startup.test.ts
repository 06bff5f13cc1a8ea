import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DOS_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const PRELOAD = fileURLToPath(new URL('../helpers/report-discord-load.cjs', import.meta.url));

function discordLoaded(args: string[], env: Record<string, string>): boolean {
  const child = spawnSync(process.execPath, ['--require', PRELOAD, DOS_BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  const match = /DOS_TEST_DISCORD_LOADED=(true|false)/.exec(child.stderr);
  if (!match) throw new Error(`the child did not report: ${child.stderr}`);
  return match[1] === 'true';
}

describe('start-up', () => {
  it('local commands never load discord.js (it alone takes most of a second)', () => {
    const env = { DOS_HOME: tempDir(), USER_KEY: 'k' };
    expect(discordLoaded(['--version'], env)).toBe(false);
    expect(discordLoaded(['ls'], env)).toBe(false);
  });
});

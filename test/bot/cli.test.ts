import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { DOS_BIN } from '../helpers/cli.js';
import { command, fileTempDir, sleep } from './helpers.js';

/** `dos bot` as a user runs it: the built CLI as a child process, pointed at the emulator. */
let emu: Emulator;
let root: string;

beforeAll(async () => {
  if (!existsSync(DOS_BIN)) throw new Error(`${DOS_BIN} is missing: run "npm run build" first (npm test does)`);
  emu = await startEmulator({ profile: 'fast' });
  root = fileTempDir('dos-bot-cli-');
});
afterAll(async () => {
  await emu?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('dos bot', () => {
  it('logs one line when ready, answers commands, and exits cleanly on SIGTERM', async () => {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, DOS_HOME: join(root, 'home'), USER_KEY: 'a long passphrase for the bot test',
      DISCORD_DRIVE_UPLOAD_PATH: join(root, 'up'), DISCORD_DRIVE_DOWNLOAD_PATH: join(root, 'down'), ...emu.env(),
    };
    const child = spawn(process.execPath, [DOS_BIN, 'bot'], { env, cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 300 && !stdout.includes('bot ready'); i++) await sleep(50);
      expect(stdout, stderr).toMatch(/^dos: bot ready as .+ \(admins only\); uploads from .*\/up, downloads to .*\/down \(Ctrl-C stops\)\n$/);
      const reply = await command({ emu }, '!status');
      expect(reply[0]).toMatch(/📊 \*\*Bot Status\*\*[\s\S]*Encryption: ✅ Enabled/);
      expect(existsSync(join(root, 'up'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
  }, 30_000);

  it('refuses to start without Discord settings', async () => {
    const child = spawn(process.execPath, [DOS_BIN, 'bot'], { env: { PATH: process.env.PATH ?? '', HOME: root, DOS_HOME: join(root, 'h2') }, cwd: root });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/dos bot needs DISCORD_BOT_TOKEN and DISCORD_DRIVE_ARCHIVE_CHANNEL_ID/);
  });
});

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { command } from '../bot/helpers.js';
import { closeAll, emulator } from '../discord/helpers.js';
import { DOS_BIN, runDos } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { cleanupMounts, fusermount, hasFuse, KEY, Mount, shAsync, sleep } from './helpers.js';

/**
 * `dos mount --bot`: the companion bot in the mount's process, on the mount's store and index,
 * against the emulator. The emulator runs in this process: everything touching the mount is
 * asynchronous, or the mount's requests to the emulator would wait on a blocked event loop.
 */

/** Whether `dir` is a mount point now (this process sees the child's FUSE mount). */
function mounted(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === dir);
}

const dirs: string[] = [];

describe.skipIf(!hasFuse)('dos mount --bot', () => {
  beforeAll(() => {
    if (!existsSync(DOS_BIN)) throw new Error(`${DOS_BIN} is missing: run "npm run build" first (npm test does)`);
  });
  afterEach(async () => {
    await cleanupMounts();
    for (const dir of dirs.splice(0)) fusermount(dir);
    await closeAll();
  });

  it('answers !archives from the mount’s index, a file copied in becomes an archive with a card, SIGTERM stops the bot then unmounts', async () => {
    const emu = await emulator();
    const root = tempDir('dos-mount-bot-');
    const dir = join(root, 'drive');
    dirs.push(dir);
    await mkdir(dir);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, DOS_HOME: join(root, 'home'), USER_KEY: KEY,
      DOS_MOUNT_BATCH_MS: '200', DISCORD_DRIVE_UPLOAD_PATH: join(root, 'up'), DISCORD_DRIVE_DOWNLOAD_PATH: join(root, 'down'), ...emu.env(),
    };
    const child = spawn(process.execPath, [DOS_BIN, 'mount', dir, '--bot'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const m = await new Mount(dir, child, env).ready();
    for (let i = 0; i < 300 && !stdout.includes('bot ready'); i++) await sleep(50);
    expect(stdout, m.output).toMatch(/^dos: mounted 0 archive\(s\) from the .+ \(Ctrl-C unmounts\)\ndos: bot ready as .+ \(admins only\); uploads from .*\/up, downloads to .*\/down\n$/);
    // One gateway session: the bot's. The mount itself only uses REST.
    expect(emu.gatewayConnections()).toBe(1);
    expect(await command({ emu }, '!archives')).toEqual(['📭 No archives found.']);

    const src = join(root, 'a.txt');
    await writeFile(src, 'copied through the mount\n');
    await mkdir(m.path('letters'));
    const cp = await shAsync(`cp ${src} ${m.path('letters')}/`);
    expect(cp.code, cp.stderr).toBe(0);
    await m.settled(60_000);
    const cards = emu.state.messages(emu.archiveChannelId)
      .filter((msg) => msg.authorId === emu.botUser.id && msg.embeds.some((e) => String(e['title'] ?? '').startsWith('📦 Archive')));
    expect(cards).toHaveLength(1);
    const id = /#\d{6}-\d+/.exec(String(cards[0]!.embeds[0]!['title']))![0];
    // The bot reads the index the mount just committed to: no second store, no sync needed.
    const listing = (await command({ emu }, '!archives')).join('\n');
    expect(listing).toContain(id);
    expect(listing).toContain('letters');
    expect((await command({ emu }, '!status'))[0]).toMatch(/📚 Archives: 1 entries/);

    child.kill('SIGTERM');
    const exit = await m.exited;
    expect(exit, m.output).toEqual({ code: 0, signal: null });
    expect(m.output).toMatch(/SIGTERM: stopping the bot first[\s\S]*dos: unmounted /);
    expect(mounted(dir)).toBe(false);
    for (let i = 0; i < 40 && emu.gatewayConnections() > 0; i++) await sleep(25);
    expect(emu.gatewayConnections()).toBe(0);
    expect(await readdir(dir)).toEqual([]);

    const ls = JSON.parse((await runDos(['ls', '--json'], env)).stdout) as Array<{ id: string; name: string }>;
    expect(ls.map((a) => [a.id, a.name])).toEqual([[id, 'letters']]);
  }, 120_000);

  it('refuses --bot without Discord settings, before mounting anything', async () => {
    const root = tempDir('dos-mount-bot-');
    const dir = join(root, 'drive');
    dirs.push(dir);
    const r = await runDos(['mount', dir, '--bot'], { DOS_HOME: join(root, 'home'), USER_KEY: KEY });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/dos: error \[BAD_INPUT\]: dos mount --bot needs DISCORD_BOT_TOKEN and DISCORD_DRIVE_ARCHIVE_CHANNEL_ID/);
    expect(r.stdout).toBe('');
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(root, 'home'))).toBe(false);
  });
});

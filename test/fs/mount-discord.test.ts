import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closeAll, emulator, packAttachments } from '../discord/helpers.js';
import { botRest, postFixture } from '../discord/seed-post.js';
import { DOS_BIN } from '../helpers/cli.js';
import { readFixtureExpectation } from '../helpers/seed-fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { noise, randomText, writeTree } from '../helpers/trees.js';
import { cleanupMounts, hasFuse, makeHome, shAsync } from './helpers.js';

const MiB = 1024 * 1024;

/** The errno code an fs promise rejects with (undefined if it resolves). */
async function errnoOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
  return undefined;
}

// The emulator runs in this process: everything that touches the mount must be asynchronous
// (fs/promises, shAsync), or the mount's requests to the emulator wait on a blocked event loop.
describe.skipIf(!hasFuse)('dos mount on the Discord backend (emulator)', () => {
  beforeAll(() => {
    if (!existsSync(DOS_BIN)) throw new Error(`${DOS_BIN} is missing: run "npm run build" first (npm test does)`);
  });
  afterEach(async () => {
    await cleanupMounts();
    await closeAll();
  });

  it('cp -r a mixed tree in, upload, remount, diff -r; seed archives are read-only folders whose files read byte-exact', async () => {
    const emu = await emulator();
    await postFixture(emu, botRest(emu)); // a seed archive, #271126-07 "Holiday Photos"
    const expected = await readFixtureExpectation('legacy-v3.1');
    // The seed's chunks are encrypted with USER_KEY itself: the store shares the fixture's key.
    const { dos, mount } = makeHome({ ...emu.env(), DOS_MOUNT_BATCH_MS: '300', USER_KEY: expected.user_key });
    const src = tempDir();
    writeTree(src, {
      'big.bin': noise(11 * MiB + 5, 21), // more than one 10 MiB attachment
      'notes/readme.md': randomText(30_000),
      'notes/deep/x.txt': 'x\n',
      'empty.txt': '',
      'photos/a.jpg': noise(400_000, 22),
    });
    await mkdir(join(src, 'emptydir'));

    const m = await mount();
    expect((await readdir(m.dir)).sort()).toEqual(['Holiday Photos']);
    await mkdir(m.path('trip'));
    const cp = await shAsync(`cp -r ${src}/. ${m.path('trip')}/`);
    expect(cp.code, cp.stderr).toBe(0);
    await m.settled(120_000);
    expect(packAttachments(emu).length).toBeGreaterThanOrEqual(2);
    const before = await shAsync(`diff -r ${src} ${m.path('trip')}`);
    expect(before.code, before.stdout + before.stderr).toBe(0);

    // The seed archive: its files as its manifests name them, read-only, byte-exact when read
    // (the first read restores the whole archive into the cache); nothing may change it.
    const seed = m.path('Holiday Photos');
    expect((await stat(seed)).mode & 0o777).toBe(0o555);
    expect((await readdir(seed)).sort()).toEqual(Object.keys(expected.files).sort());
    for (const [name, e] of Object.entries(expected.files)) {
      const st = await stat(join(seed, name));
      expect([st.size, st.mode & 0o777], name).toEqual([e.size, 0o444]);
    }
    for (const [name, e] of Object.entries(expected.files)) {
      expect(createHash('sha256').update(await readFile(join(seed, name))).digest('hex'), name).toBe(e.sha256);
    }
    expect(await errnoOf(writeFile(join(seed, 'hello.txt'), 'x'))).toBe('EROFS');
    expect(await errnoOf(writeFile(join(seed, 'new.txt'), 'x'))).toBe('EROFS');
    expect(await errnoOf(mkdir(join(seed, 'sub')))).toBe('EROFS');
    expect(await errnoOf(rmdir(seed))).toBe('EROFS');
    expect(await errnoOf(rename(seed, m.path('renamed')))).toBe('EROFS');
    expect(await errnoOf(writeFile(join(seed, '.DS_Store'), 'finder'))).toBe('EROFS');
    expect(await errnoOf(mkdir(seed))).toBe('EEXIST');
    await m.stop();

    // Without the disk cache the first mount filled, every byte comes from the emulator's CDN.
    const again = await mount(m.dir, { DOS_DISK_CACHE_MB: '0' });
    const after = await shAsync(`diff -r ${src} ${again.path('trip')}`);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect((await again.info(Date.now() + 10)).backendReads.bytes).toBeGreaterThan(11 * MiB);
    expect((await readFile(again.path('trip', 'big.bin'))).equals(noise(11 * MiB + 5, 21))).toBe(true);
    await again.stop();

    const ls = JSON.parse((await dos(['ls', '--json'])).stdout) as Array<{ id: string; name: string }>;
    expect(ls.map((a) => a.name).sort()).toEqual(['Holiday Photos', 'trip']);
    const verify = await dos(['verify', 'trip', '--deep']);
    expect(verify.code, verify.stderr).toBe(0);
  }, 180_000);

  it('restored seed archives stay within DOS_SEED_CACHE_MB: the least recently read one goes, and reads again by restoring it', async () => {
    const emu = await emulator();
    const rest = botRest(emu);
    await postFixture(emu, rest, '#271126-07', 7);
    await postFixture(emu, rest, '#271126-08', 8);
    const expected = await readFixtureExpectation('legacy-v3.1');
    // A bound of 0 keeps only the archive being read.
    const { home, mount } = makeHome({ ...emu.env(), USER_KEY: expected.user_key, DOS_SEED_CACHE_MB: '0' });
    const m = await mount();
    const [first, second] = (await readdir(m.dir)).sort();
    const readAll = async (folder: string) => {
      for (const [name, e] of Object.entries(expected.files)) {
        expect(createHash('sha256').update(await readFile(m.path(folder, name))).digest('hex'), `${folder}/${name}`).toBe(e.sha256);
      }
    };
    const restored = async () => (await readdir(join(home, 'cache', 'seed'))).filter((n) => n.endsWith('.restored')).sort();

    await readAll(first!);
    expect(await restored()).toHaveLength(1);
    const firstMarker = (await restored())[0];
    await readAll(second!);
    expect(await restored()).toHaveLength(1);
    expect((await restored())[0]).not.toBe(firstMarker);
    await readAll(first!); // dropped meanwhile: restored again, byte-exact
    expect(await restored()).toEqual([firstMarker]);
    expect(m.output).toMatch(/seed cache: dropped #271126-0[78]/);
    await m.stop();
  }, 180_000);
});

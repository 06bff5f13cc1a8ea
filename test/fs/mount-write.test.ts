import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp.js';
import { noise, randomText, snapshot, writeTree } from '../helpers/trees.js';
import { cleanupMounts, hasFuse, makeHome, sh } from './helpers.js';

const MiB = 1024 * 1024;

function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
  return undefined;
}

describe.skipIf(!hasFuse)('dos mount: writing', () => {
  afterEach(cleanupMounts);

  it('cp -r a mixed tree in: readable before and after the upload, and after a remount (diff -r)', async () => {
    const { dos, mount } = makeHome({ DOS_MOUNT_BATCH_MS: '5000' });
    const src = tempDir();
    writeTree(src, {
      'big.bin': noise(5 * MiB + 123, 1),
      'notes/readme.md': randomText(20_000),
      'notes/deep/er/x.txt': 'x\n',
      'empty.txt': '',
      'photos/a.jpg': noise(300_000, 2),
      'photos/b.jpg': noise(70_000, 3),
    });
    mkdirSync(join(src, 'emptydir'));
    const m = await mount();
    mkdirSync(m.path('work')); // mkdir at the root makes an archive
    expect(sh(`cp -r ${src}/. ${m.path('work')}/`).code).toBe(0);
    // Before the upload: served from staging.
    const info = await m.info();
    expect(info.pending.changes).toBeGreaterThan(0);
    const status = JSON.parse((await dos(['status', '--json'])).stdout) as { pendingUploads: number; mounts: Array<{ mountpoint: string }> };
    expect(status.pendingUploads).toBeGreaterThan(0);
    expect(status.mounts.map((x) => x.mountpoint)).toEqual([m.dir]);
    expect(snapshot(m.path('work'))).toEqual(snapshot(src));
    await m.settled();
    expect(snapshot(m.path('work'))).toEqual(snapshot(src));
    expect(sh(`diff -r ${src} ${m.path('work')}`).code).toBe(0);
    await m.stop();

    const again = await mount(m.dir);
    expect(sh(`diff -r ${src} ${again.path('work')}`).code).toBe(0);
    expect(statSync(again.path('work', 'big.bin')).size).toBe(5 * MiB + 123);
    await again.stop();
    const out = join(tempDir(), 'out');
    expect((await dos(['get', 'work', out])).code).toBe(0);
    expect(snapshot(out)).toEqual(snapshot(src));
  });

  it('a big file is committed as soon as it is closed, without waiting out the batch window', async () => {
    // A window of 10 minutes: only a file big enough to skip it can be committed within the test.
    const { dos, mount } = makeHome({ DOS_MOUNT_BATCH_MS: '600000' });
    const m = await mount();
    mkdirSync(m.path('big'));
    const data = noise(40 * MiB, 9);
    writeFileSync(m.path('big', 'video.bin'), data);
    await m.settled(60_000);
    const ls = JSON.parse((await dos(['ls', 'big', '--json'])).stdout) as Array<{ path: string; size: number }>;
    expect(ls.find((e) => e.path === 'video.bin')?.size).toBe(40 * MiB);
    // Small changes still wait for the window (and would be gathered into one generation).
    writeFileSync(m.path('big', 'note.txt'), 'small');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await m.info()).pending.changes).toBe(1);
    await m.kill9();
  }, 90_000);

  it('a shell redirect onto an existing file makes one new version, never an empty one in between', async () => {
    // No batching: every change would be committed on its own, the worst case for `>`, which
    // the kernel sends as truncate(0), then open, write, close.
    const { dos, mount } = makeHome({ DOS_MOUNT_BATCH_MS: '0' });
    const m = await mount();
    mkdirSync(m.path('work'));
    writeFileSync(m.path('work', 'config.txt'), 'old contents\n');
    await m.settled();
    const generation = async () => (JSON.parse((await dos(['ls', '--json'])).stdout) as Array<{ name: string; generation: number }>).find((a) => a.name === 'work')!.generation;
    const before = await generation();
    expect(sh(`printf 'new contents\\n' > ${m.path('work', 'config.txt')}`).code).toBe(0);
    expect(readFileSync(m.path('work', 'config.txt'), 'utf8')).toBe('new contents\n');
    await m.settled();
    expect(await generation()).toBe(before + 1);
    // Truncating a file nobody opens afterwards still commits, shortly after.
    truncateSync(m.path('work', 'config.txt'), 3);
    await m.settled();
    expect(await generation()).toBe(before + 2);
    await m.stop();
    const again = await mount(m.dir);
    expect(readFileSync(again.path('work', 'config.txt'), 'utf8')).toBe('new');
    await again.stop();
  });

  it('mv, rm, rm -r, rmdir, truncate, append, overwrite, touch, utimes (atime and mtime apart) and chmod persist across a remount; errnos', async () => {
    const { dos, mount } = makeHome();
    const src = tempDir();
    writeTree(src, { 'keep.txt': 'keep\n', 'log.txt': 'line1\n', 'big.bin': noise(2 * MiB, 4), 'd1/a.txt': 'a', 'd1/sub/b.txt': 'b', 'd2/c.txt': 'c', 'gone.txt': 'gone' });
    expect((await dos(['put', src, '--name', 'box'])).code).toBe(0);
    const m = await mount();
    const p = (...parts: string[]) => m.path('box', ...parts);

    appendFileSync(p('log.txt'), 'line2\n');
    writeFileSync(p('keep.txt'), 'overwritten\n');
    truncateSync(p('big.bin'), 1000);
    renameSync(p('d1'), p('moved'));
    renameSync(p('moved', 'a.txt'), p('a-renamed.txt'));
    unlinkSync(p('gone.txt'));
    sh(`rm -r ${p('d2')}`);
    mkdirSync(p('newdir'));
    mkdirSync(p('newdir', 'inner'));
    rmdirSync(p('newdir', 'inner'));
    sh(`touch ${p('touched.txt')}`);
    chmodSync(p('keep.txt'), 0o640);
    const when = new Date('2023-01-02T03:04:05Z');
    utimesSync(p('a-renamed.txt'), when, when);
    // cp -p, rsync -t and tar set an access time different from the modification time.
    const modified = new Date('2021-06-07T08:09:10Z');
    utimesSync(p('moved', 'sub', 'b.txt'), new Date('2020-01-01T00:00:00Z'), modified);

    // errnos
    expect(errnoOf(() => rmdirSync(p('moved')))).toBe('ENOTEMPTY');
    expect(errnoOf(() => mkdirSync(p('moved')))).toBe('EEXIST');
    expect(errnoOf(() => readFileSync(p('nope.txt')))).toBe('ENOENT');
    expect(errnoOf(() => unlinkSync(p('moved')))).toBe('EISDIR');
    expect(errnoOf(() => rmdirSync(p('keep.txt')))).toBe('ENOTDIR');
    expect(errnoOf(() => writeFileSync(m.path('file-at-root.txt'), 'x'))).toBe('EROFS');
    expect(errnoOf(() => renameSync(p('newdir'), p('moved')))).toBe('ENOTEMPTY');
    expect(errnoOf(() => readdirSync(p('keep.txt')))).toBe('ENOTDIR');
    // Names the store would refuse at commit are refused now, not dropped after the writer was told all was well.
    expect(errnoOf(() => writeFileSync(p('back\\slash.txt'), 'x'))).toBe('EINVAL');
    expect(errnoOf(() => mkdirSync(p('c:')))).toBe('EINVAL');
    expect(errnoOf(() => renameSync(p('touched.txt'), p('d:touched.txt')))).toBe('EINVAL');

    const expected = {
      'keep.txt': 'overwritten\n', 'log.txt': 'line1\nline2\n', 'a-renamed.txt': 'a', 'moved/sub/b.txt': 'b', 'touched.txt': '',
    };
    const check = (root: string) => {
      for (const [path, content] of Object.entries(expected)) expect(readFileSync(join(root, path), 'utf8'), path).toBe(content);
      expect(readFileSync(join(root, 'big.bin')).equals(noise(2 * MiB, 4).subarray(0, 1000))).toBe(true);
      expect(readdirSync(root).sort()).toEqual(['a-renamed.txt', 'big.bin', 'keep.txt', 'log.txt', 'moved', 'newdir', 'touched.txt']);
      expect(readdirSync(join(root, 'newdir'))).toEqual([]);
      expect(statSync(join(root, 'keep.txt')).mode & 0o777).toBe(0o640);
      expect(statSync(join(root, 'a-renamed.txt')).mtimeMs).toBe(when.getTime());
      expect(statSync(join(root, 'moved', 'sub', 'b.txt')).mtimeMs).toBe(modified.getTime());
    };
    check(p());
    await m.settled();
    check(p());
    await m.stop();
    const again = await mount(m.dir);
    check(again.path('box'));
  });

  it('a modification time before 1970 is archived as such (within the 2 s fuse-native keeps of it), not as a date centuries away', async () => {
    const { dos, mount } = makeHome({ DOS_MOUNT_BATCH_MS: '100' });
    const m = await mount();
    mkdirSync(m.path('old'));
    writeFileSync(m.path('old', 'f.txt'), 'from the sixties');
    const sixties = new Date('1960-01-01T00:00:00Z');
    utimesSync(m.path('old', 'f.txt'), sixties, sixties);
    await m.settled();
    await m.stop();
    const [entry] = JSON.parse((await dos(['ls', 'old', '--json'])).stdout) as Array<{ mtime: string }>;
    expect(Math.abs(Date.parse(entry!.mtime) - sixties.getTime())).toBeLessThanOrEqual(2000);
    const out = join(tempDir(), 'out');
    expect((await dos(['get', 'old', out])).code).toBe(0);
    expect(Math.abs(statSync(join(out, 'f.txt')).mtimeMs - sixties.getTime())).toBeLessThanOrEqual(2000);
  });

  it('a full staging disk gives the writer ENOSPC, never a shorter file', async (ctx) => {
    const { dos, mount, home } = makeHome();
    const src = tempDir();
    writeTree(src, { 'big.bin': noise(8 * MiB, 21) });
    expect((await dos(['put', src, '--name', 'full'])).code).toBe(0);
    const staging = join(home, 'staging');
    mkdirSync(staging, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', staging], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // needs root to mount a tiny tmpfs; CI runs as root
    }
    try {
      const m = await mount();
      // Changing a committed file starts from a copy of all of it: 8 MiB do not fit in 6.
      expect(errnoOf(() => closeSync(openSync(m.path('full', 'big.bin'), 'r+')))).toBe('ENOSPC');
      expect(errnoOf(() => writeFileSync(m.path('full', 'new.bin'), noise(10 * MiB, 22)))).toBe('ENOSPC');
      expect(readFileSync(m.path('full', 'big.bin')).equals(noise(8 * MiB, 21))).toBe(true);
      await m.settled();
      await m.stop();
      const again = await mount(m.dir);
      expect(readFileSync(again.path('full', 'big.bin')).equals(noise(8 * MiB, 21))).toBe(true);
      await again.stop();
    } finally {
      execFileSync('umount', ['-l', staging], { stdio: 'ignore' });
    }
  });

  it('._foo and .DS_Store stay local: served by the mount, never uploaded', async () => {
    const { dos, mount } = makeHome();
    const m = await mount();
    mkdirSync(m.path('mac'));
    writeFileSync(m.path('mac', 'real.txt'), 'real');
    writeFileSync(m.path('mac', '._real.txt'), 'appledouble');
    writeFileSync(m.path('mac', '.DS_Store'), 'finder');
    mkdirSync(m.path('mac', 'sub'));
    writeFileSync(m.path('mac', 'sub', '._x'), 'x');
    renameSync(m.path('mac', 'sub'), m.path('mac', 'sub2'));
    expect(readdirSync(m.path('mac')).sort()).toEqual(['.DS_Store', '._real.txt', 'real.txt', 'sub2']);
    expect(readFileSync(m.path('mac', 'sub2', '._x'), 'utf8')).toBe('x');
    await m.stop();
    const listing = (await dos(['ls', 'mac', '-r', '--json'])).stdout;
    expect(listing).toContain('real.txt');
    expect(listing).not.toContain('._');
    expect(listing).not.toContain('DS_Store');
    const again = await mount(m.dir);
    expect(readFileSync(again.path('mac', '.DS_Store'), 'utf8')).toBe('finder');
    expect(readFileSync(again.path('mac', 'sub2', '._x'), 'utf8')).toBe('x');
  });

  it('a file being uploaded is readable from staging while it uploads', async () => {
    const { mount } = makeHome({ DOS_MOUNT_BATCH_MS: '2500' });
    const m = await mount();
    mkdirSync(m.path('up'));
    const data = noise(12 * MiB, 11);
    writeFileSync(m.path('up', 'f.bin'), data);
    expect((await m.info()).pending.files).toBe(1);
    expect(readFileSync(m.path('up', 'f.bin')).equals(data)).toBe(true);
    await m.settled();
    expect(readFileSync(m.path('up', 'f.bin')).equals(data)).toBe(true);
    rmSync(m.path('up', 'f.bin'));
  });
});

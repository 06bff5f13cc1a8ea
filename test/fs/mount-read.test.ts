import { afterEach, describe, expect, it } from 'vitest';
import { openSync, readSync, closeSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp.js';
import { noise, writeTree } from '../helpers/trees.js';
import { cleanupMounts, hasFuse, makeHome, packFiles } from './helpers.js';

const MiB = 1024 * 1024;

describe.skipIf(!hasFuse)('dos mount: reading', () => {
  afterEach(cleanupMounts);

  it('shows archives as folders (duplicates get their id) with real sizes, modes, mtimes and stable inodes', async () => {
    const { dos, mount } = makeHome();
    const src = tempDir();
    writeTree(src, { 'a.txt': 'alpha\n', 'dir/b.bin': noise(3 * MiB + 17, 2), 'dir/empty': '' });
    const mtime = new Date('2024-05-06T07:08:09.000Z');
    const { utimesSync, chmodSync } = await import('node:fs');
    utimesSync(join(src, 'a.txt'), mtime, mtime);
    chmodSync(join(src, 'a.txt'), 0o600);
    expect((await dos(['put', src, '--name', 'docs'])).code).toBe(0);
    expect((await dos(['put', src, '--name', 'docs'])).code).toBe(0);
    const listed = JSON.parse((await dos(['ls', '--json'])).stdout) as Array<{ id: string }>;

    const m = await mount();
    expect(readdirSync(m.dir).sort()).toEqual(['docs', `docs (${listed[1]!.id})`]);
    expect(readdirSync(m.path('docs')).sort()).toEqual(['a.txt', 'dir']);
    const a = statSync(m.path('docs', 'a.txt'));
    expect(a.size).toBe(6);
    expect(a.mode & 0o7777).toBe(0o600);
    expect(a.mtimeMs).toBe(mtime.getTime());
    expect(statSync(m.path('docs', 'dir')).isDirectory()).toBe(true);
    expect(statSync(m.path('docs', 'dir', 'b.bin')).size).toBe(3 * MiB + 17);
    expect(statSync(m.path('docs', 'dir', 'empty')).size).toBe(0);
    expect(readFileSync(m.path('docs', 'dir', 'empty')).length).toBe(0);
    expect(readFileSync(m.path('docs', 'dir', 'b.bin')).equals(noise(3 * MiB + 17, 2))).toBe(true);
    const ino = statSync(m.path('docs', 'dir', 'b.bin')).ino;
    expect(statSync(m.path('docs', 'dir', 'b.bin')).ino).toBe(ino);
    expect(statSync(m.path('docs', 'a.txt')).ino).not.toBe(ino);
    await m.stop();
    const again = await mount(m.dir);
    expect(statSync(again.path('docs', 'dir', 'b.bin')).ino).toBe(ino);
  });

  it('a cold random 4 KiB read fetches about one frame; two readers of one file share the fetches', async () => {
    const { dos, mount } = makeHome();
    const src = tempDir();
    const data = noise(24 * MiB, 7);
    writeTree(src, { 'video.mov': data });
    expect((await dos(['put', src, '--name', 'media'])).code).toBe(0);

    const m = await mount();
    const before = (await m.info()).backendReads;
    const fd = openSync(m.path('media', 'video.mov'), 'r');
    const buf = Buffer.alloc(4096);
    const at = 13 * MiB + 200 * 1024;
    expect(readSync(fd, buf, 0, 4096, at)).toBe(4096);
    closeSync(fd);
    expect(buf.equals(data.subarray(at, at + 4096))).toBe(true);
    const after = (await m.info(Date.now() + 10)).backendReads;
    expect(after.bytes - before.bytes).toBeGreaterThan(0);
    expect(after.bytes - before.bytes).toBeLessThanOrEqual(1.1 * MiB);

    // Two readers at once: both byte-exact, and the file is fetched about once, not twice.
    const [one, two] = await Promise.all([readFile(m.path('media', 'video.mov')), readFile(m.path('media', 'video.mov'))]);
    expect(one.equals(data)).toBe(true);
    expect(two.equals(data)).toBe(true);
    const end = (await m.info(Date.now() + 10)).backendReads;
    expect(end.bytes - after.bytes).toBeLessThan(data.length * 1.2);
  });

  it('a tampered pack gives EIO and a log line naming the file and offset, never wrong bytes', async () => {
    const { home, dos, mount } = makeHome();
    const src = tempDir();
    const data = noise(3 * MiB, 9);
    writeTree(src, { 'secret.bin': data });
    expect((await dos(['put', src, '--name', 'vault'])).code).toBe(0);
    // Flip one byte inside the second frame's ciphertext (frames are ~1 MiB, after the 8-byte magic).
    const [pack] = packFiles(home).filter((p) => p.endsWith('.pack')).sort((x, y) => statSync(y).size - statSync(x).size);
    const bytes = readFileSync(pack!);
    bytes[8 + MiB + 5000]! ^= 0xff;
    writeFileSync(pack!, bytes);

    const m = await mount();
    const fd = openSync(m.path('vault', 'secret.bin'), 'r');
    const buf = Buffer.alloc(4096);
    expect(readSync(fd, buf, 0, 4096, 100)).toBe(4096); // frame 0 is intact
    expect(buf.equals(data.subarray(100, 4196))).toBe(true);
    let error: NodeJS.ErrnoException | undefined;
    try {
      readSync(fd, buf, 0, 4096, MiB + 100);
    } catch (err) {
      error = err as NodeJS.ErrnoException;
    }
    closeSync(fd);
    expect(error?.code).toBe('EIO');
    await expect(readFile(m.path('vault', 'secret.bin'))).rejects.toMatchObject({ code: 'EIO' });
    expect(m.output).toMatch(/EIO: #\d{6}-\d+\/secret\.bin at byte 1048576/);
  });

  it('a file held open for reading reads what a writer wrote since, so no later reader gets the old bytes', async () => {
    const { dos, mount } = makeHome();
    const src = tempDir();
    const original = noise(2 * MiB, 31);
    writeTree(src, { 'big.bin': original });
    expect((await dos(['put', src, '--name', 'live'])).code).toBe(0);
    const m = await mount();
    const path = m.path('live', 'big.bin');
    const at = MiB + 100; // a page nobody has read yet
    const one = (fd: number, position: number) => {
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, position);
      return b[0];
    };
    const holder = openSync(path, 'r'); // tail -f, a media player, an indexer
    expect(one(holder, 0)).toBe(original[0]);
    const writer = openSync(path, 'r+');
    writeSync(writer, Buffer.from([original[at]! ^ 0xff]), 0, 1, at);
    closeSync(writer);
    const later = openSync(path, 'r');
    // The holder reads the changed page first: what it gets lands in the kernel's page cache.
    expect(one(holder, at)).toBe(original[at]! ^ 0xff);
    expect(one(later, at)).toBe(original[at]! ^ 0xff);
    // Renamed and replaced under it, the holder keeps its own file, as on a local disk.
    const renamed = m.path('live', 'big.old');
    renameSync(path, renamed);
    writeFileSync(path, 'a new file in its place');
    expect(one(holder, at)).toBe(original[at]! ^ 0xff);
    closeSync(holder);
    closeSync(later);
    await m.settled();
    expect(readFileSync(renamed)[at]).toBe(original[at]! ^ 0xff);
  });
});


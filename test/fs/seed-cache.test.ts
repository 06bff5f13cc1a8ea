import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeedCache } from '../../src/store/mount/seed-cache.js';
import { tempDir } from '../helpers/temp.js';

const MB = 1_000_000;

/** Lays out a restored archive's folder with one file of `bytes`. */
function restoredFolder(cache: SeedCache, id: string, bytes: number): void {
  mkdirSync(join(cache.folderOf(id), 'sub'), { recursive: true });
  writeFileSync(join(cache.folderOf(id), 'sub', 'file.bin'), Buffer.alloc(bytes));
}

/** Makes an archive look last read `secondsAgo` seconds ago. */
function lastRead(cache: SeedCache, id: string, secondsAgo: number): void {
  const when = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(join(cache.dir, `${id}.restored`), when, when);
}

describe('the cache of restored seed archives (DOS_SEED_CACHE_MB)', () => {
  it('drops the least recently read archives until the total fits; the one just restored stays', async () => {
    const log: string[] = [];
    const cache = new SeedCache(tempDir(), 5 * MB, (l) => log.push(l));
    for (const id of ['#010126-01', '#010126-02']) {
      restoredFolder(cache, id, 2 * MB);
      await cache.markRestored(id);
    }
    lastRead(cache, '#010126-01', 60);
    lastRead(cache, '#010126-02', 120); // read longer ago than -01
    restoredFolder(cache, '#010126-03', 2 * MB);
    await cache.markRestored('#010126-03');

    expect(cache.isRestored('#010126-02')).toBe(false);
    expect(existsSync(cache.folderOf('#010126-02'))).toBe(false);
    expect(cache.isRestored('#010126-01')).toBe(true);
    expect(cache.isRestored('#010126-03')).toBe(true);
    expect((await cache.list()).map((a) => [a.id, a.bytes])).toEqual([['#010126-01', 2 * MB], ['#010126-03', 2 * MB]]);
    expect(log.join('\n')).toMatch(/dropped #010126-02 \(2 MB\)/);
    // Nothing half-deleted is left behind under another name.
    expect(readdirSync(cache.dir).sort()).toEqual(['#010126-01', '#010126-01.restored', '#010126-03', '#010126-03.restored']);
  });

  it('keeps the archive being read even when it alone is above the bound', async () => {
    const cache = new SeedCache(tempDir(), 0);
    restoredFolder(cache, '#010126-01', 1 * MB);
    await cache.markRestored('#010126-01');
    restoredFolder(cache, '#010126-02', 3 * MB);
    await cache.markRestored('#010126-02');
    expect(cache.isRestored('#010126-01')).toBe(false);
    expect(cache.isRestored('#010126-02')).toBe(true);
  });

  it('counts the folder of an earlier dos\'s marker (a bare date) and clears what an interrupted drop left', async () => {
    const cache = new SeedCache(tempDir(), 3 * MB);
    restoredFolder(cache, '#010126-01', 2 * MB);
    writeFileSync(join(cache.dir, '#010126-01.restored'), '2026-11-27T10:00:00.000Z\n');
    lastRead(cache, '#010126-01', 60);
    mkdirSync(join(cache.dir, '.dropped-0123456789ab'));
    writeFileSync(join(cache.dir, '.dropped-0123456789ab', 'x'), 'half deleted');
    restoredFolder(cache, '#010126-02', 2 * MB);
    await cache.markRestored('#010126-02');
    expect(cache.isRestored('#010126-01')).toBe(false);
    expect(readdirSync(cache.dir).sort()).toEqual(['#010126-02', '#010126-02.restored']);
  });

  it('reading an archive makes it the most recent (touch)', async () => {
    const cache = new SeedCache(tempDir(), 3 * MB);
    for (const id of ['#010126-01', '#010126-02']) {
      restoredFolder(cache, id, 1 * MB);
      await cache.markRestored(id);
    }
    lastRead(cache, '#010126-01', 120);
    lastRead(cache, '#010126-02', 60);
    cache.touch('#010126-01');
    restoredFolder(cache, '#010126-03', 2 * MB);
    await cache.markRestored('#010126-03');
    expect(cache.isRestored('#010126-01')).toBe(true);
    expect(cache.isRestored('#010126-02')).toBe(false);
  });
});

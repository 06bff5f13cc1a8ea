import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { isDosError } from '../../src/core/errors.js';
import { PlacedFiles, type PlacingFs } from '../../src/store/placed-files.js';
import { tempDir } from '../helpers/temp.js';

/**
 * A file system that compares names through `fold`: identity for Linux, lower case and NFC for
 * the case- and normalisation-insensitive ones (APFS, NTFS, exFAT) this machine cannot mount.
 */
class FoldingFs implements PlacingFs {
  private readonly inodes = new Map<string, number>();
  private next = 1;
  constructor(private readonly fold: (name: string) => string) {}
  create(path: string): void {
    this.inodes.set(this.fold(path), this.next++);
  }
  has(path: string): boolean {
    return this.inodes.has(this.fold(path));
  }
  async lstat(path: string) {
    const ino = this.inodes.get(this.fold(path));
    if (ino === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
    return { dev: 1, ino };
  }
  async rename(from: string, to: string) {
    const ino = this.inodes.get(this.fold(from))!;
    this.inodes.delete(this.fold(from));
    this.inodes.set(this.fold(to), ino);
  }
  async writeFile(path: string) {
    this.create(path);
  }
  async unlink(path: string) {
    this.inodes.delete(this.fold(path));
  }
}

const insensitive = (name: string) => name.normalize('NFC').toLowerCase();

describe('placing restored files under their final names', () => {
  it('asks the file system whether it folds names, and leaves no probe behind', async () => {
    const folding = new FoldingFs(insensitive);
    expect((await PlacedFiles.into('/d', folding)).namesFold).toBe(true);
    const exact = new FoldingFs((name) => name);
    expect((await PlacedFiles.into('/d', exact)).namesFold).toBe(false);
    const real = tempDir();
    expect((await PlacedFiles.into(real)).namesFold).toBe(false); // Linux: ext4, tmpfs, overlayfs
    expect(readdirSync(real)).toEqual([]);
  });

  it('refuses a second archive path that names the same file here (case folded), keeping the first', async () => {
    const fs = new FoldingFs(insensitive);
    const placed = await PlacedFiles.into('/d', fs);
    fs.create('/d/.tmp1');
    await placed.file('/d/.tmp1', '/d/Report.txt', 'Report.txt');
    fs.create('/d/.tmp2');
    const err = await placed.file('/d/.tmp2', '/d/report.txt', 'report.txt').catch((e: unknown) => e);
    expect(isDosError(err, 'EXISTS')).toBe(true);
    expect((err as Error).message).toMatch(/report\.txt and Report\.txt are the same file here/);
    expect(fs.has('/d/.tmp2')).toBe(true); // not renamed: the caller removes its temp file
  });

  it('treats NFC and NFD spellings as one name where the file system does', async () => {
    const fs = new FoldingFs(insensitive);
    const placed = await PlacedFiles.into('/d', fs);
    fs.create('/d/.tmp1');
    await placed.file('/d/.tmp1', '/d/caf\u00e9', 'caf\u00e9');
    fs.create('/d/.tmp2');
    const err = await placed.file('/d/.tmp2', '/d/cafe\u0301', 'cafe\u0301').catch((e: unknown) => e);
    expect(isDosError(err, 'EXISTS')).toBe(true);
  });

  it('places both where names differ by case (Linux), and replaces a file that was there before the restore', async () => {
    const fs = new FoldingFs((name) => name);
    const placed = await PlacedFiles.into('/d', fs);
    fs.create('/d/report.txt'); // the user's own, overwritten with --force
    for (const [temp, name] of [['/d/.t1', 'Report.txt'], ['/d/.t2', 'report.txt']] as const) {
      fs.create(temp);
      await placed.file(temp, `/d/${name}`, name);
    }
    expect(fs.has('/d/Report.txt') && fs.has('/d/report.txt')).toBe(true);
  });

  it('replaces a file that was there before the restore (--force), even where names fold', async () => {
    const fs = new FoldingFs(insensitive);
    const placed = await PlacedFiles.into('/d', fs);
    fs.create('/d/Notes.txt'); // the user's own
    fs.create('/d/.t1');
    await placed.file('/d/.t1', '/d/notes.txt', 'notes.txt');
    expect(fs.has('/d/.t1')).toBe(false);
  });

  it('lets only one of two concurrent placements of the same file through', async () => {
    const fs = new FoldingFs(insensitive);
    const placed = await PlacedFiles.into('/d', fs);
    fs.create('/d/.t1');
    fs.create('/d/.t2');
    const results = await Promise.allSettled([placed.file('/d/.t1', '/d/A', 'A'), placed.file('/d/.t2', '/d/a', 'a')]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});

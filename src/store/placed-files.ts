import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DosError, ErrorCodes } from '../core/errors.js';

export interface PlacingFs {
  lstat(path: string): Promise<Pick<Stats, 'dev' | 'ino'>>;
  rename(from: string, to: string): Promise<void>;
  writeFile(path: string, data: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

const realFs: PlacingFs = { lstat, rename, writeFile, unlink };

/**
 * Puts restored files under their final names, never over a file this same restore already
 * put there. Two archive paths can name one file on a file system that folds case or Unicode
 * normalisation (macOS, Windows, exFAT): `Report.txt` and `report.txt` were distinct on the
 * Linux machine that archived them, but there the second rename would silently replace the
 * first and the restore would report success with one file's bytes gone.
 *
 * Where names fold (asked of the file system once, with a probe file), each placement checks
 * whether its target already resolves to a file placed by this run, one placement at a time.
 * Elsewhere it is a plain rename: serialising 2000 small files' renames cost a quarter of
 * their restore.
 */
export class PlacedFiles {
  private readonly placed = new Map<string, string>();
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly fs: PlacingFs, readonly namesFold: boolean) {}

  /** For restoring into `root` (an existing folder). */
  static async into(root: string, fs: PlacingFs = realFs): Promise<PlacedFiles> {
    return new PlacedFiles(fs, await namesFoldIn(root, fs));
  }

  /** Renames `temp` (a restored file or symlink) to `target`. */
  file(temp: string, target: string, archivePath: string): Promise<void> {
    const put = () => this.fs.rename(temp, target);
    return this.namesFold ? this.place(target, archivePath, put) : put();
  }

  /** One at a time: a check and its rename must not interleave with another pair. */
  private place(target: string, archivePath: string, put: () => Promise<void>): Promise<void> {
    const run = this.last.then(async () => {
      const existing = await this.fs.lstat(target).catch(() => null);
      const earlier = existing ? this.placed.get(keyOf(existing)) : undefined;
      if (earlier !== undefined) {
        throw new DosError(ErrorCodes.EXISTS, `${archivePath} and ${earlier} are the same file here (this file system does not tell their names apart); restore one of them on its own, to another folder`, { path: target, paths: [earlier, archivePath] });
      }
      await put();
      this.placed.set(keyOf(await this.fs.lstat(target)), archivePath);
    });
    this.last = run.catch(() => {});
    return run;
  }
}

/**
 * Whether the file system under `dir` takes other spellings of a name (case, NFC/NFD) for the
 * same file: a probe file is created and looked up spelled otherwise. If the probe cannot even
 * be made, assume it does: the careful path is only slower.
 */
async function namesFoldIn(dir: string, fs: PlacingFs): Promise<boolean> {
  const tag = randomBytes(6).toString('hex');
  const probe = join(dir, `.dos-probe-\u00c9-${tag}`); // É, composed (NFC)
  try {
    await fs.writeFile(probe, '');
  } catch {
    return true;
  }
  try {
    for (const other of [`.dos-probe-\u00e9-${tag}`, `.dos-probe-E\u0301-${tag}`]) {
      if (await fs.lstat(join(dir, other)).then(() => true, () => false)) return true;
    }
    return false;
  } finally {
    await fs.unlink(probe).catch(() => {});
  }
}

function keyOf(stats: Pick<Stats, 'dev' | 'ino'>): string {
  return `${stats.dev}:${stats.ino}`;
}

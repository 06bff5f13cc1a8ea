import { existsSync, readdirSync, readFileSync, renameSync, statSync, utimesSync } from 'node:fs';
import { lstat, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

interface RestoredArchive {
  id: string;
  bytes: number;
  usedAt: number;
}

const MARKER = '.restored';

/**
 * The folder of restored seed archives (DOS_HOME/cache/seed): `<id>/` holds an archive's
 * files and `<id>.restored` ({"restoredAt", "bytes"}) says its restore finished. Bounded in
 * bytes: after a restore, the least recently read other archives are dropped until the total
 * fits; the one just restored always stays (it is being read), even alone above the bound.
 *
 * Several mounts may share the folder. A dropped archive's marker goes first and its folder is
 * renamed away before it is deleted, so nobody takes a half-deleted folder for a restored one,
 * and whoever reads it next restores it again. Files already open keep reading (POSIX).
 */
export class SeedCache {
  constructor(readonly dir: string, readonly maxBytes: number, private readonly log: (line: string) => void = () => {}) {}

  /** An archive's folder (ids are normalised, #DDMMYY-NN: safe as folder names). */
  folderOf(id: string): string {
    return join(this.dir, id);
  }

  private markerOf(id: string): string {
    return join(this.dir, `${id}${MARKER}`);
  }

  isRestored(id: string): boolean {
    return existsSync(this.markerOf(id));
  }

  /** Records that an archive was read now (its marker's mtime orders eviction). */
  touch(id: string): void {
    const now = new Date();
    try {
      utimesSync(this.markerOf(id), now, now);
    } catch {
      // dropped meanwhile: the next read restores it again
    }
  }

  /** Marks a finished restore (with its size), then drops other archives down to the bound. */
  async markRestored(id: string): Promise<void> {
    const bytes = await folderBytes(this.folderOf(id));
    const marker = this.markerOf(id);
    const temp = `${marker}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, `${JSON.stringify({ restoredAt: new Date().toISOString(), bytes })}\n`);
    await rename(temp, marker);
    await this.shrink(id);
  }

  /** Restored archives, least recently read first. */
  async list(): Promise<RestoredArchive[]> {
    const found: RestoredArchive[] = [];
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    for (const name of names) {
      if (!name.endsWith(MARKER)) continue;
      const id = name.slice(0, -MARKER.length);
      const marker = join(this.dir, name);
      try {
        const usedAt = statSync(marker).mtimeMs;
        let recorded: unknown;
        try {
          recorded = (JSON.parse(readFileSync(marker, 'utf8')) as { bytes?: unknown }).bytes;
        } catch {
          // a marker of an earlier dos: a bare date, no size
        }
        found.push({ id, usedAt, bytes: typeof recorded === 'number' ? recorded : await folderBytes(this.folderOf(id)) });
      } catch {
        // dropped meanwhile by another mount
      }
    }
    return found.sort((a, b) => a.usedAt - b.usedAt);
  }

  private async shrink(keep: string): Promise<void> {
    // Folders a drop renamed away but did not finish deleting (the process ended).
    for (const name of readdirSync(this.dir)) if (name.startsWith('.dropped-')) await rm(join(this.dir, name), { recursive: true, force: true });
    const all = await this.list();
    let total = all.reduce((sum, a) => sum + a.bytes, 0);
    for (const victim of all) {
      if (total <= this.maxBytes) break;
      if (victim.id === keep) continue;
      if (await this.drop(victim.id)) {
        total -= victim.bytes;
        this.log(`seed cache: dropped ${victim.id} (${(victim.bytes / 1e6).toFixed(0)} MB) to stay under ${(this.maxBytes / 1e6).toFixed(0)} MB (DOS_SEED_CACHE_MB); reading it again restores it`);
      }
    }
  }

  private async drop(id: string): Promise<boolean> {
    const trash = join(this.dir, `.dropped-${randomBytes(6).toString('hex')}`);
    try {
      await rm(this.markerOf(id), { force: true });
      renameSync(this.folderOf(id), trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
    await rm(trash, { recursive: true, force: true });
    return true;
  }
}

/** Bytes of the regular files under a folder. */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(path);
    else if (e.isFile()) total += (await lstat(path)).size;
  }
  return total;
}

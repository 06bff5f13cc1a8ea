import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { ArchiveRow, EntryRow } from '../../index/store-index.js';
import type { StoreContext } from '../context.js';
import { getSeedArchive, listSeedTree } from '../seed-archives.js';
import type { CommittedTree } from './overlay.js';

/** Read-only, as the whole archive is in dos: folders r-x, files r--. */
const SEED_DIR_MODE = 0o555;
const SEED_FILE_MODE = 0o444;

export interface SeedFilesOptions {
  /** Where whole seed archives are restored on first read (DOS_HOME/cache/seed). */
  cacheDir: string;
  /** The seed's USER_KEY: its chunks are encrypted with the passphrase itself (PBKDF2 per chunk). */
  userKey?: string;
}

/**
 * Seed archives in the mount. Their tree comes from their manifests (small attachments, read
 * once per mount). Their content cannot be read by range: the seed's chunks are whole-file
 * gzip streams, each encrypted under its own PBKDF2-600 000 key, so the first read of any file
 * restores the whole archive (verified, as `dos get` does) into the cache folder, and reads are
 * served from there. Later mounts find it there and start at once.
 */
export class SeedFiles {
  /** Per archive: entries by path, and each folder's children (readdir must not scan them all). */
  private readonly trees = new Map<string, { byPath: Map<string, EntryRow>; children: Map<string, EntryRow[]> }>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly restoring = new Map<string, Promise<string>>();

  constructor(private readonly ctx: StoreContext, private readonly options: SeedFilesOptions) {}

  isLoaded(archiveId: string): boolean {
    return this.trees.has(archiveId);
  }

  /** Reads the archive's manifests once (concurrent callers share the read). */
  load(archive: ArchiveRow): Promise<void> {
    let loading = this.loading.get(archive.id);
    if (!loading) {
      loading = listSeedTree(this.ctx, archive, '', true).then((entries) => {
        const byPath = new Map<string, EntryRow>();
        const children = new Map<string, EntryRow[]>();
        for (const e of entries) {
          const entry = { ...e, mode: e.type === 'dir' ? SEED_DIR_MODE : SEED_FILE_MODE };
          byPath.set(e.path, entry);
          const parent = parentOf(e.path);
          const siblings = children.get(parent);
          if (siblings) siblings.push(entry);
          else children.set(parent, [entry]);
        }
        this.trees.set(archive.id, { byPath, children });
      });
      // A failure (network, damaged manifest) is reported to this caller; the next one tries again.
      loading.catch(() => this.loading.delete(archive.id));
      this.loading.set(archive.id, loading);
    }
    return loading;
  }

  /** The committed tree the overlay shows (empty until loaded). */
  treeOf(archiveId: string): CommittedTree {
    const tree = () => this.trees.get(archiveId);
    return {
      entry: (path) => tree()?.byPath.get(path),
      children: (path) => tree()?.children.get(path) ?? [],
      root: () => ({ mode: SEED_DIR_MODE, mtimeMs: this.ctx.index.getArchive(archiveId)?.updatedAt ?? 0 }),
    };
  }

  /** The local copy of one of the archive's files, restoring the whole archive on first use. */
  async localFile(archive: ArchiveRow, path: string): Promise<string> {
    let restoring = this.restoring.get(archive.id);
    if (!restoring) {
      restoring = this.restore(archive);
      restoring.catch(() => this.restoring.delete(archive.id));
      this.restoring.set(archive.id, restoring);
    }
    const file = join(await restoring, path);
    if (!existsSync(file)) throw new DosError(ErrorCodes.MISSING, `${archive.id}: ${path} is not in the restored archive`, { archive: archive.id, path });
    return file;
  }

  private async restore(archive: ArchiveRow): Promise<string> {
    if (!this.options.userKey) throw new DosError(ErrorCodes.KEY_REQUIRED, `${archive.id} is a seed archive: reading it needs USER_KEY (its chunks are encrypted with the passphrase itself)`, { archive: archive.id });
    // The id is normalised (#DDMMYY-NN): safe as a folder name.
    const dir = join(this.options.cacheDir, archive.id);
    // Seed archives never change: a restore that finished once is good for every later mount.
    const done = join(this.options.cacheDir, `${archive.id}.restored`);
    if (existsSync(done)) return dir;
    // Identical files already there are kept, so a restore interrupted by an unmount resumes.
    await getSeedArchive(this.ctx, archive, '', dir, { userKey: this.options.userKey, workDir: join(this.options.cacheDir, '.downloads') });
    await writeFile(done, `${new Date().toISOString()}\n`);
    return dir;
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

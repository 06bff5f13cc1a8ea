import type { ArchiveRow, EntryRow } from '../index/store-index.js';
import type { ProgressFn, StoreContext } from './context.js';
import type { InputSource } from './input-source.js';
import { putArchive, type PutOptions, type PutResult } from './put.js';
import { collectGarbage, removeArchive, type GcOptions, type GcResult } from './remove.js';
import { resumeInterrupted, type ResumeOutcome } from './resume.js';
import { applyChanges, createArchive, type ApplyOptions, type ApplyResult, type TreeChange } from './tree-change.js';
import { requireReadable, resolveArchive, splitArchivePath } from './resolve.js';
import { getArchive, type GetOptions, type GetResult } from './restore.js';
import { syncFromBackend, type SyncResult } from './sync.js';
import { changePassphrase, type PassphraseChange, type PassphraseChangeOptions } from './passphrase.js';
import { verifyArchive, type VerifyResult } from './verify.js';
import { listSeedTree, verifySeedArchive, type SeedOptions } from './seed-archives.js';
import { resumeSeedUploads, uploadSeedSet, type SeedResumeOutcome, type SeedUploadOptions, type SeedUploadOutcome } from './seed-upload.js';
import { removeSeedArchive } from './seed-remove.js';
import { aesGcm, aesGcmFallbackReason } from '../core/aes-gcm.js';
import { DosError, ErrorCodes } from '../core/errors.js';

export interface ArchiveSummary {
  id: string;
  name: string;
  created: string;
  files: number;
  bytes: number;
  storedBytes: number;
  status: string;
  generation: number | null;
}

export interface StoreStatus {
  backend: string;
  storeId: string;
  encrypted: boolean;
  /** Which AES-256-GCM implementation this process uses, and why not the native one if so. */
  cipher: { implementation: string; native: boolean; fallbackReason: string | null };
  archives: number;
  files: number;
  bytes: number;
  packs: number;
  storedBytes: number;
  pendingUploads: number;
}

/** The engine's front door: one object per opened store. */
export class Store {
  constructor(readonly ctx: StoreContext) {}

  /** Archives paths; an InputSource started before the store was opened overlaps reading with unlocking. */
  put(inputs: string[] | InputSource, options?: PutOptions): Promise<PutResult> {
    return putArchive(this.ctx, inputs, options);
  }

  /** Posts a seed-sliced set (chunks + manifests in `dir`) as a seed archive, or continues one (see seed-upload.ts). */
  uploadSeedSet(dir: string, options?: SeedUploadOptions): Promise<SeedUploadOutcome> {
    return uploadSeedSet(this.ctx, dir, options);
  }

  /** Continues interrupted seed uploads from the folders they were started from. */
  resumeSeedUploads(options?: Pick<SeedUploadOptions, 'userKey' | 'onProgress'>): Promise<SeedResumeOutcome[]> {
    return resumeSeedUploads(this.ctx, options);
  }

  get(target: string, dest: string | undefined, options?: GetOptions): Promise<GetResult> {
    return getArchive(this.ctx, target, dest, options);
  }

  archive(text: string): ArchiveRow {
    return resolveArchive(this.ctx, text);
  }

  listArchives(): ArchiveSummary[] {
    return this.ctx.index.listArchives().map((a) => {
      const gen = a.currentGeneration === null ? undefined : this.ctx.index.getGeneration(a.id, a.currentGeneration);
      return {
        id: a.id, name: a.name, created: new Date(a.createdAt).toISOString(), files: gen?.files ?? 0, bytes: gen?.bytes ?? 0,
        storedBytes: gen?.storedBytes ?? 0, status: a.status, generation: a.currentGeneration,
      };
    });
  }

  /** The entries under ARCHIVE[/PATH]: a folder's children, or the single file named. */
  listTree(target: string, recursive = false): { archive: ArchiveRow; entries: EntryRow[] } {
    const { archive: archiveText, path } = splitArchivePath(target);
    const archive = resolveArchive(this.ctx, archiveText);
    requireReadable(archive);
    if (path !== '') {
      const entry = this.ctx.index.getEntry(archive.id, path);
      if (!entry) throw new DosError(ErrorCodes.NOT_FOUND, `${archive.id} has no ${path}`, { archive: archive.id, path });
      if (entry.type !== 'dir') return { archive, entries: [entry] };
    }
    const entries = recursive
      ? this.ctx.index.listEntries(archive.id).filter((e) => path === '' || e.path.startsWith(`${path}/`))
      : this.ctx.index.listChildren(archive.id, path);
    return { archive, entries };
  }

  /**
   * Like listTree, for any archive: a seed archive's tree is not in the index, so its manifests
   * are downloaded (small JSON attachments) and read.
   */
  async tree(target: string, recursive = false): Promise<{ archive: ArchiveRow; entries: EntryRow[] }> {
    const { archive: archiveText, path } = splitArchivePath(target);
    const archive = resolveArchive(this.ctx, archiveText);
    if (archive.kind !== 'seed') return this.listTree(target, recursive);
    requireReadable(archive);
    return { archive, entries: await listSeedTree(this.ctx, archive, path, recursive) };
  }

  /** `seed` carries USER_KEY (and a download folder) for archives the Python seed made. */
  verify(text: string, deep: boolean, seed: SeedOptions = {}): Promise<VerifyResult> {
    const archive = resolveArchive(this.ctx, text);
    if (archive.kind === 'seed') return verifySeedArchive(this.ctx, archive, deep, seed);
    return verifyArchive(this.ctx, archive, deep);
  }

  async verifyAll(deep: boolean, seed: SeedOptions = {}): Promise<VerifyResult[]> {
    const results: VerifyResult[] = [];
    for (const archive of this.ctx.index.listArchives()) {
      if (archive.currentGeneration === null) continue;
      results.push(archive.kind === 'seed' ? await verifySeedArchive(this.ctx, archive, deep, seed) : await verifyArchive(this.ctx, archive, deep));
    }
    return results;
  }

  remove(text: string): Promise<GcResult> {
    const archive = resolveArchive(this.ctx, text);
    if (archive.kind === 'seed') return removeSeedArchive(this.ctx, archive);
    return removeArchive(this.ctx, archive);
  }

  gc(options?: GcOptions): Promise<GcResult> {
    return collectGarbage(this.ctx, options);
  }

  /** Applies changes to an archive's tree as its next generation (see tree-change.ts). */
  applyChanges(archiveId: string, changes: TreeChange[], options?: ApplyOptions): Promise<ApplyResult> {
    if (this.ctx.index.getArchive(archiveId)?.kind === 'seed') {
      return Promise.reject(new DosError(ErrorCodes.UNSUPPORTED, `${archiveId} was made by the Python seed and is read-only in dos`, { archive: archiveId }));
    }
    return applyChanges(this.ctx, archiveId, changes, options);
  }

  /** A new, empty archive (what mkdir at the mount's root makes). */
  createArchive(name: string, now?: Date): Promise<ArchiveRow> {
    return createArchive(this.ctx, name, now);
  }

  /** Finishes interrupted puts (see resume.ts). */
  resume(onProgress?: ProgressFn, archiveId?: string): Promise<ResumeOutcome[]> {
    return resumeInterrupted(this.ctx, onProgress, archiveId);
  }

  /** Rewraps the master key under `newKey` (passphrase.ts): no data moves. */
  changePassphrase(currentKey: string | undefined, newKey: string, options?: PassphraseChangeOptions): Promise<PassphraseChange> {
    return changePassphrase(this.ctx, currentKey, newKey, options);
  }

  /** `dos sync`, `!rebuild-log`: what the backend holds now, not what this process read a moment ago. */
  sync(): Promise<SyncResult> {
    this.ctx.backend.forgetListings?.();
    return syncFromBackend(this.ctx);
  }

  status(): StoreStatus {
    const archives = this.listArchives();
    const packs = this.ctx.index.listPacks();
    return {
      backend: this.ctx.backend.description,
      storeId: this.ctx.keys.storeId,
      encrypted: this.ctx.keys.encrypted,
      cipher: { implementation: aesGcm.name, native: aesGcm.native, fallbackReason: aesGcmFallbackReason },
      archives: archives.length,
      files: archives.reduce((s, a) => s + a.files, 0),
      bytes: archives.reduce((s, a) => s + a.bytes, 0),
      packs: packs.length,
      storedBytes: packs.reduce((s, p) => s + p.size, 0),
      // Puts in progress; a mount's commits ('change' jobs) are counted by their files in its queue.
      pendingUploads: this.ctx.index.openJobs().filter((j) => j.kind !== 'change').length,
    };
  }

  async close(): Promise<void> {
    this.ctx.index.close();
    await this.ctx.backend.close();
  }
}

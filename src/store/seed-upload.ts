import { lstat, unlink } from 'node:fs/promises';
import type { SeedArchiveListing, SeedUploadResult } from '../backends/backend.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { ArchiveRow } from '../index/store-index.js';
import type { ProgressFn, StoreContext } from './context.js';
import { isDeadProcess } from './liveness.js';
import { resolveArchive } from './resolve.js';
import { indexSeedArchive, seedRefOf } from './seed-index.js';
import { checkSeedKey } from './seed-key-check.js';
import { checkSeedSet, type CheckedSeedSet } from './seed-set-check.js';

/** Journal kind of a seed upload; its payload lists the files, so `!resume` knows the set. */
const JOB_KIND = 'seed-upload';

export interface SeedUploadOptions {
  /** USER_KEY: when set, the set must decrypt with it before anything is posted. */
  userKey?: string;
  /** Who asked, for the card's footer. */
  uploader?: string;
  /** Continue the unfinished upload of this seed archive (same files) instead of starting one. */
  resume?: string;
  /** Keep the local files even once every one is verified in the thread. */
  keepFiles?: boolean;
  /** The card and its thread exist (the id is final). */
  onStarted?: (archiveId: string) => void;
  onProgress?: ProgressFn;
  now?: Date;
}

export interface SeedUploadOutcome {
  archiveId: string;
  status: SeedUploadResult['status'];
  /** Files the manifests restore. */
  files: number;
  manifests: number;
  /** Attachments of the set (chunks and manifests) and their bytes. */
  attachments: number;
  bytes: number;
  uploaded: number;
  alreadyThere: number;
  failed: SeedUploadResult['failed'];
  /** Any manifest of the set is encrypted. */
  encrypted: boolean;
  /** Manifests whose chunks USER_KEY was shown to decrypt. */
  keyChecked: string[];
  /** The local files were deleted (only after a complete upload verified in the thread). */
  removedLocal: boolean;
}

interface JobPayload {
  dir: string;
  files: Array<{ name: string; size: number }>;
}

/**
 * `!upload` of a seed-sliced set (issue #5): the set is checked (and with USER_KEY, shown to
 * decrypt), then posted as a seed archive, exactly as the seed's `!upload` did: a card with a
 * `#DDMMYY-NN` id from this store's lot counter (so it never collides with a dos archive), its
 * `{id} chunks` thread and every chunk and manifest as attachments. Nothing is reassembled.
 *
 * The index learns the archive as soon as its card exists (kind 'seed', status partial), and
 * again at the end, so `!download` and `dos get` restore it through the seed download path.
 * The user's files are deleted only after the card says success and a fresh listing of the
 * thread shows every file with its size; otherwise they stay, and `resume` posts only what
 * the thread lacks.
 */
export async function uploadSeedSet(ctx: StoreContext, dir: string, options: SeedUploadOptions = {}): Promise<SeedUploadOutcome> {
  const upload = ctx.backend.uploadSeedArchive?.bind(ctx.backend);
  if (!upload) throw new DosError(ErrorCodes.UNSUPPORTED, `seed archives live on Discord; ${ctx.backend.description} cannot hold one (run dos assemble to restore the set, then put the files)`);
  const set = await checkSeedSet(dir);
  const keyChecked = options.userKey ? await checkSeedKey(set.plan, options.userKey) : [];
  const now = options.now ?? new Date();
  const target = options.resume ? resumeTarget(ctx, options.resume, set) : { archive: ctx.index.createArchive(nameOf(set), now, 'seed'), cardMessageId: null };
  const { archive } = target;
  const payload: JobPayload = { dir, files: set.files.map((f) => ({ name: f.name, size: f.size })) };
  const jobId = ctx.index.openJob(JOB_KIND, archive.id, payload);
  let carded = target.cardMessageId !== null;
  try {
    const result = await upload({
      archiveId: archive.id,
      lot: archive.lot,
      timestamp: seedTimestamp(new Date(archive.createdAt)),
      files: set.files,
      fileCount: set.originalNames.length > 0 ? set.originalNames.length : null,
      filesDisplay: set.originalNames,
      uploader: uploaderName(options.uploader),
      cardMessageId: target.cardMessageId,
      onCard: async (listing: SeedArchiveListing) => {
        carded = true;
        await indexSeedArchive(ctx, listing, set.manifests);
        options.onStarted?.(archive.id);
      },
      onProgress: options.onProgress,
    });
    await indexSeedArchive(ctx, result.listing, set.manifests);
    ctx.index.setJobState(jobId, result.status === 'success' ? 'done' : 'abandoned');
    const removedLocal = result.status === 'success' && !options.keepFiles && result.listing.threadId !== null
      ? await removeVerified(ctx, result.listing.threadId, set)
      : false;
    return {
      archiveId: archive.id, status: result.status, files: set.manifests.reduce((s, m) => s + m.files.length, 0), manifests: set.manifests.length,
      attachments: set.files.length, bytes: set.bytes, uploaded: result.uploaded.length, alreadyThere: result.alreadyThere.length, failed: result.failed,
      encrypted: set.manifests.some((m) => m.encrypted), keyChecked, removedLocal,
    };
  } catch (err) {
    if (!carded && !options.resume) {
      // Nothing was posted: the id was never shown to anyone and is free again.
      ctx.index.setJobState(jobId, 'cancelled');
      ctx.index.deleteArchive(archive.id);
    } else {
      ctx.index.setJobState(jobId, 'abandoned');
    }
    throw err;
  }
}

/**
 * Seed archives whose upload this store started and did not finish (a failed file, a crash):
 * what `!resume` without an argument continues.
 */
export function pendingSeedUploads(ctx: StoreContext): string[] {
  const pending: string[] = [];
  for (const archive of ctx.index.listArchives()) {
    if (archive.kind !== 'seed' || archive.status === 'complete') continue;
    const job = lastJob(ctx, archive.id);
    if (!job || job.state === 'done') continue;
    if (job.state === 'open' && !isDeadProcess(job.pid, job.host, job.updatedAt)) continue; // still running elsewhere
    pending.push(archive.id);
  }
  return pending;
}

export interface SeedResumeOutcome {
  archiveId: string;
  /** The folder the upload was started from (its files are read from there again). */
  dir: string;
  outcome?: SeedUploadOutcome;
  error?: { code: string; message: string };
}

/**
 * Continues every interrupted seed upload (`dos resume`; the bot's `!resume` does the same from
 * its upload folder) from the folder it was started from: only what the thread lacks is posted.
 */
export async function resumeSeedUploads(ctx: StoreContext, options: Pick<SeedUploadOptions, 'userKey' | 'onProgress'> = {}): Promise<SeedResumeOutcome[]> {
  const outcomes: SeedResumeOutcome[] = [];
  for (const archiveId of pendingSeedUploads(ctx)) {
    let dir = '';
    try {
      const payload = JSON.parse(lastJob(ctx, archiveId)!.payload) as Partial<JobPayload>;
      if (typeof payload.dir === 'string') dir = payload.dir;
      if (!dir) throw new DosError(ErrorCodes.NOT_FOUND, `the journal does not say which folder ${archiveId} was uploaded from`, { archive: archiveId });
      outcomes.push({ archiveId, dir, outcome: await uploadSeedSet(ctx, dir, { ...options, resume: archiveId }) });
    } catch (err) {
      const e = err instanceof DosError ? err : new DosError(ErrorCodes.BACKEND, String(err));
      outcomes.push({ archiveId, dir, error: { code: e.code, message: e.message } });
    }
  }
  return outcomes;
}

function lastJob(ctx: StoreContext, archiveId: string) {
  return ctx.index.jobsOfArchive(archiveId).filter((j) => j.kind === JOB_KIND).pop();
}

/** The archive to continue, which must be the same set as the folder holds now. */
function resumeTarget(ctx: StoreContext, text: string, set: CheckedSeedSet): { archive: ArchiveRow; cardMessageId: string | null } {
  const archive = resolveArchive(ctx, text);
  if (archive.kind !== 'seed') throw new DosError(ErrorCodes.BAD_INPUT, `${archive.id} is not a seed archive`, { archive: archive.id });
  const job = lastJob(ctx, archive.id);
  if (!job) throw new DosError(ErrorCodes.NOT_FOUND, `${archive.id} was not uploaded from this store's upload folder: there is no upload of it to continue`, { archive: archive.id });
  const recorded = (JSON.parse(job.payload) as JobPayload).files.map((f) => `${f.name}:${f.size}`);
  const now = new Set(set.files.map((f) => `${f.name}:${f.size}`));
  const missing = recorded.filter((k) => !now.has(k));
  const extra = [...now].filter((k) => !recorded.includes(k));
  if (missing.length > 0 || extra.length > 0) {
    const names = (keys: string[]) => keys.slice(0, 5).map((k) => k.slice(0, k.lastIndexOf(':'))).join(', ') + (keys.length > 5 ? ', …' : '');
    throw new DosError(ErrorCodes.BAD_INPUT, `the upload folder does not hold the seed set ${archive.id} was uploaded from${missing.length > 0 ? `; missing or changed: ${names(missing)}` : ''}${extra.length > 0 ? `; not part of it: ${names(extra)}` : ''}`, { archive: archive.id });
  }
  const cardMessageId = archive.currentGeneration === null ? null : seedRefOf(ctx, archive).cardMessageId;
  return { archive, cardMessageId };
}

/** Deletes the set's local files, but only if a fresh listing of the thread shows every one with its size. */
async function removeVerified(ctx: StoreContext, threadId: string, set: CheckedSeedSet): Promise<boolean> {
  const list = ctx.backend.listSeedThread?.bind(ctx.backend);
  if (!list) return false;
  try {
    const thread = await list(threadId);
    const there = new Set(thread.attachments.map((a) => `${a.name}:${a.size}`));
    if (!set.files.every((f) => there.has(`${f.name}:${f.size}`))) return false;
  } catch (err) {
    ctx.notice(`could not confirm the upload in the thread, so the local files are kept: ${(err as Error).message}`);
    return false;
  }
  for (const f of set.files) {
    const st = await lstat(f.path).catch(() => null);
    // Only the file that was uploaded: not something put there since under the same name.
    if (st?.isFile() && st.size === f.size) await unlink(f.path);
  }
  return true;
}

function nameOf(set: CheckedSeedSet): string {
  const folders = new Set(set.manifests.map((m) => m.sourceFolder));
  const only = folders.size === 1 ? [...folders][0] : null;
  return only ?? 'seed upload';
}

/** `dos` on a card marks one of our own v4 cards, which sync never lists as a seed archive. */
function uploaderName(name: string | undefined): string {
  const trimmed = (name ?? '').trim();
  if (trimmed === '') return 'dos bot';
  return trimmed === 'dos' ? 'dos (seed set)' : trimmed;
}

/** The seed's local `YYYY-MM-DD HH:MM:SS`. */
function seedTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

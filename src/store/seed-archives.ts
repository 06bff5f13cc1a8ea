import { randomBytes } from 'node:crypto';
import { lstat, rename, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { SeedThreadListing } from '../backends/backend.js';
import { DosError, ErrorCodes, fromSystemError, isDosError } from '../core/errors.js';
import { safeRelativeParts } from '../core/safe-path.js';
import type { ArchiveRow, EntryRow } from '../index/store-index.js';
import { assembleSeedSet, isSeedManifestName, planSeedRestore, readSeedManifest, seedOutputDir, type SeedManifest } from '../legacy/index.js';
import type { ProgressFn, StoreContext } from './context.js';
import { defaultDestinationName, makeDirectory, sha256OfFile } from './destination.js';
import type { GetResult } from './restore.js';
import { contentsOf, learn, nameOf, seedRefOf, type SeedRef } from './seed-index.js';
import { readSeedManifests } from './seed-manifests.js';
import type { VerifyProblem, VerifyResult } from './verify.js';

/**
 * Reading and restoring archives the Python seed made (legacy-format.md §3), through the
 * backend's optional seed members (Discord only); how they are indexed is seed-index.ts.
 * Restoring downloads the thread's attachments into `<workDir>/[Archive] #DDMMYY-NN/` (the
 * seed's folder name), so an interrupted download resumes, then runs assembleSeedSet.
 */
export interface SeedOptions {
  /** The seed's passphrase: SEED_USER_KEY, else USER_KEY (they differ after `dos passwd --force`). */
  userKey?: string;
  /** Where downloads go (a folder per archive); default: next to the index. */
  workDir?: string;
  force?: boolean;
  onProgress?: ProgressFn;
}

function seedBackend(ctx: StoreContext): Required<Pick<StoreContext['backend'], 'listSeedThread' | 'downloadSeedFiles'>> {
  const { listSeedThread, downloadSeedFiles } = ctx.backend;
  if (!listSeedThread || !downloadSeedFiles) {
    throw new DosError(ErrorCodes.UNSUPPORTED, `seed archives can only be read from Discord (${ctx.backend.description})`);
  }
  return { listSeedThread: listSeedThread.bind(ctx.backend), downloadSeedFiles: downloadSeedFiles.bind(ctx.backend) };
}

function threadOf(archive: ArchiveRow, ref: SeedRef): string {
  if (!ref.threadId) throw new DosError(ErrorCodes.MISSING, `seed archive ${archive.id} has no thread on its card: nothing to download`, { archive: archive.id });
  return ref.threadId;
}

/** Where each manifest's files go relative to the destination: one folder → the root; several → one subfolder each. */
function folderMap(manifests: SeedManifest[]): Map<SeedManifest, string> {
  const base = resolve('/__seed__');
  const dirs = manifests.map((m) => relative(base, seedOutputDir(m, base, manifests.length)).split(sep).join('/'));
  const single = new Set(dirs).size === 1;
  return new Map(manifests.map((m, i) => [m, single ? '' : dirs[i]!] as const));
}

/** `dos ls SEED-ID[/PATH]`: the files the seed manifests name (only the manifests are downloaded). */
export async function listSeedTree(ctx: StoreContext, archive: ArchiveRow, path: string, recursive: boolean): Promise<EntryRow[]> {
  const ref = seedRefOf(ctx, archive);
  const manifests = await readSeedManifests(ctx.backend, threadOf(archive, ref));
  learn(ctx, archive, ref, manifests);
  const entries = new Map<string, EntryRow>();
  const mtimeMs = archive.createdAt;
  const addDir = (dir: string) => {
    for (let d = dir; d !== '' && !entries.has(d); d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '') {
      entries.set(d, { path: d, type: 'dir', size: 0, mode: 0o755, mtimeMs, sha256: null, target: null, frameIds: [] });
    }
  };
  for (const [m, folder] of folderMap(manifests)) {
    addDir(folder);
    for (const f of m.files) {
      const p = folder === '' ? f.originalName : `${folder}/${f.originalName}`;
      entries.set(p, { path: p, type: 'file', size: f.expectedSize ?? 0, mode: 0o644, mtimeMs, sha256: null, target: null, frameIds: [] });
    }
  }
  const all = [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (path !== '') {
    const entry = entries.get(path);
    if (!entry) throw new DosError(ErrorCodes.NOT_FOUND, `${archive.id} has no ${path}`, { archive: archive.id, path });
    if (entry.type !== 'dir') return [entry];
  }
  const prefix = path === '' ? '' : `${path}/`;
  return all.filter((e) => e.path.startsWith(prefix) && (recursive || !e.path.slice(prefix.length).includes('/')));
}

export function defaultWorkDir(ctx: StoreContext): string {
  const db = ctx.index.db.name;
  return db === ':memory:' || db === '' ? join(tmpdir(), 'dos-seed-downloads') : join(dirname(resolve(db)), 'seed-downloads');
}

/** The seed's local folder name for a downloaded archive (legacy-format.md §3.12). */
function downloadDirOf(archive: ArchiveRow, workDir: string): string {
  return join(workDir, `[Archive] ${archive.id}`);
}

interface Fetched {
  dir: string;
  manifests: SeedManifest[];
  listing: SeedThreadListing;
}

/**
 * Downloads everything the archive's manifests name (manifests first, then their chunks, each
 * with the size the manifest recorded) into the archive's download folder. Files already there
 * with the right size are kept, so a re-run resumes.
 */
async function fetchArchive(ctx: StoreContext, archive: ArchiveRow, ref: SeedRef, workDir: string, onProgress?: ProgressFn): Promise<Fetched> {
  const backend = seedBackend(ctx);
  const threadId = threadOf(archive, ref);
  const listing = await backend.listSeedThread(threadId);
  for (const r of listing.refused) ctx.notice(`${archive.id}: ignoring attachment ${JSON.stringify(r.name)}: ${r.reason}`);
  const manifestFiles = listing.attachments.filter((a) => isSeedManifestName(a.name));
  if (manifestFiles.length === 0) throw new DosError(ErrorCodes.MISSING, `${archive.id}: its thread holds no manifest; the files cannot be put back together`, { archive: archive.id });
  const dir = downloadDirOf(archive, workDir);
  await backend.downloadSeedFiles(threadId, dir, manifestFiles.map((a) => ({ name: a.name, size: a.size })));
  const manifests: SeedManifest[] = [];
  for (const a of manifestFiles) manifests.push(await readSeedManifest(join(dir, a.name), a.name));
  learn(ctx, archive, ref, manifests);
  const wanted = new Map<string, number | null>();
  for (const m of manifests) for (const f of m.files) for (const c of f.chunks) wanted.set(c.name, c.size);
  const total = [...wanted.entries()].reduce((s, [name, size]) => s + (size ?? listing.attachments.find((a) => a.name === name)?.size ?? 0), 0);
  let done = 0;
  onProgress?.(0, total);
  const got = await backend.downloadSeedFiles(threadId, dir, [...wanted.entries()].map(([name, size]) => ({ name, size })), (n) => {
    done += n;
    onProgress?.(done, total);
  });
  if (got.missing.length > 0) {
    throw new DosError(ErrorCodes.MISSING, `${archive.id}: ${got.missing.length} chunk(s) named by its manifests are missing from its thread (or have another size): ${got.missing.slice(0, 20).join(', ')}`, { archive: archive.id, chunks: got.missing });
  }
  return { dir, manifests, listing };
}

/** A chunk that failed to decode may be a download damaged on the way: forget it so a re-run fetches it again. */
async function dropBadChunk(dir: string, err: unknown): Promise<void> {
  if (!isDosError(err) || err.code !== ErrorCodes.CORRUPT) return;
  const chunk = err.details.chunk;
  for (const name of Array.isArray(chunk) ? chunk : typeof chunk === 'string' ? [chunk] : []) {
    if (typeof name === 'string' && !name.includes('/') && name !== '..' && name !== '.') await rm(join(dir, name), { force: true });
  }
}

/**
 * `dos get SEED-ID [DEST]`: downloads the thread, restores it with assembleSeedSet into a hidden
 * staging folder inside DEST, then renames each file into place (so no file ever appears under
 * its final name incomplete). The archive's root contents land directly in DEST: the contents
 * of `<source_folder>/`, or with several source folders one subfolder each. Existing files are
 * a conflict unless identical (left alone, so a re-run resumes) or `force` is set. The download
 * folder is removed after success and kept after a failure, so the next run resumes it.
 */
export async function getSeedArchive(ctx: StoreContext, archive: ArchiveRow, path: string, dest: string | undefined, options: SeedOptions = {}): Promise<GetResult> {
  if (path !== '') throw new DosError(ErrorCodes.UNSUPPORTED, `${archive.id} is a seed archive: it can only be restored whole (dos get ${archive.id} [DEST])`, { archive: archive.id });
  const ref = seedRefOf(ctx, archive);
  const workDir = resolve(options.workDir ?? defaultWorkDir(ctx));
  const fetched = await fetchArchive(ctx, archive, ref, workDir, options.onProgress);
  const root = resolve(dest ?? defaultDestinationName(nameOf(archive.id, contentsOf(fetched.manifests)), archive.id));

  const rootExisted = (await lstat(root).catch(() => null)) !== null;
  await makeDirectory(dirname(root), root);
  const stage = join(root, `.dos-seed-${randomBytes(4).toString('hex')}`);
  try {
    const plan = await planSeedRestore(fetched.dir, stage, { haveKey: (options.userKey ?? '') !== '', force: false });
    const map = folderMap(plan.manifests.map((m) => m.manifest));
    const moves: Array<{ from: string; to: string; size: number | null }> = [];
    for (const m of plan.manifests) {
      const folder = map.get(m.manifest)!;
      for (const f of m.files) {
        const rel = folder === '' ? f.entry.originalName : `${folder}/${f.entry.originalName}`;
        moves.push({ from: f.target, to: join(root, ...safeRelativeParts(rel)), size: f.entry.expectedSize });
      }
    }
    // Conflicts that need no decryption are refused before any work.
    const maybeSame = new Set<string>();
    for (const mv of moves) {
      const existing = await lstat(mv.to).catch(() => null);
      if (!existing) continue;
      if (existing.isDirectory()) throw new DosError(ErrorCodes.EXISTS, `${mv.to} is a folder in the way of a file; move it first`, { path: mv.to });
      if (existing.isFile() && existing.size === mv.size) maybeSame.add(mv.to);
      else if (!options.force) throw new DosError(ErrorCodes.EXISTS, `${mv.to} already exists; use --force to overwrite`, { path: mv.to });
    }
    try {
      await assembleSeedSet(fetched.dir, stage, { userKey: options.userKey, force: false });
    } catch (err) {
      await dropBadChunk(fetched.dir, err);
      throw err;
    }
    const identical = new Set<string>();
    for (const mv of moves) {
      if (!maybeSame.has(mv.to)) continue;
      if ((await sha256OfFile(mv.from)) === (await sha256OfFile(mv.to))) identical.add(mv.to);
      else if (!options.force) throw new DosError(ErrorCodes.EXISTS, `${mv.to} already exists with other content; use --force to overwrite`, { path: mv.to });
    }
    let bytes = 0;
    for (const mv of moves) {
      const size = (await lstat(mv.from)).size;
      bytes += size;
      if (identical.has(mv.to)) continue;
      await makeDirectory(root, dirname(mv.to));
      await rename(mv.from, mv.to).catch((err: unknown) => {
        throw fromSystemError(err, `moving ${basename(mv.to)} into ${dirname(mv.to)}`);
      });
    }
    await rm(stage, { recursive: true, force: true });
    await rm(fetched.dir, { recursive: true, force: true });
    return { archive: archive.id, destination: root, files: moves.length, bytes, skipped: identical.size };
  } catch (err) {
    await rm(stage, { recursive: true, force: true });
    if (!rootExisted) await rmdir(root).catch(() => {});
    throw err;
  }
}

/**
 * `dos verify SEED-ID`: quick, every chunk the manifests name is in the thread with the size
 * they recorded (only the manifests are downloaded); `deep`, additionally everything is
 * downloaded and decrypted (assembled into a temporary folder that is then discarded).
 */
export async function verifySeedArchive(ctx: StoreContext, archive: ArchiveRow, deep: boolean, options: SeedOptions = {}): Promise<VerifyResult> {
  const ref = seedRefOf(ctx, archive);
  const problems: VerifyProblem[] = [];
  const result: VerifyResult = { archive: archive.id, deep, ok: false, packs: 0, files: 0, bytes: 0, problems };
  try {
    const threadId = threadOf(archive, ref);
    const listing = await seedBackend(ctx).listSeedThread(threadId);
    for (const r of listing.refused) problems.push({ code: ErrorCodes.UNSAFE_PATH, pack: r.name, message: `attachment ${JSON.stringify(r.name)} has an unsafe name: ${r.reason}` });
    const manifests = await readSeedManifests(ctx.backend, threadId, listing);
    learn(ctx, archive, ref, manifests);
    const present = new Map(listing.attachments.map((a) => [a.name, a.size] as const));
    const chunks = new Map<string, { size: number | null; file: string }>();
    for (const m of manifests) for (const f of m.files) for (const c of f.chunks) chunks.set(c.name, { size: c.size, file: f.originalName });
    result.packs = chunks.size;
    result.files = manifests.reduce((s, m) => s + m.files.length, 0);
    for (const [name, c] of chunks) {
      const size = present.get(name);
      if (size === undefined) problems.push({ code: ErrorCodes.MISSING, path: c.file, pack: name, message: `chunk ${name} of ${c.file} is missing from the thread` });
      else if (c.size !== null && size !== c.size) problems.push({ code: ErrorCodes.CORRUPT, path: c.file, pack: name, message: `chunk ${name} of ${c.file} is ${size} bytes in the thread, the manifest recorded ${c.size}` });
    }
    if (deep && problems.length === 0) {
      const workDir = resolve(options.workDir ?? defaultWorkDir(ctx));
      const fetched = await fetchArchive(ctx, archive, ref, workDir, options.onProgress);
      const out = join(workDir, `.verify-${randomBytes(4).toString('hex')}`);
      try {
        const report = await assembleSeedSet(fetched.dir, out, { userKey: options.userKey });
        result.bytes = report.files.reduce((s, f) => s + f.size, 0);
        await rm(fetched.dir, { recursive: true, force: true });
      } catch (err) {
        await dropBadChunk(fetched.dir, err);
        throw err;
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    }
  } catch (err) {
    if (!isDosError(err)) throw err;
    const chunk = err.details.chunk;
    problems.push({
      code: err.code, message: err.message,
      ...(typeof err.details.file === 'string' ? { path: err.details.file } : {}),
      ...(typeof chunk === 'string' ? { pack: chunk } : Array.isArray(chunk) ? { pack: chunk.join(', ') } : {}),
    });
  }
  result.ok = problems.length === 0;
  return result;
}

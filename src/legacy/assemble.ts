import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DosError, ErrorCodes, isDosError } from '../core/errors.js';
import { ConcatenatedSlices } from './concatenated-slices.js';
import { passThroughOr, tooShort, type DecodeSite } from './decode-errors.js';
import { decodeFileScope, readFileScopeHeader, saltOfHeader } from './decode-file-scope.js';
import { gunzipInto, openSealedChunk, saltOf } from './decode-per-chunk.js';
import { copyPlain, gunzipPlain } from './decode-plain.js';
import type { SeedDecodeMode } from './manifest-types.js';
import { OrderedPrefetcher } from './ordered-prefetch.js';
import { planSeedRestore, type PlannedChunk, type PlannedFile, type PlannedManifest, type SeedRestorePlan } from './restore-plan.js';
import { deriveSeedKey } from './seed-kdf.js';
import { TempOutputFile, type FileIdentity } from './temp-output-file.js';

export interface SeedAssembleOptions {
  /** The seed's USER_KEY. Required when any manifest is encrypted. */
  userKey?: string;
  /** Delete the chunks and manifests that were restored, only after everything succeeded. Default false. */
  deleteInput?: boolean;
  /** Overwrite existing output files. Without it an existing target is an EXISTS error, before anything is written. */
  force?: boolean;
  /** Called as input bytes are consumed; `bytesTotal` is the sum of all chunk sizes. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface SeedAssembleReport {
  chunkDir: string;
  outBase: string;
  manifests: Array<{ name: string; version: string | null; mode: SeedDecodeMode; outputDir: string; files: number; skipped: string[] }>;
  /** Every file written, `path` relative to `outBase` with `/` separators. */
  files: Array<{ manifest: string; path: string; size: number }>;
  /** Distinct output folders, in processing order. */
  outputDirs: string[];
  /** True when deleteInput was asked and the restored inputs were deleted. */
  inputDeleted: boolean;
}

/** Two key derivations at once: the machines have two cores and PBKDF2 is the bottleneck. */
const KDF_PARALLELISM = 2;

type KeyJob = { kind: 'chunk'; file: PlannedFile; chunk: PlannedChunk } | { kind: 'file'; file: PlannedFile };
type KeyResult = { sealed: Buffer; key: Buffer | null } | { header: Buffer | null; key: Buffer | null };

/**
 * Restores every manifest in `chunkDir` (a folder of seed chunks and manifests, e.g. a
 * downloaded `[Archive] #DDMMYY-NN`) into `outBase`, following legacy-format.md §1.5 and §2.4
 * but without the seed's bugs (§7): names are validated, nothing is overwritten unless asked,
 * every file appears under its final name only complete and verified, a size mismatch is an
 * error, and the input is kept unless `deleteInput` is set and everything succeeded.
 *
 * Throws a DosError on the first problem. Files completed before it stay (they are correct) and
 * are listed in the error's `details.restoredBeforeFailure`; the failing file leaves no trace.
 */
export async function assembleSeedSet(chunkDir: string, outBase: string, options: SeedAssembleOptions = {}): Promise<SeedAssembleReport> {
  const userKey = options.userKey ?? '';
  const plan = await planSeedRestore(chunkDir, outBase, { haveKey: userKey !== '', force: options.force ?? false });
  const run = new RestoreRun(plan, userKey, options);
  return run.execute();
}

class RestoreRun {
  private readonly report: SeedAssembleReport;
  private readonly committed = new Set<FileIdentity>();
  private readonly createdDirs: string[] = [];
  private readonly prefetcher: OrderedPrefetcher<KeyJob, KeyResult>;
  /** Set once any GCM tag verified: from then on a failure cannot be the key's fault. */
  private keyVerified = false;
  private bytesDone = 0;

  constructor(
    private readonly plan: SeedRestorePlan,
    private readonly userKey: string,
    private readonly options: SeedAssembleOptions,
  ) {
    this.report = { chunkDir: plan.chunkDir, outBase: plan.outBase, manifests: [], files: [], outputDirs: [], inputDeleted: false };
    this.prefetcher = new OrderedPrefetcher(keyJobsOf(plan), (job) => this.deriveFor(job), KDF_PARALLELISM);
  }

  async execute(): Promise<SeedAssembleReport> {
    try {
      this.advance(0);
      for (const m of this.plan.manifests) await this.restoreManifest(m);
    } catch (err) {
      await this.prefetcher.close();
      await this.removeEmptyCreatedDirs();
      if (isDosError(err)) err.details.restoredBeforeFailure = this.report.files.map((f) => f.path);
      throw err;
    }
    await this.prefetcher.close();
    if (this.options.deleteInput) await this.deleteInput();
    return this.report;
  }

  private async restoreManifest(m: PlannedManifest): Promise<void> {
    await this.ensureDir(m.outputDir);
    if (!this.report.outputDirs.includes(m.outputDir)) this.report.outputDirs.push(m.outputDir);
    for (const f of m.files) await this.restoreFile(m, f);
    this.report.manifests.push({
      name: m.manifest.fileName,
      version: m.manifest.version,
      mode: m.manifest.mode,
      outputDir: m.outputDir,
      files: m.files.length,
      skipped: m.manifest.skipped.map((s) => s.originalName),
    });
  }

  private async restoreFile(m: PlannedManifest, f: PlannedFile): Promise<void> {
    const site: DecodeSite = { chunkDir: this.plan.chunkDir, manifest: m.manifest.fileName, file: f.entry.originalName, chunk: f.chunks.map((c) => c.name) };
    const out = await TempOutputFile.create(m.outputDir);
    try {
      const onInput = (bytes: number) => this.advance(bytes);
      const slices = () => new ConcatenatedSlices(f.chunks);
      switch (m.manifest.mode) {
        case 'per-chunk':
          await this.decodePerChunk(f, out, site);
          break;
        case 'file-scope':
          await this.decodeFileScope(f, out, site, onInput);
          break;
        case 'plain':
          await copyPlain(slices(), out, site, onInput);
          break;
        case 'gzip':
          await gunzipPlain(slices(), out, site, onInput);
          break;
      }
      const expected = f.entry.expectedSize;
      if (expected !== null && out.bytesWritten !== expected) {
        throw new DosError(ErrorCodes.CORRUPT, `${f.entry.originalName} (manifest ${m.manifest.fileName}) decoded to ${out.bytesWritten} bytes but ${f.entry.sizeKey} says ${expected}: chunks are missing from the manifest or were swapped`, { ...site, size: out.bytesWritten, expected });
      }
      await out.commit(f.target, { overwrite: this.options.force ?? false, committed: this.committed });
      this.report.files.push({ manifest: m.manifest.fileName, path: f.relativePath, size: out.bytesWritten });
    } catch (err) {
      await out.discard();
      throw err;
    }
  }

  /** 3.1: chunk by chunk, each authenticated before its plaintext is written. */
  private async decodePerChunk(f: PlannedFile, out: TempOutputFile, fileSite: DecodeSite): Promise<void> {
    for (const chunk of f.chunks) {
      const { item, result } = await this.prefetcher.take();
      if (item.kind !== 'chunk' || item.chunk !== chunk || !('sealed' in result)) throw new Error('key prefetch out of order (bug)');
      const site = { ...fileSite, chunk: chunk.name };
      if (result.key === null) throw tooShort(site, result.sealed.length);
      const gzip = openSealedChunk(result.sealed, result.key, site, this.keyVerified);
      this.keyVerified = true;
      await gunzipInto(gzip, out, site);
      this.advance(chunk.size);
    }
  }

  /** 3.0: one GCM message over all slices, streamed. */
  private async decodeFileScope(f: PlannedFile, out: TempOutputFile, site: DecodeSite, onInput: (bytes: number) => void): Promise<void> {
    const { item, result } = await this.prefetcher.take();
    if (item.kind !== 'file' || item.file !== f || !('header' in result)) throw new Error('key prefetch out of order (bug)');
    const slices = new ConcatenatedSlices(f.chunks);
    if (result.header === null || result.key === null) throw tooShort(site, slices.length);
    await decodeFileScope(slices, result.header, result.key, out, site, this.keyVerified, onInput);
    this.keyVerified = true;
  }

  /** Runs ahead of the consumer (see OrderedPrefetcher): read what holds the salt, derive the key. */
  private async deriveFor(job: KeyJob): Promise<KeyResult> {
    try {
      if (job.kind === 'chunk') {
        const sealed = await readFile(job.chunk.path);
        const salt = saltOf(sealed);
        return { sealed, key: salt === null ? null : await deriveSeedKey(this.userKey, salt) };
      }
      const header = await readFileScopeHeader(new ConcatenatedSlices(job.file.chunks));
      return { header, key: header === null ? null : await deriveSeedKey(this.userKey, saltOfHeader(header)) };
    } catch (err) {
      throw passThroughOr(err, `reading the chunks of ${job.file.entry.originalName}`, () => err as DosError);
    }
  }

  private advance(bytes: number): void {
    this.bytesDone += bytes;
    this.options.onProgress?.(this.bytesDone, this.plan.totalInputBytes);
  }

  /** Creates the folder with parents and remembers which levels are new, to undo them on failure. */
  private async ensureDir(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true });
    if (first === undefined) return;
    const chain: string[] = [];
    for (let current = dir; ; current = dirname(current)) {
      chain.push(current);
      if (current === first || dirname(current) === current) break;
    }
    this.createdDirs.push(...chain);
  }

  /** After a failure, folders this run created and left empty are removed again (deepest first). */
  private async removeEmptyCreatedDirs(): Promise<void> {
    for (const dir of this.createdDirs.slice().sort((a, b) => b.length - a.length)) {
      await rmdir(dir).catch(() => undefined);
    }
  }

  /**
   * Deletes exactly what was restored: the chunks of restored files and the manifests, then the
   * chunk folder only if that left it empty. The seed deleted the whole folder recursively,
   * including anything unrelated that happened to be in it.
   */
  private async deleteInput(): Promise<void> {
    for (const m of this.plan.manifests) {
      for (const f of m.files) for (const c of f.chunks) await rm(c.path, { force: true });
      await rm(m.path, { force: true });
    }
    await rmdir(this.plan.chunkDir).catch(() => undefined);
    this.report.inputDeleted = true;
  }
}

/** The key derivations of the whole run, in exactly the order the restore consumes them. */
function keyJobsOf(plan: SeedRestorePlan): KeyJob[] {
  const jobs: KeyJob[] = [];
  for (const m of plan.manifests) {
    for (const file of m.files) {
      if (m.manifest.mode === 'per-chunk') for (const chunk of file.chunks) jobs.push({ kind: 'chunk', file, chunk });
      else if (m.manifest.mode === 'file-scope') jobs.push({ kind: 'file', file });
    }
  }
  return jobs;
}

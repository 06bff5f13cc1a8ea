import { lstat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { DosError, ErrorCodes } from '../core/errors.js';
import { safeName } from '../core/safe-path.js';
import { SEED_MIN_SEALED_LENGTH } from './constants.js';
import { discoverSeedManifests, listOtherJsonFiles } from './manifest-discovery.js';
import { readSeedManifest } from './manifest-parse.js';
import type { SeedManifest, SeedManifestFile } from './manifest-types.js';

/** Seed 3.1 chunks are at most ~9.96 MB; this leaves room for a seed run with a larger chunk size. */
const MAX_PER_CHUNK_BYTES = 128 * 1024 * 1024;

export interface PlannedChunk {
  name: string;
  path: string;
  /** Size on disk when planned. */
  size: number;
}

export interface PlannedFile {
  entry: SeedManifestFile;
  /** Absolute path of the restored file. */
  target: string;
  /** `target` relative to the output base, with `/` separators (for reports). */
  relativePath: string;
  chunks: PlannedChunk[];
}

export interface PlannedManifest {
  manifest: SeedManifest;
  path: string;
  outputDir: string;
  files: PlannedFile[];
}

export interface SeedRestorePlan {
  chunkDir: string;
  outBase: string;
  manifests: PlannedManifest[];
  /** Sum of all chunk sizes: the denominator of progress reports. */
  totalInputBytes: number;
}

export interface PlanOptions {
  /** Whether a USER_KEY was supplied (non-empty). */
  haveKey: boolean;
  force: boolean;
}

/**
 * Everything that can be checked without decrypting, checked before a single byte or folder is
 * written: manifests parse and hold only safe names, a key is there if needed, every chunk exists
 * with its recorded size, no two entries restore to the same path, and nothing would be
 * overwritten without `force`. The seed discovered most of these half-way through a restore.
 */
export async function planSeedRestore(chunkDirInput: string, outBaseInput: string, options: PlanOptions): Promise<SeedRestorePlan> {
  const chunkDir = resolve(chunkDirInput);
  const outBase = resolve(outBaseInput);
  const names = await discoverSeedManifests(chunkDir);
  if (names.length === 0) {
    const others = await listOtherJsonFiles(chunkDir);
    throw new DosError(ErrorCodes.NOT_FOUND, `no manifest found in ${chunkDir} (a file whose name ends with .json and contains "manifest"); reassembly is impossible without one`, { chunkDir, otherJsonFiles: others });
  }

  const manifests: SeedManifest[] = [];
  for (const name of names) manifests.push(await readSeedManifest(join(chunkDir, name), name));

  const encrypted = manifests.filter((m) => m.encrypted).map((m) => m.fileName);
  if (encrypted.length > 0 && !options.haveKey) {
    throw new DosError(ErrorCodes.KEY_REQUIRED, `USER_KEY is required: ${encrypted.join(', ')} ${encrypted.length === 1 ? 'is' : 'are'} encrypted`, { chunkDir, manifests: encrypted });
  }

  const planned = manifests.map((manifest) => planManifest(manifest, chunkDir, outBase, manifests.length));
  refuseCollisions(planned, outBase);
  await checkChunks(planned, chunkDir);
  await checkTargets(planned, outBase, options.force);
  const totalInputBytes = planned.reduce((sum, m) => sum + m.files.reduce((s, f) => s + f.chunks.reduce((c, k) => c + k.size, 0), 0), 0);
  return { chunkDir, outBase, manifests: planned, totalInputBytes };
}

/**
 * Output folder rules of legacy-format.md §2.4: `<base>/<source_folder>`; else, when the folder
 * holds several manifests, `<base>/restored_<manifest name without .json>`; else `<base>`.
 */
export function seedOutputDir(manifest: SeedManifest, outBase: string, manifestCount: number): string {
  if (manifest.sourceFolder !== null) return join(outBase, ...manifest.sourceFolder.split('/'));
  if (manifestCount > 1) return join(outBase, safeName(`restored_${manifest.fileName.slice(0, -'.json'.length)}`, 'output folder'));
  return outBase;
}

function planManifest(manifest: SeedManifest, chunkDir: string, outBase: string, manifestCount: number): PlannedManifest {
  const outputDir = seedOutputDir(manifest, outBase, manifestCount);
  const files = manifest.files.map((entry): PlannedFile => {
    const target = join(outputDir, entry.originalName);
    return {
      entry,
      target,
      relativePath: relative(outBase, target).split(sep).join('/'),
      chunks: entry.chunks.map((chunk) => ({ name: chunk.name, path: join(chunkDir, chunk.name), size: chunk.size ?? 0 })),
    };
  });
  return { manifest, path: join(chunkDir, manifest.fileName), outputDir, files };
}

/**
 * The seed let a later entry silently overwrite an earlier one; two sources for one path is an
 * error. So is a path that one manifest restores a file to and another needs as a folder.
 */
function refuseCollisions(planned: PlannedManifest[], outBase: string): void {
  const owners = new Map<string, string>();
  for (const m of planned) {
    for (const f of m.files) {
      const owner = `${m.manifest.fileName} (${f.entry.fileId})`;
      const previous = owners.get(f.target);
      if (previous !== undefined) {
        throw new DosError(ErrorCodes.BAD_INPUT, `both ${previous} and ${owner} restore to ${f.relativePath}; refusing to let one overwrite the other`, { path: f.target, manifests: [previous, owner] });
      }
      owners.set(f.target, owner);
    }
  }
  const below = outBase.endsWith(sep) ? outBase : `${outBase}${sep}`;
  for (const m of planned) {
    const folders = [m.outputDir, ...m.files.map((f) => dirname(f.target))];
    for (const folder of folders) {
      for (let current = folder; current.startsWith(below); current = dirname(current)) {
        const fileOwner = owners.get(current);
        if (fileOwner !== undefined) {
          throw new DosError(ErrorCodes.BAD_INPUT, `${fileOwner} restores a file to ${relative(outBase, current)}, which ${m.manifest.fileName} needs as a folder`, { path: current });
        }
      }
    }
  }
}

/** Every chunk must be a regular file in the chunk folder, with the size the manifest recorded. */
async function checkChunks(planned: PlannedManifest[], chunkDir: string): Promise<void> {
  for (const m of planned) {
    for (const f of m.files) {
      const where = { chunkDir, manifest: m.manifest.fileName, file: f.entry.originalName };
      for (const [position, chunk] of f.chunks.entries()) {
        let stats;
        try {
          stats = await lstat(chunk.path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            throw new DosError(ErrorCodes.MISSING, `chunk ${chunk.name} of ${f.entry.originalName} (manifest ${m.manifest.fileName}) is missing from ${chunkDir}`, { ...where, chunk: chunk.name }, { cause: err });
          }
          throw err;
        }
        // A symlink named like a chunk could feed any file on this machine into the output.
        if (!stats.isFile()) {
          throw new DosError(ErrorCodes.UNSAFE_PATH, `chunk ${chunk.name} of ${f.entry.originalName} is not a regular file (symlink or folder); refusing to read it`, { ...where, chunk: chunk.name });
        }
        const recorded = f.entry.chunks[position]?.size ?? null;
        if (recorded !== null && recorded !== stats.size) {
          throw new DosError(ErrorCodes.CORRUPT, `chunk ${chunk.name} of ${f.entry.originalName} is ${stats.size} bytes but the manifest recorded ${recorded}: truncated or damaged`, { ...where, chunk: chunk.name, size: stats.size, expected: recorded });
        }
        // A 3.1 chunk is read whole (the seed's are under 10 MB); a giant file here is not one.
        if (m.manifest.mode === 'per-chunk' && stats.size > MAX_PER_CHUNK_BYTES) {
          throw new DosError(ErrorCodes.CORRUPT, `chunk ${chunk.name} of ${f.entry.originalName} is ${stats.size} bytes, far larger than any seed chunk`, { ...where, chunk: chunk.name, size: stats.size });
        }
        if (m.manifest.mode === 'per-chunk' && stats.size < SEED_MIN_SEALED_LENGTH) {
          throw new DosError(ErrorCodes.CORRUPT, `chunk ${chunk.name} of ${f.entry.originalName} is truncated: ${stats.size} bytes cannot hold salt, nonce and tag`, { ...where, chunk: chunk.name, size: stats.size });
        }
        chunk.size = stats.size;
      }
      const total = f.chunks.reduce((sum, c) => sum + c.size, 0);
      // Raw slices add up to the file exactly, so a short set is caught before writing anything.
      if (m.manifest.mode === 'plain' && f.entry.expectedSize !== null && total !== f.entry.expectedSize) {
        throw new DosError(ErrorCodes.CORRUPT, `the chunks of ${f.entry.originalName} add up to ${total} bytes but the manifest says ${f.entry.expectedSize}: a chunk is truncated or missing from the list`, { ...where, size: total, expected: f.entry.expectedSize });
      }
      if (m.manifest.mode === 'file-scope' && total < SEED_MIN_SEALED_LENGTH) {
        throw new DosError(ErrorCodes.CORRUPT, `the chunks of ${f.entry.originalName} hold ${total} bytes, too few for salt, nonce and tag`, { ...where, size: total });
      }
    }
  }
}

/**
 * Nothing is overwritten without `force`, and never an input of this restore (with the output
 * base set to the chunk folder, a restored name could equal a chunk still to be read), a folder,
 * or a path whose folder position is taken by a file.
 */
async function checkTargets(planned: PlannedManifest[], outBase: string, force: boolean): Promise<void> {
  const inputs = new Set<string>();
  for (const m of planned) {
    inputs.add(m.path);
    for (const f of m.files) for (const c of f.chunks) inputs.add(c.path);
  }
  const checkedDirs = new Set<string>();
  for (const m of planned) {
    await checkFolderPath(m.outputDir, outBase, checkedDirs);
    for (const f of m.files) {
      if (inputs.has(f.target)) {
        throw new DosError(ErrorCodes.EXISTS, `${f.relativePath} would overwrite one of the chunk or manifest files being restored`, { path: f.target });
      }
      const stats = await lstat(f.target).catch(ignoreMissing);
      if (stats === undefined) continue;
      if (!stats.isFile()) throw new DosError(ErrorCodes.EXISTS, `${f.target} exists and is not a regular file`, { path: f.target });
      if (!force) throw new DosError(ErrorCodes.EXISTS, `${f.target} already exists (use force to overwrite)`, { path: f.target });
    }
  }
}

/**
 * Each existing level below the base down to the output folder must be a plain folder: a file
 * is in the way, and a symlink (planted, or left by anything) would send the restore outside
 * the base. Every level is looked at with lstat, from the top, since a link higher up is just
 * as bad as one at the end. The base itself is the user's choice and may be a link.
 */
async function checkFolderPath(dir: string, outBase: string, checked: Set<string>): Promise<void> {
  const rel = relative(outBase, dir);
  if (rel === '') return;
  let current = outBase;
  for (const part of rel.split(sep)) {
    current = join(current, part);
    if (checked.has(current)) continue;
    checked.add(current);
    const stats = await lstat(current).catch(ignoreMissing);
    if (stats === undefined) return; // nothing deeper exists either
    if (stats.isSymbolicLink()) throw new DosError(ErrorCodes.UNSAFE_PATH, `${current} is a symbolic link; refusing to restore through it`, { path: current });
    if (!stats.isDirectory()) throw new DosError(ErrorCodes.EXISTS, `${current} exists and is not a folder`, { path: current });
  }
}

/** "Not there" (ENOTDIR: a parent is a file, which checkFolderPath reports as it walks up). */
function ignoreMissing(err: unknown): undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw err;
}

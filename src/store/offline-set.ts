import { existsSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LocalBackend } from '../backends/local/local-backend.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { ProgressFn } from './context.js';
import { defaultDestinationName, makeDirectory } from './destination.js';
import { initStore, openStore } from './open-store.js';
import type { PutResult } from './put.js';
import type { GetResult } from './restore.js';
import { assembleSeedSet } from '../legacy/assemble.js';

/**
 * The seed's offline workflow on format v4: `slice` writes a self-contained set (packs, archive
 * record and keyring) into a folder, which is simply a local backend rooted there; `assemble`
 * restores such a set. Seed sets are handled by src/legacy.
 */
export async function sliceToSet(folder: string, outDir: string, options: { userKey: string | null; name?: string; onProgress?: ProgressFn; notice?: (m: string) => void }): Promise<PutResult> {
  const source = resolve(folder);
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new DosError(ErrorCodes.BAD_INPUT, `${folder} is not a folder`);
  const out = resolve(outDir);
  // Unlike the seed, never mix a new set into a folder that already holds something.
  if (existsSync(out) && readdirSync(out).length > 0) throw new DosError(ErrorCodes.EXISTS, `${outDir} is not empty; slice into a new or empty folder`, { path: out });
  if (within(out, source)) throw new DosError(ErrorCodes.BAD_INPUT, 'the output folder cannot be inside the folder being sliced');
  const store = await initStore({ backend: new LocalBackend(out), indexPath: ':memory:', userKey: options.userKey, notice: options.notice });
  try {
    return await store.put([source], { name: options.name ?? basename(source), onProgress: options.onProgress });
  } finally {
    await store.close();
  }
}

/** Whether `path` is `folder` or lies inside it. */
function within(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith('/') ? folder : `${folder}/`);
}

export function isV4Set(dir: string): boolean {
  return existsSync(join(dir, 'keyring.json'));
}

/** Restores every archive of a v4 set into OUT/<archive name>/ (OUT defaults to the set's parent folder). */
export async function assembleV4Set(dir: string, options: { out?: string; userKey?: string; force?: boolean; deleteInput?: boolean; onProgress?: ProgressFn; notice?: (m: string) => void }): Promise<GetResult[]> {
  const setDir = resolve(dir);
  const outBase = resolve(options.out ?? dirname(setDir));
  const store = await openStore({ backend: new LocalBackend(setDir), indexPath: ':memory:', userKey: options.userKey, notice: options.notice });
  const results: GetResult[] = [];
  try {
    const archives = store.listArchives();
    if (archives.length === 0) throw new DosError(ErrorCodes.NOT_FOUND, `${dir} holds a keyring but no archive`);
    const destinations = archives.map((archive) => join(outBase, defaultDestinationName(archive.name, archive.id)));
    // Restored files mixed into the set's own folder (or the set inside what is restored) would
    // be deleted with it by --delete-input, and are a muddle without it.
    const overlapping = destinations.find((d) => within(d, setDir) || within(setDir, d));
    if (overlapping !== undefined) {
      throw new DosError(ErrorCodes.BAD_INPUT, `the set in ${setDir} would be restored into ${overlapping}, which overlaps it; choose another folder with --out`, { path: overlapping });
    }
    for (const [i, archive] of archives.entries()) {
      // The folder is named after the archive: refuse a symlink there, as get does.
      await makeDirectory(outBase, destinations[i]!);
      results.push(await store.get(archive.id, destinations[i], { force: options.force, onProgress: options.onProgress }));
    }
  } finally {
    await store.close();
  }
  if (options.deleteInput) await rm(setDir, { recursive: true });
  return results;
}

/**
 * The seed accepted `[Archive] #ID`-style folder names for a chunk folder given by id; do the
 * same for exact candidates (never the seed's fuzzy `*ID*` match, which could pick the wrong folder).
 */
export function resolveSetFolder(path: string): string {
  const full = resolve(path);
  if (existsSync(full)) return full;
  const parent = dirname(full);
  const id = /\d{6}-\d+/.exec(basename(full))?.[0];
  if (id && existsSync(parent)) {
    for (const candidate of [`[Archive] #${id}`, `[Archive] ${id}`, `#${id}`, id]) {
      if (existsSync(join(parent, candidate))) return join(parent, candidate);
    }
  }
  throw new DosError(ErrorCodes.NOT_FOUND, `folder not found: ${path} (expected a folder of packs or seed chunks, e.g. "[Archive] #DDMMYY-NN")`, { path });
}

export interface AssembleResult {
  kind: 'v4' | 'seed';
  folders: Array<{ destination: string; files: number; bytes: number }>;
  inputDeleted: boolean;
}

/** `dos assemble`: a v4 set (it has a keyring.json) or any seed set of chunks and manifests. */
export async function assembleOfflineSet(dir: string, options: { out?: string; userKey?: string; seedUserKey?: string; force?: boolean; deleteInput?: boolean; onProgress?: ProgressFn; notice?: (m: string) => void }): Promise<AssembleResult> {
  const setDir = resolveSetFolder(dir);
  if (isV4Set(setDir)) {
    const restored = await assembleV4Set(setDir, options);
    return { kind: 'v4', folders: restored.map((r) => ({ destination: r.destination, files: r.files, bytes: r.bytes })), inputDeleted: options.deleteInput === true };
  }
  const report = await assembleSeedSet(setDir, resolve(options.out ?? dirname(setDir)), {
    userKey: options.seedUserKey ?? options.userKey, force: options.force, deleteInput: options.deleteInput, onProgress: options.onProgress,
  });
  const folders = report.outputDirs.map((destination) => {
    const files = report.files.filter((f) => join(report.outBase, f.path).startsWith(`${destination}/`));
    return { destination, files: files.length, bytes: files.reduce((s, f) => s + f.size, 0) };
  });
  return { kind: 'seed', folders, inputDeleted: report.inputDeleted };
}

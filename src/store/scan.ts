import { lstat, readdir, readlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { DosError, ErrorCodes } from '../core/errors.js';
import { safeRelativeParts } from '../core/safe-path.js';
import type { EntryType } from '../core/manifest.js';

/** One thing to archive: where it is on disk and the path it gets inside the archive. */
export interface ScannedEntry {
  source: string;
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  mtimeMs: number;
  target?: string;
}

/** macOS litter that never belongs in an archive (Finder metadata and AppleDouble files). */
export function isMacLitter(name: string): boolean {
  return name === '.DS_Store' || name.startsWith('._');
}

/**
 * Lists what `dos put` archives. One folder → its contents at the archive root; several paths
 * (or a single file) → each becomes an entry at the root under its base name. Sorted, so the
 * same tree always yields the same manifest order. Sockets, FIFOs and devices are skipped
 * with a notice: they have no content to store.
 */
export async function scanInputs(inputs: string[], notice: (m: string) => void): Promise<ScannedEntry[]> {
  if (inputs.length === 0) throw new DosError(ErrorCodes.BAD_INPUT, 'nothing to put: give at least one path');
  const entries: ScannedEntry[] = [];
  const roots = await Promise.all(inputs.map(async (input) => {
    const source = resolve(input);
    try {
      return { source, stats: await lstat(source) };
    } catch (err) {
      throw new DosError(ErrorCodes.NOT_FOUND, `cannot read ${input}: ${(err as Error).message}`, { path: input });
    }
  }));
  if (roots.length === 1 && roots[0]!.stats.isDirectory()) {
    await walk(roots[0]!.source, '', entries, notice);
    return entries;
  }
  const names = new Set<string>();
  for (const { source } of roots) {
    const name = basename(source);
    if (names.has(name)) throw new DosError(ErrorCodes.BAD_INPUT, `two inputs are both called "${name}"; put them in one folder or put them separately`);
    names.add(name);
    await addOne(source, name, entries, notice);
  }
  return entries;
}

async function addOne(source: string, path: string, out: ScannedEntry[], notice: (m: string) => void): Promise<void> {
  // A name the manifest would refuse on the way back (a backslash, "C:x") would make the whole
  // archive unreadable once published: refuse it now, before anything is uploaded.
  try {
    safeRelativeParts(path);
  } catch (err) {
    throw new DosError(ErrorCodes.BAD_INPUT, `cannot archive ${source}: ${(err as Error).message}; rename it first`, { path: source }, { cause: err });
  }
  const stats = await lstat(source).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw unreadable(source, err);
  });
  if (!stats) {
    notice(`skipping ${source}: it was removed while being listed`);
    return;
  }
  const common = { source, path, mode: stats.mode & 0o7777, mtimeMs: stats.mtimeMs };
  if (stats.isFile()) {
    out.push({ ...common, type: 'file', size: stats.size });
  } else if (stats.isDirectory()) {
    out.push({ ...common, type: 'dir', size: 0 });
    await walk(source, path, out, notice);
  } else if (stats.isSymbolicLink()) {
    const target = await readlink(source, { encoding: 'buffer' }).catch((err: NodeJS.ErrnoException) => {
      throw unreadable(source, err);
    });
    out.push({ ...common, type: 'symlink', size: 0, target: utf8Name(target, source, 'its link target') });
  } else {
    notice(`skipping ${source}: not a regular file, folder or symlink`);
  }
}

async function walk(dir: string, prefix: string, out: ScannedEntry[], notice: (m: string) => void): Promise<void> {
  const raw = await readdir(dir, { encoding: 'buffer' }).catch((err: NodeJS.ErrnoException) => {
    throw unreadable(dir, err);
  });
  const names = raw.map((name) => utf8Name(name, join(dir, name.toString('utf8')), 'its name')).filter((n) => !isMacLitter(n)).sort();
  for (const name of names) await addOne(join(dir, name), prefix ? `${prefix}/${name}` : name, out, notice);
}

/**
 * Names are stored as UTF-8. One that is not (Linux allows any bytes) would come back as a
 * different name, or not be found at all: refused, naming it as best we can.
 */
function utf8Name(bytes: Buffer, where: string, what: string): string {
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new DosError(ErrorCodes.BAD_INPUT, `cannot archive ${where}: ${what} is not valid UTF-8; rename it first`, { path: where });
  }
  return text;
}

/** A file or folder the put cannot read: BAD_INPUT, naming it and the system's reason. */
export function unreadable(path: string, err: NodeJS.ErrnoException): DosError {
  return new DosError(ErrorCodes.BAD_INPUT, `cannot read ${path}: ${err.code ?? err.message}`, { path, systemCode: err.code }, { cause: err });
}

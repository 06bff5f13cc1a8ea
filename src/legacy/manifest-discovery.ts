import { readdir } from 'node:fs/promises';
import { DosError, ErrorCodes } from '../core/errors.js';

/**
 * The seed's rule for "manifest-like" files (legacy-format.md §2.4): the lower-cased name ends
 * with `.json` and contains `manifest` (which covers the pre-repo `manifest.json`). Unlike the
 * seed we skip macOS junk: AppleDouble `._*` companions that Finder leaves on exFAT/FAT drives
 * (they match the rule, fail to parse, and used to block every restore) and `.DS_Store`.
 */
export function isSeedManifestName(name: string): boolean {
  if (name.startsWith('._') || name === '.DS_Store') return false;
  const lower = name.toLowerCase();
  return lower.endsWith('.json') && lower.includes('manifest');
}

/**
 * Manifest file names in `dir` (not recursive), sorted by name. Only regular files count: a
 * symlink could point a "manifest" at any file on the machine. The seed processed manifests
 * newest-mtime first, but after a download every mtime is the download time, so its order was
 * arbitrary anyway; sorting makes runs reproducible, and since colliding targets are refused,
 * the order cannot change what gets written.
 */
export async function discoverSeedManifests(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DosError(ErrorCodes.NOT_FOUND, `chunk folder ${dir} does not exist or is not a folder`, { path: dir }, { cause: err });
    }
    throw err;
  }
  return entries
    .filter((entry) => entry.isFile() && isSeedManifestName(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/** The `.json` files that are not manifests, for the "no manifest found" error (the seed listed them too). */
export async function listOtherJsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith('.json') && !isSeedManifestName(entry.name))
    .map((entry) => entry.name)
    .sort();
}

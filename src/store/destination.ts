import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { DosError, ErrorCodes, fromSystemError } from '../core/errors.js';
import { safeRelativeParts } from '../core/safe-path.js';

/**
 * Helpers for writing restored files into a destination folder the user chose, shared by every
 * restore path (v4 archives, seed archives, offline sets).
 */

/** The default destination for an archive: its name if that is one safe folder name, else its id. */
export function defaultDestinationName(name: string, archiveId: string): string {
  try {
    if (safeRelativeParts(name).length === 1) return name;
  } catch {
    // fall through to the id
  }
  return archiveId.replace('#', '');
}

/**
 * Creates `dir` under `root` level by level, refusing to write through a symlink or a file:
 * a symlink planted in the destination must not redirect our writes elsewhere.
 */
export async function makeDirectory(root: string, dir: string): Promise<void> {
  await mkdir(root, { recursive: true }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST' && err.code !== 'ENOTDIR') throw fromSystemError(err, `creating ${root}`);
    const file = await nearestExisting(root);
    throw new DosError(ErrorCodes.EXISTS, `${file} is in the way${file === root ? '' : ` of ${root}`}: a file, not a folder`, { path: file }, { cause: err });
  });
  const rel = relative(root, dir);
  if (rel === '') return;
  let current = root;
  for (const part of rel.split(sep)) {
    current = join(current, part);
    const stats = await lstat(current).catch(() => null);
    if (!stats) {
      await mkdir(current).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw fromSystemError(err, `creating ${current}`);
      });
      continue;
    }
    if (stats.isSymbolicLink() || !stats.isDirectory()) {
      throw new DosError(ErrorCodes.UNSAFE_PATH, `${current} is not a plain folder; refusing to write through it`, { path: current });
    }
  }
}

/** `path` itself or the closest of its parents that exists. */
async function nearestExisting(path: string): Promise<string> {
  for (let current = path; ; current = dirname(current)) {
    if ((await lstat(current).catch(() => null)) !== null || dirname(current) === current) return current;
  }
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

import { lstat, readdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { normalizeArchiveId } from '../core/archive-id.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import { isSeedManifestName } from '../legacy/index.js';

/**
 * The bot's two folders on the host: it reads only from the upload folder and writes only
 * under the download folder (plus its own work folder, never named by a user). Paths are
 * built from configuration and normalised archive ids, never from message text.
 */
export interface BotFolders {
  /** `!upload` archives what is in here (DISCORD_DRIVE_UPLOAD_PATH). */
  upload: string;
  /** `!download` restores into `[Archive] #DDMMYY-NN/` in here (DISCORD_DRIVE_DOWNLOAD_PATH). */
  download: string;
  /** Scratch space: seed downloads and reassembled seed sets. Not shown to users. */
  work: string;
}

/** Names never uploaded: dot-files, which covers macOS's `.DS_Store` and `._*` companions. */
export function skipped(name: string): boolean {
  return name.startsWith('.');
}

export interface UploadScan {
  /** Top-level entries to archive, absolute. */
  inputs: string[];
  files: number;
  bytes: number;
  /** Top-level symlinks left out (they could point anywhere on the host). */
  symlinks: string[];
  /** A seed-sliced set: `.bin` chunks plus manifest JSONs at the top level. */
  seedSet: { manifests: string[]; chunks: string[]; others: string[] } | null;
}

/** What `!upload` would take, without reading any file's content. */
export async function scanUploadFolder(dir: string): Promise<UploadScan> {
  const scan: UploadScan = { inputs: [], files: 0, bytes: 0, symlinks: [], seedSet: null };
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const manifests: string[] = [];
  const chunks: string[] = [];
  const others: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (skipped(entry.name)) continue;
    if (entry.isSymbolicLink()) {
      scan.symlinks.push(entry.name);
      continue;
    }
    const full = join(dir, entry.name);
    scan.inputs.push(full);
    if (entry.isFile() && isSeedManifestName(entry.name)) manifests.push(entry.name);
    else if (entry.isFile() && entry.name.endsWith('.bin')) chunks.push(entry.name);
    else others.push(entry.name);
    await count(full, scan);
  }
  if (manifests.length > 0) scan.seedSet = { manifests, chunks, others };
  return scan;
}

async function count(path: string, scan: UploadScan): Promise<void> {
  // An upload running now removes what it has posted: a file gone since it was listed is skipped.
  const st = await lstat(path).catch(ignoreGone);
  if (!st) return;
  if (st.isFile()) {
    scan.files++;
    scan.bytes += st.size;
  } else if (st.isDirectory()) {
    for (const entry of (await readdir(path, { withFileTypes: true }).catch(ignoreGone)) ?? []) {
      if (!skipped(entry.name) && !entry.isSymbolicLink()) await count(join(path, entry.name), scan);
    }
  }
}

function ignoreGone(err: NodeJS.ErrnoException): null {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
  throw err;
}

/** `<download>/[Archive] #DDMMYY-NN`: the seed's folder name, built from a normalised id only. */
export function downloadFolderOf(folders: BotFolders, archiveId: string): string {
  const id = normalizeArchiveId(archiveId);
  if (id === null || id !== archiveId) throw new DosError(ErrorCodes.BAD_INPUT, `not an archive id: ${archiveId}`);
  const dir = resolve(folders.download, `[Archive] ${id}`);
  assertInside(folders.download, dir);
  return dir;
}

/** Defence in depth: `path` must be strictly inside `root`. */
export function assertInside(root: string, path: string): void {
  const rel = relative(resolve(root), resolve(path));
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep) || resolve(root, rel) !== resolve(path)) {
    throw new DosError(ErrorCodes.UNSAFE_PATH, 'refusing a path outside the bot folders');
  }
}

/**
 * Error texts from the engine name local paths; users in Discord must not see the host's
 * layout (issue #5: "no local paths leaked"). Known roots become labels, other absolute paths
 * are cut to their last component.
 */
export function redactPaths(text: string, folders: BotFolders, extra: Array<[string, string]> = []): string {
  const roots: Array<[string, string]> = [
    [folders.download, '<download folder>'],
    [folders.upload, '<upload folder>'],
    [folders.work, '<bot work folder>'],
    ...extra,
  ];
  let out = text;
  for (const [root, label] of roots.sort((a, b) => b[0].length - a[0].length)) {
    if (root) out = out.split(root).join(label);
  }
  // Any other absolute path: keep only its last component.
  return out.replace(/(^|[\s"'(])\/(?:[^\s"'/)]+\/)+([^\s"'/)]*)/g, '$1…/$2');
}

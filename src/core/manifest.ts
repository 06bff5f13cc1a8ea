import { DosError, ErrorCodes } from './errors.js';
import { safeRelativeParts } from './safe-path.js';

/**
 * The manifest of one archive generation: the tree and, for every frame, where it lives.
 * Serialised as JSON, then stored like any data (framed, compressed, encrypted, packed), so
 * nothing in it is readable from the backend and its size is not limited by an attachment.
 * Everything read from a manifest is validated before use: it may be hostile.
 */
export type EntryType = 'file' | 'dir' | 'symlink';

export interface ManifestEntry {
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  mtimeMs: number;
  /** hex sha256 of the whole file (files only). */
  sha256?: string;
  /** Indices into Manifest.frames, in file order (files only). */
  frames?: number[];
  /** Symlink target, stored verbatim (symlinks only). */
  target?: string;
}

export interface ManifestPack {
  name: string;
  /** Backend locator; null for a pack listed in the archive record (the one holding the manifest itself). */
  locator: string | null;
  size: number;
}

/** [frame id hex, pack index, offset, stored length, plain length, flags] */
export type ManifestFrame = [string, number, number, number, number, number];

export interface Manifest {
  format: 'dos-manifest';
  version: 1;
  storeId: string;
  archiveId: string;
  name: string;
  generation: number;
  createdAt: string;
  frameSize: number;
  packs: ManifestPack[];
  frames: ManifestFrame[];
  entries: ManifestEntry[];
}

export function encodeManifest(manifest: Manifest): Buffer {
  return Buffer.from(JSON.stringify(manifest), 'utf8');
}

const isInt = (v: unknown, min = 0): v is number => Number.isSafeInteger(v) && (v as number) >= min;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Parses and validates a manifest. `expect` pins the store and archive it must belong to. */
export function decodeManifest(bytes: Buffer, expect: { storeId: string; archiveId: string }): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new DosError(ErrorCodes.CORRUPT, `the manifest of ${expect.archiveId} is not valid JSON`, { archive: expect.archiveId }, { cause: err });
  }
  const bad = (why: string): never => {
    throw new DosError(ErrorCodes.CORRUPT, `the manifest of ${expect.archiveId} is invalid: ${why}`, { archive: expect.archiveId });
  };
  const m = value as Manifest;
  if (!m || typeof m !== 'object' || m.format !== 'dos-manifest') bad('not a dos manifest');
  if (m.version !== 1) throw new DosError(ErrorCodes.UNSUPPORTED, `manifest version ${String(m.version)} is newer than this dos understands`);
  if (m.storeId !== expect.storeId) bad('it belongs to another store');
  if (m.archiveId !== expect.archiveId) bad(`it belongs to archive ${String(m.archiveId)}`);
  if (typeof m.name !== 'string' || !isInt(m.generation, 1) || !isInt(m.frameSize, 1)) bad('bad header fields');
  if (!Array.isArray(m.packs) || !Array.isArray(m.frames) || !Array.isArray(m.entries)) bad('missing tables');
  for (const p of m.packs) {
    if (!p || typeof p.name !== 'string' || !/^[0-9a-f]{32}$/.test(p.name) || !isInt(p.size) || (p.locator !== null && typeof p.locator !== 'string')) bad('bad pack entry');
  }
  for (const f of m.frames) {
    if (!Array.isArray(f) || f.length !== 6 || typeof f[0] !== 'string' || !HEX32.test(f[0])) bad('bad frame entry');
    const [, pack, offset, stored, plain, flags] = f;
    if (!isInt(pack) || pack >= m.packs.length || !isInt(offset) || !isInt(stored, 1) || !isInt(plain) || !isInt(flags)) bad('bad frame entry');
  }
  const seen = new Set<string>();
  const symlinks = new Set<string>();
  for (const e of m.entries) {
    if (!e || typeof e.path !== 'string') bad('entry without a path');
    const parts = safeRelativeParts(e.path, `path in the manifest of ${expect.archiveId}`);
    if (seen.has(e.path)) bad(`duplicate path ${JSON.stringify(e.path)}`);
    seen.add(e.path);
    if (!isInt(e.size) || !isInt(e.mode) || typeof e.mtimeMs !== 'number' || !Number.isFinite(e.mtimeMs)) bad(`bad attributes for ${JSON.stringify(e.path)}`);
    for (let i = 1; i < parts.length; i++) {
      if (symlinks.has(parts.slice(0, i).join('/'))) bad(`${JSON.stringify(e.path)} lies beneath a symlink`);
    }
    if (e.type === 'file') {
      if (typeof e.sha256 !== 'string' || !HEX64.test(e.sha256) || !Array.isArray(e.frames)) bad(`file ${JSON.stringify(e.path)} lacks its hash or frames`);
      let total = 0;
      for (const index of e.frames!) {
        if (!isInt(index) || index >= m.frames.length) bad(`file ${JSON.stringify(e.path)} names a frame that does not exist`);
        total += m.frames[index]![4];
      }
      if (total !== e.size) bad(`file ${JSON.stringify(e.path)} has frames for ${total} bytes but a size of ${e.size}`);
    } else if (e.type === 'symlink') {
      if (typeof e.target !== 'string' || e.target.length === 0 || e.target.includes('\0')) bad(`symlink ${JSON.stringify(e.path)} has a bad target`);
      symlinks.add(e.path);
    } else if (e.type !== 'dir') {
      bad(`unknown entry type for ${JSON.stringify(e.path)}`);
    }
  }
  // A symlink listed after a path beneath it would slip past the loop above.
  for (const path of seen) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      if (symlinks.has(parts.slice(0, i).join('/'))) bad(`${JSON.stringify(path)} lies beneath a symlink`);
    }
  }
  return m;
}

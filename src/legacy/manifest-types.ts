/**
 * The seed's manifests after validation (legacy-format.md §1.5, §2). Every name in here has
 * already passed the safe-path checks, so code that joins them to folders needs no re-checking.
 */

/**
 * How a manifest's chunks turn back into files, chosen only from `encrypted`, `encryption_scope`
 * and (for unencrypted data) `compression`, never from chunk names or versions:
 * - `per-chunk`  3.1: every chunk is salt‖nonce‖GCM(gzip(piece))‖tag on its own;
 * - `file-scope` 3.0: the concatenated chunks are one salt‖nonce‖GCM(gzip(file))‖tag;
 * - `plain`      2.0, 2.1, manifest.json: raw slices of the file, copied byte for byte;
 * - `gzip`       unencrypted but explicitly gzip-compressed: no seed wrote it, read for safety.
 */
export type SeedDecodeMode = 'per-chunk' | 'file-scope' | 'plain' | 'gzip';

export interface SeedChunkRef {
  /** File name inside the chunk folder (a single safe path component). */
  name: string;
  /** Position within the file: the manifest's `index`, or list position for string entries. */
  index: number;
  /** Byte length recorded by the writer (3.x object entries), or null when not recorded. */
  size: number | null;
}

export interface SeedManifestFile {
  /** Key of the entry in `files` (the seed's FILEID). */
  fileId: string;
  /** File name to restore (a single safe path component). */
  originalName: string;
  /** Expected size of the restored file, or null when the manifest does not say. */
  expectedSize: number | null;
  /** Which key `expectedSize` came from: 3.x wrote `original_size`, 2.x `total_size`. */
  sizeKey: 'original_size' | 'total_size' | null;
  /** In decoding order. */
  chunks: SeedChunkRef[];
}

export interface SeedManifest {
  /** The manifest's own file name in the chunk folder. */
  fileName: string;
  /** `version` as written ("2.0" … "3.1"), or null (legacy manifest.json). Informational only. */
  version: string | null;
  encrypted: boolean;
  mode: SeedDecodeMode;
  /** Validated relative folder to restore into, or null when absent or empty. */
  sourceFolder: string | null;
  files: SeedManifestFile[];
  /** Entries deliberately not restored (the seed skipped `.DS_Store`). */
  skipped: Array<{ fileId: string; originalName: string; reason: string }>;
}

import { readFile } from 'node:fs/promises';
import { DosError, ErrorCodes, isDosError } from '../core/errors.js';
import { safeName, safeRelativeParts } from '../core/safe-path.js';
import type { SeedChunkRef, SeedDecodeMode, SeedManifest, SeedManifestFile } from './manifest-types.js';

/** Real manifests are a few hundred bytes per file; anything this large is not one of them. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Reads and validates one manifest file. */
export async function readSeedManifest(path: string, fileName: string): Promise<SeedManifest> {
  const bytes = await readFile(path);
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new DosError(ErrorCodes.BAD_INPUT, `manifest ${fileName} is ${bytes.length} bytes, too large to be a seed manifest`, { manifest: fileName });
  }
  return parseSeedManifest(bytes.toString('utf8'), fileName);
}

/**
 * Parses and validates a seed manifest of any generation (2.0, 2.1, 3.0, 3.1, manifest.json).
 * Everything is checked before anything is returned, so a caller can refuse a whole set before
 * writing a byte: unparseable JSON → CORRUPT, wrong shapes → BAD_INPUT, a name that could
 * escape its folder → UNSAFE_PATH. Never a TypeError.
 */
export function parseSeedManifest(text: string, fileName: string): SeedManifest {
  const where = { manifest: fileName };
  let raw: unknown;
  try {
    // A BOM is not valid JSON but some editors add one; it carries no meaning.
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new DosError(ErrorCodes.CORRUPT, `manifest ${fileName} is not valid JSON (${(err as Error).message}); it may be truncated or not a seed manifest`, where, { cause: err });
  }
  if (!isObject(raw)) throw bad(`manifest ${fileName} is not a JSON object`, where);

  const encrypted = parseEncrypted(raw, fileName);
  const mode = chooseDecodeMode(raw, encrypted, fileName);
  const version = typeof raw.version === 'string' ? raw.version : typeof raw.version === 'number' ? String(raw.version) : null;
  const sourceFolder = parseSourceFolder(raw.source_folder, fileName);

  if (!isObject(raw.files)) throw bad(`manifest ${fileName} has no "files" object`, where);
  const files: SeedManifestFile[] = [];
  const skipped: SeedManifest['skipped'] = [];
  for (const [fileId, info] of Object.entries(raw.files)) {
    const file = parseFileEntry(fileId, info, fileName);
    // The seed never restored Finder's folder metadata; neither do we.
    if (file.originalName === '.DS_Store') skipped.push({ fileId, originalName: file.originalName, reason: '.DS_Store is macOS folder metadata' });
    else files.push(file);
  }
  return { fileName, version, encrypted, mode, sourceFolder, files, skipped };
}

/**
 * `encrypted`: the seed took Python truthiness, but every generation wrote either `true` or
 * nothing, so anything else is a manifest we do not understand rather than a value to guess at.
 */
function parseEncrypted(raw: JsonObject, fileName: string): boolean {
  const value = raw.encrypted;
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return true;
  throw bad(`manifest ${fileName}: "encrypted" must be true or false, not ${JSON.stringify(value)}`, { manifest: fileName });
}

/**
 * The decision procedure of legacy-format.md §1.5. A missing `encryption_scope` means "file"
 * (that absence is the only mark of format 3.0); null or "file" mean file scope too. An unknown
 * scope string is refused instead of being read as file scope, where it would fail
 * authentication and be blamed on the key.
 *
 * Unencrypted data is copied raw: the seed's "try gunzip, else raw" silently decompressed
 * original `.gz` files. Only a manifest that says so explicitly (`compression: "gzip…"` without
 * encryption, which no seed generation wrote) is gunzipped.
 */
export function chooseDecodeMode(raw: Record<string, unknown>, encrypted: boolean, fileName: string): SeedDecodeMode {
  if (encrypted) {
    const scope = 'encryption_scope' in raw ? raw.encryption_scope : 'file';
    if (scope === 'chunk') return 'per-chunk';
    if (scope === 'file' || scope === null) return 'file-scope';
    throw new DosError(ErrorCodes.UNSUPPORTED, `manifest ${fileName}: unknown encryption_scope ${JSON.stringify(scope)}`, { manifest: fileName });
  }
  const compression = raw.compression;
  if (compression === undefined || compression === null || compression === 'none' || compression === false) return 'plain';
  if (typeof compression === 'string' && /^gzip/i.test(compression)) return 'gzip';
  throw new DosError(ErrorCodes.UNSUPPORTED, `manifest ${fileName}: unknown compression ${JSON.stringify(compression)} for unencrypted data`, { manifest: fileName });
}

/** `source_folder` may contain `/` (we create parents), but never `..`, absolute paths or NUL. */
function parseSourceFolder(value: unknown, fileName: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw bad(`manifest ${fileName}: "source_folder" must be a string`, { manifest: fileName });
  untrusted(() => safeRelativeParts(value, 'source_folder'), fileName);
  return value;
}

function parseFileEntry(fileId: string, info: unknown, fileName: string): SeedManifestFile {
  const where = { manifest: fileName, fileId };
  if (!isObject(info)) throw bad(`manifest ${fileName}: entry ${fileId} is not an object`, where);
  const name = info.original_name;
  if (typeof name !== 'string' || name === '') throw bad(`manifest ${fileName}: entry ${fileId} has no original_name`, where);
  // original_name was always a bare file name (the slicer did not recurse), so "/" is refused too.
  untrusted(() => safeName(name, 'original_name'), fileName, fileId);

  let expectedSize: number | null = null;
  let sizeKey: SeedManifestFile['sizeKey'] = null;
  for (const key of ['original_size', 'total_size'] as const) {
    const value = info[key];
    if (value === undefined || value === null) continue;
    if (!isCount(value)) throw bad(`manifest ${fileName}: ${key} of ${name} must be a non-negative integer`, where);
    expectedSize = value;
    sizeKey = key;
    break;
  }
  return { fileId, originalName: name, expectedSize, sizeKey, chunks: parseChunkList(info.chunks, fileName, name) };
}

/**
 * Chunk entries are all strings (2.x: list order is the order) or all objects (3.x: stably
 * sorted by `index`, a missing index counting as 0, as the seed did). A mixed list made the seed
 * crash; here it is a clear error.
 */
function parseChunkList(value: unknown, fileName: string, originalName: string): SeedChunkRef[] {
  const where = { manifest: fileName, file: originalName };
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad(`manifest ${fileName}: chunks of ${originalName} must be a list`, where);
  if (value.length === 0) return [];
  const asObjects = isObject(value[0]);
  const chunks = value.map((entry: unknown, position): SeedChunkRef => {
    if (asObjects !== isObject(entry) || (!asObjects && typeof entry !== 'string')) {
      throw bad(`manifest ${fileName}: chunk list of ${originalName} mixes entry kinds or holds an invalid entry at position ${position}`, where);
    }
    if (entry === '') throw bad(`manifest ${fileName}: chunk ${position} of ${originalName} has no name`, where);
    if (typeof entry === 'string') return { name: checkedChunkName(entry, fileName, originalName), index: position, size: null };
    const object = entry as JsonObject;
    if (typeof object.name !== 'string' || object.name === '') throw bad(`manifest ${fileName}: chunk ${position} of ${originalName} has no name`, where);
    const index = object.index ?? 0;
    if (!isCount(index)) throw bad(`manifest ${fileName}: chunk ${object.name} has an invalid index`, where);
    const size = object.size ?? null;
    if (size !== null && !isCount(size)) throw bad(`manifest ${fileName}: chunk ${object.name} has an invalid size`, where);
    return { name: checkedChunkName(object.name, fileName, originalName), index, size };
  });
  // Array.prototype.sort is stable, like Python's sorted(): equal indexes keep list order.
  if (asObjects) chunks.sort((a, b) => a.index - b.index);
  return chunks;
}

/** A chunk is always a file directly in the chunk folder: `../x` or `/etc/passwd` would read anything. */
function checkedChunkName(name: string, fileName: string, originalName: string): string {
  return untrusted(() => safeName(name, 'chunk name'), fileName, originalName);
}

/** Runs a safe-path check and adds which manifest (and entry) the hostile name came from. */
function untrusted<T>(check: () => T, fileName: string, entry?: string): T {
  try {
    return check();
  } catch (err) {
    if (isDosError(err, ErrorCodes.UNSAFE_PATH)) {
      throw new DosError(ErrorCodes.UNSAFE_PATH, `manifest ${fileName}: ${err.message}`, { ...err.details, manifest: fileName, entry }, { cause: err });
    }
    throw err;
  }
}

function bad(message: string, details: Record<string, unknown>): DosError {
  return new DosError(ErrorCodes.BAD_INPUT, message, details);
}

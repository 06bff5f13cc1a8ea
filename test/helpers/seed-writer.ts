/**
 * Writes chunk sets exactly as the Python seed's slicer did (legacy-format.md §1.1–1.3, §2), so
 * tests can build 2.0 / 2.1 / 3.0 / 3.1 archives of any shape, and later tests can post
 * seed-style archives to the Discord emulator. Two knobs exist only for speed and never change
 * the layout: `chunkSize` (tests use KiB instead of 9.5 MiB) and `iterations` (PBKDF2 rounds;
 * the reader always uses 600 000, so only lower it when the set is never decrypted by it).
 */
import { createCipheriv, createHash, pbkdf2, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateRawSync } from 'node:zlib';
import { LosslessNumber } from 'lossless-json';
import { SEED_CHUNK_SIZE, SEED_PBKDF2_ITERATIONS } from '../../src/legacy/constants.js';
import { parseLosslessJson, stringifyPythonIndented } from '../../src/legacy/lossless-json.js';

const pbkdf2Async = promisify(pbkdf2);

export type SeedFormat = '2.0' | '2.1' | '3.0' | '3.1';

export interface SeedSourceFile {
  /** File name only, as the slicer saw it in the source folder's listing. */
  name: string;
  data: Uint8Array;
}

export interface WriteSeedSetOptions {
  format: SeedFormat;
  /** The upload folder: chunks and the manifest land here (created with parents, not cleared). */
  dir: string;
  /** Top-level files of the source folder, in listing order. `.DS_Store` is skipped like the slicer did. */
  files: SeedSourceFile[];
  /** Base name of the sliced folder; written by 2.1, 3.0 and 3.1 (2.0 had no such key). */
  sourceFolder?: string;
  /** Required for 3.0 / 3.1. */
  userKey?: string;
  /** Bytes per piece (3.1) or per slice (3.0, 2.x). Default: the seed's 9 961 472. */
  chunkSize?: number;
  /** PBKDF2 iterations. Default 600 000 (the only value the reader accepts). */
  iterations?: number;
  /** Clock for the gzip MTIME and the manifest name. Default: now. */
  now?: Date;
}

export interface WrittenSeedChunk {
  name: string;
  path: string;
  size: number;
  /** Index within its file. */
  index: number;
  /** original_name of the file it belongs to. */
  file: string;
}

export interface WrittenSeedSet {
  manifestName: string;
  manifestPath: string;
  /** The manifest as written (parse of the file, unsafe integers as strings). */
  manifest: Record<string, unknown>;
  /** Every chunk in writing order (the G counter order). */
  chunks: WrittenSeedChunk[];
}

/** Writes one slicing run's chunks and manifest into `options.dir`. */
export async function writeSeedSet(options: WriteSeedSetOptions): Promise<WrittenSeedSet> {
  const chunkSize = options.chunkSize ?? SEED_CHUNK_SIZE;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new Error(`invalid chunkSize ${chunkSize}`);
  const encrypted = options.format === '3.0' || options.format === '3.1';
  if (encrypted && !options.userKey) throw new Error('the seed refused to slice without USER_KEY');
  const now = options.now ?? new Date();
  const seal = (plain: Buffer) => sealSeedBlob(plain, options.userKey ?? '', options.iterations ?? SEED_PBKDF2_ITERATIONS);
  await mkdir(options.dir, { recursive: true });

  const files: Record<string, unknown> = {};
  const chunks: WrittenSeedChunk[] = [];
  let counter = 0;
  let totalOriginal = 0;
  // The slicer excluded Finder metadata and nothing else.
  for (const source of options.files.filter((f) => f.name !== '.DS_Store')) {
    const data = Buffer.from(source.data);
    const fileId = seedFileId(source.name);
    totalOriginal += data.length;
    // What goes into the chunk files, in order: per-chunk sealed pieces (3.1), slices of one
    // sealed blob (3.0) or raw slices (2.x).
    let bodies: Buffer[];
    if (options.format === '3.1') {
      // An empty file still gives one chunk, made from an empty piece.
      const pieces = data.length === 0 ? [data] : sliceBuffer(data, chunkSize);
      bodies = await mapLimit(pieces, 2, (piece) => seal(seedGzip(piece, now)));
    } else if (options.format === '3.0') {
      bodies = sliceBuffer(await seal(seedGzip(data, now)), chunkSize);
    } else {
      bodies = sliceBuffer(data, chunkSize); // a 0-byte file gives zero chunks
    }
    const entries = [];
    for (const [index, body] of bodies.entries()) {
      counter += 1;
      const name = encrypted ? seedChunkName3(counter, fileId, body, index) : seedChunkName2(counter, fileId, body, index);
      const path = join(options.dir, name);
      await writeFile(path, body);
      chunks.push({ name, path, size: body.length, index, file: source.name });
      entries.push(encrypted ? { name, size: body.length, index } : name);
    }
    files[fileId] = encrypted
      ? { original_name: source.name, original_size: data.length, chunks: entries }
      : { original_name: source.name, total_size: data.length, chunks: entries };
  }

  const manifest = buildManifest(options, files, chunks, totalOriginal);
  const manifestName = await freeManifestName(options.dir, chunks.length, now);
  const manifestPath = join(options.dir, manifestName);
  await writeSeedManifestJson(manifestPath, manifest);
  return { manifestName, manifestPath, manifest: parseLosslessJson(await readFile(manifestPath, 'utf8')) as Record<string, unknown>, chunks };
}

/** Key order and contents of each generation's manifest (§2.1, §2.2). */
function buildManifest(options: WriteSeedSetOptions, files: Record<string, unknown>, chunks: WrittenSeedChunk[], totalOriginal: number): Record<string, unknown> {
  if (options.format === '2.0') return { version: '2.0', files };
  if (options.format === '2.1') return { version: '2.1', source_folder: options.sourceFolder ?? '', files };
  const processed = chunks.reduce((sum, c) => sum + c.size, 0);
  const saved = totalOriginal === 0 ? 0 : Number(((1 - processed / totalOriginal) * 100).toFixed(2));
  const head: Record<string, unknown> = {
    version: options.format,
    encrypted: true,
    compression: 'gzip-9',
    encryption_algorithm: 'AES-256-GCM',
    kdf: 'PBKDF2-SHA256-600000',
  };
  if (options.format === '3.1') Object.assign(head, { chunking: 'per-chunk', encryption_scope: 'chunk' });
  return {
    ...head,
    source_folder: options.sourceFolder ?? '',
    files,
    total_original_size: totalOriginal,
    total_processed_size: processed,
    total_chunks: chunks.length,
    // Python writes floats with a decimal point (0.0, 50.0); JSON.stringify would write 0 and 50.
    space_saved_percent: new LosslessNumber(pythonFloat(saved)),
  };
}

/**
 * Python's `gzip.compress(data, 9)`: header 1f 8b 08 00, MTIME (little-endian, current time),
 * XFL 2 (best compression), OS 255; raw deflate level 9; CRC32 and ISIZE trailer.
 */
export function seedGzip(data: Uint8Array, now: Date = new Date()): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0xff]);
  header.writeUInt32LE(Math.floor(now.getTime() / 1000) >>> 0, 4);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([header, deflateRawSync(data, { level: 9 }), trailer]);
}

/** salt(16) ‖ nonce(12) ‖ AES-256-GCM(plain) ‖ tag(16), key = PBKDF2-HMAC-SHA256(USER_KEY, salt). */
export async function sealSeedBlob(plain: Uint8Array, userKey: string, iterations: number = SEED_PBKDF2_ITERATIONS): Promise<Buffer> {
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const key = await pbkdf2Async(Buffer.from(userKey, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([salt, nonce, ciphertext, cipher.getAuthTag()]);
}

/** FILEID: first 12 hex chars of SHA-256 of the file name (UTF-8, name only). */
export function seedFileId(name: string): string {
  return sha256Hex(Buffer.from(name, 'utf8')).slice(0, 12);
}

/** 3.x: `{G:04d}-{FILEID}-{CHASH}-{I:04d}.bin`, CHASH = SHA-256 of the chunk file's bytes. */
export function seedChunkName3(counter: number, fileId: string, body: Uint8Array, index: number): string {
  return `${pad4(counter)}-${fileId}-${sha256Hex(body).slice(0, 16)}-${pad4(index)}.bin`;
}

/** 2.x: `{G}-data_{FILEID}_{CHASH}_{I:04d}.bin`, G not padded, CHASH = SHA-256 of the raw slice. */
export function seedChunkName2(counter: number, fileId: string, body: Uint8Array, index: number): string {
  return `${counter}-data_${fileId}_${sha256Hex(body).slice(0, 16)}_${pad4(index)}.bin`;
}

/** `{T}-manifest_{HHMMSS}_{DDMMYY}.json` in local time, then `_1`, `_2`… while the name is taken. */
export async function freeManifestName(dir: string, totalChunks: number, now: Date): Promise<string> {
  const two = (n: number) => String(n).padStart(2, '0');
  const stem = `${totalChunks}-manifest_${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}_${two(now.getDate())}${two(now.getMonth() + 1)}${two(now.getFullYear() % 100)}`;
  for (let n = 0; ; n++) {
    const name = n === 0 ? `${stem}.json` : `${stem}_${n}.json`;
    if (!(await exists(join(dir, name)))) return name;
  }
}

/** Writes a manifest object the way the seed's json.dump(indent=4) did (ASCII escapes included). */
export async function writeSeedManifestJson(path: string, manifest: unknown): Promise<void> {
  await writeFile(path, stringifyPythonIndented(manifest));
}

/** Reads a manifest, lets a test change it (e.g. plant a hostile name), and writes it back seed-style. */
export async function editSeedManifest(path: string, edit: (manifest: Record<string, any>) => void): Promise<void> {
  const manifest = parseLosslessJson(await readFile(path, 'utf8')) as Record<string, any>;
  edit(manifest);
  await writeSeedManifestJson(path, manifest);
}

function sliceBuffer(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size) out.push(data.subarray(offset, offset + size));
  return out;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function pythonFloat(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function pad4(n: number): string {
  return String(n).padStart(4, '0');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

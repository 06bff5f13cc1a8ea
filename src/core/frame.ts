import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, brotliCompressSync, brotliDecompress, constants as zlibConstants } from 'node:zlib';
import { aesGcm } from './aes-gcm.js';
import { DosError, ErrorCodes } from './errors.js';
import type { KeySet } from './keyring.js';

/**
 * Frames: the unit of encryption, caching and random access (docs/FORMAT.md "Frames").
 *
 *   stored frame = flags(1) || nonce(12) || AES-256-GCM(frameKey, nonce, body, AAD = id(16) || flags(1)) || tag(16)
 *
 * `body` is the plaintext, or its brotli compression when flags has CODEC_BROTLI. The id is
 * HMAC-SHA256(idKey, plaintext)[0..16): the same plaintext always has the same id (dedup), and
 * because the id is the AAD a frame cannot be swapped for another one unnoticed.
 */
export const DEFAULT_FRAME_SIZE = 1024 * 1024;
export const FRAME_ID_BYTES = 16;
export const FRAME_OVERHEAD = 1 + 12 + 16;

export const FrameFlags = { RAW: 0x00, BROTLI: 0x01 } as const;
const KNOWN_FLAGS = new Set<number>([FrameFlags.RAW, FrameFlags.BROTLI]);

export interface SealedFrame {
  id: Buffer;
  flags: number;
  plainLength: number;
  stored: Buffer;
}

export interface CompressionPolicy {
  /** brotli quality 0-11; chosen by measurement in scripts/bench-put.ts (see README). */
  quality: number;
}
export const DEFAULT_COMPRESSION: CompressionPolicy = { quality: 4 };

const compressAsync = promisify(brotliCompress);
const decompressAsync = promisify(brotliDecompress);

/** Probe size: compressing this much at quality 1 costs ~0.1 ms and tells photos/videos apart from text. */
const PROBE_BYTES = 64 * 1024;
/** Keep compressed output only when it saves at least this fraction. */
const MIN_SAVING = 0.03;
const PROBE_OPTIONS = { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } };

function probeSaysIncompressible(probeInput: Buffer, probe: Buffer): boolean {
  return probe.length > probeInput.length * (1 - MIN_SAVING);
}

/**
 * encodeBody's first decision, synchronously (for a thread that does nothing else): true when
 * the frame is stored RAW without trying to compress it, i.e. it is big enough to probe and the
 * probe says it is incompressible. False means "let encodeBody decide".
 */
export function skipsCompression(plaintext: Buffer): boolean {
  if (plaintext.length <= PROBE_BYTES) return false;
  const probeInput = plaintext.subarray(0, PROBE_BYTES);
  return probeSaysIncompressible(probeInput, brotliCompressSync(probeInput, PROBE_OPTIONS));
}

export function frameIdOf(keys: KeySet, plaintext: Buffer): Buffer {
  return createHmac('sha256', keys.idKey).update(plaintext).digest().subarray(0, FRAME_ID_BYTES);
}

function aadOf(id: Buffer, flags: number): Buffer {
  return Buffer.concat([id, Buffer.of(flags)]);
}

/**
 * Compresses when it pays. Runs in libuv's thread pool (async zlib), so several frames in
 * flight use both cores without worker threads.
 */
export async function encodeBody(plaintext: Buffer, policy: CompressionPolicy = DEFAULT_COMPRESSION): Promise<{ flags: number; body: Buffer }> {
  if (plaintext.length < 64) return { flags: FrameFlags.RAW, body: plaintext };
  if (plaintext.length > PROBE_BYTES) {
    const probeInput = plaintext.subarray(0, PROBE_BYTES);
    const probe = await compressAsync(probeInput, PROBE_OPTIONS);
    if (probeSaysIncompressible(probeInput, probe)) return { flags: FrameFlags.RAW, body: plaintext };
  }
  const compressed = await compressAsync(plaintext, {
    params: { [zlibConstants.BROTLI_PARAM_QUALITY]: policy.quality, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: plaintext.length },
  });
  if (compressed.length > plaintext.length * (1 - MIN_SAVING)) return { flags: FrameFlags.RAW, body: plaintext };
  return { flags: FrameFlags.BROTLI, body: compressed };
}

/** Bytes a sealed frame takes for a body of `bodyLength` bytes. */
export function sealedLength(bodyLength: number): number {
  return FRAME_OVERHEAD + bodyLength;
}

/**
 * Seals an encoded body straight into `target` at `offset` (a pack buffer), avoiding a copy
 * per frame on the hot path. `id` must be frameIdOf(plaintext). Returns the bytes written.
 */
export function sealBodyInto(keys: KeySet, id: Buffer, flags: number, body: Buffer, target: Buffer, offset: number): number {
  const length = sealedLength(body.length);
  if (offset + length > target.length) throw new RangeError('sealed frame does not fit the target buffer');
  target[offset] = flags;
  const nonce = target.subarray(offset + 1, offset + 13);
  randomFillSync(nonce);
  aesGcm.sealInto(keys.frameKey, nonce, aadOf(id, flags), body, target.subarray(offset + 13, offset + length));
  return length;
}

/** Seals an already encoded body into a buffer of its own. */
export function sealBody(keys: KeySet, id: Buffer, flags: number, body: Buffer, plainLength: number): SealedFrame {
  const stored = Buffer.allocUnsafe(sealedLength(body.length));
  sealBodyInto(keys, id, flags, body, stored, 0);
  return { id, flags, plainLength, stored };
}

/** Bytes a frame slot keeps before its plaintext (flags and nonce) and after it (the tag). */
const SLOT_HEAD = 13;
const SLOT_TAIL = 16;

/**
 * A buffer for up to `capacity` bytes of plaintext, with room around it to be sealed where it
 * lies (sealRawInPlace): a put reads a file's frame into it and, for a photo or a video,
 * never allocates the sealed frame's memory separately. The returned view is the plaintext.
 */
export function allocFrameSlot(capacity: number): Buffer {
  // allocUnsafeSlow: a memory of its own, never a slice of the shared pool small Buffers come from.
  return Buffer.allocUnsafeSlow(SLOT_HEAD + capacity + SLOT_TAIL).subarray(SLOT_HEAD, SLOT_HEAD + capacity);
}

/** Whether `plaintext` (or a prefix of it) sits in a slot from allocFrameSlot, with its room intact. */
export function inFrameSlot(plaintext: Uint8Array): boolean {
  return plaintext.byteOffset === SLOT_HEAD && plaintext.buffer.byteLength >= SLOT_HEAD + plaintext.length + SLOT_TAIL;
}

/**
 * Seals a frame RAW over its own plaintext, which must sit in a frame slot (allocFrameSlot; the
 * caller gives it up). Returns the stored frame, a view of the slot's memory.
 */
export function sealRawInPlace(keys: KeySet, id: Buffer, plaintext: Buffer): SealedFrame {
  if (!inFrameSlot(plaintext)) throw new RangeError('sealRawInPlace needs a plaintext in a frame slot (allocFrameSlot)');
  // The slot is the stored frame's target, its plaintext already where the body goes.
  const stored = Buffer.from(plaintext.buffer, 0, sealedLength(plaintext.length));
  sealBodyInto(keys, id, FrameFlags.RAW, plaintext, stored, 0);
  return { id, flags: FrameFlags.RAW, plainLength: plaintext.length, stored };
}

export async function sealFrame(keys: KeySet, plaintext: Buffer, policy?: CompressionPolicy, knownId?: Buffer): Promise<SealedFrame> {
  const id = knownId ?? frameIdOf(keys, plaintext);
  const { flags, body } = await encodeBody(plaintext, policy);
  return sealBody(keys, id, flags, body, plaintext.length);
}

/**
 * Authenticates, decrypts and decompresses one stored frame, then checks that the plaintext
 * really has the expected id and length. Any failure is CORRUPT: never return wrong bytes.
 * `inPlace`: the caller gives `stored` up; the plaintext may be decrypted over it and returned
 * as a view of it (see AesGcm.open).
 */
export async function openFrame(keys: KeySet, expectedId: Buffer, stored: Buffer, expectedPlainLength?: number, inPlace = false): Promise<Buffer> {
  const fail = (why: string, cause?: unknown): never => {
    throw new DosError(ErrorCodes.CORRUPT, `frame ${expectedId.toString('hex')} failed authentication: ${why}`, { frame: expectedId.toString('hex') }, { cause });
  };
  if (stored.length < FRAME_OVERHEAD) fail(`it is ${stored.length} bytes, shorter than the ${FRAME_OVERHEAD}-byte minimum`);
  const flags = stored[0]!;
  if (!KNOWN_FLAGS.has(flags)) fail(`unknown flags 0x${flags.toString(16)}`);
  const body = aesGcm.open(keys.frameKey, stored.subarray(1, 13), aadOf(expectedId, flags), stored.subarray(13, stored.length - 16), stored.subarray(stored.length - 16), inPlace);
  if (body === null) return fail('the GCM tag does not match (tampered, truncated or swapped data)');
  let plaintext = body;
  if (flags === FrameFlags.BROTLI) {
    try {
      plaintext = await decompressAsync(body);
    } catch (err) {
      return fail('it authenticated but does not decompress', err);
    }
  }
  if (expectedPlainLength !== undefined && plaintext.length !== expectedPlainLength) {
    fail(`it holds ${plaintext.length} bytes, the manifest says ${expectedPlainLength}`);
  }
  const actualId = frameIdOf(keys, plaintext);
  if (!timingSafeEqual(actualId, expectedId)) fail('its content does not match its id');
  return plaintext;
}

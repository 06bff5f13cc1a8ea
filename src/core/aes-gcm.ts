import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * AES-256-GCM, the one cipher of format v4, behind a choice of two implementations of the
 * same bytes:
 *
 * - `native`: native/aes-gcm, the system's OpenSSL 3 (libcrypto.so.3) through a small addon.
 *   Node 20's own OpenSSL is built without the stitched AES-NI GCM code and runs ~0.85 GB/s on
 *   the machines here; libcrypto.so.3 runs ~3 GB/s. Used when it was built (Linux, at install),
 *   loads, and agrees with node:crypto on a fresh random sample in both directions.
 * - `node:crypto`: always there; the fallback, and what `DOS_NATIVE_AES=0` forces.
 *
 * Callers never learn which one ran, except through `aesGcm.name` (for `dos status`).
 */
export const GCM_KEY_BYTES = 32;
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export interface AesGcm {
  /** e.g. "libcrypto.so.3 (OpenSSL 3.0.19 27 Jan 2026)" or "node:crypto (OpenSSL 3.0.x)" */
  readonly name: string;
  readonly native: boolean;
  /** Writes ciphertext || tag (plaintext.length + 16 bytes) at the start of `out`, which may be the plaintext's own memory (in place). */
  sealInto(key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer, out: Buffer): void;
  /**
   * The plaintext, or null when the tag does not authenticate. With `inPlace` the plaintext may
   * be written over the ciphertext and returned as a view of it (the native implementation
   * does; node:crypto cannot): the caller gives the ciphertext up, and saves a buffer the size
   * of the frame, whose fresh pages cost more to fault in than AES-GCM costs to run.
   */
  open(key: Buffer, nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer, inPlace?: boolean): Buffer | null;
}

/** Slices for node:crypto's sealing: its output buffers stay below malloc's mmap threshold and are recycled. */
const NODE_SEAL_SLICE = 64 * 1024;

export const nodeAesGcm: AesGcm = {
  name: `node:crypto (OpenSSL ${process.versions.openssl})`,
  native: false,
  sealInto(key, nonce, aad, plaintext, out) {
    refusePartialOverlap(plaintext, out);
    // Buffer.copy would silently cut the tag short.
    if (out.length < plaintext.length + GCM_TAG_BYTES) throw new RangeError(`out must be at least ${plaintext.length + GCM_TAG_BYTES} bytes, not ${out.length}`);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad);
    let at = 0;
    for (let i = 0; i < plaintext.length; i += NODE_SEAL_SLICE) at += cipher.update(plaintext.subarray(i, i + NODE_SEAL_SLICE)).copy(out, at);
    at += cipher.final().copy(out, at);
    cipher.getAuthTag().copy(out, at);
  },
  open(key, nonce, aad, ciphertext, tag) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      const plaintext = decipher.update(ciphertext);
      // GCM's final() only checks the tag (it returns no bytes): concatenating would copy the
      // whole frame again, which measured as two thirds of the time of opening one.
      const rest = decipher.final();
      return rest.length > 0 ? Buffer.concat([plaintext, rest]) : plaintext;
    } catch {
      return null;
    }
  },
};

/**
 * Sealing in place means `out` starts exactly where the plaintext does. Shifted by a few bytes,
 * both implementations read bytes they already overwrote and produce a frame that
 * authenticates but holds other plaintext: refused, not left to chance.
 */
function refusePartialOverlap(plaintext: Uint8Array, out: Uint8Array): void {
  if (plaintext.buffer !== out.buffer || plaintext.byteOffset === out.byteOffset) return;
  const overlaps = out.byteOffset < plaintext.byteOffset + plaintext.length && plaintext.byteOffset < out.byteOffset + out.length;
  if (overlaps) throw new RangeError('out must be the plaintext\'s own memory (in place) or not overlap it');
}

/** What native/aes-gcm/aes_gcm.c exports. */
interface AesGcmAddon {
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void;
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, out: Uint8Array): boolean;
  version(): string;
}

function wrapAddon(addon: AesGcmAddon): AesGcm {
  return {
    name: `libcrypto.so.3 (${addon.version()})`,
    native: true,
    sealInto(key, nonce, aad, plaintext, out) {
      refusePartialOverlap(plaintext, out);
      addon.seal(key, nonce, aad, plaintext, out);
    },
    open(key, nonce, aad, ciphertext, tag, inPlace = false) {
      const plaintext = inPlace ? ciphertext : Buffer.allocUnsafe(ciphertext.length);
      return addon.open(key, nonce, aad, ciphertext, tag, plaintext) ? plaintext : null;
    },
  };
}

/**
 * Both implementations must produce and accept exactly the same bytes: seal a random sample
 * with each, open it with the other, and check that a flipped bit is refused. Returns why not.
 */
export function disagreement(candidate: AesGcm, reference: AesGcm = nodeAesGcm): string | null {
  const key = randomBytes(GCM_KEY_BYTES);
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const aad = randomBytes(17);
  const plaintext = randomBytes(4099); // not a multiple of the 16-byte block
  const sealedBy = (impl: AesGcm): Buffer => {
    const out = Buffer.alloc(plaintext.length + GCM_TAG_BYTES);
    impl.sealInto(key, nonce, aad, plaintext, out);
    return out;
  };
  const opens = (impl: AesGcm, sealed: Buffer): Buffer | null => impl.open(key, nonce, aad, sealed.subarray(0, plaintext.length), sealed.subarray(plaintext.length));
  const fromCandidate = sealedBy(candidate);
  if (!fromCandidate.equals(sealedBy(reference))) return 'it seals different bytes than node:crypto';
  if (!opens(reference, fromCandidate)?.equals(plaintext)) return 'node:crypto cannot open what it seals';
  if (!opens(candidate, fromCandidate)?.equals(plaintext)) return 'it cannot open what node:crypto seals';
  fromCandidate[100]! ^= 0x01;
  if (opens(candidate, fromCandidate) !== null) return 'it accepts a tampered ciphertext';
  return null;
}

/** Where native/aes-gcm's build lands, from src/core/, dist/core/ and dist/bundle/ alike. */
const ADDON_PATH = '../../native/aes-gcm/build/Release/dos_aes_gcm.node';

function choose(): { impl: AesGcm; fallbackReason: string | null } {
  if (process.env.DOS_NATIVE_AES === '0') return { impl: nodeAesGcm, fallbackReason: 'DOS_NATIVE_AES=0' };
  if (process.platform !== 'linux') return { impl: nodeAesGcm, fallbackReason: `not built on ${process.platform}` };
  let addon: AesGcmAddon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as AesGcmAddon;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' ? 'native/aes-gcm is not built (npm ci builds it)' : (err as Error).message;
    return { impl: nodeAesGcm, fallbackReason: why };
  }
  const impl = wrapAddon(addon);
  const why = disagreement(impl);
  return why === null ? { impl, fallbackReason: null } : { impl: nodeAesGcm, fallbackReason: `native/aes-gcm failed its self-test: ${why}` };
}

const chosen = choose();
/** The implementation this process uses (each worker thread chooses for itself, the same way). */
export const aesGcm: AesGcm = chosen.impl;
/** Why node:crypto is in use, or null when the native one is. */
export const aesGcmFallbackReason: string | null = chosen.fallbackReason;

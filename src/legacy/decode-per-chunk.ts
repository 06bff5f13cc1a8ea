import { createGunzip } from 'node:zlib';
import { aesGcm } from '../core/aes-gcm.js';
import { SEED_HEADER_LENGTH, SEED_MIN_SEALED_LENGTH, SEED_SALT_LENGTH, SEED_TAG_LENGTH } from './constants.js';
import { authenticationFailed, notGzip, passThroughOr, tooShort, type DecodeSite } from './decode-errors.js';
import type { TempOutputFile } from './temp-output-file.js';

/** The salt of a sealed chunk, or null when the chunk is too short to be one (no KDF then). */
export function saltOf(sealed: Buffer): Buffer | null {
  return sealed.length < SEED_MIN_SEALED_LENGTH ? null : sealed.subarray(0, SEED_SALT_LENGTH);
}

/**
 * Opens one 3.1 chunk: salt(16) ‖ nonce(12) ‖ ciphertext ‖ tag(16), AES-256-GCM, no AAD.
 * Returns the authenticated gzip bytes. A chunk is at most ~10 MB, so it is handled in memory;
 * the file it belongs to is streamed chunk by chunk.
 */
export function openSealedChunk(sealed: Buffer, key: Buffer, site: DecodeSite, keyVerified: boolean): Buffer {
  if (sealed.length < SEED_MIN_SEALED_LENGTH) throw tooShort(site, sealed.length);
  const nonce = sealed.subarray(SEED_SALT_LENGTH, SEED_HEADER_LENGTH);
  const ciphertext = sealed.subarray(SEED_HEADER_LENGTH, sealed.length - SEED_TAG_LENGTH);
  const tag = sealed.subarray(sealed.length - SEED_TAG_LENGTH);
  const plaintext = aesGcm.open(key, nonce, Buffer.alloc(0), ciphertext, tag);
  if (!plaintext) throw authenticationFailed(site, keyVerified);
  return plaintext;
}

/**
 * Gunzips one chunk's authenticated bytes into the output, piece by piece, so the ~9.5 MB of
 * plaintext per chunk never has to exist as one buffer.
 */
export async function gunzipInto(gzip: Buffer, out: TempOutputFile, site: DecodeSite): Promise<void> {
  const gunzip = createGunzip();
  gunzip.end(gzip);
  try {
    for await (const piece of gunzip) await out.write(piece as Buffer);
  } catch (err) {
    gunzip.destroy();
    throw passThroughOr(err, `writing ${site.file}`, () => notGzip(site, err));
  }
}

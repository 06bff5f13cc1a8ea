import { createDecipheriv } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SEED_HEADER_LENGTH, SEED_MIN_SEALED_LENGTH, SEED_SALT_LENGTH, SEED_TAG_LENGTH } from './constants.js';
import type { ConcatenatedSlices } from './concatenated-slices.js';
import { authenticationFailed, notGzip, passThroughOr, tooShort, type DecodeSite } from './decode-errors.js';
import type { TempOutputFile } from './temp-output-file.js';

/** The first 28 bytes of a 3.0 blob (salt ‖ nonce), or null when the blob cannot be one. */
export async function readFileScopeHeader(slices: ConcatenatedSlices): Promise<Buffer | null> {
  if (slices.length < SEED_MIN_SEALED_LENGTH) return null;
  return slices.readRange(0, SEED_HEADER_LENGTH);
}

export function saltOfHeader(header: Buffer): Buffer {
  return header.subarray(0, SEED_SALT_LENGTH);
}

/**
 * Decodes a 3.0 file: its slices, joined, are ONE salt ‖ nonce ‖ GCM(gzip(file)) ‖ tag.
 * The seed read the whole file into memory; here the ciphertext streams through the decipher
 * and gunzip into the temp file. GCM releases plaintext before it has checked the tag, so the
 * output is only trustworthy once final() passed: the caller renames the temp file after this
 * resolves and deletes it if this throws. The tag is read first from the end of the last slice
 * (it may straddle two slices when the last one is shorter than 16 bytes).
 */
export async function decodeFileScope(
  slices: ConcatenatedSlices,
  header: Buffer,
  key: Buffer,
  out: TempOutputFile,
  site: DecodeSite,
  keyVerified: boolean,
  onInput: (bytes: number) => void,
): Promise<void> {
  const total = slices.length;
  if (total < SEED_MIN_SEALED_LENGTH) throw tooShort(site, total);
  const tag = await slices.readRange(total - SEED_TAG_LENGTH, total);
  const nonce = header.subarray(SEED_SALT_LENGTH, SEED_HEADER_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(tag);
  let authenticated = false;
  // 'end' is emitted only after final() succeeded, i.e. after the tag matched.
  decipher.once('end', () => {
    authenticated = true;
  });

  async function* ciphertext(): AsyncGenerator<Buffer> {
    for await (const piece of slices.stream(SEED_HEADER_LENGTH, total - SEED_TAG_LENGTH)) {
      onInput(piece.length);
      yield piece;
    }
  }

  try {
    await pipeline(Readable.from(ciphertext()), decipher, createGunzip(), async (plain: AsyncIterable<Buffer>) => {
      for await (const piece of plain) await out.write(piece);
    });
  } catch (err) {
    // Garbage from a wrong key usually breaks gunzip before the tag is even checked, so any
    // non-disk failure before authentication is reported as an authentication failure.
    throw passThroughOr(err, `writing ${site.file}`, () => (authenticated ? notGzip(site, err) : authenticationFailed(site, keyVerified, err)));
  }
  onInput(SEED_HEADER_LENGTH + SEED_TAG_LENGTH);
}

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ConcatenatedSlices } from './concatenated-slices.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import { notGzip, passThroughOr, type DecodeSite } from './decode-errors.js';
import type { TempOutputFile } from './temp-output-file.js';

/**
 * 2.0 / 2.1 / manifest.json: the chunks are raw slices of the file, copied byte for byte.
 * Deliberately no "try gunzip": the seed's rule turned an original `.gz` file into its
 * decompressed content, so restores were not byte-exact.
 */
export async function copyPlain(slices: ConcatenatedSlices, out: TempOutputFile, site: DecodeSite, onInput: (bytes: number) => void): Promise<void> {
  try {
    for await (const piece of slices.stream(0, slices.length)) {
      await out.write(piece);
      onInput(piece.length);
    }
  } catch (err) {
    throw passThroughOr(err, `copying ${site.file}`, () => new DosError(ErrorCodes.CORRUPT, `could not copy the chunks of ${site.file}: ${(err as Error)?.message}`, { ...site }, { cause: err }));
  }
}

/**
 * Unencrypted chunks that the manifest explicitly declares gzip-compressed. No seed generation
 * wrote this combination; it is read for completeness. Per-chunk gzip members concatenate into
 * a valid multi-member gzip stream, so one gunzip over the joined chunks handles both per-chunk
 * and per-file compression.
 */
export async function gunzipPlain(slices: ConcatenatedSlices, out: TempOutputFile, site: DecodeSite, onInput: (bytes: number) => void): Promise<void> {
  // A 0-byte file has no chunks at all, and an empty input is not a gzip stream.
  if (slices.length === 0) return;
  async function* compressed(): AsyncGenerator<Buffer> {
    for await (const piece of slices.stream(0, slices.length)) {
      onInput(piece.length);
      yield piece;
    }
  }
  try {
    await pipeline(Readable.from(compressed()), createGunzip(), async (plain: AsyncIterable<Buffer>) => {
      for await (const piece of plain) await out.write(piece);
    });
  } catch (err) {
    throw passThroughOr(err, `writing ${site.file}`, () => notGzip(site, err));
  }
}

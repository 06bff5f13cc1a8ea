import { DosError, ErrorCodes, isDosError } from '../core/errors.js';
import { openFrame } from '../core/frame.js';
import type { FrameLocation } from '../index/store-index.js';
import type { StoreContext } from './context.js';

/** Adjacent frames of one pack are fetched with one ranged read, up to this many bytes. */
const MAX_RUN_BYTES = 16 * 1024 * 1024;

export interface FrameRun {
  locator: string;
  offset: number;
  length: number;
  frames: FrameLocation[];
}

/** Groups frames (in file order) into runs that one ranged read can fetch. */
export function groupIntoRuns(frames: FrameLocation[]): FrameRun[] {
  const runs: FrameRun[] = [];
  for (const frame of frames) {
    const last = runs[runs.length - 1];
    if (last && last.locator === frame.locator && last.offset + last.length === frame.offset && last.length + frame.storedLength <= MAX_RUN_BYTES) {
      last.length += frame.storedLength;
      last.frames.push(frame);
    } else {
      runs.push({ locator: frame.locator, offset: frame.offset, length: frame.storedLength, frames: [frame] });
    }
  }
  return runs;
}

/**
 * Fetches a run and opens each frame in it (authenticated; wrong bytes never come out). A run
 * that fails authentication is fetched once more before giving up: a download corrupted on
 * the way (a flaky CDN, a cut connection) is not a damaged pack.
 */
export async function fetchRun(ctx: StoreContext, run: FrameRun): Promise<Buffer[]> {
  try {
    return await fetchAndOpen(ctx, run);
  } catch (err) {
    if (!isDosError(err, ErrorCodes.CORRUPT)) throw err;
    return fetchAndOpen(ctx, run);
  }
}

async function fetchAndOpen(ctx: StoreContext, run: FrameRun): Promise<Buffer[]> {
  const bytes = await ctx.backend.readPack(run.locator, { offset: run.offset, length: run.length });
  // Bytes nobody else holds are decrypted over (no fresh buffer to fault in per frame).
  const inPlace = ctx.backend.readsAreFresh === true;
  return Promise.all(run.frames.map((f) => {
    const start = f.offset - run.offset;
    return openFrame(ctx.keys, f.id, bytes.subarray(start, start + f.storedLength), f.plainLength, inPlace);
  }));
}

/**
 * Yields a file's plaintext frame by frame, in order, fetching up to `ahead` runs in parallel
 * (read-ahead for a sequential reader). A failure names the file and the byte offset.
 */
export async function* readFrames(ctx: StoreContext, frames: FrameLocation[], where: { archive: string; path: string }, ahead = 3): AsyncGenerator<Buffer> {
  const runs = groupIntoRuns(frames);
  const pending: Array<Promise<Buffer[]>> = [];
  let next = 0;
  let fileOffset = 0;
  const launch = () => {
    while (pending.length < ahead && next < runs.length) {
      const promise = fetchRun(ctx, runs[next++]!);
      promise.catch(() => {}); // observed when awaited below; avoids an unhandled rejection meanwhile
      pending.push(promise);
    }
  };
  launch();
  while (pending.length > 0) {
    let plaintexts: Buffer[];
    try {
      plaintexts = await pending.shift()!;
    } catch (err) {
      if (err instanceof DosError) {
        throw new DosError(err.code, `${where.archive}/${where.path} at byte ${fileOffset}: ${err.message}`, { ...err.details, ...where, offset: fileOffset }, { cause: err });
      }
      throw err;
    }
    launch();
    for (const plain of plaintexts) {
      yield plain;
      fileOffset += plain.length;
    }
  }
}

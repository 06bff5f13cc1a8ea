import { DosError, ErrorCodes, isDosError } from '../core/errors.js';
import type { FrameLocation } from '../index/store-index.js';
import type { StoreContext } from './context.js';
import { FrameOpener, type RunFrame } from './frame-opener.js';

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

/** A run's frames, each placed within the run's bytes, as the frame opener takes them. */
export function framesOfRun(run: FrameRun): RunFrame[] {
  return run.frames.map((f) => ({ id: f.id, start: f.offset - run.offset, storedLength: f.storedLength, plainLength: f.plainLength }));
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
  // Off this thread (it hashes and writes what comes back); bytes nobody else holds are decrypted over.
  return Promise.all(FrameOpener.shared(ctx.keys).open(bytes, framesOfRun(run), ctx.backend.readsAreFresh === true));
}

/**
 * Yields a file's plaintext frame by frame, in order, fetching up to `ahead` runs in parallel
 * (read-ahead for a sequential reader). A failure names the file and the byte offset.
 */
export async function* readFrames(ctx: StoreContext, frames: FrameLocation[], where: { archive: string; path: string }, ahead = 3): AsyncGenerator<Buffer> {
  const runs = groupIntoRuns(frames);
  const pending: Array<{ run: FrameRun; opened: Promise<Buffer[]> }> = [];
  let next = 0;
  let fileOffset = 0;
  const launch = () => {
    while (pending.length < ahead && next < runs.length) {
      const run = runs[next++]!;
      const opened = fetchRun(ctx, run);
      opened.catch(() => {}); // observed when awaited below; avoids an unhandled rejection meanwhile
      pending.push({ run, opened });
    }
  };
  launch();
  while (pending.length > 0) {
    const { run, opened } = pending.shift()!;
    let plaintexts: Buffer[];
    try {
      plaintexts = await opened;
    } catch (err) {
      if (err instanceof DosError) {
        const at = fileOffset + offsetInRun(run, err.details.frame);
        throw new DosError(err.code, `${where.archive}/${where.path} at byte ${at}: ${err.message}`, { ...err.details, ...where, offset: at }, { cause: err });
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

/** Where in its run's plaintext the frame with this hex id starts (0 when the error names no frame of the run). */
function offsetInRun(run: FrameRun, frameHex: unknown): number {
  let offset = 0;
  for (const f of run.frames) {
    if (f.id.toString('hex') === frameHex) return offset;
    offset += f.plainLength;
  }
  return 0;
}

import { parentPort, workerData } from 'node:worker_threads';
import { DosError, ErrorCodes } from '../core/errors.js';
import { openFrame } from '../core/frame.js';
import { asBuffer, keysFromWorkerData, ownsMemory } from './thread-memory.js';
import type { OpenedFrame, OpenRequest, OpenResponse } from './frame-opener.js';

/**
 * A frame-opening thread of the mount (see frame-opener.ts): authenticates, decrypts and
 * checks the frames of one fetched run with the same openFrame as everything else.
 *
 * Frames open in place, over the run's own ciphertext, and the run's memory goes back in one
 * message holding every frame's plaintext as a view of it. Decrypting into new buffers
 * instead cost more than the decryption: a fresh megabyte of pages to fault in per frame,
 * since the cache keeps what it reads (a cold 512 MiB read spent 0.3 s of this thread's
 * 1.0 s in the kernel). The price is one answer per run rather than per frame.
 */
const keys = keysFromWorkerData(workerData);

parentPort!.on('message', (req: OpenRequest) => {
  void openRun(req).then(({ response, transfer }) => parentPort!.postMessage(response, transfer));
});

async function openRun(req: OpenRequest): Promise<{ response: OpenResponse; transfer: ArrayBuffer[] }> {
  const bytes = asBuffer(req.bytes);
  const transfer = [bytes.buffer as ArrayBuffer];
  // All at once: each frame decrypts over its own part of the run, and compressed ones
  // decompress side by side on the thread pool.
  const frames = await Promise.all(req.frames.map(async (f): Promise<OpenedFrame> => {
    try {
      const plain = await openFrame(keys, asBuffer(f.id), bytes.subarray(f.start, f.start + f.storedLength), f.plainLength, true);
      // A decompressed frame has memory of its own: moved too, not copied.
      if (plain.buffer !== bytes.buffer && ownsMemory(plain)) transfer.push(plain.buffer as ArrayBuffer);
      return { plain };
    } catch (err) {
      const e = err instanceof DosError ? err : new DosError(ErrorCodes.CORRUPT, String(err));
      return { error: { code: e.code, message: e.message, details: e.details } };
    }
  }));
  return { response: { id: req.id, frames }, transfer };
}

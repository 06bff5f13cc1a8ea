import { parentPort, workerData } from 'node:worker_threads';
import { frameIdOf, inFrameSlot, sealRawInPlace, skipsCompression } from '../core/frame.js';
import type { SealReply, SealRequest } from './frame-sealer.js';
import { asBuffer, keysFromWorkerData } from './thread-memory.js';

/**
 * The sealing thread of a put (see frame-sealer.ts): a frame's id, the compression probe and,
 * for an incompressible frame, its AES-GCM seal, written over the plaintext in its frame slot.
 * A frame worth compressing goes back as it came, with its id, for the thread pool to compress.
 * Either way the slot's memory goes back (moved, not copied).
 */
const keys = keysFromWorkerData(workerData);

parentPort!.on('message', (m: SealRequest) => {
  const plaintext = asBuffer(m.plaintext);
  if (!inFrameSlot(plaintext)) throw new Error('the sealing thread takes frames in frame slots only'); // FrameSealer.seal checks it first
  const id = Buffer.from(frameIdOf(keys, plaintext));
  const transfer = [plaintext.buffer as ArrayBuffer];
  if (skipsCompression(plaintext)) {
    const { stored } = sealRawInPlace(keys, id, plaintext);
    parentPort!.postMessage({ request: m.request, id, stored } satisfies SealReply, transfer);
  } else {
    parentPort!.postMessage({ request: m.request, id, plaintext } satisfies SealReply, transfer);
  }
});

import { parentPort, workerData } from 'node:worker_threads';
import { FrameFlags, frameIdOf, sealBody, skipsCompression } from '../core/frame.js';
import type { SealReply, SealRequest } from './frame-sealer.js';
import { asBuffer, keysFromWorkerData, ownsMemory } from './thread-memory.js';

/**
 * The sealing thread of a put (see frame-sealer.ts): a frame's id, the compression probe and,
 * for an incompressible frame, its AES-GCM seal. A frame worth compressing goes back as it came,
 * with its id, for the thread pool to compress.
 */
const keys = keysFromWorkerData(workerData);

parentPort!.on('message', (m: SealRequest) => {
  const plaintext = asBuffer(m.plaintext);
  const id = Buffer.from(frameIdOf(keys, plaintext));
  if (skipsCompression(plaintext)) {
    const { stored } = sealBody(keys, id, FrameFlags.RAW, plaintext, plaintext.length);
    parentPort!.postMessage({ request: m.request, id, stored } satisfies SealReply, ownsMemory(stored) ? [stored.buffer as ArrayBuffer] : []);
  } else {
    parentPort!.postMessage({ request: m.request, id, plaintext } satisfies SealReply, ownsMemory(plaintext) ? [plaintext.buffer as ArrayBuffer] : []);
  }
});

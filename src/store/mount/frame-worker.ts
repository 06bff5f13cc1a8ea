import { parentPort, workerData } from 'node:worker_threads';
import { DosError, ErrorCodes } from '../../core/errors.js';
import { openFrame } from '../../core/frame.js';
import { asBuffer, keysFromWorkerData, ownsMemory } from '../thread-memory.js';
import type { OpenRequest, OpenResponse } from './frame-opener.js';

/**
 * A frame-opening thread of the mount (see frame-opener.ts): authenticates, decrypts and
 * checks the frames of one fetched run with the same openFrame as everything else.
 */
const keys = keysFromWorkerData(workerData);

// Each frame is answered as soon as it is open: the reader waiting for the run's first frame
// does not wait for the whole run.
parentPort!.on('message', (req: OpenRequest) => {
  const bytes = asBuffer(req.bytes);
  req.frames.forEach((f, index) => {
    openFrame(keys, asBuffer(f.id), bytes.subarray(f.start, f.start + f.storedLength), f.plainLength).then((plain) => {
      parentPort!.postMessage({ id: req.id, index, plain } satisfies OpenResponse, ownsMemory(plain) ? [plain.buffer as ArrayBuffer] : []);
    }, (err: unknown) => {
      const e = err instanceof DosError ? err : new DosError(ErrorCodes.CORRUPT, String(err));
      parentPort!.postMessage({ id: req.id, index, error: { code: e.code, message: e.message, details: e.details } } satisfies OpenResponse);
    });
  });
});

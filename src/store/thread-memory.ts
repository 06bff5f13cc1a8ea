import type { KeySet } from '../core/keyring.js';

/** Memory that crosses worker threads (the mount's frame openers, the put's sealing thread). */

/** A Buffer over the same memory (what crosses a thread boundary arrives as a Uint8Array). */
export function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Whether a view covers all of its memory, so transferring that memory detaches nothing else (pooled small Buffers share theirs). */
export function ownsMemory(u8: Uint8Array): boolean {
  return u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength && u8.buffer instanceof ArrayBuffer;
}

/** The key set a worker was started with (its buffers arrive as Uint8Arrays). */
export function keysFromWorkerData(data: unknown): KeySet {
  const raw = data as Record<keyof KeySet, unknown>;
  return { ...raw, frameKey: asBuffer(raw.frameKey as Uint8Array), idKey: asBuffer(raw.idKey as Uint8Array), recordKey: asBuffer(raw.recordKey as Uint8Array) } as KeySet;
}

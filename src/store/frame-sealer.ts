import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { inFrameSlot } from '../core/frame.js';
import type { KeySet } from '../core/keyring.js';
import { asBuffer } from './thread-memory.js';

export interface SealRequest {
  request: number;
  plaintext: Uint8Array;
}

/** A frame's id, and either its sealed RAW form or its plaintext back (worth compressing). */
export interface SealReply {
  request: number;
  id: Uint8Array;
  stored?: Uint8Array;
  plaintext?: Uint8Array;
}

export interface Sealed {
  id: Buffer;
  /** The sealed frame (RAW: the probe found it incompressible). */
  stored?: Buffer;
  /** The plaintext, handed back: it is worth compressing. */
  plaintext?: Buffer;
}

const WORKER_FILE = fileURLToPath(new URL('./seal-worker.js', import.meta.url));

/**
 * Frame ids and seals on a thread of their own, for a put's big frames. The put's own thread
 * reads, hashes every file (SHA-256) and packs; for photos and videos it also spent as long
 * again on each frame's HMAC id and AES-GCM seal while the other core idled. Frames move to the
 * thread and back (transferred, never copied), in order; one thread per process and key set,
 * started on first use and never keeping the process alive while idle.
 *
 * From TypeScript sources (vitest) there is no compiled worker file: `shared` returns null and
 * the put does everything on its own thread, with the same result.
 */
export class FrameSealer {
  private static readonly byKeys = new WeakMap<KeySet, FrameSealer>();
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (s: Sealed) => void; reject: (e: unknown) => void }>();
  private next = 1;

  static shared(keys: KeySet): FrameSealer | null {
    if (!existsSync(WORKER_FILE)) return null;
    let sealer = FrameSealer.byKeys.get(keys);
    if (!sealer) {
      sealer = new FrameSealer(keys);
      FrameSealer.byKeys.set(keys, sealer);
    }
    return sealer;
  }

  private constructor(private readonly keys: KeySet) {
    this.worker = new Worker(WORKER_FILE, { workerData: { ...keys } });
    this.worker.on('message', (r: SealReply) => this.reply(r));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.unref();
  }

  /**
   * `plaintext` must sit in a frame slot (allocFrameSlot): the slot's memory moves to the thread
   * (unusable here until it comes back), where an incompressible frame is sealed in place.
   */
  seal(plaintext: Buffer): Promise<Sealed> {
    if (!inFrameSlot(plaintext)) throw new RangeError('FrameSealer.seal takes frames in frame slots only');
    const request = this.next++;
    if (this.waiting.size === 0) this.worker.ref();
    const done = new Promise<Sealed>((resolve, reject) => this.waiting.set(request, { resolve, reject }));
    this.worker.postMessage({ request, plaintext } satisfies SealRequest, [plaintext.buffer as ArrayBuffer]);
    return done;
  }

  private reply(r: SealReply): void {
    const w = this.waiting.get(r.request);
    if (!w) return;
    this.waiting.delete(r.request);
    if (this.waiting.size === 0) this.worker.unref();
    w.resolve({ id: asBuffer(r.id), stored: r.stored && asBuffer(r.stored), plaintext: r.plaintext && asBuffer(r.plaintext) });
  }

  /** The thread died (it should not): what it held fails, and the next put starts a new one. */
  private fail(err: unknown): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    FrameSealer.byKeys.delete(this.keys);
    void this.worker.terminate();
  }
}

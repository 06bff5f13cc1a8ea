import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DosError, type ErrorCode } from '../core/errors.js';
import { openFrame } from '../core/frame.js';
import type { KeySet } from '../core/keyring.js';
import { asBuffer, ownsMemory } from './thread-memory.js';

/** One frame of a fetched run: where its stored bytes start in the run, and what it must be. */
export interface RunFrame {
  id: Buffer;
  start: number;
  storedLength: number;
  plainLength: number;
}

export interface OpenRequest {
  id: number;
  bytes: Uint8Array;
  frames: Array<{ id: Uint8Array; start: number; storedLength: number; plainLength: number }>;
}

/** One frame of a request, opened (or not). */
export interface OpenedFrame {
  plain?: Uint8Array;
  error?: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

/** A request's frames, in its order. */
export interface OpenResponse {
  id: number;
  frames: OpenedFrame[];
}

interface Waiting {
  resolve: Array<(b: Buffer) => void>;
  reject: Array<(e: unknown) => void>;
}

const WORKER_FILE = fileURLToPath(new URL('./frame-worker.js', import.meta.url));

/** Runs smaller than this open where they were fetched: the messages would cost more than the work. */
const MIN_WORKER_BYTES = 256 * 1024;

/**
 * Opens fetched frames (authenticate, decrypt, check the id: core's openFrame) off the main
 * thread, which has other work: in the mount it serves every FUSE request (opening a 1 MiB
 * frame cost it as much as serving the read, so a cold sequential read was bound by one core),
 * in `get` and `verify --deep` it hashes each file and writes it. Frames of a run are sent to
 * a worker in one message (the run's memory moved, not cloned), opened in place, and come back
 * in one message as views of that same memory (see frame-worker.ts).
 *
 * From TypeScript sources (vitest) there is no compiled worker file: frames open on the main
 * thread, with the same function.
 */
export class FrameOpener {
  private static readonly byKeys = new WeakMap<KeySet, FrameOpener>();

  /** One opener per process and key set, for get and verify (the mount has its own, closed on unmount). */
  static shared(keys: KeySet): FrameOpener {
    let opener = FrameOpener.byKeys.get(keys);
    if (!opener) {
      opener = new FrameOpener(keys);
      FrameOpener.byKeys.set(keys, opener);
    }
    return opener;
  }

  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private turn = 0;

  constructor(private readonly keys: KeySet, private readonly threads = Math.max(1, Math.min(2, availableParallelism() - 1))) {}

  /**
   * Each frame's plaintext, or its own rejection (a DosError naming the frame). Plaintexts may
   * be views of one buffer the size of the run (frames open in place). `owned`: the caller
   * hands `bytes` over (nobody else holds it), so its memory may move to the worker and be
   * decrypted over; otherwise it is copied first (a backend may keep what it returned, e.g. a
   * whole pack cached by the Discord CDN reader, and moving it would empty that cache).
   */
  open(bytes: Buffer, frames: RunFrame[], owned = false): Array<Promise<Buffer>> {
    if (bytes.length < MIN_WORKER_BYTES || !this.ready()) return frames.map((f) => openFrame(this.keys, f.id, bytes.subarray(f.start, f.start + f.storedLength), f.plainLength, owned));
    const id = this.nextId++;
    const waiting: Waiting = { resolve: [], reject: [] };
    const out = frames.map(() => new Promise<Buffer>((resolve, reject) => {
      waiting.resolve.push(resolve);
      waiting.reject.push(reject);
    }));
    // Busy, the pool keeps the process alive until the frames are back.
    if (this.waiting.size === 0) for (const w of this.workers) w.ref();
    this.waiting.set(id, waiting);
    const worker = this.workers[this.turn++ % this.workers.length]!;
    const payload = owned ? bytes : Buffer.from(bytes);
    const request: OpenRequest = { id, bytes: payload, frames };
    worker.postMessage(request, ownsMemory(payload) ? [payload.buffer as ArrayBuffer] : []);
    return out;
  }

  private answer(r: OpenResponse): void {
    const w = this.waiting.get(r.id);
    if (!w) return;
    this.waiting.delete(r.id);
    if (this.waiting.size === 0) for (const worker of this.workers) worker.unref();
    r.frames.forEach((f, index) => {
      if (f.error) w.reject[index]!(new DosError(f.error.code, f.error.message, f.error.details));
      else w.resolve[index]!(asBuffer(f.plain!));
    });
  }

  private ready(): boolean {
    if (this.workers.length > 0) return true;
    if (!existsSync(WORKER_FILE)) return false;
    const keys = { ...this.keys };
    for (let i = 0; i < this.threads; i++) {
      const worker = new Worker(WORKER_FILE, { workerData: keys });
      worker.on('message', (r: OpenResponse) => this.answer(r));
      worker.on('error', (err) => this.fail(err));
      worker.unref(); // after the listeners (adding one refs it): idle, the pool never keeps the process alive
      this.workers.push(worker);
    }
    return true;
  }

  /** A worker died (it should not): what it had fails with EIO, and the pool starts afresh. */
  private fail(err: unknown): void {
    for (const w of this.waiting.values()) for (const reject of w.reject) reject(err);
    this.waiting.clear();
    for (const w of this.workers.splice(0)) void w.terminate();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}

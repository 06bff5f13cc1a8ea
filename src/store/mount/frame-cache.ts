import { LRUCache } from 'lru-cache';
import type { Backend } from '../../backends/backend.js';
import type { KeySet } from '../../core/keyring.js';
import type { FrameLocation } from '../../index/store-index.js';
import { framesOfRun, groupIntoRuns } from '../frame-reader.js';
import type { DiskCache } from './disk-cache.js';
import { FrameOpener } from '../frame-opener.js';
import { SharedRuns } from './shared-runs.js';

export interface FrameCacheStats {
  /** Bytes held in memory (plaintext, and the run buffers it lives in), and the bound. */
  memoryBytes: number;
  memoryMaxBytes: number;
  diskBytes: number;
  diskMaxBytes: number;
  hits: number;
  misses: number;
  /** Ranged reads sent to the backend, and the bytes they returned. */
  fetches: number;
  fetchedBytes: number;
}

interface Deferred {
  promise: Promise<Buffer>;
  resolve: (b: Buffer) => void;
  reject: (e: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: (b: Buffer) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<Buffer>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // observed by whoever awaits it
  return { promise, resolve, reject };
}

/**
 * Decrypted frames for the mount: an in-memory LRU bounded in bytes (plaintext), in front of
 * an optional on-disk cache of ciphertext, in front of the backend. Concurrent requests for a
 * frame share one fetch; frames adjacent in a pack that are missed together are fetched with
 * one ranged read. Every frame is authenticated (openFrame, on the FrameOpener's threads)
 * before it enters the memory cache.
 *
 * Frames opened in place share their run's buffer; the bound covers those buffers whole
 * (SharedRuns), a frame read again from a mostly evicted run is copied out so the rest can
 * go, and a run bigger than half the cache is copied out frame by frame.
 */
export class FrameCache {
  private readonly memory: LRUCache<string, Buffer>;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  private counters = { hits: 0, misses: 0, fetches: 0, fetchedBytes: 0 };
  private readonly opener: FrameOpener;
  private readonly shared = new SharedRuns();
  private trimming = false;

  constructor(
    private readonly source: { backend: Backend; keys: KeySet },
    readonly maxBytes: number,
    private readonly disk?: DiskCache,
  ) {
    this.memory = new LRUCache<string, Buffer>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (b) => Math.max(1, b.length),
      dispose: (b) => this.shared.removed(b),
      disposeAfter: () => this.trim(),
    });
    this.opener = new FrameOpener(source.keys);
  }

  /** Stops the frame-opening threads. */
  close(): Promise<void> {
    return this.opener.close();
  }

  stats(): FrameCacheStats {
    return {
      memoryBytes: this.memory.calculatedSize + this.shared.stranded, memoryMaxBytes: this.maxBytes,
      diskBytes: this.disk?.bytes ?? 0, diskMaxBytes: this.disk?.maxBytes ?? 0,
      ...this.counters,
    };
  }

  /** Whether a frame is in memory (no fetch needed). */
  has(frame: FrameLocation): boolean {
    return this.memory.has(frame.id.toString('hex'));
  }

  /** One frame's plaintext. */
  get(frame: FrameLocation): Promise<Buffer> {
    return this.getMany([frame])[0]!;
  }

  /**
   * The plaintext of each frame, in the order given (file order, so adjacent frames of one pack
   * group into one ranged read). Rejections are per frame.
   */
  getMany(frames: FrameLocation[]): Array<Promise<Buffer>> {
    const out: Array<Promise<Buffer>> = [];
    const missing: Array<{ frame: FrameLocation; hex: string; d: Deferred }> = [];
    const seen = new Map<string, Promise<Buffer>>();
    for (const frame of frames) {
      const hex = frame.id.toString('hex');
      const already = seen.get(hex);
      if (already) {
        out.push(already);
        continue;
      }
      const cached = this.memory.get(hex);
      let p: Promise<Buffer>;
      if (cached) {
        this.counters.hits++;
        p = Promise.resolve(this.shared.mostlyStranded(cached) ? this.keep(hex, Buffer.from(cached)) : cached);
      } else {
        const flying = this.inflight.get(hex);
        if (flying) {
          this.counters.hits++;
          p = flying;
        } else {
          this.counters.misses++;
          const d = deferred();
          this.inflight.set(hex, d.promise);
          missing.push({ frame, hex, d });
          p = d.promise;
        }
      }
      seen.set(hex, p);
      out.push(p);
    }
    if (missing.length > 0) void this.load(missing).catch((error: unknown) => this.failUnsettled(missing, error));
    return out;
  }

  /** Starts fetching frames without waiting (read-ahead); failures surface when they are read. */
  prefetch(frames: FrameLocation[]): void {
    const wanted = frames.filter((f) => {
      const hex = f.id.toString('hex');
      return !this.memory.has(hex) && !this.inflight.has(hex);
    });
    if (wanted.length > 0) for (const p of this.getMany(wanted)) p.catch(() => {});
  }

  private settle(hex: string, d: Deferred, result: { plain?: Buffer; error?: unknown }): void {
    this.inflight.delete(hex);
    if (result.plain) {
      // A run that would take more than half of the cache is not shared: each frame gets its own copy.
      const run = result.plain.buffer.byteLength;
      const plain = run > result.plain.byteLength && run > this.maxBytes / 2 ? Buffer.from(result.plain) : result.plain;
      d.resolve(this.keep(hex, plain));
    } else {
      d.reject(result.error);
    }
  }

  /**
   * A load that failed in an unexpected way (not a fetch or an authentication failure, which
   * settle their own frames): its frames still waiting fail too, so no reader waits forever.
   */
  private failUnsettled(missing: Array<{ hex: string; d: Deferred }>, error: unknown): void {
    for (const m of missing) if (this.inflight.get(m.hex) === m.d.promise) this.settle(m.hex, m.d, { error });
  }

  /** Caches a frame's plaintext (counting the run it shares, if any) and returns it. */
  private keep(hex: string, plain: Buffer): Buffer {
    if (this.memory.peek(hex) === plain) return plain;
    this.memory.set(hex, plain);
    if (this.memory.peek(hex) === plain) this.shared.added(plain); // not when too big to cache at all
    this.trim();
    return plain;
  }

  /** Evicts the least recently used frames until the bound covers stranded bytes too. */
  private trim(): void {
    if (this.trimming) return;
    this.trimming = true;
    try {
      while (this.memory.size > 0 && this.memory.calculatedSize + this.shared.stranded > this.maxBytes) this.memory.pop();
    } finally {
      this.trimming = false;
    }
  }

  private async load(missing: Array<{ frame: FrameLocation; hex: string; d: Deferred }>): Promise<void> {
    let remote = missing;
    if (this.disk) {
      remote = [];
      await Promise.all(missing.map(async (m) => {
        const stored = await this.disk!.get(m.hex);
        if (!stored) {
          remote.push(m);
          return;
        }
        try {
          const [plain] = this.opener.open(stored, [{ id: m.frame.id, start: 0, storedLength: stored.length, plainLength: m.frame.plainLength }], true);
          this.settle(m.hex, m.d, { plain: await plain! });
        } catch {
          this.disk!.drop(m.hex); // damaged cache file: fetch it again
          remote.push(m);
        }
      }));
      const order = new Map(missing.map((m, i) => [m, i] as const));
      remote.sort((a, b) => order.get(a)! - order.get(b)!);
    }
    if (remote.length === 0) return;
    const byFrame = new Map(remote.map((m) => [m.frame, m] as const));
    await Promise.all(groupIntoRuns(remote.map((m) => m.frame)).map(async (run) => {
      let bytes: Buffer;
      try {
        this.counters.fetches++;
        bytes = await this.source.backend.readPack(run.locator, { offset: run.offset, length: run.length });
        this.counters.fetchedBytes += bytes.length;
      } catch (error) {
        for (const f of run.frames) { const m = byFrame.get(f)!; this.settle(m.hex, m.d, { error }); }
        return;
      }
      const frames = framesOfRun(run);
      // Kept aside for the disk cache, which takes them once they authenticated.
      const forDisk = this.disk ? frames.map((f) => Buffer.from(bytes.subarray(f.start, f.start + f.storedLength))) : null;
      // Fresh memory moves to the opening thread; anything else is copied first.
      const opened = this.opener.open(bytes, frames, this.source.backend.readsAreFresh === true);
      await Promise.all(run.frames.map(async (f, i) => {
        const m = byFrame.get(f)!;
        try {
          const plain = await opened[i]!;
          this.settle(m.hex, m.d, { plain });
          if (forDisk) void this.disk!.put(m.hex, forDisk[i]!);
        } catch (error) {
          this.settle(m.hex, m.d, { error });
        }
      }));
    }));
  }
}

import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { DosError, ErrorCodes, fromSystemError } from '../core/errors.js';
import { allocFrameSlot, encodeBody, frameIdOf, type CompressionPolicy } from '../core/frame.js';
import type { KeySet } from '../core/keyring.js';
import { BoundedQueue } from './bounded-queue.js';
import { FrameSealer } from './frame-sealer.js';
import { scanInputs, unreadable, type ScannedEntry } from './scan.js';

export interface Encoded {
  flags: number;
  body: Buffer;
}

/** A frame back from the sealing thread: sealed already (incompressible), or to be compressed here. */
export type SealedFrameItem =
  | { id: Buffer; stored: Buffer; plaintext?: undefined }
  | { id: Buffer; plaintext: Buffer; encoded: Promise<Encoded> | null; stored?: undefined };

export type SourceItem =
  /** `encoded` is null when the frame is known to be stored already (no compression needed). */
  | { kind: 'frame'; plaintext: Buffer; id: Buffer | null; encoded: Promise<Encoded> | null }
  /** A frame on the sealing thread (frame-sealer.ts): its plaintext is there, not here. */
  | { kind: 'sealing'; plainLength: number; sealed: Promise<SealedFrameItem> }
  | { kind: 'end'; path: string; sha256: string; size: number };

/** Frames bigger than this go to the sealing thread (smaller ones cost more to send than to seal). */
const SEAL_THREAD_MIN_BYTES = 64 * 1024;

/** How far reading and compression may run ahead of packing (bytes of plaintext). */
const DEFAULT_AHEAD_BYTES = 48 * 1024 * 1024;

/**
 * Reads the files of a put and compresses their frames ahead of the packer, on the thread pool.
 * It can start before the store is unlocked (scrypt takes ~0.5 s): until `unlocked()` is
 * called it compresses speculatively; afterwards whole frames go to the sealing thread
 * (frame-sealer.ts: id, probe, and the seal of an incompressible frame), the others get their
 * id here, and frames the store already has are not compressed, so dedup stays cheap. Each
 * file's SHA-256 is computed here, in order, before its frames leave.
 */
export class InputSource {
  private readonly queue: BoundedQueue<SourceItem>;
  private keys: KeySet | null = null;
  private isStored: (id: Buffer) => boolean = () => false;
  private readonly emitted = new Set<string>();
  private sealer: FrameSealer | null = null;
  private started = false;

  private constructor(
    readonly inputs: string[],
    readonly entries: ScannedEntry[],
    private readonly frameSize: number,
    private readonly compression: CompressionPolicy,
    aheadBytes: number,
  ) {
    this.queue = new BoundedQueue(aheadBytes);
  }

  static async open(inputs: string[], options: { frameSize: number; compression: CompressionPolicy; notice: (m: string) => void; aheadBytes?: number }): Promise<InputSource> {
    const entries = await scanInputs(inputs, options.notice);
    return new InputSource(inputs, entries, options.frameSize, options.compression, options.aheadBytes ?? DEFAULT_AHEAD_BYTES);
  }

  /** A source of given local files, each stored under the archive path given. */
  static async ofFiles(files: Array<{ source: string; path: string }>, options: { frameSize: number; compression: CompressionPolicy; aheadBytes?: number }): Promise<InputSource> {
    const entries: ScannedEntry[] = [];
    for (const file of files) {
      const stats = await stat(file.source).catch((err: NodeJS.ErrnoException) => {
        // Only a missing file is final (the mount then drops the change); an I/O error or a
        // lack of descriptors is worth retrying.
        if (err.code !== 'ENOENT') throw fromSystemError(err, `reading ${file.source}`);
        throw new DosError(ErrorCodes.NOT_FOUND, `cannot read ${file.source}: ${err.message}`, { path: file.source });
      });
      if (!stats.isFile()) throw new DosError(ErrorCodes.BAD_INPUT, `${file.source} is not a regular file`, { path: file.source });
      entries.push({ source: file.source, path: file.path, type: 'file', size: stats.size, mode: stats.mode & 0o7777, mtimeMs: stats.mtimeMs });
    }
    return new InputSource(files.map((f) => f.source), entries, options.frameSize, options.compression, options.aheadBytes ?? DEFAULT_AHEAD_BYTES);
  }

  get totalBytes(): number {
    return this.entries.reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0);
  }

  /** Starts reading (idempotent). Call early to overlap with unlocking the store. */
  start(notice: (m: string) => void): this {
    if (!this.started) {
      this.started = true;
      this.produce(notice).then(() => this.queue.close(), (err: unknown) => this.queue.fail(err));
    }
    return this;
  }

  /** From now on frame ids are computed (here or on the sealing thread), and frames the store has are not compressed. */
  unlocked(keys: KeySet, isStored: (id: Buffer) => boolean): void {
    this.keys = keys;
    this.isStored = isStored;
    this.sealer = FrameSealer.shared(keys);
  }

  items(): AsyncIterable<SourceItem> {
    return this.queue;
  }

  /** Stops reading (the consumer failed). */
  abort(error: unknown): void {
    this.queue.fail(error);
  }

  private async produce(notice: (m: string) => void): Promise<void> {
    for (const entry of this.entries) {
      if (entry.type !== 'file') continue;
      const hash = createHash('sha256');
      let size = 0;
      const handle = await openScannedFile(entry.source);
      try {
        for (;;) {
          const plaintext = await this.readFrame(handle, entry.size - size);
          // Read before the frame may move to the sealing thread (which leaves `plaintext` empty here).
          const length = plaintext.length;
          if (length === 0) break;
          hash.update(plaintext);
          size += length;
          await this.queue.push(this.frameItem(plaintext), length);
          if (length < this.frameSize) break;
        }
      } finally {
        await handle.close();
      }
      if (size !== entry.size) notice(`${entry.source} changed size while it was read (${entry.size} → ${size} bytes); stored what was read`);
      await this.queue.push({ kind: 'end', path: entry.path, sha256: hash.digest('hex'), size }, 0);
    }
  }

  /**
   * The next frame of a file: up to frameSize bytes, fewer only at its end. Each frame gets a
   * fresh buffer (it lives on in the queue and the packer) with room to be sealed where it lies
   * on the sealing thread, sized to what the file has left (one byte more, to notice a file
   * that grew): a 1 MiB buffer per small file made V8 collect garbage for a fifth of a put of
   * many small files.
   */
  private async readFrame(handle: FileHandle, expectedLeft: number): Promise<Buffer> {
    let buffer = allocFrameSlot(Math.min(this.frameSize, Math.max(0, expectedLeft) + 1));
    let filled = await readInto(handle, buffer, 0);
    if (filled === buffer.length && buffer.length < this.frameSize) {
      // The file grew since it was scanned: this frame takes a whole frame's bytes.
      const whole = allocFrameSlot(this.frameSize);
      buffer.copy(whole);
      buffer = whole;
      filled = await readInto(handle, buffer, filled);
    }
    return buffer.subarray(0, filled);
  }

  private frameItem(plaintext: Buffer): SourceItem {
    const encode = (data: Buffer) => {
      const promise = encodeBody(data, this.compression);
      promise.catch(() => {}); // observed by the consumer; never an unhandled rejection
      return promise;
    };
    if (!this.keys) return { kind: 'frame', plaintext, id: null, encoded: encode(plaintext) };
    // A big frame moves to the sealing thread with its slot; the rest stays here.
    if (this.sealer && plaintext.length > SEAL_THREAD_MIN_BYTES) {
      const plainLength = plaintext.length;
      const sealed = this.sealer.seal(plaintext).then((r): SealedFrameItem => (
        r.stored ? { id: r.id, stored: r.stored } : { id: r.id, plaintext: r.plaintext!, encoded: this.known(r.id) ? null : encode(r.plaintext!) }
      ));
      sealed.catch(() => {});
      return { kind: 'sealing', plainLength, sealed };
    }
    const id = frameIdOf(this.keys, plaintext);
    return { kind: 'frame', plaintext, id, encoded: this.known(id) ? null : encode(plaintext) };
  }

  /** Whether a frame is stored already or came earlier in this put (then it needs no compressing). */
  private known(id: Buffer): boolean {
    const hex = id.toString('hex');
    const stored = this.emitted.has(hex) || this.isStored(id);
    this.emitted.add(hex);
    return stored;
  }
}

/** Reads into `buffer` from `filled` on until it is full or the file ends; returns the bytes it holds. */
async function readInto(handle: FileHandle, buffer: Buffer, filled: number): Promise<number> {
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/**
 * Opens a file the scan found regular. Between the scan and now it may have been replaced: by a
 * FIFO (reading would wait forever), a symlink (to /dev/zero, or to a file outside the input),
 * or a folder. Opened without following links and without blocking, then checked.
 */
async function openScannedFile(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DosError(ErrorCodes.NOT_FOUND, `${path} was removed while being archived`, { path }, { cause: err });
    if (code === 'ELOOP') throw new DosError(ErrorCodes.BAD_INPUT, `${path} was replaced by a symlink while being archived`, { path }, { cause: err });
    throw unreadable(path, err as NodeJS.ErrnoException);
  }
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new DosError(ErrorCodes.BAD_INPUT, `${path} is no longer a regular file (replaced while being archived)`, { path });
  }
  return handle;
}


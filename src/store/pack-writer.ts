import type { BackendLimits } from '../backends/backend.js';
import { encodeBody, FrameFlags, frameIdOf, sealBodyInto, sealedLength, type SealedFrame } from '../core/frame.js';
import type { Encoded, SealedFrameItem } from './input-source.js';
import { PACK_MAGIC, PackBuilder } from '../core/pack.js';
import { DosError, ErrorCodes, isDosError } from '../core/errors.js';
import type { NewFrame } from '../index/store-index.js';
import { Window } from './concurrency.js';
import { failpoint } from './failpoints.js';
import type { StoreContext } from './context.js';

/** Where a frame lives, by pack name (the locator may not be known yet). */
export interface PlacedFrame {
  id: Buffer;
  packName: string;
  offset: number;
  storedLength: number;
  plainLength: number;
  flags: number;
}

export interface WrittenPack {
  name: string;
  locator: string;
  size: number;
}

/**
 * Turns plaintext frames into packs on the backend: dedup against the index and against this
 * job, sealing, packing (small files share packs), and uploads with bounded concurrency.
 * Compression runs ahead on the thread pool, ids and incompressible frames' seals on the
 * sealing thread (see InputSource). Memory stays bounded: at most
 * `uploadConcurrency + 1` packs are in memory here.
 */
export class PackWriter {
  /** Every frame this job wrote or reused, by hex id. */
  readonly placed = new Map<string, PlacedFrame>();
  /** Packs uploaded by this job, by name. */
  readonly packs = new Map<string, WrittenPack>();
  /** Packs other jobs wrote that this job's frames reuse, by name. */
  readonly reusedPacks = new Map<string, WrittenPack>();
  storedBytes = 0;

  private current: PackBuilder;
  private currentFrames: NewFrame[] = [];
  private readonly uploads: Window;
  private readonly spareBuffers: Buffer[] = [];

  constructor(
    private readonly ctx: StoreContext,
    private readonly archiveId: string,
    private readonly jobId: number | null,
    private limits: BackendLimits,
  ) {
    this.current = this.newBuilder();
    this.uploads = new Window(limits.uploadConcurrency);
  }

  /** Adds one frame of plaintext and returns its id once it is placed in a pack. */
  async add(plaintext: Buffer): Promise<Buffer> {
    return this.addFrame({ plaintext, id: null, encoded: null });
  }

  /**
   * Places one frame from an InputSource: reuses it when the store or this job already has it
   * (its speculative compression, if any, is dropped), else seals and packs it.
   */
  async addFrame(frame: { plaintext: Buffer; id: Buffer | null; encoded: Promise<Encoded> | null }): Promise<Buffer> {
    const id = frame.id ?? frameIdOf(this.ctx.keys, frame.plaintext);
    if (this.reuse(id)) return id;
    const { flags, body } = await (frame.encoded ?? encodeBody(frame.plaintext, this.ctx.compression));
    const storedLength = sealedLength(body.length);
    if (!this.current.fits(storedLength) && !this.current.isEmpty) await this.flush();
    const offset = this.current.appendWith(storedLength, (target, at) => sealBodyInto(this.ctx.keys, id, flags, body, target, at));
    this.place({ id, packName: this.current.name, offset, storedLength, plainLength: frame.plaintext.length, flags });
    return id;
  }

  /** Places a frame from the sealing thread (frame-sealer.ts): sealed there, or to be compressed here. */
  async addSealed(frame: SealedFrameItem, plainLength: number): Promise<Buffer> {
    if (!frame.stored) return this.addFrame(frame);
    if (!this.reuse(frame.id)) await this.append({ id: frame.id, flags: FrameFlags.RAW, plainLength, stored: frame.stored });
    return frame.id;
  }

  /** A frame this job placed already, or the store has (its pack is then reused): nothing to write. */
  private reuse(id: Buffer): boolean {
    const hex = id.toString('hex');
    if (this.placed.has(hex)) return true;
    const known = this.ctx.index.findFrame(id);
    if (!known) return false;
    const pack = this.ctx.index.getPack(known.packId)!;
    this.reusedPacks.set(pack.id, { name: pack.id, locator: pack.locator, size: pack.size });
    this.placed.set(hex, { id, packName: known.packId, offset: known.offset, storedLength: known.storedLength, plainLength: known.plainLength, flags: known.flags });
    return true;
  }

  /** Appends already sealed frames (the manifest's) to the current pack, bypassing dedup. */
  async appendSealed(frames: SealedFrame[]): Promise<PlacedFrame[]> {
    const placed: PlacedFrame[] = [];
    for (const frame of frames) placed.push(await this.append(frame));
    return placed;
  }

  private async append(frame: SealedFrame): Promise<PlacedFrame> {
    if (!this.current.fits(frame.stored.length) && !this.current.isEmpty) await this.flush();
    const offset = this.current.append(frame.stored);
    return this.place({ id: frame.id, packName: this.current.name, offset, storedLength: frame.stored.length, plainLength: frame.plainLength, flags: frame.flags });
  }

  private place(placed: PlacedFrame): PlacedFrame {
    const { id, offset, storedLength, plainLength, flags } = placed;
    this.currentFrames.push({ id, offset, storedLength, plainLength, flags });
    this.placed.set(id.toString('hex'), placed);
    this.storedBytes += storedLength;
    return placed;
  }

  /** Seals the current pack and starts its upload (waiting while too many are in flight). */
  async flush(): Promise<void> {
    if (this.current.isEmpty) return;
    const builder = this.current;
    const frames = this.currentFrames;
    this.currentFrames = [];
    await this.uploads.push(async () => {
      try {
        await this.upload(builder.name, builder.finish(), frames);
      } finally {
        this.spareBuffers.push(builder.release());
      }
    });
    this.current = this.newBuilder();
  }

  /**
   * Uploads one pack and records it. A backend that refuses the pack as too large (Discord's
   * 413 on a server with a lower limit than it advertised) says how large packs may be
   * (`details.maxPackBytes`): the pack's sealed frames are then re-packed into smaller packs,
   * without sealing anything again, and later packs are built at the new size.
   */
  private async upload(name: string, data: Buffer, frames: NewFrame[]): Promise<void> {
    let locator: string;
    try {
      locator = await this.ctx.backend.putPack({ name, data, archiveId: this.archiveId });
    } catch (err) {
      const limit = isDosError(err) ? err.details.maxPackBytes : undefined;
      if (typeof limit !== 'number' || limit >= data.length) throw err;
      this.limits = { ...this.limits, maxPackBytes: limit };
      for (const part of this.split(data, frames, limit)) await this.upload(part.name, part.data, part.frames);
      return;
    }
    failpoint('pack-stored');
    // Recorded at once: a crash after this point leaves a pack the journal and gc know about.
    this.ctx.index.recordPack({ id: name, locator, size: data.length, archiveId: this.archiveId, jobId: this.jobId }, frames);
    this.packs.set(name, { name, locator, size: data.length });
    failpoint('pack-recorded');
  }

  /** Copies a refused pack's frames into packs of at most `limit` bytes, re-placing them. */
  private split(data: Buffer, frames: NewFrame[], limit: number): Array<{ name: string; data: Buffer; frames: NewFrame[] }> {
    const parts: Array<{ name: string; data: Buffer; frames: NewFrame[] }> = [];
    let builder: PackBuilder | null = null;
    let moved: NewFrame[] = [];
    const close = () => {
      if (builder && !builder.isEmpty) parts.push({ name: builder.name, data: builder.finish(), frames: moved });
    };
    for (const frame of frames) {
      if (PACK_MAGIC.length + frame.storedLength > limit) {
        throw new DosError(ErrorCodes.BACKEND, `the backend now takes packs of at most ${limit} bytes, smaller than one frame (${frame.storedLength} bytes)`, { maxPackBytes: limit });
      }
      if (!builder || !builder.fits(frame.storedLength)) {
        close();
        builder = new PackBuilder(Buffer.allocUnsafe(limit));
        moved = [];
      }
      const offset = builder.append(data.subarray(frame.offset, frame.offset + frame.storedLength));
      moved.push({ ...frame, offset });
      const placed = this.placed.get(frame.id.toString('hex'));
      if (placed) {
        placed.packName = builder.name;
        placed.offset = offset;
      }
    }
    close();
    return parts;
  }

  /** Pack buffers are recycled: at most uploadConcurrency + 1 of them ever exist. */
  private newBuilder(): PackBuilder {
    const buffer = this.spareBuffers.pop() ?? Buffer.allocUnsafe(this.limits.maxPackBytes);
    // A recycled buffer may be larger than the backend now allows (after a refusal).
    return new PackBuilder(buffer.length > this.limits.maxPackBytes ? buffer.subarray(0, this.limits.maxPackBytes) : buffer);
  }

  /** Waits until every frame is packed and every flushed pack uploaded; the current pack stays open. */
  async awaitUploads(): Promise<void> {
    await this.uploads.drain();
  }

  /** Flushes the last pack and waits for every upload. */
  async finish(): Promise<void> {
    await this.flush();
    await this.uploads.drain();
  }

  /** The pack currently being filled (the manifest goes into it, after the tail of the data). */
  get currentPackName(): string {
    return this.current.name;
  }
}

import type { BackendLimits } from '../backends/backend.js';
import { encodeBody, frameIdOf, sealBodyInto, sealedLength, type SealedFrame } from '../core/frame.js';
import type { Encoded } from './input-source.js';
import { PackBuilder } from '../core/pack.js';
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
 * Compression runs ahead on the thread pool (see InputSource). Memory stays bounded: at most
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
    private readonly limits: BackendLimits,
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
    const hex = id.toString('hex');
    if (this.placed.has(hex)) return id;
    const known = this.ctx.index.findFrame(id);
    if (known) {
      const pack = this.ctx.index.getPack(known.packId)!;
      this.reusedPacks.set(pack.id, { name: pack.id, locator: pack.locator, size: pack.size });
      this.placed.set(hex, { id, packName: known.packId, offset: known.offset, storedLength: known.storedLength, plainLength: known.plainLength, flags: known.flags });
      return id;
    }
    const { flags, body } = await (frame.encoded ?? encodeBody(frame.plaintext, this.ctx.compression));
    const storedLength = sealedLength(body.length);
    if (!this.current.fits(storedLength) && !this.current.isEmpty) await this.flush();
    const offset = this.current.appendWith(storedLength, (target, at) => sealBodyInto(this.ctx.keys, id, flags, body, target, at));
    this.place({ id, packName: this.current.name, offset, storedLength, plainLength: frame.plaintext.length, flags });
    return id;
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
      const data = builder.finish();
      const size = data.length;
      let locator: string;
      try {
        locator = await this.ctx.backend.putPack({ name: builder.name, data, archiveId: this.archiveId });
      } finally {
        this.spareBuffers.push(builder.release());
      }
      failpoint('pack-stored');
      // Recorded at once: a crash after this point leaves a pack the journal and gc know about.
      this.ctx.index.recordPack({ id: builder.name, locator, size, archiveId: this.archiveId, jobId: this.jobId }, frames);
      this.packs.set(builder.name, { name: builder.name, locator, size });
      failpoint('pack-recorded');
    });
    this.current = this.newBuilder();
  }

  /** Pack buffers are recycled: at most uploadConcurrency + 1 of them ever exist. */
  private newBuilder(): PackBuilder {
    return new PackBuilder(this.spareBuffers.pop() ?? Buffer.allocUnsafe(this.limits.maxPackBytes));
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

import type { BackendLimits } from '../backends/backend.js';
import { encodeBody, frameIdOf, sealBody, type SealedFrame } from '../core/frame.js';
import { PackBuilder } from '../core/pack.js';
import type { NewFrame } from '../index/store-index.js';
import { Window } from './concurrency.js';
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
 * job, compression on the thread pool (several frames in flight use both cores), sealing,
 * packing (small files share packs), and uploads with bounded concurrency. Memory stays
 * bounded: at most `encodeWindow` frames and `uploadConcurrency + 1` packs are in memory.
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
  private readonly encoding: Window;
  private readonly uploads: Window;
  private readonly pendingIds = new Set<string>();

  constructor(
    private readonly ctx: StoreContext,
    private readonly archiveId: string,
    private readonly jobId: number | null,
    private readonly limits: BackendLimits,
    encodeWindow = 6,
  ) {
    this.current = new PackBuilder(limits.maxPackBytes);
    this.encoding = new Window(encodeWindow);
    this.uploads = new Window(limits.uploadConcurrency);
  }

  /** Adds one frame of plaintext; returns its id at once (the frame is sealed in the background). */
  async add(plaintext: Buffer): Promise<Buffer> {
    const id = frameIdOf(this.ctx.keys, plaintext);
    const hex = id.toString('hex');
    if (this.placed.has(hex) || this.pendingIds.has(hex)) return id;
    const known = this.ctx.index.findFrame(id);
    if (known) {
      const pack = this.ctx.index.getPack(known.packId)!;
      this.reusedPacks.set(pack.id, { name: pack.id, locator: pack.locator, size: pack.size });
      this.placed.set(hex, { id, packName: known.packId, offset: known.offset, storedLength: known.storedLength, plainLength: known.plainLength, flags: known.flags });
      return id;
    }
    this.pendingIds.add(hex);
    await this.encoding.push(async () => {
      const { flags, body } = await encodeBody(plaintext, this.ctx.compression);
      await this.append(sealBody(this.ctx.keys, id, flags, body, plaintext.length));
      this.pendingIds.delete(hex);
    });
    return id;
  }

  /** Waits for every frame added so far to be in a pack (not necessarily uploaded). */
  async settle(): Promise<void> {
    await this.encoding.drain();
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
    const placed: PlacedFrame = { id: frame.id, packName: this.current.name, offset, storedLength: frame.stored.length, plainLength: frame.plainLength, flags: frame.flags };
    this.currentFrames.push({ id: frame.id, offset, storedLength: frame.stored.length, plainLength: frame.plainLength, flags: frame.flags });
    this.placed.set(frame.id.toString('hex'), placed);
    this.storedBytes += frame.stored.length;
    return placed;
  }

  /** Seals the current pack and starts its upload (waiting while too many are in flight). */
  async flush(): Promise<void> {
    if (this.current.isEmpty) return;
    const builder = this.current;
    const frames = this.currentFrames;
    this.current = new PackBuilder(this.limits.maxPackBytes);
    this.currentFrames = [];
    await this.uploads.push(async () => {
      const data = builder.finish();
      const locator = await this.ctx.backend.putPack({ name: builder.name, data, archiveId: this.archiveId });
      // Recorded at once: a crash after this point leaves a pack the journal and gc know about.
      this.ctx.index.recordPack({ id: builder.name, locator, size: data.length, archiveId: this.archiveId, jobId: this.jobId }, frames);
      this.packs.set(builder.name, { name: builder.name, locator, size: data.length });
    });
  }

  /** Waits until every frame is packed and every flushed pack uploaded; the current pack stays open. */
  async awaitUploads(): Promise<void> {
    await this.settle();
    await this.uploads.drain();
  }

  /** Flushes the last pack and waits for every upload. */
  async finish(): Promise<void> {
    await this.settle();
    await this.flush();
    await this.uploads.drain();
  }

  /** The pack currently being filled (the manifest goes into it, after the tail of the data). */
  get currentPackName(): string {
    return this.current.name;
  }
}

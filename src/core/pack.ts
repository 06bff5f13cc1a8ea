import { randomBytes } from 'node:crypto';

/**
 * Packs: one backend object (one Discord attachment). A pack is the 8-byte magic followed by
 * stored frames back to back; where each frame sits is recorded in the manifest, so a pack
 * needs no index of its own. Packs are immutable and their names are random (they say
 * nothing about their content).
 */
export const PACK_MAGIC = Buffer.from('DOS4PACK', 'ascii');
/** Discord's unboosted attachment limit. */
export const DISCORD_DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;
/** Room left under the attachment limit for multipart framing and future growth. */
export const PACK_HEADROOM = 64 * 1024;
export const DEFAULT_MAX_PACK_BYTES = DISCORD_DEFAULT_ATTACHMENT_LIMIT - PACK_HEADROOM;

export function newPackName(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Accumulates stored frames into one pack buffer, refusing to grow past its size limit.
 * The buffer is supplied by the caller so it can be recycled once the pack is uploaded.
 */
export class PackBuilder {
  readonly name = newPackName();
  private length = PACK_MAGIC.length;

  constructor(private readonly buffer: Buffer) {
    PACK_MAGIC.copy(buffer, 0);
  }

  get maxBytes(): number {
    return this.buffer.length;
  }

  get size(): number {
    return this.length;
  }

  get isEmpty(): boolean {
    return this.length === PACK_MAGIC.length;
  }

  fits(storedLength: number): boolean {
    return this.length + storedLength <= this.buffer.length;
  }

  /** Lets `write` fill `length` bytes in place and returns their offset in the pack. */
  appendWith(length: number, write: (target: Buffer, offset: number) => void): number {
    if (!this.fits(length)) throw new RangeError('frame does not fit the pack');
    const offset = this.length;
    write(this.buffer, offset);
    this.length += length;
    return offset;
  }

  /** Appends a stored frame and returns its offset in the pack. */
  append(stored: Buffer): number {
    return this.appendWith(stored.length, (target, offset) => stored.copy(target, offset));
  }

  /** Hands the buffer back for reuse; the builder must not be used afterwards. */
  release(): Buffer {
    return this.buffer;
  }

  /** The pack's bytes (a view of the buffer: no copy). */
  finish(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

export function hasPackMagic(head: Buffer): boolean {
  return head.length >= PACK_MAGIC.length && head.subarray(0, PACK_MAGIC.length).equals(PACK_MAGIC);
}

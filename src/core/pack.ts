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

/** Accumulates stored frames into one pack, refusing to grow past its size limit. */
export class PackBuilder {
  readonly name = newPackName();
  private readonly parts: Buffer[] = [PACK_MAGIC];
  private length = PACK_MAGIC.length;

  constructor(readonly maxBytes: number) {}

  get size(): number {
    return this.length;
  }

  get isEmpty(): boolean {
    return this.length === PACK_MAGIC.length;
  }

  fits(storedLength: number): boolean {
    return this.length + storedLength <= this.maxBytes;
  }

  /** Appends a stored frame and returns its offset in the pack. */
  append(stored: Buffer): number {
    const offset = this.length;
    this.parts.push(stored);
    this.length += stored.length;
    return offset;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

export function hasPackMagic(head: Buffer): boolean {
  return head.length >= PACK_MAGIC.length && head.subarray(0, PACK_MAGIC.length).equals(PACK_MAGIC);
}

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

/** One input file and the number of bytes it contributes (its size when it was planned). */
export interface Slice {
  path: string;
  size: number;
}

/**
 * Reads several slice files as if they were one byte string, without ever joining them in
 * memory. The seed's 3.0 format cut one sealed blob (salt ‖ nonce ‖ ciphertext ‖ tag) into
 * slices, so the header and the tag may each straddle a slice boundary.
 */
export class ConcatenatedSlices {
  readonly length: number;

  constructor(private readonly slices: readonly Slice[]) {
    this.length = slices.reduce((sum, slice) => sum + slice.size, 0);
  }

  /** Bytes [start, end) as one buffer. Meant for the few bytes of a header or a tag. */
  async readRange(start: number, end: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (const piece of this.locate(start, end)) {
      const handle = await open(piece.path, 'r');
      try {
        const buffer = Buffer.alloc(piece.end - piece.start);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, piece.start);
        parts.push(buffer.subarray(0, bytesRead));
      } finally {
        await handle.close();
      }
    }
    return Buffer.concat(parts);
  }

  /** Bytes [start, end) as a stream of pieces, one slice file open at a time. */
  async *stream(start: number, end: number): AsyncGenerator<Buffer> {
    for (const piece of this.locate(start, end)) {
      if (piece.end === piece.start) continue;
      // createReadStream's `end` is inclusive.
      for await (const data of createReadStream(piece.path, { start: piece.start, end: piece.end - 1 })) {
        yield data as Buffer;
      }
    }
  }

  /** Maps a global range onto (file, local start, local end) pieces. */
  private *locate(start: number, end: number): Generator<{ path: string; start: number; end: number }> {
    let offset = 0;
    for (const slice of this.slices) {
      const sliceStart = offset;
      const sliceEnd = offset + slice.size;
      offset = sliceEnd;
      const from = Math.max(start, sliceStart);
      const to = Math.min(end, sliceEnd);
      if (from < to) yield { path: slice.path, start: from - sliceStart, end: to - sliceStart };
    }
  }
}

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { allocFrameSlot, FRAME_OVERHEAD, FrameFlags, frameIdOf, inFrameSlot, openFrame, sealRawInPlace } from '../../src/core/frame.js';
import { createKeyring } from '../../src/core/keyring.js';
import { FAST_SCRYPT, TEST_KEY } from '../helpers/store.js';

const { keys } = await createKeyring(TEST_KEY, FAST_SCRYPT);

describe('frame slots: a frame sealed where its plaintext was read', () => {
  it('seals a full or a partly filled slot over its own plaintext, and the result opens as any frame does', async () => {
    for (const [capacity, filled] of [[1 << 20, 1 << 20], [1 << 20, 300_001], [100, 0]] as const) {
      const slot = allocFrameSlot(capacity);
      const plaintext = slot.subarray(0, filled);
      const original = randomBytes(filled);
      original.copy(plaintext);
      expect(inFrameSlot(plaintext)).toBe(true);
      const id = frameIdOf(keys, plaintext);
      const sealed = sealRawInPlace(keys, id, plaintext);
      expect(sealed.stored.buffer).toBe(slot.buffer); // no second buffer
      expect(sealed.stored.length).toBe(filled + FRAME_OVERHEAD);
      expect(sealed.flags).toBe(FrameFlags.RAW);
      expect((await openFrame(keys, id, Buffer.from(sealed.stored), filled)).equals(original)).toBe(true);
    }
  });

  it('refuses a buffer without room around its plaintext, rather than writing outside it', () => {
    const plain = Buffer.alloc(1000, 7);
    expect(inFrameSlot(plain)).toBe(false);
    expect(() => sealRawInPlace(keys, frameIdOf(keys, plain), plain)).toThrow(RangeError);
    expect(plain.equals(Buffer.alloc(1000, 7))).toBe(true);
    const tooLittleRoomAfter = Buffer.alloc(13 + 1000 + 15).subarray(13, 1013);
    expect(inFrameSlot(tooLittleRoomAfter)).toBe(false);
    expect(inFrameSlot(allocFrameSlot(1000).subarray(1))).toBe(false);
  });
});

import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesGcm, aesGcmFallbackReason, disagreement, nodeAesGcm, type AesGcm } from '../../src/core/aes-gcm.js';

const key = randomBytes(32);
const nonce = randomBytes(12);
const aad = randomBytes(17);

function seal(impl: AesGcm, plaintext: Buffer, k = key, n = nonce, a = aad): Buffer {
  const out = Buffer.alloc(plaintext.length + 16);
  impl.sealInto(k, n, a, plaintext, out);
  return out;
}
function open(impl: AesGcm, sealed: Buffer, k = key, n = nonce, a = aad): Buffer | null {
  return impl.open(k, n, a, sealed.subarray(0, sealed.length - 16), sealed.subarray(sealed.length - 16));
}
/** AES-256-GCM as node:crypto computes it in one piece: the reference both must match. */
function reference(plaintext: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

describe('the AES-256-GCM implementation in use', () => {
  it('is the native one on Linux, where npm ci builds native/aes-gcm against the system libcrypto', () => {
    if (process.platform !== 'linux' || process.env.DOS_NATIVE_AES === '0') return;
    expect(aesGcmFallbackReason).toBeNull();
    expect(aesGcm.native).toBe(true);
    expect(aesGcm.name).toMatch(/^libcrypto\.so\.3 \(OpenSSL 3\./);
  });
});

const implementations: AesGcm[] = aesGcm.native ? [nodeAesGcm, aesGcm] : [nodeAesGcm];

describe.each(implementations.map((impl) => [impl.name, impl] as const))('AES-256-GCM through %s', (_name, impl) => {
  it.each([0, 1, 15, 16, 17, 4099, 1024 * 1024 + 3])('seals %i bytes exactly as node:crypto does, and opens them again', (size) => {
    const plaintext = randomBytes(size);
    const sealed = seal(impl, plaintext);
    expect(sealed.equals(reference(plaintext))).toBe(true);
    expect(open(impl, sealed)?.equals(plaintext)).toBe(true);
  });

  it('seals in place, over the memory of the plaintext', () => {
    const plaintext = randomBytes(200_003);
    const memory = Buffer.alloc(plaintext.length + 16);
    plaintext.copy(memory);
    impl.sealInto(key, nonce, aad, memory.subarray(0, plaintext.length), memory);
    expect(memory.equals(reference(plaintext))).toBe(true);
  });

  it.each([1, 16, -16])('refuses to seal into memory shifted %i bytes from the plaintext (it would seal other bytes)', (shift) => {
    const memory = randomBytes(4096 + 64);
    const at = 32;
    const plaintext = memory.subarray(at, at + 4096);
    expect(() => impl.sealInto(key, nonce, aad, plaintext, memory.subarray(at + shift, at + shift + 4096 + 16))).toThrow(/in place\) or not overlap/);
  });

  it('opens what the other implementation sealed', () => {
    const plaintext = randomBytes(100_000);
    for (const other of implementations) expect(open(impl, seal(other, plaintext))?.equals(plaintext)).toBe(true);
  });

  it('may open in place, over the ciphertext it was given, and then returns the same bytes', () => {
    const plaintext = randomBytes(70_000);
    const sealed = seal(impl, plaintext);
    const ciphertext = sealed.subarray(0, plaintext.length);
    const opened = impl.open(key, nonce, aad, ciphertext, sealed.subarray(plaintext.length), true);
    expect(opened?.equals(plaintext)).toBe(true);
    if (impl.native) expect(opened!.buffer).toBe(sealed.buffer); // no second buffer the size of the frame
    const tampered = seal(impl, plaintext);
    tampered[10]! ^= 1;
    expect(impl.open(key, nonce, aad, tampered.subarray(0, plaintext.length), tampered.subarray(plaintext.length), true)).toBeNull();
    // The native one leaves zeros, never unauthenticated plaintext, where it decrypted.
    if (impl.native) expect(tampered.subarray(0, plaintext.length).equals(Buffer.alloc(plaintext.length))).toBe(true);
  });

  it('refuses a flipped bit in the ciphertext or the tag, a wrong key, nonce or associated data', () => {
    const plaintext = randomBytes(5000);
    const sealed = seal(impl, plaintext);
    for (const at of [0, 2500, sealed.length - 17, sealed.length - 16, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at]! ^= 0x80;
      expect(open(impl, tampered), `bit flipped at ${at}`).toBeNull();
    }
    expect(open(impl, sealed, randomBytes(32))).toBeNull();
    expect(open(impl, sealed, key, randomBytes(12))).toBeNull();
    expect(open(impl, sealed, key, nonce, Buffer.concat([aad, Buffer.of(0)]))).toBeNull();
    expect(open(impl, sealed.subarray(1))).toBeNull(); // truncated at the front
  });

  it('rejects a key, nonce or output of the wrong size instead of reading or writing past it', () => {
    const plaintext = randomBytes(64);
    expect(() => impl.sealInto(key.subarray(1), nonce, aad, plaintext, Buffer.alloc(80))).toThrow();
    expect(() => impl.sealInto(key, nonce, aad, plaintext, Buffer.alloc(79))).toThrow();
    if (impl.native) expect(() => impl.sealInto(key, nonce.subarray(1), aad, plaintext, Buffer.alloc(80))).toThrow(/nonce must be 12 bytes/);
  });
});

describe('the self-test that decides whether the native implementation may be used', () => {
  it('passes node:crypto against itself', () => {
    expect(disagreement(nodeAesGcm)).toBeNull();
  });

  it('catches an implementation that seals different bytes', () => {
    const wrongBytes: AesGcm = { ...nodeAesGcm, sealInto: (k, n, a, p, out) => { nodeAesGcm.sealInto(k, n, a, p, out); out[0]! ^= 1; } };
    expect(disagreement(wrongBytes)).toMatch(/seals different bytes/);
  });

  it('catches an implementation that accepts tampered data', () => {
    const credulous: AesGcm = { ...nodeAesGcm, open: (k, n, a, c, t) => nodeAesGcm.open(k, n, a, c, t) ?? Buffer.alloc(c.length) };
    expect(disagreement(credulous)).toMatch(/accepts a tampered ciphertext/);
  });
});

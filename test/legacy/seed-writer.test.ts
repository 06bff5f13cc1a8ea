/**
 * The test helper must write what the seed wrote, or every other legacy test proves nothing.
 * Checked against the real fixtures' structure and the byte layouts of legacy-format.md.
 * (Sets that the reader never decrypts here use 1 PBKDF2 iteration, for speed.)
 */
import { createDecipheriv, createHash, pbkdf2Sync } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDosError } from '../../src/core/errors.js';
import { assembleSeedSet } from '../../src/legacy/index.js';
import { FIXTURES_DIR, makeTempDir, removeTempDir } from '../helpers/seed-fixtures.js';
import { seedFileId, seedGzip, writeSeedSet } from '../helpers/seed-writer.js';

let tmp: string;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(tmp);
});

async function fixtureManifest(fixture: string): Promise<Record<string, any>> {
  const dir = join(FIXTURES_DIR, fixture, 'chunks');
  const name = (await readdir(dir)).find((n) => n.endsWith('.json'))!;
  return JSON.parse(await readFile(join(dir, name), 'utf8'));
}

/** Decrypts salt‖nonce‖ct‖tag with the given iteration count (what the reader does with 600 000). */
function open(blob: Buffer, key: string, iterations: number): Buffer {
  const derived = pbkdf2Sync(Buffer.from(key, 'utf8'), blob.subarray(0, 16), iterations, 32, 'sha256');
  const decipher = createDecipheriv('aes-256-gcm', derived, blob.subarray(16, 28));
  decipher.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([decipher.update(blob.subarray(28, blob.length - 16)), decipher.final()]);
}

const files = [
  { name: 'empty.txt', data: Buffer.alloc(0) },
  { name: 'ünï.txt', data: Buffer.from('x'.repeat(3000)) },
];

describe('seed writer fidelity', () => {
  it('3.1: manifest keys in the seed order, one 64-byte chunk for an empty file, names {G:04d}-{FILEID}-{CHASH}-{I:04d}.bin', async () => {
    const set = await writeSeedSet({ format: '3.1', dir: tmp, files, sourceFolder: 'S', userKey: 'k', iterations: 1, chunkSize: 1000 });
    const real = await fixtureManifest('legacy-v3.1');
    expect(Object.keys(set.manifest)).toEqual(Object.keys(real));
    const entry = Object.values(set.manifest.files as Record<string, any>)[1];
    expect(Object.keys(entry)).toEqual(Object.keys(Object.values(real.files as Record<string, any>)[0]));
    expect(Object.keys(entry.chunks[0])).toEqual(['name', 'size', 'index']);

    const [empty, ...rest] = set.chunks;
    expect(empty!.size).toBe(64);
    expect(rest).toHaveLength(3); // 3000 plaintext bytes in 1000-byte pieces
    for (const chunk of set.chunks) {
      const bytes = await readFile(chunk.path);
      const chash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
      expect(chunk.name).toBe(`${String(set.chunks.indexOf(chunk) + 1).padStart(4, '0')}-${seedFileId(chunk.file)}-${chash}-${String(chunk.index).padStart(4, '0')}.bin`);
    }
    const text = await readFile(set.manifestPath, 'utf8');
    expect(text).toContain('"original_name": "\\u00fcn\\u00ef.txt"'); // ensure_ascii
    expect(text).toContain('\n    "version": "3.1",\n'); // indent=4
  });

  it('3.1: each chunk is salt‖nonce‖GCM(gzip-9 of one plaintext piece)‖tag, gzip header as Python wrote it', async () => {
    const now = new Date(Date.UTC(2026, 0, 17, 12, 0, 0));
    const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
    const set = await writeSeedSet({ format: '3.1', dir: tmp, files: [{ name: 'd.bin', data }], sourceFolder: 'S', userKey: 'k', iterations: 1, chunkSize: 1000, now });
    expect(set.chunks.map((c) => c.index)).toEqual([0, 1, 2]);
    const pieces = await Promise.all(set.chunks.map(async (c) => open(await readFile(c.path), 'k', 1)));
    for (const gz of pieces) {
      expect([...gz.subarray(0, 4)]).toEqual([0x1f, 0x8b, 0x08, 0x00]);
      expect(gz.readUInt32LE(4)).toBe(now.getTime() / 1000);
      expect([gz[8], gz[9]]).toEqual([0x02, 0xff]);
    }
    expect(Buffer.concat(pieces.map((gz) => gunzipSync(gz)))).toEqual(data);
  });

  it('3.0: keys as the real 3.0 manifest (no chunking, no encryption_scope); one blob sliced; empty file = one 64-byte blob', async () => {
    const set = await writeSeedSet({ format: '3.0', dir: tmp, files, sourceFolder: 'S', userKey: 'k', iterations: 1, chunkSize: 40 });
    expect(Object.keys(set.manifest)).toEqual(Object.keys(await fixtureManifest('legacy-v3.0')));
    const emptyChunks = set.chunks.filter((c) => c.file === 'empty.txt');
    expect(emptyChunks.map((c) => c.size)).toEqual([40, 24]);
    const blob = Buffer.concat(await Promise.all(set.chunks.filter((c) => c.file === 'ünï.txt').map((c) => readFile(c.path))));
    expect(gunzipSync(open(blob, 'k', 1)).toString()).toBe('x'.repeat(3000));
  });

  it('2.0 / 2.1: string chunk lists, total_size, 2.0 without source_folder, a 0-byte file has no chunk', async () => {
    const v20 = await writeSeedSet({ format: '2.0', dir: join(tmp, 'a'), files, chunkSize: 1000 });
    const v21 = await writeSeedSet({ format: '2.1', dir: join(tmp, 'b'), files, sourceFolder: 'S', chunkSize: 1000 });
    expect(Object.keys(v20.manifest)).toEqual(['version', 'files']);
    expect(Object.keys(v21.manifest)).toEqual(['version', 'source_folder', 'files']);
    const entry = (v21.manifest.files as Record<string, any>)[seedFileId('ünï.txt')];
    expect(entry).toEqual({ original_name: 'ünï.txt', total_size: 3000, chunks: v21.chunks.map((c) => c.name) });
    expect(v21.chunks.map((c) => c.name)).toEqual(v21.chunks.map((_chunk, i) => expect.stringMatching(new RegExp(`^${i + 1}-data_${seedFileId('ünï.txt')}_[0-9a-f]{16}_000${i}\\.bin$`))));
  });

  it('writes space_saved_percent as a Python float (0.0 for an all-empty run)', async () => {
    const set = await writeSeedSet({ format: '3.1', dir: tmp, files: [files[0]!], sourceFolder: 'S', userKey: 'k', iterations: 1 });
    expect(await readFile(set.manifestPath, 'utf8')).toContain('"space_saved_percent": 0.0\n');
    expect(seedGzip(Buffer.alloc(0))).toHaveLength(20);
  });
});

describe('the reader does not follow the writer’s iteration count', () => {
  it('reads a 1-iteration set as a wrong key: the seed only ever used 600 000', async () => {
    await writeSeedSet({ format: '3.1', dir: join(tmp, 'in'), files: [files[1]!], sourceFolder: 'S', userKey: 'k', iterations: 1 });
    const error = await assembleSeedSet(join(tmp, 'in'), join(tmp, 'out'), { userKey: 'k' }).catch((e: unknown) => e);
    expect(isDosError(error, 'CORRUPT')).toBe(true);
    expect((error as Error).message).toMatch(/wrong USER_KEY/);
  });
});

/**
 * Synthetic 3.1 and 3.0 sets from the seed writer, for shapes the fixtures lack: many chunks per
 * file, 3.0 blobs whose header or tag straddles a slice boundary, encrypted multi-manifest
 * folders. The reader always runs 600 000 PBKDF2 iterations, so these sets are kept small.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assembleSeedSet } from '../../src/legacy/index.js';
import { listFiles, removeTempDir, seedWorkspace, sha256 } from '../helpers/seed-fixtures.js';
import { noise } from '../helpers/trees.js';
import { seedGzip, writeSeedSet } from '../helpers/seed-writer.js';

const KEY = 'päss wörd 🔑';

let tmp: string;
let chunkDir: string;
let outBase: string;
beforeEach(async () => {
  ({ tmp, chunkDir, outBase } = await seedWorkspace());
});
afterEach(async () => {
  await removeTempDir(tmp);
});


describe('3.1 per-chunk sets', () => {
  it('restores a file spanning several chunks, an empty file, and a non-ASCII name (UTF-8 key)', async () => {
    const files = [
      { name: 'clip.mov', data: noise(2 * 8192 + 100, 1) }, // three pieces of 8 KiB
      { name: 'empty', data: Buffer.alloc(0) },
      { name: 'naïve café.txt', data: Buffer.from('bonjour '.repeat(300)) },
    ];
    const set = await writeSeedSet({ format: '3.1', dir: chunkDir, files, sourceFolder: 'Vacances', userKey: KEY, chunkSize: 8192 });
    expect(set.chunks.map((c) => c.file)).toEqual(['clip.mov', 'clip.mov', 'clip.mov', 'empty', 'naïve café.txt']);

    const report = await assembleSeedSet(chunkDir, outBase, { userKey: KEY });
    expect(report.manifests[0]!.mode).toBe('per-chunk');
    for (const file of files) {
      expect(sha256(await readFile(join(outBase, 'Vacances', file.name))), file.name).toBe(sha256(file.data));
    }
  });
});

describe('3.0 file-scope sets', () => {
  it('streams one GCM message across slices, even when salt/nonce or the tag straddle slice boundaries', async () => {
    // Run 1: 20-byte slices, so the 28-byte salt‖nonce header spans two slices.
    const small = { name: 'small.bin', data: noise(100, 2) };
    await writeSeedSet({ format: '3.0', dir: chunkDir, files: [small], sourceFolder: 'Header Split', userKey: KEY, chunkSize: 20 });
    // Run 2: slices sized so that the last one holds only 5 bytes: the 16-byte tag spans two slices.
    const big = { name: 'big.bin', data: noise(150_000, 3) };
    const blobLength = seedGzip(big.data).length + 44;
    const set = await writeSeedSet({ format: '3.0', dir: chunkDir, files: [big], sourceFolder: 'Tag Split', userKey: KEY, chunkSize: blobLength - 5 });
    expect(set.chunks.map((c) => c.size)).toEqual([blobLength - 5, 5]);
    expect(set.manifest).not.toHaveProperty('encryption_scope');

    const report = await assembleSeedSet(chunkDir, outBase, { userKey: KEY });
    expect(report.manifests.map((m) => m.mode)).toEqual(['file-scope', 'file-scope']);
    expect(sha256(await readFile(join(outBase, 'Header Split', 'small.bin')))).toBe(sha256(small.data));
    expect(sha256(await readFile(join(outBase, 'Tag Split', 'big.bin')))).toBe(sha256(big.data));
    expect(await listFiles(outBase)).toEqual(['Header Split/small.bin', 'Tag Split/big.bin']);
  });
});

/**
 * Unencrypted generations (2.0, 2.1, the pre-repo manifest.json) and the folder-level rules:
 * several manifests, output folder naming, discovery. Built by the seed writer, no KDF involved.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDosError } from '../../src/core/errors.js';
import { assembleSeedSet, isSeedManifestName } from '../../src/legacy/index.js';
import { listFiles, removeTempDir, seedWorkspace, sha256 } from '../helpers/seed-fixtures.js';
import { noise } from '../helpers/trees.js';
import { editSeedManifest, seedFileId, writeSeedManifestJson, writeSeedSet } from '../helpers/seed-writer.js';

const SLICE = 64 * 1024;

let tmp: string;
let chunkDir: string;
let outBase: string;
beforeEach(async () => {
  ({ tmp, chunkDir, outBase } = await seedWorkspace('[Archive] #170126-07', 'Downloads'));
});
afterEach(async () => {
  await removeTempDir(tmp);
});


/** A file that is itself a valid gzip stream: the seed's "try gunzip" would have decompressed it. */
const alreadyGzipped = gzipSync(Buffer.from('this text is inside an original .gz file\n'.repeat(50)));

const sources = [
  { name: 'empty.txt', data: Buffer.alloc(0) },
  { name: 'video.mov', data: noise(3 * SLICE + 123, 7) }, // four slices, the last one short
  { name: 'logs.gz', data: alreadyGzipped },
  { name: 'exact.bin', data: noise(2 * SLICE, 9) }, // exactly two slices
];

async function expectRestored(folder: string, files: Array<{ name: string; data: Buffer }>) {
  for (const file of files) {
    const restored = await readFile(join(folder, file.name));
    expect(sha256(restored), file.name).toBe(sha256(file.data));
  }
}

describe.each(['2.0', '2.1'] as const)('manifest version %s (plain slices)', (format) => {
  it('writes a 0-byte file as zero chunks and restores everything byte-exact, .gz files not decompressed', async () => {
    const set = await writeSeedSet({ format, dir: chunkDir, files: sources, sourceFolder: 'My Stuff', chunkSize: SLICE });
    const files = set.manifest.files as Record<string, { chunks: string[]; total_size: number }>;
    expect(files[seedFileId('empty.txt')]!.chunks).toEqual([]);
    expect(files[seedFileId('video.mov')]!.chunks).toHaveLength(4);
    expect(set.chunks.map((c) => c.name)).toEqual(
      set.chunks.map((c, i) => expect.stringMatching(new RegExp(`^${i + 1}-data_[0-9a-f]{12}_[0-9a-f]{16}_${String(c.index).padStart(4, '0')}\\.bin$`))),
    );

    const report = await assembleSeedSet(chunkDir, outBase);
    // 2.0 had no source_folder, so a single manifest restores straight into the base.
    const folder = format === '2.1' ? join(outBase, 'My Stuff') : outBase;
    await expectRestored(folder, sources);
    expect(await readFile(join(folder, 'logs.gz'))).toEqual(alreadyGzipped);
    expect(report.manifests[0]).toMatchObject({ version: format, mode: 'plain', outputDir: folder, files: 4 });
    expect(report.files.map((f) => f.path).sort()).toEqual(
      sources.map((s) => (format === '2.1' ? `My Stuff/${s.name}` : s.name)).sort(),
    );
  });
});

describe('legacy manifest.json (pre-repo, schema assumed 2.0)', () => {
  it('is discovered by name and restored as plain slices', async () => {
    const set = await writeSeedSet({ format: '2.0', dir: chunkDir, files: sources.slice(1, 3), chunkSize: SLICE });
    await writeFile(join(chunkDir, 'manifest.json'), await readFile(set.manifestPath));
    await rm(set.manifestPath);
    const report = await assembleSeedSet(chunkDir, outBase);
    expect(report.manifests.map((m) => m.name)).toEqual(['manifest.json']);
    await expectRestored(outBase, sources.slice(1, 3));
  });
});

describe('unencrypted data that the manifest explicitly declares gzip-compressed', () => {
  it('is gunzipped (only then): one gzip member per chunk joins into a valid stream', async () => {
    const data = noise(5000, 3);
    await mkdir(chunkDir, { recursive: true });
    await writeFile(join(chunkDir, 'a.bin'), gzipSync(data.subarray(0, 2000)));
    await writeFile(join(chunkDir, 'b.bin'), gzipSync(data.subarray(2000)));
    await writeSeedManifestJson(join(chunkDir, '2-manifest_120000_010126.json'), {
      version: '3.1',
      compression: 'gzip-9',
      source_folder: 'zipped',
      files: { x: { original_name: 'data.bin', original_size: 5000, chunks: [{ name: 'b.bin', index: 1 }, { name: 'a.bin', index: 0 }] } },
    });
    const report = await assembleSeedSet(chunkDir, outBase);
    expect(report.manifests[0]!.mode).toBe('gzip');
    expect(await readFile(join(outBase, 'zipped', 'data.bin'))).toEqual(data);
  });
});

describe('several manifests in one folder (two slicing runs, one upload)', () => {
  it('restores each into OUT/<source_folder>', async () => {
    const first = [{ name: 'a.txt', data: Buffer.from('first run') }];
    const second = [{ name: 'a.txt', data: Buffer.from('second run, other folder') }];
    await writeSeedSet({ format: '2.1', dir: chunkDir, files: first, sourceFolder: 'Run One', chunkSize: SLICE });
    await writeSeedSet({ format: '2.1', dir: chunkDir, files: second, sourceFolder: 'Run Two', chunkSize: SLICE });
    const report = await assembleSeedSet(chunkDir, outBase);
    expect(report.manifests).toHaveLength(2);
    expect(report.outputDirs.sort()).toEqual([join(outBase, 'Run One'), join(outBase, 'Run Two')]);
    await expectRestored(join(outBase, 'Run One'), first);
    await expectRestored(join(outBase, 'Run Two'), second);
  });

  it('restores manifests without source_folder into OUT/restored_<manifest name>', async () => {
    const now = new Date(2026, 0, 17, 14, 30, 5);
    const one = await writeSeedSet({ format: '2.0', dir: chunkDir, files: [{ name: 'x.txt', data: Buffer.from('x') }], chunkSize: SLICE, now });
    const two = await writeSeedSet({ format: '2.0', dir: chunkDir, files: [{ name: 'y.txt', data: Buffer.from('y') }], chunkSize: SLICE, now });
    // Same second, same chunk count: the seed's `_1` suffix keeps both manifests.
    expect(one.manifestName).toBe('1-manifest_143005_170126.json');
    expect(two.manifestName).toBe('1-manifest_143005_170126_1.json');
    await assembleSeedSet(chunkDir, outBase);
    expect(await listFiles(outBase)).toEqual([
      'restored_1-manifest_143005_170126/x.txt',
      'restored_1-manifest_143005_170126_1/y.txt',
    ]);
  });

  it('lets two manifests share a folder when their names differ', async () => {
    await writeSeedSet({ format: '2.1', dir: chunkDir, files: [{ name: 'a.txt', data: Buffer.from('a') }], sourceFolder: 'Same', chunkSize: SLICE });
    await writeSeedSet({ format: '2.1', dir: chunkDir, files: [{ name: 'b.txt', data: Buffer.from('b') }], sourceFolder: 'Same', chunkSize: SLICE });
    await assembleSeedSet(chunkDir, outBase);
    expect(await listFiles(outBase)).toEqual(['Same/a.txt', 'Same/b.txt']);
  });

  it('refuses, before writing anything, two manifests that would write the same target path', async () => {
    await writeSeedSet({ format: '2.1', dir: chunkDir, files: [{ name: 'a.txt', data: Buffer.from('old') }], sourceFolder: 'Same', chunkSize: SLICE });
    await writeSeedSet({ format: '2.1', dir: chunkDir, files: [{ name: 'a.txt', data: Buffer.from('new') }, { name: 'b.txt', data: Buffer.from('b') }], sourceFolder: 'Same', chunkSize: SLICE });
    const error = await assembleSeedSet(chunkDir, outBase).catch((e: unknown) => e);
    expect(isDosError(error, 'BAD_INPUT')).toBe(true);
    expect((error as Error).message).toContain('Same/a.txt');
    expect(await listFiles(tmp).then((files) => files.filter((f) => f.startsWith('Downloads')))).toEqual([]);
  });
});

describe('discovery', () => {
  it('ignores macOS AppleDouble ._*manifest*.json and .DS_Store, and nested folders', async () => {
    const set = await writeSeedSet({ format: '2.1', dir: chunkDir, files: [{ name: 'a.txt', data: Buffer.from('a') }], sourceFolder: 'F', chunkSize: SLICE });
    await writeFile(join(chunkDir, `._${set.manifestName}`), Buffer.from([0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00, 0x4d, 0x61, 0x63]));
    await writeFile(join(chunkDir, '.DS_Store'), Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]));
    await mkdir(join(chunkDir, 'nested'));
    await writeFile(join(chunkDir, 'nested', 'other-manifest.json'), '{ broken');
    const report = await assembleSeedSet(chunkDir, outBase);
    expect(report.manifests.map((m) => m.name)).toEqual([set.manifestName]);
    expect(await listFiles(outBase)).toEqual(['F/a.txt']);
  });

  it('matches the seed rule case-insensitively: name ends with .json and contains "manifest"', () => {
    expect(isSeedManifestName('3-MANIFEST_010203_040526.JSON')).toBe(true);
    expect(isSeedManifestName('manifest.json')).toBe(true);
    expect(isSeedManifestName('notes.json')).toBe(false);
    expect(isSeedManifestName('manifest.json.bak')).toBe(false);
    expect(isSeedManifestName('._3-manifest_010203_040526.json')).toBe(false);
  });

  it('skips manifest entries named .DS_Store like the seed did, and says so in the report', async () => {
    const set = await writeSeedSet({ format: '2.1', dir: chunkDir, files: [{ name: 'a.txt', data: Buffer.from('a') }], sourceFolder: 'F', chunkSize: SLICE });
    await editSeedManifest(set.manifestPath, (m) => {
      m.files.ds = { original_name: '.DS_Store', total_size: 1, chunks: [set.chunks[0]!.name] };
    });
    const report = await assembleSeedSet(chunkDir, outBase);
    expect(report.manifests[0]!.skipped).toEqual(['.DS_Store']);
    expect(await listFiles(outBase)).toEqual(['F/a.txt']);
  });
});

describe('deleteInput', () => {
  it('deletes exactly the restored chunks and manifests; unrelated files (and so the folder) stay', async () => {
    await writeSeedSet({ format: '2.1', dir: chunkDir, files: sources, sourceFolder: 'F', chunkSize: SLICE });
    await writeFile(join(chunkDir, 'unrelated.bin'), 'not referenced by any manifest');
    const report = await assembleSeedSet(chunkDir, outBase, { deleteInput: true });
    expect(report.inputDeleted).toBe(true);
    expect(await listFiles(chunkDir)).toEqual(['unrelated.bin']);
  });

  it('removes the chunk folder when that leaves it empty', async () => {
    await writeSeedSet({ format: '2.1', dir: chunkDir, files: sources, sourceFolder: 'F', chunkSize: SLICE });
    await assembleSeedSet(chunkDir, outBase, { deleteInput: true });
    await expect(readFile(join(chunkDir, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await listFiles(tmp)).every((f) => f.startsWith('Downloads/'))).toBe(true);
  });

  it('is false by default: unlike the seed, input is never deleted unless asked', async () => {
    const set = await writeSeedSet({ format: '2.1', dir: chunkDir, files: sources, sourceFolder: 'F', chunkSize: SLICE });
    await assembleSeedSet(chunkDir, outBase);
    expect(await listFiles(chunkDir)).toEqual([...set.chunks.map((c) => c.name), set.manifestName].sort());
  });
});

/**
 * Everything that can go wrong with a seed chunk folder, each refused with a stable error code.
 * The invariant checked after every failure: no file sits under its final name with wrong bytes,
 * no temp file remains, and refusals found while planning write nothing at all.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isDosError, type DosError, type ErrorCode } from '../../src/core/errors.js';
import { assembleSeedSet, type SeedAssembleOptions } from '../../src/legacy/index.js';
import {
  copyFixtureChunks,
  listFiles,
  readFixtureExpectation,
  removeTempDir,
  seedWorkspace,
  sha256File,
  snapshotFiles,
  type SeedFixture,
} from '../helpers/seed-fixtures.js';
import { editSeedManifest, writeSeedManifestJson, writeSeedSet } from '../helpers/seed-writer.js';
import { gzipSync } from 'node:zlib';

let tmp: string;
let chunkDir: string;
let outBase: string;
beforeEach(async () => {
  ({ tmp, chunkDir, outBase } = await seedWorkspace());
});
afterEach(async () => {
  vi.restoreAllMocks();
  await removeTempDir(tmp);
});

async function fixture(name: SeedFixture) {
  await copyFixtureChunks(name, chunkDir);
  const expected = await readFixtureExpectation(name);
  const manifestName = (await listFiles(chunkDir)).find((f) => f.endsWith('.json'))!;
  return { expected, manifestPath: join(chunkDir, manifestName), manifestName };
}

async function plainSet(files = [{ name: 'a.txt', data: Buffer.from('alpha') }, { name: 'b.txt', data: Buffer.from('bravo') }]) {
  return writeSeedSet({ format: '2.1', dir: chunkDir, files, sourceFolder: 'Folder', chunkSize: 4 });
}

/** Runs a restore that must fail with `code`; returns the error. */
async function failing(code: ErrorCode, options: SeedAssembleOptions = {}): Promise<DosError> {
  const error = await assembleSeedSet(chunkDir, outBase, options).then(
    () => new Error('expected the restore to fail'),
    (e: unknown) => e,
  );
  if (!isDosError(error, code)) throw error;
  return error;
}

async function expectNoTempFiles(): Promise<void> {
  expect((await listFiles(tmp)).filter((f) => f.includes('.dos-tmp-'))).toEqual([]);
}

/** The whole temp tree (input and output) is exactly as before: nothing was written anywhere. */
async function expectNothingWritten(before: Record<string, string>): Promise<void> {
  expect(await snapshotFiles(tmp)).toEqual(before);
  expect(existsSync(outBase)).toBe(false);
}

async function flipByte(path: string, position: 'middle' | 'last'): Promise<void> {
  const bytes = await readFile(path);
  const at = position === 'last' ? bytes.length - 1 : Math.floor(bytes.length / 2);
  bytes[at]! ^= 0x01;
  await writeFile(path, bytes);
}

describe('keys', () => {
  it('wrong key: the first chunk fails GCM → CORRUPT "wrong USER_KEY or corrupted chunk … of …", nothing written', async () => {
    const { manifestName } = await fixture('legacy-v3.1');
    const before = await snapshotFiles(tmp);
    const error = await failing('CORRUPT', { userKey: 'not the key' });
    expect(error.message).toMatch(/^wrong USER_KEY or corrupted chunk 0001-78907f14915c-\S+ of empty\.txt/);
    expect(error.details).toMatchObject({ manifest: manifestName, file: 'empty.txt', chunk: expect.stringMatching(/^0001-/), keyVerified: false });
    await expectNothingWritten(before);
  });

  it.each([undefined, ''])('missing key (%j) on an encrypted set → KEY_REQUIRED before anything is written', async (userKey) => {
    await fixture('legacy-v3.0');
    const before = await snapshotFiles(tmp);
    const error = await failing('KEY_REQUIRED', { userKey });
    expect(error.message).toContain('3-manifest_233037_271126.json');
    await expectNothingWritten(before);
  });

  it('needs no key for unencrypted sets', async () => {
    await plainSet();
    await expect(assembleSeedSet(chunkDir, outBase)).resolves.toBeTruthy();
  });
});

describe('damaged chunks', () => {
  it('a flipped byte in a 3.1 chunk: earlier files stay correct, the damaged file leaves no trace', async () => {
    const { expected } = await fixture('legacy-v3.1');
    // 0004 is the second of three chunks of notes-big.txt: ~10 MB were already written to the temp file.
    const damaged = (await listFiles(chunkDir)).find((f) => f.startsWith('0004-'))!;
    await flipByte(join(chunkDir, damaged), 'middle');
    const error = await failing('CORRUPT', { userKey: expected.user_key });
    // Earlier chunks authenticated, so the key is known to be right.
    expect(error.message).toMatch(/^corrupted chunk 0004-\S+ of notes-big\.txt/);
    expect(error.details).toMatchObject({ file: 'notes-big.txt', chunk: damaged, keyVerified: true });
    expect(error.details.restoredBeforeFailure).toEqual(['Holiday Photos/empty.txt', 'Holiday Photos/hello.txt']);
    expect(await listFiles(outBase)).toEqual(['Holiday Photos/empty.txt', 'Holiday Photos/hello.txt']);
    for (const name of ['empty.txt', 'hello.txt']) {
      expect(await sha256File(join(outBase, 'Holiday Photos', name))).toBe(expected.files[name]!.sha256);
    }
    await expectNoTempFiles();
  });

  it('a flipped byte in a 3.0 slice: streamed plaintext is discarded, the input kept even with deleteInput', async () => {
    const { expected } = await fixture('legacy-v3.0');
    const blobSlice = (await listFiles(chunkDir)).find((f) => f.startsWith('0003-'))!; // blob.bin, the third file
    await flipByte(join(chunkDir, blobSlice), 'middle');
    const input = await snapshotFiles(chunkDir);
    const error = await failing('CORRUPT', { userKey: expected.user_key, deleteInput: true });
    expect(error.message).toMatch(/corrupted chunk 0003-\S+ of blob\.bin/);
    expect(await listFiles(outBase)).toEqual(['Old Docs 3.0/report.txt', 'Old Docs 3.0/tiny.txt']);
    await expectNoTempFiles();
    expect(await snapshotFiles(chunkDir)).toEqual(input);
  });

  it('a flipped tag byte in a 3.0 slice is caught at final(), after all plaintext was produced', async () => {
    const { expected } = await fixture('legacy-v3.0');
    const first = (await listFiles(chunkDir)).find((f) => f.startsWith('0001-'))!; // tiny.txt, single slice
    await flipByte(join(chunkDir, first), 'last');
    const error = await failing('CORRUPT', { userKey: expected.user_key });
    expect(error.message).toMatch(/^wrong USER_KEY or corrupted chunk 0001-\S+ of tiny\.txt/);
    expect(await listFiles(outBase)).toEqual([]);
    await expectNoTempFiles();
  });

  it('a truncated chunk whose manifest records its size is refused before anything is written', async () => {
    const { expected } = await fixture('legacy-v3.1');
    const last = (await listFiles(chunkDir)).find((f) => f.startsWith('0007-'))!;
    await truncate(join(chunkDir, last), 1000);
    const before = await snapshotFiles(tmp);
    const error = await failing('CORRUPT', { userKey: expected.user_key });
    expect(error.message).toContain(`chunk ${last} of random.bin is 1000 bytes but the manifest recorded 307358`);
    await expectNothingWritten(before);
  });

  it('a truncated chunk with a matching (edited) size fails authentication', async () => {
    const { expected, manifestPath } = await fixture('legacy-v3.1');
    const hello = (await listFiles(chunkDir)).find((f) => f.startsWith('0002-'))!;
    await truncate(join(chunkDir, hello), 80);
    await editSeedManifest(manifestPath, (m) => {
      m.files['734cad14909b'].chunks[0].size = 80;
    });
    const error = await failing('CORRUPT', { userKey: expected.user_key });
    expect(error.details).toMatchObject({ file: 'hello.txt', chunk: hello });
    expect(await listFiles(outBase)).toEqual(['Holiday Photos/empty.txt']);
    await expectNoTempFiles();
  });

  it('a chunk too short to hold salt, nonce and tag → CORRUPT while planning', async () => {
    const { expected, manifestPath } = await fixture('legacy-v3.1');
    await editSeedManifest(manifestPath, (m) => {
      m.files['78907f14915c'].chunks[0].size = 30;
    });
    await truncate(join(chunkDir, (await listFiles(chunkDir)).find((f) => f.startsWith('0001-'))!), 30);
    const error = await failing('CORRUPT', { userKey: expected.user_key });
    expect(error.message).toContain('cannot hold salt, nonce and tag');
    expect(existsSync(outBase)).toBe(false);
  });

  it('raw slices that do not add up to total_size (2.x) → CORRUPT while planning', async () => {
    const set = await plainSet();
    await truncate(set.chunks[1]!.path, 0);
    const before = await snapshotFiles(tmp);
    await failing('CORRUPT');
    await expectNothingWritten(before);
  });

  it('a decoded size that differs from original_size is an error, not the seed’s warning', async () => {
    await mkdir(chunkDir, { recursive: true });
    await writeFile(join(chunkDir, 'c.bin'), gzipSync(Buffer.from('twelve bytes')));
    await writeSeedManifestJson(join(chunkDir, '1-manifest_000000_010126.json'), {
      compression: 'gzip-9',
      files: { f: { original_name: 'f.txt', original_size: 13, chunks: ['c.bin'] } },
    });
    const error = await failing('CORRUPT');
    expect(error.message).toContain('decoded to 12 bytes but original_size says 13');
    expect(await listFiles(tmp)).toEqual(['chunks/1-manifest_000000_010126.json', 'chunks/c.bin']);
  });

  it('a missing chunk → MISSING, naming it, before anything is written', async () => {
    const { expected } = await fixture('legacy-v3.1');
    const gone = (await listFiles(chunkDir)).find((f) => f.startsWith('0005-'))!;
    await rm(join(chunkDir, gone));
    const before = await snapshotFiles(tmp);
    const error = await failing('MISSING', { userKey: expected.user_key });
    expect(error.details).toMatchObject({ chunk: gone, file: 'notes-big.txt' });
    await expectNothingWritten(before);
  });
});

describe('hostile names from the manifest', () => {
  const hostileFileNames = ['../x', '/etc/x', 'a\u0000b', 'sub/x', '..', '.', 'a\\b'];
  it.each(hostileFileNames)('original_name %j → UNSAFE_PATH, nothing written inside or outside the output', async (name) => {
    const set = await plainSet();
    await editSeedManifest(set.manifestPath, (m) => {
      (Object.values(m.files)[1] as { original_name: string }).original_name = name;
    });
    const before = await snapshotFiles(tmp);
    const error = await failing('UNSAFE_PATH');
    expect(error.message).toContain(set.manifestName);
    await expectNothingWritten(before);
    expect(existsSync('/etc/x')).toBe(false);
  });

  it.each(['../escape', '/tmp/dos-legacy-absolute', 'a/../../b', 'x\u0000y', 'a\\b', './a'])('source_folder %j → UNSAFE_PATH, nothing written', async (folder) => {
    const set = await plainSet();
    await editSeedManifest(set.manifestPath, (m) => {
      m.source_folder = folder;
    });
    const before = await snapshotFiles(tmp);
    await failing('UNSAFE_PATH');
    await expectNothingWritten(before);
    expect(existsSync('/tmp/dos-legacy-absolute')).toBe(false);
  });

  it.each(['../../etc/passwd', '/etc/passwd', 'sub/../../../etc/passwd', ''])('chunk name %j → refused (an unencrypted manifest could read any file)', async (chunk) => {
    const set = await plainSet();
    await editSeedManifest(set.manifestPath, (m) => {
      (Object.values(m.files)[0] as { chunks: string[] }).chunks = [chunk];
    });
    const before = await snapshotFiles(tmp);
    await failing(chunk === '' ? 'BAD_INPUT' : 'UNSAFE_PATH');
    await expectNothingWritten(before);
  });

  it('a hostile manifest refuses the whole folder, including a good manifest next to it', async () => {
    await writeSeedSet({ format: '2.1', dir: chunkDir, files: [{ name: 'good.txt', data: Buffer.from('good') }], sourceFolder: 'Good', chunkSize: 4 });
    const bad = await writeSeedSet({ format: '2.1', dir: chunkDir, files: [{ name: 'bad.txt', data: Buffer.from('bad') }], sourceFolder: 'Bad', chunkSize: 4 });
    await editSeedManifest(bad.manifestPath, (m) => {
      m.source_folder = '../../outside';
    });
    const before = await snapshotFiles(tmp);
    await failing('UNSAFE_PATH');
    await expectNothingWritten(before);
  });

  it('a name longer than file systems allow → UNSAFE_PATH while planning, not a crash half-way', async () => {
    const set = await plainSet();
    await editSeedManifest(set.manifestPath, (m) => {
      (Object.values(m.files)[1] as { original_name: string }).original_name = 'n'.repeat(256);
    });
    const before = await snapshotFiles(tmp);
    const error = await failing('UNSAFE_PATH');
    expect(error.message).toMatch(/longer than 255 bytes/);
    await expectNothingWritten(before);
  });

  it('one manifest restoring a file where another needs a folder → BAD_INPUT while planning', async () => {
    await writeSeedSet({ format: '2.1', dir: chunkDir, sourceFolder: 'a', now: new Date('2026-01-01T10:00:00'), files: [{ name: 'b', data: Buffer.from('file b') }] });
    await writeSeedSet({ format: '2.1', dir: chunkDir, sourceFolder: 'a/b', now: new Date('2026-01-01T11:00:00'), files: [{ name: 'c', data: Buffer.from('file c') }] });
    const before = await snapshotFiles(tmp);
    const error = await failing('BAD_INPUT');
    expect(error.message).toMatch(/restores a file to a\/b, which .* needs as a folder/);
    await expectNothingWritten(before);
  });

  it('a chunk that is a symlink is not followed', async () => {
    const set = await plainSet([{ name: 'a.txt', data: Buffer.from('abc') }]);
    await rm(set.chunks[0]!.path);
    await symlink('/etc/hostname', set.chunks[0]!.path);
    await failing('UNSAFE_PATH');
    expect(existsSync(outBase)).toBe(false);
  });
});

describe('existing output', () => {
  it('an existing destination file without force → EXISTS before anything is written; with force it is replaced', async () => {
    await plainSet();
    await mkdir(join(outBase, 'Folder'), { recursive: true });
    await writeFile(join(outBase, 'Folder', 'b.txt'), 'keep me');
    const error = await failing('EXISTS');
    expect(error.details.path).toBe(join(outBase, 'Folder', 'b.txt'));
    expect(await listFiles(outBase)).toEqual(['Folder/b.txt']);
    expect(await readFile(join(outBase, 'Folder', 'b.txt'), 'utf8')).toBe('keep me');

    await assembleSeedSet(chunkDir, outBase, { force: true });
    expect(await readFile(join(outBase, 'Folder', 'b.txt'), 'utf8')).toBe('bravo');
    expect(await readFile(join(outBase, 'Folder', 'a.txt'), 'utf8')).toBe('alpha');
  });

  it.each([['the output folder', 'Folder'], ['a folder above it', 'Deep']])('a symlink in the output (%s) is not written through, even with force', async (_what, linked) => {
    await writeSeedSet({ format: '2.1', dir: chunkDir, files: [{ name: 'a.txt', data: Buffer.from('alpha') }], sourceFolder: linked === 'Deep' ? 'Deep/Folder' : 'Folder', chunkSize: 4 });
    const outside = join(tmp, 'outside');
    await mkdir(join(outside, 'Folder'), { recursive: true });
    await writeFile(join(outside, 'a.txt'), 'not yours');
    await mkdir(outBase, { recursive: true });
    await symlink(outside, join(outBase, linked));
    const before = await snapshotFiles(outside);
    for (const force of [false, true]) {
      const error = await failing('UNSAFE_PATH', { force });
      expect(error.message).toMatch(/is a symbolic link; refusing to restore through it/);
    }
    expect(await snapshotFiles(outside)).toEqual(before);
  });

  it('a folder where a file should go → EXISTS even with force', async () => {
    await plainSet();
    await mkdir(join(outBase, 'Folder', 'a.txt'), { recursive: true });
    await failing('EXISTS', { force: true });
    await expectNoTempFiles();
  });

  it('never overwrites the chunks being read, even with force (output base = chunk folder)', async () => {
    const set = await writeSeedSet({ format: '2.0', dir: chunkDir, files: [{ name: 'a.txt', data: Buffer.from('alpha') }], chunkSize: 4 });
    await editSeedManifest(set.manifestPath, (m) => {
      (Object.values(m.files)[0] as { original_name: string }).original_name = set.chunks[0]!.name;
    });
    const before = await snapshotFiles(chunkDir);
    const error = await assembleSeedSet(chunkDir, chunkDir, { force: true }).catch((e: unknown) => e);
    expect(isDosError(error, 'EXISTS')).toBe(true);
    expect(await snapshotFiles(chunkDir)).toEqual(before);
  });
});

describe('malformed manifests → a clear DosError, never a TypeError', () => {
  const cases: Array<[string, unknown, ErrorCode]> = [
    ['a JSON array', [], 'BAD_INPUT'],
    ['no files', { version: '2.1' }, 'BAD_INPUT'],
    ['files as a list', { files: [] }, 'BAD_INPUT'],
    ['an entry that is not an object', { files: { x: 'a.txt' } }, 'BAD_INPUT'],
    ['no original_name', { files: { x: { chunks: [] } } }, 'BAD_INPUT'],
    ['a numeric original_name', { files: { x: { original_name: 5, chunks: [] } } }, 'BAD_INPUT'],
    ['chunks that are not a list', { files: { x: { original_name: 'a', chunks: 'c.bin' } } }, 'BAD_INPUT'],
    ['a mixed chunk list', { files: { x: { original_name: 'a', chunks: ['c.bin', { name: 'd.bin', index: 1 }] } } }, 'BAD_INPUT'],
    ['a chunk object without name', { files: { x: { original_name: 'a', chunks: [{ index: 0 }] } } }, 'BAD_INPUT'],
    ['a negative index', { files: { x: { original_name: 'a', chunks: [{ name: 'c.bin', index: -1 }] } } }, 'BAD_INPUT'],
    ['a string original_size', { files: { x: { original_name: 'a', original_size: '5', chunks: [] } } }, 'BAD_INPUT'],
    ['encrypted: "yes"', { encrypted: 'yes', files: {} }, 'BAD_INPUT'],
    ['an unknown encryption_scope', { encrypted: true, encryption_scope: 'archive', files: {} }, 'UNSUPPORTED'],
    ['an unknown compression', { compression: 'zstd', files: {} }, 'UNSUPPORTED'],
  ];
  it.each(cases)('%s', async (_label, manifest, code) => {
    await mkdir(chunkDir, { recursive: true });
    await writeFile(join(chunkDir, '1-manifest_000000_010126.json'), JSON.stringify(manifest));
    const error = await failing(code, { userKey: 'k' });
    expect(error.details.manifest).toBe('1-manifest_000000_010126.json');
    expect(existsSync(outBase)).toBe(false);
  });

  it('invalid JSON → CORRUPT naming the manifest', async () => {
    await mkdir(chunkDir, { recursive: true });
    await writeFile(join(chunkDir, '1-manifest_000000_010126.json'), '{"version": "3.1", "files": {');
    const error = await failing('CORRUPT');
    expect(error.message).toContain('1-manifest_000000_010126.json is not valid JSON');
  });

  it('no manifest → NOT_FOUND listing the .json files that are there', async () => {
    await mkdir(chunkDir, { recursive: true });
    await writeFile(join(chunkDir, 'notes.json'), '{}');
    await writeFile(join(chunkDir, '._1-manifest_000000_010126.json'), 'junk');
    const error = await failing('NOT_FOUND');
    expect(error.details.otherJsonFiles).toEqual(['._1-manifest_000000_010126.json', 'notes.json']);
  });

  it('a chunk folder that does not exist → NOT_FOUND', async () => {
    await failing('NOT_FOUND');
  });
});

describe('disk errors', () => {
  it('ENOSPC while writing → NO_SPACE, the temp file removed, no final file', async () => {
    await plainSet();
    const handle = await open(join(chunkDir, (await listFiles(chunkDir))[0]!), 'r');
    const fileHandlePrototype = Object.getPrototypeOf(handle) as { write: (...args: unknown[]) => Promise<unknown> };
    await handle.close();
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', errno: -28 });
    vi.spyOn(fileHandlePrototype, 'write').mockRejectedValue(enospc);
    const error = await failing('NO_SPACE');
    expect(error.cause).toBe(enospc);
    expect(await listFiles(outBase).catch(() => [])).toEqual([]);
    await expectNoTempFiles();
  });
});

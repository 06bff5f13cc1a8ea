/**
 * The real seed output in ../shared/fixtures must come back byte for byte. These are the only
 * tests that prove compatibility with what Python actually wrote (gzip, PBKDF2, GCM layout).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assembleSeedSet } from '../../src/legacy/index.js';
import {
  copyFixtureChunks,
  listFiles,
  makeTempDir,
  readFixtureExpectation,
  removeTempDir,
  sha256File,
  snapshotFiles,
  type SeedFixture,
} from '../helpers/seed-fixtures.js';

let tmp: string;
afterEach(async () => {
  if (tmp) await removeTempDir(tmp);
});

async function restoreFixture(fixture: SeedFixture, options: { deleteInput?: boolean } = {}) {
  tmp = await makeTempDir();
  const chunkDir = await copyFixtureChunks(fixture, join(tmp, 'chunks'));
  const expected = await readFixtureExpectation(fixture);
  const before = await snapshotFiles(chunkDir);
  const progress: Array<[number, number]> = [];
  const outBase = join(tmp, 'out');
  const report = await assembleSeedSet(chunkDir, outBase, {
    userKey: expected.user_key,
    deleteInput: options.deleteInput,
    onProgress: (done, total) => progress.push([done, total]),
  });
  return { chunkDir, outBase, expected, before, progress, report };
}

async function expectExactRestore(outBase: string, expected: Awaited<ReturnType<typeof readFixtureExpectation>>) {
  const folder = join(outBase, expected.source_folder);
  const names = Object.keys(expected.files).sort();
  expect(await listFiles(outBase)).toEqual(names.map((name) => `${expected.source_folder}/${name}`).sort());
  for (const name of names) {
    expect(await sha256File(join(folder, name)), name).toBe(expected.files[name]!.sha256);
  }
}

describe.each(['legacy-v3.1', 'legacy-v3.0'] as const)('real seed fixture %s', (fixture) => {
  it('reassembles every file into OUT/<source_folder>/ with the exact sha256, and leaves the input untouched', async () => {
    // Also proves PBKDF2 (600 000 iterations, ~130-250 ms per chunk) runs off the event loop:
    // pbkdf2Sync would stall it for the whole derivation and the timer would barely tick.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const restored = await restoreFixture(fixture).finally(() => clearInterval(timer));
    const { chunkDir, outBase, expected, before, report, progress } = restored;
    expect(ticks).toBeGreaterThan(10);

    await expectExactRestore(outBase, expected);
    expect(await snapshotFiles(chunkDir)).toEqual(before);

    expect(report.outputDirs).toEqual([join(outBase, expected.source_folder)]);
    expect(report.manifests).toHaveLength(1);
    expect(report.manifests[0]!.mode).toBe(fixture === 'legacy-v3.1' ? 'per-chunk' : 'file-scope');
    expect(report.files.map((f) => f.size).reduce((a, b) => a + b, 0)).toBe(
      Object.values(expected.files).reduce((sum, f) => sum + f.size, 0),
    );
    expect(report.inputDeleted).toBe(false);

    // Progress counts input bytes, never goes backwards, and ends at the total.
    let total = 0;
    for (const name of Object.keys(before).filter((n) => n.endsWith('.bin'))) total += (await stat(join(chunkDir, name))).size;
    expect(progress.every(([, t]) => t === total)).toBe(true);
    const dones = progress.map(([done]) => done);
    expect(dones).toEqual([...dones].sort((a, b) => a - b));
    expect(progress.at(-1)![0]).toBe(total);
  });
});

describe('deleteInput on a real fixture', () => {
  it('deletes the chunks and manifest only after everything succeeded', async () => {
    const { chunkDir, outBase, expected, report } = await restoreFixture('legacy-v3.0', { deleteInput: true });
    await expectExactRestore(outBase, expected);
    expect(report.inputDeleted).toBe(true);
    expect(await listFiles(chunkDir)).toEqual([]);
  });
});

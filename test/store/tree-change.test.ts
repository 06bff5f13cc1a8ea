import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { isDosError } from '../../src/core/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { makeTestStore, TEST_KEY } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';

const FRAME = 64 * 1024;

async function archiveWith(files: Record<string, Buffer | string>) {
  const t = await makeTestStore({ frameSize: FRAME });
  const src = tempDir();
  writeTree(src, files);
  const put = await t.store.put([src]);
  const staged = tempDir('dos-staged-');
  const stage = (name: string, content: Buffer | string) => {
    writeFileSync(join(staged, name), content);
    return join(staged, name);
  };
  const restore = async () => {
    const out = join(tempDir(), 'out');
    await t.store.get(put.id, out);
    return snapshot(out);
  };
  return { t, put, src, stage, restore };
}

async function errnoOf(promise: Promise<unknown>): Promise<string | undefined> {
  const err = await promise.then(() => null, (e: unknown) => e);
  return isDosError(err) ? (err.details.errno as string | undefined) ?? err.code : String(err);
}

describe('changing an archive makes a new generation', () => {
  it('adds, overwrites, renames and removes files and folders', async () => {
    const { t, put, stage, restore } = await archiveWith({ 'a.txt': 'a', 'dir/b.txt': 'b', 'dir/sub/c.txt': 'c' });
    const result = await t.store.applyChanges(put.id, [
      { op: 'put-file', path: 'new/n.txt', source: stage('n', 'new file') },
      { op: 'put-file', path: 'a.txt', source: stage('a2', 'a, overwritten') },
      { op: 'rename', from: 'dir', to: 'moved' },
      { op: 'remove', path: 'moved/sub' },
      { op: 'mkdir', path: 'empty' },
      { op: 'set-attr', path: 'moved/b.txt', mode: 0o600, mtimeMs: 1_600_000_000_000 },
    ]);
    expect(result.generation).toBe(2);
    const tree = await restore();
    expect(Object.keys(tree).sort()).toEqual(['a.txt', 'empty', 'moved', 'moved/b.txt', 'new', 'new/n.txt']);
    const entry = t.store.ctx.index.getEntry(put.id, 'moved/b.txt')!;
    expect(entry.mode).toBe(0o600);
    expect(entry.mtimeMs).toBe(1_600_000_000_000);
    expect((await t.store.verify(put.id, true)).ok).toBe(true);
  });

  it('renames and removals upload nothing but the manifest', async () => {
    const { t, put } = await archiveWith({ 'big.bin': noise(20 * FRAME), 'x/y.txt': 'y' });
    const result = await t.store.applyChanges(put.id, [{ op: 'rename', from: 'big.bin', to: 'x/renamed.bin' }, { op: 'remove', path: 'x/y.txt' }]);
    expect(result.attachments).toBe(1);
    expect(result.uploadedBytes).toBeLessThan(4096);
  });

  it('appending to a file uploads only the frames that changed', async () => {
    const original = noise(10 * FRAME, 5);
    const { t, put, stage } = await archiveWith({ 'log.bin': original });
    const result = await t.store.applyChanges(put.id, [{ op: 'put-file', path: 'log.bin', source: stage('log', Buffer.concat([original, noise(100, 6)])) }]);
    expect(result.uploadedBytes).toBeLessThan(2 * FRAME);
  });

  it('survives a new index: sync rebuilds the latest generation from the backend', async () => {
    const { t, put, stage } = await archiveWith({ 'a.txt': 'a' });
    await t.store.applyChanges(put.id, [{ op: 'put-file', path: 'b.txt', source: stage('b', 'b') }, { op: 'rename', from: 'a.txt', to: 'c.txt' }]);
    const fresh = await openStore({ backend: new LocalBackend(t.storeDir), indexPath: join(tempDir(), 'new.db'), userKey: TEST_KEY });
    const out = join(tempDir(), 'out');
    await fresh.get(put.id, out);
    expect(Object.keys(snapshot(out)).sort()).toEqual(['b.txt', 'c.txt']);
    expect(fresh.listArchives()[0]!.generation).toBe(2);
  });

  it('collects the old content once no generation uses it', async () => {
    const { t, put, stage } = await archiveWith({ 'photo.jpg': noise(30 * FRAME, 8) });
    const before = t.store.status().storedBytes;
    await t.store.applyChanges(put.id, [{ op: 'put-file', path: 'photo.jpg', source: stage('p', noise(30 * FRAME, 9)) }]);
    const gc = await t.store.gc();
    expect(gc.freedBytes).toBeGreaterThan(before * 0.9);
  });

  it('refuses impossible changes with the errno a file system would give', async () => {
    const { t, put, stage } = await archiveWith({ 'a.txt': 'a', 'full/x.txt': 'x', 'other/y.txt': 'y' });
    expect(await errnoOf(t.store.applyChanges(put.id, [{ op: 'rename', from: 'missing', to: 'b' }]))).toBe('ENOENT');
    expect(await errnoOf(t.store.applyChanges(put.id, [{ op: 'rename', from: 'other', to: 'full' }]))).toBe('ENOTEMPTY');
    expect(await errnoOf(t.store.applyChanges(put.id, [{ op: 'mkdir', path: 'a.txt' }]))).toBe('EEXIST');
    expect(await errnoOf(t.store.applyChanges(put.id, [{ op: 'put-file', path: 'full', source: stage('f', 'f') }]))).toBe('EISDIR');
    expect(await errnoOf(t.store.applyChanges(put.id, [{ op: 'put-file', path: 'a.txt/z', source: stage('z', 'z') }]))).toBe('ENOTDIR');
    expect(await errnoOf(t.store.applyChanges(put.id, [{ op: 'rename', from: 'full', to: 'full/inside' }]))).toBe('EINVAL');
    expect(await errnoOf(t.store.applyChanges(put.id, [{ op: 'mkdir', path: '../escape' }]))).toBe('UNSAFE_PATH');
    expect(t.store.listArchives()[0]!.generation).toBe(1); // nothing was committed
  });

  it('two writers on one archive both land, in successive generations', async () => {
    const { t, put, stage, restore } = await archiveWith({ 'a.txt': 'a' });
    const second = await t.reopen();
    const [one, two] = await Promise.all([
      t.store.applyChanges(put.id, [{ op: 'put-file', path: 'one.txt', source: stage('1', '1') }]),
      second.applyChanges(put.id, [{ op: 'put-file', path: 'two.txt', source: stage('2', '2') }]),
    ]);
    expect([one.generation, two.generation].sort()).toEqual([2, 3]);
    expect(Object.keys(await restore()).sort()).toEqual(['a.txt', 'one.txt', 'two.txt']);
  });

  it('a new empty archive can be created and filled', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const archive = await t.store.createArchive('Empty to start');
    expect(t.store.listArchives()).toEqual([expect.objectContaining({ id: archive.id, name: 'Empty to start', files: 0, generation: 1 })]);
    const staged = join(tempDir(), 'f');
    writeFileSync(staged, 'hello');
    await t.store.applyChanges(archive.id, [{ op: 'put-file', path: 'hello.txt', source: staged }]);
    const out = join(tempDir(), 'out');
    await t.store.get(archive.id, out);
    expect(Object.keys(snapshot(out))).toEqual(['hello.txt']);
  });
});

import { describe, expect, it } from 'vitest';
import { mkdirSync, statSync, symlinkSync, utimesSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestStore } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { noise, randomText, snapshot, writeTree } from '../helpers/trees.js';

const FRAME = 64 * 1024;

async function roundTrip(files: Record<string, Buffer | string>, options: { frameSize?: number; maxPackBytes?: number } = {}) {
  const t = await makeTestStore({ frameSize: FRAME, ...options });
  const src = tempDir();
  writeTree(src, files);
  const put = await t.store.put([src], { name: 'test' });
  const out = join(tempDir(), 'out');
  await t.store.get(put.id, out);
  expect(snapshot(out)).toEqual(snapshot(src));
  return { t, put, src, out };
}

describe('put then get restores the tree byte for byte', () => {
  it.each([
    ['an empty file', 0],
    ['a one-byte file', 1],
    ['a file one byte short of a frame', FRAME - 1],
    ['a file of exactly one frame', FRAME],
    ['a file one byte over a frame', FRAME + 1],
  ])('%s', async (_label, size) => {
    await roundTrip({ 'f.bin': noise(size) });
  });

  it('spreads a large file over several packs', async () => {
    const { put } = await roundTrip({ 'big.bin': noise(40 * FRAME, 7) }, { maxPackBytes: 8 * FRAME });
    expect(put.attachments).toBeGreaterThanOrEqual(5);
  });

  it('packs many small files into few attachments', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`small/${i}.json`] = JSON.stringify({ i, text: randomText(200) });
    const { put } = await roundTrip(files);
    expect(put.files).toBe(300);
    expect(put.attachments).toBe(1);
  });

  it('keeps deep trees, empty folders and non-ASCII names', async () => {
    const deep = Array.from({ length: 30 }, (_, i) => `d${i}`).join('/');
    const { src, t, put } = await roundTrip({
      [`${deep}/leaf.txt`]: 'deep',
      'Ünïcödé/日本語のファイル名.txt': '你好',
      'emoji 🎉/naïve café.md': randomText(5000),
    });
    mkdirSync(join(src, 'empty'));
    const out = join(tempDir(), 'again');
    const put2 = await t.store.put([src]);
    await t.store.get(put2.id, out);
    expect(snapshot(out)).toEqual(snapshot(src));
    expect(put.id).not.toBe(put2.id);
  });

  it('keeps modes, mtimes and symlinks', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'script.sh': '#!/bin/sh\necho hi\n', 'data.txt': 'x' });
    chmodSync(join(src, 'script.sh'), 0o755);
    utimesSync(join(src, 'data.txt'), 1_600_000_000, 1_600_000_000);
    const sixties = new Date('1960-01-01T00:00:00Z'); // before 1970: Node reads a negative number of seconds as "now"
    writeTree(src, { 'old.txt': 'o' });
    utimesSync(join(src, 'old.txt'), sixties, sixties);
    symlinkSync('data.txt', join(src, 'link'));
    const put = await t.store.put([src]);
    const out = join(tempDir(), 'out');
    await t.store.get(put.id, out);
    expect(snapshot(out)).toEqual(snapshot(src));
    expect(statSync(join(out, 'script.sh')).mode & 0o777).toBe(0o755);
    expect(Math.round(statSync(join(out, 'data.txt')).mtimeMs)).toBe(1_600_000_000_000);
    expect(statSync(join(out, 'old.txt')).mtime.toISOString()).toBe(sixties.toISOString());
  });

  it('restores one file, or one folder, on its own', async () => {
    const { t, put } = await roundTrip({ 'a/b/c.txt': 'hello', 'a/d.txt': 'world', 'top.txt': 'top' });
    const dest = tempDir();
    await t.store.get(`${put.id}/a/b/c.txt`, dest);
    expect(snapshot(dest)).toEqual({ 'c.txt': snapshot(join(dest))['c.txt'] });
    const folder = join(tempDir(), 'folder');
    await t.store.get(`${put.id}/a`, folder);
    expect(Object.keys(snapshot(folder)).sort()).toEqual(['b', 'b/c.txt', 'd.txt']);
  });

  it('puts several paths as entries at the archive root', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'one.txt': '1', 'two/inner.txt': '2' });
    const put = await t.store.put([join(src, 'one.txt'), join(src, 'two')], { name: 'mixed' });
    const out = join(tempDir(), 'out');
    await t.store.get(put.id, out);
    expect(Object.keys(snapshot(out)).sort()).toEqual(['one.txt', 'two', 'two/inner.txt']);
  });
});

describe('archive ids', () => {
  it('follow the seed scheme #DDMMYY-NN with a global lot counter', async () => {
    const t = await makeTestStore();
    const src = tempDir();
    writeTree(src, { 'a.txt': 'a' });
    const first = await t.store.put([src], { now: new Date(2026, 10, 27, 12) });
    const second = await t.store.put([src], { now: new Date(2026, 10, 28, 12) });
    expect(first.id).toBe('#271126-01');
    expect(second.id).toBe('#281126-02');
    for (const form of ['#281126-02', '281126-2', '#281126-002', ' 281126-02 ']) expect(t.store.archive(form).id).toBe('#281126-02');
  });
});

describe('dedup', () => {
  it('putting the same tree twice grows the store by less than 5%', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    const files: Record<string, Buffer | string> = { 'photo.jpg': noise(30 * FRAME, 3), 'notes.txt': randomText(200_000) };
    for (let i = 0; i < 50; i++) files[`j/${i}.json`] = JSON.stringify({ i });
    writeTree(src, files);
    const first = await t.store.put([src]);
    const before = t.store.status().storedBytes;
    const second = await t.store.put([src]);
    const after = t.store.status().storedBytes;
    expect(second.dedupedFrames).toBeGreaterThan(0);
    expect((after - before) / before).toBeLessThan(0.05);
    expect(first.storedBytes).toBeGreaterThan(second.storedBytes * 20);
  });

  it('identical frames across files are stored once', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    const same = noise(4 * FRAME, 9);
    writeTree(src, { 'a.bin': same, 'b.bin': same });
    const put = await t.store.put([src]);
    expect(put.storedBytes).toBeLessThan(same.length * 1.1);
  });
});

import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, ByteRange } from '../../src/backends/backend.js';
import { DiskCache } from '../../src/store/mount/disk-cache.js';
import { FileReader } from '../../src/store/mount/file-reader.js';
import { FrameCache } from '../../src/store/mount/frame-cache.js';
import { frameLocations } from '../../src/store/resolve.js';
import { makeTestStore } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { noise } from '../helpers/trees.js';

const MiB = 1024 * 1024;

/** A store holding one file of `mebibytes` MiB (as many frames), and a backend wrapper that logs every read. */
async function fixture(mebibytes = 10) {
  const t = await makeTestStore();
  const src = tempDir();
  const data = noise(mebibytes * MiB, 3);
  writeFileSync(join(src, 'f.bin'), data);
  const put = await t.store.put([join(src, 'f.bin')], { name: 'c' });
  const ctx = t.store.ctx;
  const entry = ctx.index.getEntry(put.id, 'f.bin')!;
  const frames = frameLocations(ctx, put.id, entry);
  const reads: ByteRange[] = [];
  let gate: Promise<void> | null = null;
  const inner = ctx.backend;
  const backend = Object.create(inner) as Backend;
  backend.readPack = async (locator, range) => {
    reads.push(range!);
    if (gate) await gate;
    return inner.readPack(locator, range);
  };
  return { ctx, data, frames, reads, backend, setGate: (g: Promise<void> | null) => (gate = g), home: t.home };
}

describe('frame cache', () => {
  it('stays within its byte bound', async () => {
    const f = await fixture();
    const cache = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, 3 * MiB + 100);
    for (const frame of f.frames) await cache.get(frame);
    expect(cache.stats().memoryBytes).toBeLessThanOrEqual(3 * MiB + 100);
    expect(cache.stats().memoryBytes).toBeGreaterThan(2 * MiB);
    // The most recent frames stayed; the first one was evicted and costs a new fetch.
    const before = f.reads.length;
    await cache.get(f.frames[9]!);
    expect(f.reads.length).toBe(before);
    await cache.get(f.frames[0]!);
    expect(f.reads.length).toBe(before + 1);
  });

  it('keeps the frames of one ranged read in its buffer, and counts the whole buffer against its bound', async () => {
    const f = await fixture();
    const cache = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, 24 * MiB);
    const plains = await Promise.all(cache.getMany(f.frames.slice(0, 5)));
    expect(f.reads).toHaveLength(1);
    plains.forEach((p, i) => expect(p.equals(f.data.subarray(i * MiB, (i + 1) * MiB))).toBe(true));
    // Opened in place: five views of the fetched run, not five fresh buffers.
    expect(new Set(plains.map((p) => p.buffer)).size).toBe(1);
    const run = plains[0]!.buffer.byteLength;
    expect(run).toBe(f.reads[0]!.length);
    expect(cache.stats().memoryBytes).toBe(run); // nonces and tags included

    // Evicting some frames of the run frees nothing: the bound keeps counting the whole run.
    const small = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, 6 * MiB);
    await Promise.all(small.getMany(f.frames.slice(0, 5)));
    for (const frame of f.frames.slice(5, 7)) await small.get(frame);
    expect(small.stats().memoryBytes).toBeLessThanOrEqual(6 * MiB);
  });

  it('copies out a frame read again from a mostly evicted run, so the rest of the run can go', async () => {
    const f = await fixture(16);
    const cache = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, 10 * MiB);
    const [hot] = await Promise.all(cache.getMany(f.frames.slice(0, 4)));
    expect(hot!.buffer.byteLength).toBeGreaterThan(4 * MiB); // shared with frames 1-3
    let again = hot!;
    for (const frame of f.frames.slice(4)) {
      again = await cache.get(f.frames[0]!); // frame 0 stays the most recently used; 1-3 age out
      await cache.get(frame);
      expect(cache.stats().memoryBytes).toBeLessThanOrEqual(10 * MiB);
    }
    expect(again.equals(f.data.subarray(0, MiB))).toBe(true);
    expect(again.buffer.byteLength).toBe(MiB); // its own copy now: the run's other 3 MiB were freed
    expect(f.reads).toHaveLength(1 + 12); // the run, then each later frame once: frame 0 was never fetched again
  });

  it('gives each frame its own copy when a ranged read is bigger than half of the cache', async () => {
    const f = await fixture();
    const cache = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, 7 * MiB);
    const plains = await Promise.all(cache.getMany(f.frames.slice(0, 4)));
    expect(f.reads).toHaveLength(1);
    for (const p of plains) expect(p.buffer.byteLength).toBe(MiB);
    expect(cache.stats().memoryBytes).toBe(4 * MiB);
    // The most recent frames are still cached, no fetch needed.
    await cache.get(f.frames[3]!);
    expect(f.reads).toHaveLength(1);
  });

  it('fails the frames of a load that breaks unexpectedly, so no reader waits forever', async () => {
    const f = await fixture();
    const broken = Object.create(f.backend) as Backend;
    broken.readPack = async () => ({ length: 3 }) as unknown as Buffer; // not a Buffer: opening it throws
    const cache = new FrameCache({ backend: broken, keys: f.ctx.keys }, 8 * MiB);
    const results = await Promise.allSettled(cache.getMany(f.frames.slice(0, 2)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // Nothing stays in flight: a later read fetches again instead of joining a dead load.
    await expect(cache.get(f.frames[0]!)).rejects.toThrow();
  });

  it('concurrent readers of one frame share one fetch', async () => {
    const f = await fixture();
    const cache = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, 64 * MiB);
    let open!: () => void;
    f.setGate(new Promise<void>((r) => (open = r)));
    const all = Array.from({ length: 5 }, () => cache.get(f.frames[4]!));
    open();
    const plains = await Promise.all(all);
    expect(f.reads).toHaveLength(1);
    for (const p of plains) expect(p.equals(f.data.subarray(4 * MiB, 5 * MiB))).toBe(true);
  });

  it('a random read fetches only its frame; a sequential reader gets read-ahead in ranged runs', async () => {
    const f = await fixture();
    const cache = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, 64 * MiB);
    const reader = new FileReader(cache, f.frames, { archive: 'c', path: 'f.bin' });
    const buf = Buffer.alloc(4096);
    await reader.readInto(buf, 6 * MiB + 500, 4096);
    expect(f.reads).toHaveLength(1);
    expect(f.reads[0]!.length).toBeLessThanOrEqual(MiB + 64);
    expect(buf.equals(f.data.subarray(6 * MiB + 500, 6 * MiB + 500 + 4096))).toBe(true);

    const seq = new FileReader(cache, f.frames, { archive: 'c', path: 'f.bin' });
    const chunk = Buffer.alloc(128 * 1024);
    await seq.readInto(chunk, 0, chunk.length);
    await seq.readInto(chunk, chunk.length, chunk.length); // sequential: read-ahead starts
    await new Promise((r) => setTimeout(r, 50));
    // Frames 1.. are being fetched ahead, adjacent ones with one ranged read.
    expect(cache.stats().misses).toBeGreaterThan(3);
    expect(f.reads.length).toBeLessThanOrEqual(4);
    const out = Buffer.alloc(f.data.length);
    for (let pos = 2 * chunk.length; pos < f.data.length; pos += chunk.length) await seq.readInto(out.subarray(pos), pos, chunk.length);
    out.set(f.data.subarray(0, 2 * chunk.length));
    expect(out.equals(f.data)).toBe(true);
    expect(f.reads.reduce((s, r) => s + r.length, 0)).toBeLessThan(f.data.length * 1.2);
  });

  it('keeps the read-ahead of a sequential reader within half of a small cache, so nothing is fetched twice', async () => {
    const f = await fixture(16);
    const cache = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, 8 * MiB);
    const reader = new FileReader(cache, f.frames, { archive: 'c', path: 'f.bin' });
    const out = Buffer.alloc(f.data.length);
    for (let pos = 0; pos < f.data.length; pos += 128 * 1024) {
      await reader.readInto(out.subarray(pos), pos, 128 * 1024);
      expect(cache.stats().memoryBytes).toBeLessThanOrEqual(8 * MiB);
    }
    expect(out.equals(f.data)).toBe(true);
    const fetched = f.reads.reduce((sum, r) => sum + r.length, 0);
    expect(fetched).toBeLessThan(f.data.length * 1.01); // each frame once (plus nonces and tags)
  });

  it('keeps ciphertext on disk, bounded; a damaged cache file is fetched again, never used', async () => {
    const f = await fixture();
    const dir = join(tempDir(), 'cache');
    const disk = new DiskCache(dir, 2 * MiB + 1000);
    const cache = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, MiB / 2, disk);
    await cache.get(f.frames[0]!);
    await cache.get(f.frames[1]!);
    await new Promise((r) => setTimeout(r, 100)); // disk writes are in the background
    expect(disk.bytes).toBeGreaterThan(2 * MiB - 100);
    const reads = f.reads.length;
    const fresh = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, MiB / 2, new DiskCache(dir, 2 * MiB + 1000));
    expect((await fresh.get(f.frames[1]!)).equals(f.data.subarray(MiB, 2 * MiB))).toBe(true);
    expect(f.reads.length).toBe(reads); // served from disk
    const hex = f.frames[0]!.id.toString('hex');
    writeFileSync(join(dir, hex.slice(0, 2), hex), Buffer.alloc(100));
    const third = new FrameCache({ backend: f.backend, keys: f.ctx.keys }, MiB / 2, new DiskCache(dir, 2 * MiB + 1000));
    expect((await third.get(f.frames[0]!)).equals(f.data.subarray(0, MiB))).toBe(true);
    expect(f.reads.length).toBe(reads + 1);
  });
});

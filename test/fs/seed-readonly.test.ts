import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MountQueue } from '../../src/index/mount-queue.js';
import type { StoreContext } from '../../src/store/context.js';
import { MountSession } from '../../src/store/mount/session.js';
import { makeTestStore } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';

const SEED = '#271126-07';

/** Indexes a seed archive the way dos sync does (kind 'seed', generation 1, no entries). */
function addSeedArchive(ctx: StoreContext): void {
  const at = Date.parse('2026-11-27T23:23:32Z');
  ctx.index.insertArchive({ id: SEED, lot: -7, name: 'Holiday Photos', kind: 'seed', status: 'complete', createdAt: at, updatedAt: at });
  const ref = { kind: 'seed', packs: [], cardMessageId: '1', threadId: '2', lot: 7, timestamp: null, status: 'success', fileCount: 1, totalSizeBytes: 29, chunkCount: 1, filesDisplay: ['hello.txt'] };
  ctx.index.commitGeneration({ archiveId: SEED, generation: 1, createdAt: at, files: 1, bytes: 29, storedBytes: 29, manifestRef: JSON.stringify(ref), name: 'Holiday Photos', status: 'complete', entries: [] });
}

async function errnoOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    return (err as { errno?: string }).errno;
  }
  return undefined;
}

describe('seed archives in the mount (no FUSE needed)', () => {
  it('show as read-only folders; every change is EROFS and nothing is ever queued for them', async () => {
    const t = await makeTestStore();
    const ctx = t.store.ctx;
    addSeedArchive(ctx);
    // A change an older dos queued for the seed archive is dropped, never applied.
    new MountQueue(ctx.index.db).add(SEED, { op: 'mkdir', path: 'x' });
    const log: string[] = [];
    const session = new MountSession(ctx, { stagingDir: join(tempDir(), 'staging'), cacheBytes: 1 << 20, batchDelayMs: 0, maxBatchDelayMs: 0, log: (l) => log.push(l) });
    session.start();
    expect(log.join('\n')).toMatch(/dropping a queued change of #271126-07: it is a seed archive/);

    expect(session.readdir('/')).toEqual(['Holiday Photos']);
    expect(session.getattr('/Holiday Photos')).toMatchObject({ type: 'dir', mode: 0o555 });
    // Their files come from their manifests on Discord; this (local) store has none to read:
    // an I/O error with a log line, not an empty folder that looks like lost data.
    expect(await errnoOf(() => session.readdir('/Holiday Photos'))).toBe('EIO');
    expect(log.join('\n')).toMatch(/#271126-07: cannot list the seed archive/);
    const p = '/Holiday Photos';
    expect(await errnoOf(() => session.create(`${p}/new.txt`, 0o644))).toBe('EROFS');
    expect(await errnoOf(() => session.create(`${p}/.DS_Store`, 0o644))).toBe('EROFS');
    expect(await errnoOf(() => session.mkdir(`${p}/sub`, 0o755))).toBe('EROFS');
    expect(await errnoOf(() => session.rmdir(p))).toBe('EROFS');
    expect(await errnoOf(() => session.unlink(`${p}/hello.txt`))).toBe('EROFS');
    expect(await errnoOf(() => session.rename(p, '/Other'))).toBe('EROFS');
    expect(await errnoOf(() => session.truncate(`${p}/hello.txt`, 0))).toBe('EROFS');
    expect(await errnoOf(() => session.setAttr(p, { mode: 0o777 }))).toBe('EROFS');
    expect(await errnoOf(() => session.open(`${p}/hello.txt`, 1 /* O_WRONLY */))).toBe('EROFS');
    expect(await errnoOf(() => session.mkdirRoot(p))).toBe('EEXIST');

    expect(await session.close(5000)).toBe(true);
    expect(new MountQueue(ctx.index.db).all()).toEqual([]);
    expect(ctx.index.getArchive(SEED)).toMatchObject({ kind: 'seed', currentGeneration: 1 });
  });
});

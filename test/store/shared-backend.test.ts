import { describe, expect, it } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { isDosError } from '../../src/core/errors.js';
import { StoreIndex } from '../../src/index/store-index.js';
import { initStore, openStore } from '../../src/store/open-store.js';
import { FAST_SCRYPT, makeTestStore, TEST_KEY } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';

const FRAME = 64 * 1024;
/** Small packs: data spreads over packs that hold no manifest. */
const PACK = 3 * FRAME;

/** One backend, two indexes: two machines sharing a store, each with its own local index. */
async function twoMachines() {
  const a = await makeTestStore({ frameSize: FRAME, maxPackBytes: PACK });
  const bIndexPath = join(tempDir('dos-machine-b-'), 'index.db');
  const b = await openStore({ backend: new LocalBackend(a.storeDir, PACK), indexPath: bIndexPath, userKey: TEST_KEY, frameSize: FRAME, scrypt: FAST_SCRYPT });
  return { a, b, bIndexPath };
}

async function restores(store: Awaited<ReturnType<typeof openStore>>, id: string, src: string) {
  const out = join(tempDir(), 'out');
  await store.get(id, out);
  expect(snapshot(out)).toEqual(snapshot(src));
  expect((await store.verify(id, true)).ok).toBe(true);
}

describe('a store shared by machines with their own index', () => {
  it('gc on a machine that has not seen an archive published elsewhere keeps its packs', async () => {
    const { a, b } = await twoMachines();
    const src = tempDir();
    writeTree(src, { 'from-b.bin': noise(5 * FRAME, 7) });
    const put = await b.put([src], { name: 'from b' });
    // Machine A's index never heard of it: its packs look like orphans, even at zero grace.
    await a.store.gc({ orphanGraceMs: 0 });
    await restores(b, put.id, src);
  });

  it('removing an archive keeps the packs another machine deduplicated against', async () => {
    const { a, b } = await twoMachines();
    const src = tempDir();
    writeTree(src, { 'shared.bin': noise(5 * FRAME, 8) });
    const first = await a.store.put([src], { name: 'first' });
    await b.sync();
    const second = await b.put([src], { name: 'second' }); // every frame deduplicated against "first"
    expect(second.storedBytes).toBeLessThan(first.storedBytes);
    await a.store.remove(first.id); // A's index thinks nothing else uses those packs
    await restores(b, second.id, src);
  });

  it('a keyring gone from the backend is never replaced by a new one while the index knows the store', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'a.txt': 'a' });
    await t.store.put([src], { name: 'kept' });
    rmSync(join(t.storeDir, 'keyring.json'));
    const backend = new LocalBackend(t.storeDir);
    for (const attempt of [
      () => openStore({ backend, indexPath: t.indexPath, userKey: TEST_KEY, createIfMissing: true, scrypt: FAST_SCRYPT }), // put, mount, bot
      () => initStore({ backend, indexPath: t.indexPath, userKey: TEST_KEY, scrypt: FAST_SCRYPT }), // dos init
    ]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(isDosError(err, 'NO_STORE')).toBe(true);
      expect((err as Error).message).toMatch(/refusing to create a new store over it/);
    }
    expect(existsSync(join(t.storeDir, 'keyring.json'))).toBe(false);
  });

  it('two machines that handed out the same lot on different days both keep their archive after a sync', async () => {
    const a = await makeTestStore({ frameSize: FRAME });
    const b = await openStore({ backend: new LocalBackend(a.storeDir), indexPath: join(tempDir('dos-machine-b-'), 'index.db'), userKey: TEST_KEY, frameSize: FRAME, scrypt: FAST_SCRYPT });
    const src = tempDir();
    writeTree(src, { 'x.txt': 'x' });
    const fromA = await a.store.put([src], { name: 'from a', now: new Date('2026-11-27T12:00:00Z') });
    const fromB = await b.put([src], { name: 'from b', now: new Date('2026-11-28T12:00:00Z') });
    expect([fromA.id, fromB.id]).toEqual(['#271126-01', '#281126-01']);
    const synced = await b.sync();
    expect(synced.rejected).toEqual([]);
    expect(b.listArchives().map((x) => x.id).sort()).toEqual(['#271126-01', '#281126-01']);
    await restores(b, fromA.id, src);
    // A new archive here takes a lot above both.
    const next = await b.put([src], { name: 'next', now: new Date('2026-11-28T13:00:00Z') });
    expect(next.id).toBe('#281126-03');
  });

  it('a removed archive id is never handed out again', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'x.txt': 'x' });
    const now = new Date('2026-11-28T12:00:00Z');
    const first = await t.store.put([src], { name: 'first', now });
    await t.store.remove(first.id);
    const second = await t.store.put([src], { name: 'second', now });
    expect(second.id).not.toBe(first.id);
  });

  it('a sync does not drop an archive that another process here committed while it ran', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'x.txt': 'x' });
    let committed: string | undefined;
    // A second process on the same index whose listing is taken just before the first commits.
    class ListingThenCommit extends LocalBackend {
      override async listRecords() {
        const listing = await super.listRecords();
        committed ??= (await t.store.put([src], { name: 'during the sync' })).id;
        return listing;
      }
    }
    const syncing = await openStore({ backend: new ListingThenCommit(t.storeDir), indexPath: t.indexPath, userKey: TEST_KEY, frameSize: FRAME });
    const synced = await syncing.sync();
    expect(synced.removed).toBe(0);
    expect(syncing.listArchives().map((a) => a.id)).toEqual([committed]);
    await syncing.gc({ orphanGraceMs: 0 });
    await restores(t.store, committed!, src);
  });

  it.each([['recorded at commit', false], ['learned from the manifests (an index from before they were recorded)', true]])('two copies of the same data stored by machines that did not know of each other both stay: packs %s', async (_how, forget) => {
    const { a, b, bIndexPath } = await twoMachines();
    const src = tempDir();
    writeTree(src, { 'same.bin': noise(5 * FRAME, 9) });
    // Different days: the same lot on the same day would be one id (a collision the Discord backend catches).
    const fromA = await a.store.put([src], { name: 'from a', now: new Date('2026-11-27T12:00:00Z') });
    const fromB = await b.put([src], { name: 'from b', now: new Date('2026-11-28T12:00:00Z') }); // B synced before A's put: its own copy
    expect(fromB.storedBytes).toBeGreaterThan(5 * FRAME);
    // B learns A's archive: every frame id is one B has already, in B's own packs.
    await b.sync();
    if (forget) new StoreIndex(bIndexPath).db.prepare('UPDATE generations SET data_packs = NULL').run();
    await b.gc({ orphanGraceMs: 0 });
    await a.store.gc({ orphanGraceMs: 0 });
    const fresh = await openStore({ backend: new LocalBackend(a.storeDir, PACK), indexPath: join(tempDir('dos-machine-c-'), 'index.db'), userKey: TEST_KEY, frameSize: FRAME, scrypt: FAST_SCRYPT });
    await restores(fresh, fromA.id, src);
    await restores(fresh, fromB.id, src);
  });

  it('resuming one interrupted put leaves the others for later', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    let failing = true;
    class Flaky extends LocalBackend {
      override async putPack(...args: Parameters<LocalBackend['putPack']>) {
        if (failing) throw new Error('the network went away');
        return super.putPack(...args);
      }
    }
    const store = await openStore({ backend: new Flaky(t.storeDir), indexPath: t.indexPath, userKey: TEST_KEY, frameSize: FRAME });
    const ids: string[] = [];
    for (const name of ['one', 'two']) {
      const src = tempDir();
      writeTree(src, { [`${name}.bin`]: noise(2 * FRAME, name.length) });
      await expect(store.put([src], { name })).rejects.toThrow(/network went away/);
      ids.push(store.listArchives().find((a) => a.name === name)!.id);
    }
    failing = false;
    const outcomes = await store.resume(undefined, ids[1]);
    expect(outcomes.map((o) => [o.archive, o.completed])).toEqual([[ids[1], true]]);
    expect(store.listArchives().map((a) => a.status)).toEqual(['failed', 'complete']);
  });

  it('gc waits while any job is open, this process included (a !rm inside dos mount --bot)', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'x.txt': 'x' });
    const put = await t.store.put([src], { name: 'x' });
    const job = t.store.ctx.index.openJob('change', put.id, {}); // the mount's commit, in flight
    expect((await t.store.remove(put.id)).deferred).toBe(true);
    t.store.ctx.index.setJobState(job, 'done');
    expect((await t.store.gc()).deferred).toBe(false);
  });

  it('a sync never moves an archive back to a generation older than one committed while it read the manifest', async () => {
    const { a, b, bIndexPath } = await twoMachines();
    const src = tempDir();
    writeTree(src, { 'one.txt': 'one' });
    const put = await a.store.put([src], { name: 'x' });
    await b.sync();
    const change = (name: string) => {
      writeTree(src, { [name]: name });
      return [{ op: 'put-file' as const, path: name, source: join(src, name), mode: 0o644, mtimeMs: Date.now() }];
    };
    await a.store.applyChanges(put.id, change('two.txt')); // generation 2, published; B's index still at 1
    // A sync on B's index reads that manifest; meanwhile a mount on the same index commits 2 and 3.
    let armed = true;
    class SlowManifest extends LocalBackend {
      override async readPack(...args: Parameters<LocalBackend['readPack']>) {
        if (armed) {
          armed = false;
          await b.applyChanges(put.id, change('three.txt'));
          await b.applyChanges(put.id, change('four.txt'));
        }
        return super.readPack(...args);
      }
    }
    const syncing = await openStore({ backend: new SlowManifest(a.storeDir, PACK), indexPath: bIndexPath, userKey: TEST_KEY, frameSize: FRAME });
    await syncing.sync();
    expect(armed).toBe(false);
    expect(b.archive(put.id).currentGeneration).toBe(3);
    expect(b.listTree(put.id).entries.map((e) => e.path).sort()).toEqual(['four.txt', 'one.txt', 'three.txt']);
  });

  it('a job and a lock left by an earlier process with this same pid (a restarted container) are taken over', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'x.txt': 'x' });
    const put = await t.store.put([src], { name: 'x' });
    const db = t.store.ctx.index.db;
    const longAgo = Date.now() - 3_600_000;
    db.prepare("INSERT INTO journal(kind, archive_id, state, pid, host, payload, created_at, updated_at) VALUES ('change', ?, 'open', ?, ?, '{}', ?, ?)").run(put.id, process.pid, hostname(), longAgo, longAgo);
    db.prepare('INSERT INTO archive_locks(archive_id, token, pid, host, acquired_at) VALUES (?, ?, ?, ?, ?)').run(put.id, 'left by the last run', process.pid, hostname(), longAgo);
    // The lock is taken over at once (it would otherwise make every change wait, then fail BUSY)...
    writeTree(src, { 'y.txt': 'y' });
    await t.store.applyChanges(put.id, [{ op: 'put-file', path: 'y.txt', source: join(src, 'y.txt'), mode: 0o644, mtimeMs: Date.now() }]);
    // ...and the job no longer holds gc back.
    expect((await t.store.gc()).deferred).toBe(false);
  });
});


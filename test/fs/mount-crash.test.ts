import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';
import { cleanupMounts, fusermount, hasFuse, makeHome, sh } from './helpers.js';

const MiB = 1024 * 1024;

describe.skipIf(!hasFuse)('dos mount: crashes and concurrent writers', () => {
  afterEach(cleanupMounts);

  it('kill -9 during uploads loses no closed file: the next mount finishes the queue, byte-exact', async () => {
    const { mount, dos } = makeHome({ DOS_MOUNT_BATCH_MS: '300' });
    const src = tempDir();
    const files: Record<string, Buffer | string> = {};
    for (let i = 0; i < 6; i++) files[`media/clip-${i}.mov`] = noise(3 * MiB + i, 100 + i);
    for (let i = 0; i < 30; i++) files[`notes/n${i}.txt`] = `note ${i}\n`.repeat(50 + i);
    writeTree(src, files);
    const m = await mount();
    mkdirSync(m.path('crash'));
    expect(sh(`cp -r ${src}/. ${m.path('crash')}/`).code).toBe(0);
    renameSync(m.path('crash', 'notes'), m.path('crash', 'notes-renamed'));
    writeFileSync(m.path('crash', 'last.txt'), 'closed just before the crash');
    await m.kill9(); // uploads and commits are in flight or queued
    fusermount(m.dir); // what a user (or the next dos mount) does about the dead mount

    const expected = snapshot(src);
    const renamed: Record<string, string> = {};
    for (const [k, v] of Object.entries(expected)) renamed[k.replace(/^notes(\/|$)/, 'notes-renamed$1')] = v;
    const again = await mount(m.dir);
    expect(again.output).toMatch(/change\(s\) queued by an earlier mount will be committed now/);
    const now = snapshot(again.path('crash'));
    expect(now['last.txt']).toBeDefined();
    delete now['last.txt'];
    expect(now).toEqual(renamed); // served from staging and the index while the queue drains
    await again.settled();
    await again.stop();
    const out = join(tempDir(), 'out');
    expect((await dos(['get', 'crash', out])).code).toBe(0);
    const got = snapshot(out);
    delete got['last.txt'];
    expect(got).toEqual(renamed);
    const status = JSON.parse((await dos(['status', '--json'])).stdout) as { pendingUploads: number };
    expect(status.pendingUploads).toBe(0);
  });

  it('after kill -9 of the mount, dos resume commits what was queued without mounting', async () => {
    const { mount, dos } = makeHome({ DOS_MOUNT_BATCH_MS: '5000' }); // nothing commits before the kill
    const expected = tempDir();
    writeTree(expected, { 'a.bin': noise(2 * MiB, 31), 'b.txt': 'closed, not yet uploaded' });
    const m = await mount();
    mkdirSync(m.path('queued'));
    expect(sh(`cp -r ${expected}/. ${m.path('queued')}/`).code).toBe(0);
    await m.kill9();
    fusermount(m.dir);
    const resumed = await dos(['resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).mountQueue.changes).toBeGreaterThanOrEqual(2);
    const out = join(tempDir(), 'out');
    expect((await dos(['get', 'queued', out])).code).toBe(0);
    expect(snapshot(out)).toEqual(snapshot(expected));
  });

  it('a file its writer closed while a reader still holds it is queued at once: kill -9 then loses nothing', async () => {
    const { mount } = makeHome({ DOS_MOUNT_BATCH_MS: '600000' }); // nothing commits before the kill
    const m = await mount();
    mkdirSync(m.path('held'));
    const path = m.path('held', 'f.txt');
    const writer = openSync(path, 'w');
    writeSync(writer, 'precious data\n');
    const reader = openSync(path, 'r'); // tail -f, an indexer, a file manager's preview
    closeSync(writer);
    expect((await m.info()).pending.changes).toBe(1);
    await m.kill9();
    try {
      closeSync(reader);
    } catch {
      // the mount is gone
    }
    fusermount(m.dir);
    const again = await mount(m.dir);
    expect(readFileSync(again.path('held', 'f.txt'), 'utf8')).toBe('precious data\n');
  });

  it('kill -9 just after a commit replays none of it: an editor save (mv f f~, write f) is applied once', async () => {
    const { mount } = makeHome();
    const m = await mount();
    mkdirSync(m.path('doc'));
    writeFileSync(m.path('doc', 'f.txt'), 'old version\n');
    await m.settled();
    await m.stop();
    // Both changes in one batch; the process dies right after the batch is committed.
    const crashing = await mount(m.dir, { DOS_MOUNT_BATCH_MS: '1500', DOS_FAILPOINT: 'mount-committed' });
    renameSync(crashing.path('doc', 'f.txt'), crashing.path('doc', 'f.txt~'));
    writeFileSync(crashing.path('doc', 'f.txt'), 'new version\n');
    expect((await crashing.exited).signal).toBe('SIGKILL');
    fusermount(m.dir);
    const again = await mount(m.dir);
    await again.settled();
    expect(readFileSync(again.path('doc', 'f.txt~'), 'utf8')).toBe('old version\n');
    expect(readFileSync(again.path('doc', 'f.txt'), 'utf8')).toBe('new version\n');
  });

  it('a stale mount left by a crash is recovered by the next dos mount', async () => {
    const { mount } = makeHome();
    const m = await mount();
    mkdirSync(m.path('x'));
    await m.kill9(); // leaves "Transport endpoint is not connected" behind
    const again = await mount(m.dir);
    expect(again.output).toMatch(/recovered a stale mount/);
    expect(sh(`ls ${again.dir}`).stdout.trim()).toBe('x');
  });

  it('a mount and a CLI put on the same DOS_HOME both commit; the index stays consistent', async () => {
    const { mount, dos } = makeHome({ DOS_MOUNT_BATCH_MS: '50' });
    const m = await mount();
    mkdirSync(m.path('live'));
    const src = tempDir();
    writeTree(src, { 'a.bin': noise(4 * MiB, 5), 'b.txt': 'b' });
    const copying = (async () => {
      for (let i = 0; i < 8; i++) writeFileSync(m.path('live', `f${i}.bin`), noise(MiB, 200 + i));
    })();
    const [put] = await Promise.all([dos(['put', src, '--name', 'cli']), copying]);
    expect(put.code, put.stderr).toBe(0);
    await m.settled();
    await m.stop();
    expect((await dos(['verify', '--all', '--deep'])).code).toBe(0);
    const listed = JSON.parse((await dos(['ls', 'live', '--json'])).stdout) as unknown[];
    expect(listed).toHaveLength(8);
  });
});

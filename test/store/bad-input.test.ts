import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { encodeRecord, signRecord } from '../../src/core/archive-record.js';
import { DosError, ErrorCodes, isDosError } from '../../src/core/errors.js';
import type { Manifest } from '../../src/core/manifest.js';
import { openStore } from '../../src/store/open-store.js';
import { sealManifest } from '../../src/store/manifest-io.js';
import { PackWriter } from '../../src/store/pack-writer.js';
import { parseKeyringRecord, rewrapKeyring } from '../../src/core/keyring.js';
import { StoreIndex } from '../../src/index/store-index.js';
import { FAST_SCRYPT, makeTestStore, TEST_DISPLAY, TEST_KEY } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';

const FRAME = 64 * 1024;

function packFiles(storeDir: string): string[] {
  const root = join(storeDir, 'packs');
  return readdirSync(root).flatMap((d) => readdirSync(join(root, d)).map((f) => join(root, d, f)));
}

async function expectCode(promise: Promise<unknown>, code: string) {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err, `expected a ${code} error`).not.toBeNull();
  expect(isDosError(err) ? err.code : err).toBe(code);
  return err as Error & { details: Record<string, unknown> };
}

describe('keys', () => {
  it('a wrong USER_KEY is reported as exactly that, and nothing is written', async () => {
    const t = await makeTestStore();
    const before = snapshot(t.storeDir);
    const err = await expectCode(t.reopen('not the key'), 'WRONG_KEY');
    expect(err.message).toMatch(/does not match this store/);
    expect(snapshot(t.storeDir)).toEqual(before);
  });

  it('a keyring changed on the backend wins over the copy the index keeps to unlock early', async () => {
    const t = await makeTestStore();
    await t.reopen(); // the index now holds a copy of the keyring
    const backend = new LocalBackend(t.storeDir);
    const record = parseKeyringRecord((await backend.readKeyring())!);
    await backend.writeKeyring(Buffer.from(JSON.stringify(await rewrapKeyring(record, TEST_KEY, 'the new passphrase', FAST_SCRYPT))));
    await expectCode(t.reopen(), 'WRONG_KEY');
    const reopened = await t.reopen('the new passphrase');
    expect(reopened.listArchives()).toEqual([]);
    await expectCode(t.reopen(), 'WRONG_KEY');
    // A damaged copy in the index costs only the head start.
    new StoreIndex(t.indexPath).setMeta('keyringRecord', '{ not json');
    expect((await t.reopen('the new passphrase')).listArchives()).toEqual([]);
  });

  it('a missing USER_KEY on an encrypted store is an error', async () => {
    const t = await makeTestStore();
    await expectCode(openStore({ backend: new LocalBackend(t.storeDir), indexPath: t.indexPath }), 'KEY_REQUIRED');
  });

  it('an unencrypted store opens without a key and says so', async () => {
    const t = await makeTestStore({ userKey: null });
    const notices: string[] = [];
    const again = await openStore({ backend: new LocalBackend(t.storeDir), indexPath: t.indexPath, notice: (m) => notices.push(m) });
    expect(again.status().encrypted).toBe(false);
    expect(notices.join('\n')).toMatch(/NOT encrypted/);
  });
});

describe('damaged packs', () => {
  async function storedArchive() {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'photo.jpg': noise(5 * FRAME, 4), 'readme.txt': 'hello' });
    const put = await t.store.put([src]);
    return { t, put, src };
  }

  it('a flipped byte fails verify --deep and get, naming the archive and the file; no wrong bytes are written', async () => {
    const { t, put } = await storedArchive();
    const [pack] = packFiles(t.storeDir);
    const bytes = readFileSync(pack!);
    bytes[FRAME * 2] = bytes[FRAME * 2]! ^ 0x01;
    writeFileSync(pack!, bytes);

    const quick = await t.store.verify(put.id, false);
    expect(quick.ok).toBe(true); // quick verify only checks presence and size
    const deep = await t.store.verify(put.id, true);
    expect(deep.ok).toBe(false);
    expect(deep.problems.map((p) => p.path)).toContain('photo.jpg');
    expect(deep.problems.find((p) => p.path === 'photo.jpg')!.code).toBe('CORRUPT');

    const out = join(tempDir(), 'out');
    const err = await expectCode(t.store.get(put.id, out), 'CORRUPT');
    expect(err.message).toContain(put.id);
    expect(err.message).toContain('photo.jpg');
    expect(existsSync(join(out, 'photo.jpg'))).toBe(false);
    expect(readdirSync(out).filter((n) => n.includes('dos-partial'))).toEqual([]);
  });

  it('a download corrupted on the way is fetched again, and the file still restores exactly', async () => {
    const { t, put, src } = await storedArchive();
    const backend = t.store.ctx.backend;
    const realRead = backend.readPack.bind(backend);
    let corrupted = 0;
    backend.readPack = async (locator, range) => {
      const bytes = await realRead(locator, range);
      if (corrupted++ === 0) bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff; // once, like a flaky CDN
      return bytes;
    };
    const out = join(tempDir(), 'out');
    await t.store.get(put.id, out);
    expect(snapshot(out)).toEqual(snapshot(src));
    expect(corrupted).toBeGreaterThan(1);
  });

  it('a truncated pack fails quick verify and get', async () => {
    const { t, put } = await storedArchive();
    const [pack] = packFiles(t.storeDir);
    truncateSync(pack!, 2 * FRAME); // cuts through photo.jpg
    const quick = await t.store.verify(put.id, false);
    expect(quick.ok).toBe(false);
    expect(quick.problems[0]!.message).toMatch(/truncated or replaced/);
    const out = join(tempDir(), 'out');
    await expect(t.store.get(put.id, out)).rejects.toThrow(/#\d{6}-\d+/);
    expect(existsSync(join(out, 'photo.jpg')) && readFileSync(join(out, 'photo.jpg')).length > 0).toBe(false);
  });

  it('a missing pack is reported as missing', async () => {
    const { t, put } = await storedArchive();
    for (const p of packFiles(t.storeDir)) rmSync(p);
    const quick = await t.store.verify(put.id, false);
    expect(quick.problems.map((p) => p.code)).toContain('MISSING');
  });
});

describe('hostile manifests', () => {
  it.each([['../escape.txt'], ['/etc/passwd'], ['a\u0000b'], ['dir/../../x']])('a manifest naming %j is refused and nothing is written', async (hostile) => {
    const t = await makeTestStore({ frameSize: FRAME });
    const ctx = t.store.ctx;
    // Forge a well-signed archive whose manifest holds a hostile path (an attacker with the key, or a bug).
    const writer = new PackWriter(ctx, '#010126-01', null, await ctx.backend.limits());
    const id = await writer.add(Buffer.from('payload'));
    await writer.awaitUploads();
    const manifest: Manifest = {
      format: 'dos-manifest', version: 1, storeId: ctx.keys.storeId, archiveId: '#010126-01', name: 'evil', generation: 1, createdAt: new Date().toISOString(),
      frameSize: FRAME, packs: [{ name: writer.currentPackName, locator: null, size: 0 }],
      frames: [[id.toString('hex'), 0, 8, writer.placed.get(id.toString('hex'))!.storedLength, 7, writer.placed.get(id.toString('hex'))!.flags]],
      entries: [{ path: hostile, type: 'file', size: 7, mode: 0o644, mtimeMs: 0, sha256: 'a'.repeat(64), frames: [0] }],
    };
    const sealed = await sealManifest(ctx, manifest);
    const placed = await writer.appendSealed(sealed.frames);
    await writer.finish();
    const pack = writer.packs.get(writer.currentPackName) ?? [...writer.packs.values()][0]!;
    const record = signRecord(ctx.keys, {
      format: 'dos-archive', version: 4, storeId: ctx.keys.storeId, archiveId: '#010126-01', lot: 1, name: 'evil', generation: 1,
      createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), status: 'complete', stats: { files: 1, bytes: 7, storedBytes: 0, packs: 1 },
      manifest: { packs: [{ name: pack.name, locator: pack.locator, size: pack.size }], frames: placed.map((p) => [p.id.toString('hex'), 0, p.offset, p.storedLength, p.plainLength, p.flags]), length: sealed.length },
    });
    await ctx.backend.putRecord('#010126-01', encodeRecord(record), TEST_DISPLAY);

    const result = await t.store.sync();
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]!.reason).toMatch(/unsafe/);
    expect(t.store.listArchives()).toEqual([]);
  });

  it('a record signed with another key is rejected', async () => {
    const a = await makeTestStore();
    const b = await makeTestStore();
    const src = tempDir();
    writeTree(src, { 'x.txt': 'x' });
    const put = await a.store.put([src]);
    const [record] = await a.store.ctx.backend.listRecords();
    await b.store.ctx.backend.putRecord(put.id, record!.data, TEST_DISPLAY);
    const result = await b.store.sync();
    expect(result.rejected.map((r) => r.archiveId)).toEqual([put.id]);
  });
});

describe('restoring', () => {
  async function oneArchive() {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'a.txt': 'new content', 'big.bin': noise(3 * FRAME) });
    const put = await t.store.put([src]);
    return { t, put };
  }

  it('an unknown archive id is a clear NOT_FOUND', async () => {
    const { t } = await oneArchive();
    const err = await expectCode(t.store.get('#010199-42', tempDir()), 'NOT_FOUND');
    expect(err.message).toMatch(/no archive #010199-42/);
    await expectCode(t.store.get('not-an-archive', tempDir()), 'NOT_FOUND');
  });

  it('an existing destination file is refused without --force and replaced with it', async () => {
    const { t, put } = await oneArchive();
    const out = tempDir();
    writeFileSync(join(out, 'a.txt'), 'mine');
    await expectCode(t.store.get(put.id, out), 'EXISTS');
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(out, 'big.bin'))).toBe(false);
    await t.store.get(put.id, out, { force: true });
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('new content');
  });

  it('a symlink planted in the destination is not followed', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'sub/file.txt': 'x' });
    const put = await t.store.put([src]);
    const out = tempDir();
    const elsewhere = tempDir();
    execFileSync('ln', ['-s', elsewhere, join(out, 'sub')]);
    await expectCode(t.store.get(put.id, out, { force: true }), 'UNSAFE_PATH');
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('a full disk gives NO_SPACE and leaves no half-written file under its final name', async (ctx) => {
    const { t, put } = await oneArchive();
    const mountpoint = tempDir();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FRAME + 4096}`, 'tmpfs', mountpoint], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // needs root to mount a tiny tmpfs; CI runs as root
      return;
    }
    try {
      const err = await expectCode(t.store.get(put.id, mountpoint), 'NO_SPACE');
      expect(err.message).toMatch(/disk is full/);
      expect(existsSync(join(mountpoint, 'big.bin'))).toBe(false);
      expect(readdirSync(mountpoint).filter((n) => n.includes('dos-partial'))).toEqual([]);
    } finally {
      execFileSync('umount', [mountpoint]);
    }
  });
});

describe('a backend that takes smaller packs than it said', () => {
  it('re-packs a refused pack into smaller ones and the archive still restores', async () => {
    const t = await makeTestStore({ frameSize: FRAME });
    const backend = t.store.ctx.backend;
    const realPut = backend.putPack.bind(backend);
    const limit = 3 * FRAME;
    let refused = 0;
    backend.putPack = async (pack) => {
      if (pack.data.length > limit) {
        refused++;
        throw new DosError(ErrorCodes.BACKEND, 'too large (413)', { maxPackBytes: limit });
      }
      return realPut(pack);
    };
    const src = tempDir();
    writeTree(src, { 'a.bin': noise(10 * FRAME, 11), 'b.txt': 'small' });
    const put = await t.store.put([src]);
    expect(refused).toBeGreaterThan(0);
    expect(put.attachments).toBeGreaterThanOrEqual(4);
    const out = join(tempDir(), 'out');
    await t.store.get(put.id, out);
    expect(snapshot(out)).toEqual(snapshot(src));
    expect((await t.store.verify(put.id, true)).ok).toBe(true);
  });
});

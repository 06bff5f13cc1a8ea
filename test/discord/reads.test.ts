import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeLocator } from '../../src/backends/discord/index.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';
import { Routes } from 'discord-api-types/v10';
import { DiscordApi } from '../../src/backends/discord/api.js';
import { fetchMessages } from '../../src/backends/discord/message-fetch.js';
import { resolveOptions } from '../../src/backends/discord/options.js';
import { closeAll, discordStore, emulator, FAST_RETRY, packAttachments } from './helpers.js';
import { botRest } from './seed-post.js';

const FRAME = 16 * 1024;
const PACK = 64 * 1024;

afterEach(closeAll);

async function stored(bytes: number, options: { packs?: number } = {}) {
  const emu = await emulator();
  const t = await discordStore(emu, { frameSize: FRAME, maxPackBytes: options.packs ? PACK : 4 * PACK });
  const src = tempDir();
  writeTree(src, { 'a.bin': noise(bytes, 2), 'b.txt': 'hello' });
  const put = await t.store.put([src]);
  return { emu, t, src, put };
}

async function getBack(store: { get: (id: string, dest: string) => Promise<unknown> }, id: string, src: string) {
  const out = join(tempDir(), 'out');
  await store.get(id, out);
  expect(snapshot(out)).toEqual(snapshot(src));
}

describe('reading packs from the CDN', () => {
  it('refreshes expired URLs in batches: at most ceil(N/50) refresh calls for N packs', async () => {
    const { emu, t, src, put } = await stored(180 * FRAME, { packs: 1 });
    const n = packAttachments(emu).length;
    expect(n).toBeGreaterThan(50);
    emu.clock.advance(25 * 3600_000);
    emu.stats.reset();
    await getBack(t.store, put.id, src);
    expect(emu.stats.refreshUrlsCalls).toBeGreaterThan(0);
    expect(emu.stats.refreshUrlsCalls).toBeLessThanOrEqual(Math.ceil(n / 50));
    // Deep verify reads everything again without another refresh.
    expect((await t.store.verify(put.id, true)).ok).toBe(true);
    expect(emu.stats.refreshUrlsCalls).toBeLessThanOrEqual(Math.ceil(n / 50));
  });

  it('loads URLs it never had by re-fetching messages, 100 per call', async () => {
    const { emu, t, src, put } = await stored(120 * FRAME, { packs: 1 });
    const other = await t.fresh();
    emu.stats.reset();
    await getBack(other.store, put.id, src);
    const pages = emu.stats.requests('GET /channels/:channel_id/messages') + emu.stats.requests('GET /channels/:channel_id/messages/:message_id');
    expect(pages).toBeLessThanOrEqual(emu.state.threads(emu.archiveChannelId).length + 1);
    expect(emu.stats.refreshUrlsCalls).toBe(0);
    await other.store.close();
  });

  it('works when the CDN ignores Range, fetching each pack about once', async () => {
    const { emu, t, src, put } = await stored(40 * FRAME);
    emu.setRangeSupport(false);
    const other = await t.fresh();
    await getBack(other.store, put.id, src);
    expect(other.backend.cdn.rangeIgnored).toBe(true);
    for (const p of packAttachments(emu)) {
      const size = emu.state.attachment(p.id)!.size;
      expect(emu.stats.cdnBytes(p.id)).toBeLessThanOrEqual(2 * size);
    }
    await other.store.close();
  });

  it('retries truncated and dropped downloads and early 404s, and returns exact bytes', async () => {
    const { emu, t, src, put } = await stored(40 * FRAME);
    const other = await t.fresh();
    emu.faults.cdnTruncate({ count: 2 });
    emu.faults.cdnDrop({ count: 2 });
    emu.faults.cdnNotFound({ count: 1 });
    await getBack(other.store, put.id, src);
    expect(emu.faults.pending).toBe(0);
    await other.store.close();
  });

  it('names a missing pack MISSING, not a network error', async () => {
    const { emu, t, put } = await stored(10 * FRAME);
    const other = await t.fresh();
    for (const p of packAttachments(emu)) {
      emu.state.attachment(p.id)!.deleted = true;
      const m = emu.state.message(p.messageId)!;
      m.attachmentIds = m.attachmentIds.filter((id) => id !== p.id);
    }
    const verify = await other.store.verify(put.id, false);
    expect(verify.ok).toBe(false);
    expect(verify.problems.every((p) => p.code === 'MISSING')).toBe(true);
    await expect(other.backend.readPack(JSON.stringify({ c: emu.archiveChannelId, m: '1', a: '2', s: 10 }), { offset: 0, length: 4 })).rejects.toMatchObject({ code: 'MISSING' });
    await other.store.close();
  });

  it('never uses attachment file names: identity comes from the locator', async () => {
    const { emu, t, src, put } = await stored(40 * FRAME);
    const packs = packAttachments(emu);
    expect(packs.length).toBeGreaterThan(1);
    // Hostile names, and two packs swapping names: a reader going by names would mix them up.
    const a = emu.state.attachment(packs[0]!.id)!;
    const b = emu.state.attachment(packs[1]!.id)!;
    [a.filename, b.filename] = [b.filename, a.filename];
    for (const p of packs.slice(2)) emu.state.attachment(p.id)!.filename = `..%2F..%2Fevil ${p.id}.pack`;
    const cwd = tempDir();
    const other = await t.fresh();
    await getBack(other.store, put.id, src);
    expect(readdirSync(cwd)).toEqual([]);
    expect(existsSync(join(cwd, '..', 'evil'))).toBe(false);
    // Locators hold ids and a size, nothing else.
    for (const pack of other.store.ctx.index.listPacks()) {
      expect(Object.keys(decodeLocator(pack.locator))).toEqual(['channelId', 'messageId', 'attachmentId', 'size']);
      expect(pack.locator).not.toMatch(/\.pack|http/);
    }
    await other.store.close();
  });
});

describe('corrupted downloads', () => {
  it('are caught by the engine and fetched again, not served twice from a kept copy', async () => {
    for (const range of [true, false]) {
      const { emu, t, src, put } = await stored(40 * FRAME);
      emu.setRangeSupport(range);
      const other = await t.fresh();
      emu.faults.cdnCorrupt({ count: 1 });
      await getBack(other.store, put.id, src);
      expect(emu.faults.pending).toBe(0);
      await other.store.close();
    }
  });
});

describe('reading given messages of a long thread', () => {
  it('finds every message asked for, however far apart, and reports only a deleted one as gone', async () => {
    const emu = await emulator();
    const rest = botRest(emu);
    const thread = emu.createChannel({ name: 'long' });
    const ids: string[] = [];
    for (let i = 0; i < 130; i++) ids.push(((await rest.post(Routes.channelMessages(thread.id), { body: { content: `m${i}` } })) as { id: string }).id);
    await rest.delete(Routes.channelMessage(thread.id, ids[90]!));
    const api = new DiscordApi(resolveOptions({ token: emu.token, archiveChannelId: emu.archiveChannelId, apiBase: emu.apiBase, cdnBase: emu.cdnBase, retry: FAST_RETRY }));
    // The first page is around m0: half a page at most, though the thread goes on.
    const wanted = [ids[0]!, ids[40]!, ids[60]!, ids[90]!, ids[129]!];
    const found = await fetchMessages(api, thread.id, wanted);
    expect(wanted.map((id) => found.get(id)?.content ?? null)).toEqual(['m0', 'm40', 'm60', null, 'm129']);
    api.close();
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { MESSAGE_CREATE_ROUTE } from '../emulator/index.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';
import { backendFor, closeAll, discordStore, emulator, packAttachments } from './helpers.js';

/** Small frames and packs: many packs from little data (3 frames of 16 KiB per 64 KiB pack). */
const FRAME = 16 * 1024;
const PACK = 64 * 1024;

afterEach(closeAll);

async function putTree(t: Awaited<ReturnType<typeof discordStore>>, bytes: number, seed = 1) {
  const src = tempDir();
  writeTree(src, { 'data.bin': noise(bytes, seed) });
  const put = await t.store.put([src]);
  const out = join(tempDir(), 'out');
  await t.store.get(put.id, out);
  expect(snapshot(out)).toEqual(snapshot(src));
  return put;
}

/** Every pack attachment exactly once: nothing lost, nothing posted twice. */
function expectNoDuplicates(emu: Awaited<ReturnType<typeof emulator>>, expected: number) {
  const packs = packAttachments(emu);
  expect(packs).toHaveLength(expected);
  expect(new Set(packs.map((p) => p.filename)).size).toBe(expected);
}

describe('uploads under rate limits and faults', () => {
  it('uploads 50 packs under the realistic 5-per-5 s bucket, waiting ahead instead of collecting 429s', async () => {
    const emu = await emulator({ profile: 'realistic' });
    const t = await discordStore(emu, { frameSize: FRAME, maxPackBytes: PACK, packsPerMessage: 2, threadsPerArchive: 3 });
    const started = Date.now();
    const put = await putTree(t, 148 * FRAME, 5);
    const seconds = (Date.now() - started) / 1000;
    expect(put.attachments).toBeGreaterThanOrEqual(50);
    expectNoDuplicates(emu, put.attachments);
    expect(emu.stats.served429.bucket + emu.stats.served429.global).toBeLessThanOrEqual(1);
    const creates = emu.stats.requests(MESSAGE_CREATE_ROUTE);
    // ~2 packs per message, plus the card and the keyring.
    expect(creates).toBeLessThanOrEqual(Math.ceil(put.attachments / 2) + 12);
    // Three threads in parallel: well under the 25 s one bucket would need.
    expect(emu.state.threads(emu.archiveChannelId).length).toBeGreaterThan(1);
    expect(seconds).toBeLessThan(15);
  }, 30_000);

  it('opens at once the threads an upload of a given size will need, before any pack exists', async () => {
    const emu = await emulator({ profile: 'realistic' });
    const backend = backendFor(emu, { maxPackBytes: PACK, packsPerMessage: 2, threadsPerArchive: 3 });
    // 200 packs = 100 messages: more than three threads' first bursts of 5.
    backend.expectUpload('#281126-01', 200 * PACK);
    await vi.waitFor(() => expect(emu.state.threads(emu.archiveChannelId)).toHaveLength(3));
    // 4 packs = 2 messages: the card's own thread sends them in its first burst.
    backend.expectUpload('#281126-02', 4 * PACK);
    await vi.waitFor(() => expect(emu.state.threads(emu.archiveChannelId)).toHaveLength(4));
    await new Promise((r) => setTimeout(r, 200));
    expect(emu.state.threads(emu.archiveChannelId)).toHaveLength(4);
    expect(packAttachments(emu)).toEqual([]);
  });

  it('removes the extra threads an upload opened but never used (everything deduplicated)', async () => {
    const emu = await emulator({ profile: 'realistic' });
    const t = await discordStore(emu, { frameSize: FRAME, maxPackBytes: PACK, packsPerMessage: 2, threadsPerArchive: 3 });
    const src = tempDir();
    writeTree(src, { 'data.bin': noise(90 * FRAME, 11) });
    const first = await t.store.put([src]);
    expect(emu.state.threads(emu.archiveChannelId)).toHaveLength(3);
    const again = await t.store.put([src]);
    expect(again.attachments).toBe(1); // only its manifest: every data frame is deduplicated
    // The second archive keeps its card's thread (holding the manifest) and nothing else.
    expect(emu.state.threads(emu.archiveChannelId)).toHaveLength(4);
    const out = join(tempDir(), 'out');
    await t.store.get(first.id, out);
    expect(snapshot(out)).toEqual(snapshot(src));
  }, 30_000);

  it('rides out a 429 storm without hammering', async () => {
    const emu = await emulator();
    const t = await discordStore(emu, { frameSize: FRAME, maxPackBytes: PACK });
    const storm = emu.faults.rateLimit({ route: MESSAGE_CREATE_ROUTE, count: 6, retryAfterMs: 150 });
    const put = await putTree(t, 30 * FRAME);
    expect(storm.remaining).toBe(0);
    expect(emu.stats.served429.forced).toBe(6);
    expectNoDuplicates(emu, put.attachments);
  });

  it('retries a 5xx burst with backoff and loses nothing', async () => {
    const emu = await emulator();
    const t = await discordStore(emu, { frameSize: FRAME, maxPackBytes: PACK });
    const burst = emu.faults.serverError({ route: MESSAGE_CREATE_ROUTE, count: 5, status: 502 });
    const cdn = emu.faults.serverError({ method: 'GET', count: 3, status: 503 });
    const put = await putTree(t, 30 * FRAME);
    expect(burst.remaining).toBe(0);
    expect(cdn.consumed).toBeGreaterThan(0);
    expectNoDuplicates(emu, put.attachments);
  });

  it('never posts a pack twice when the answer is lost after the message was made (nonce)', async () => {
    const emu = await emulator();
    const t = await discordStore(emu, { frameSize: FRAME, maxPackBytes: PACK });
    const drops = emu.faults.dropConnection({ route: MESSAGE_CREATE_ROUTE, count: 4 });
    const put = await putTree(t, 30 * FRAME);
    expect(drops.remaining).toBe(0);
    expect(emu.stats.droppedConnections).toBeGreaterThanOrEqual(4);
    expectNoDuplicates(emu, put.attachments);
    // The card was not posted twice either.
    expect(emu.state.messages(emu.archiveChannelId).filter((m) => m.content.startsWith('```json'))).toHaveLength(1);
  });

  it('keeps a thread while another archive still uses its packs (dedup), and deletes it after', async () => {
    const emu = await emulator();
    const t = await discordStore(emu, { frameSize: FRAME, maxPackBytes: PACK });
    const src = tempDir();
    writeTree(src, { 'same.bin': noise(12 * FRAME, 9) });
    const first = await t.store.put([src]);
    const second = await t.store.put([src]);
    expect(second.dedupedFrames).toBeGreaterThan(0);
    const threads = emu.state.threads(emu.archiveChannelId).length;
    await t.store.remove(first.id);
    // The first archive's thread still holds the data packs the second archive reuses.
    expect(emu.state.threads(emu.archiveChannelId).length).toBe(threads);
    const out = join(tempDir(), 'out');
    await t.store.get(second.id, out);
    expect(snapshot(out)).toEqual(snapshot(src));
    await t.store.remove(second.id);
    expect(packAttachments(emu)).toEqual([]);
    expect(emu.state.threads(emu.archiveChannelId)).toEqual([]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp.js';
import { noise, randomText, snapshot, writeTree } from '../helpers/trees.js';
import { Routes } from 'discord-api-types/v10';
import { closeAll, discordStore, emulator, packAttachments } from './helpers.js';
import { botRest } from './seed-post.js';

const FRAME = 64 * 1024;

afterEach(closeAll);

describe('the engine on the Discord backend', () => {
  it('puts, gets, verifies, removes and re-syncs an archive', async () => {
    const emu = await emulator();
    const t = await discordStore(emu, { frameSize: FRAME, maxPackBytes: 4 * FRAME });
    const src = tempDir();
    const files: Record<string, Buffer | string> = { 'big.bin': noise(20 * FRAME, 3), 'docs/readme.md': '# hi\n', 'Ünïcödé/日本.txt': randomText(3000) };
    for (let i = 0; i < 40; i++) files[`small/${i}.json`] = JSON.stringify({ i, text: randomText(300) });
    writeTree(src, files);

    const put = await t.store.put([src], { name: 'holiday' });
    expect(put.attachments).toBeGreaterThanOrEqual(5);
    const packs = packAttachments(emu);
    expect(packs).toHaveLength(put.attachments);
    // The card (bot-authored, with the record) and its thread.
    const cards = emu.state.messages(emu.archiveChannelId).filter((m) => m.content.startsWith('```json'));
    expect(cards).toHaveLength(1);
    expect(cards[0]!.embeds[0]).toMatchObject({ title: `📦 Archive ${put.id}`, color: 0x2ecc71, footer: { text: 'Lot 1 • Uploader: dos' } });
    expect(emu.state.threads(emu.archiveChannelId).map((th) => th.name)).toContain(`${put.id} packs`);
    // Upload first, commit after: the card existed (uploading) before any pack was posted.
    expect(packs.every((p) => BigInt(p.messageId) > BigInt(cards[0]!.id))).toBe(true);
    expect(cards[0]!.authorId).toBe(emu.botUser.id);
    // Several packs share a message when they arrive together.
    expect(new Set(packs.map((p) => p.messageId)).size).toBeLessThanOrEqual(packs.length);

    const out = join(tempDir(), 'out');
    await t.store.get(put.id, out);
    expect(snapshot(out)).toEqual(snapshot(src));
    expect((await t.store.verify(put.id, false)).ok).toBe(true);
    const deep = await t.store.verify(put.id, true);
    expect(deep.problems).toEqual([]);

    // A second process with an empty index rebuilds everything from the channel, reading the
    // channel once for both kinds of card (dos records and seed archives) and for its first
    // put's card: one page (fewer than 100 messages), plus one fetch of the record's message
    // for a fresh attachment URL, plus one page around its new card (did another machine post
    // a card with the same id at the same moment?).
    const reads = () => emu.stats.requests('GET /channels/:channel_id/messages');
    const before = reads();
    const other = await t.fresh();
    expect(other.store.listArchives().map((a) => a.id)).toEqual([put.id]);
    const small = tempDir();
    writeTree(small, { 'note.txt': 'one more' });
    const note = await other.store.put([small]);
    expect(reads() - before).toBe(3);
    const out2 = join(tempDir(), 'out2');
    await other.store.get(put.id, out2);
    expect(snapshot(out2)).toEqual(snapshot(src));
    await other.store.remove(note.id);
    await other.store.close();

    const gc = await t.store.remove(put.id);
    expect(gc.deletedPacks).toBe(put.attachments);
    expect(packAttachments(emu)).toEqual([]);
    expect(emu.state.threads(emu.archiveChannelId)).toEqual([]);
    const card = emu.state.message(cards[0]!.id)!;
    expect(card.embeds[0]).toMatchObject({ color: 0x7f8c8d });
    expect(card.content).not.toContain('"dos":{');
    expect(await t.backend.listRecords()).toEqual([]);
    const third = await t.fresh();
    expect(third.store.listArchives()).toEqual([]);
    await third.store.close();
    await t.store.close();
  });

  it('finds its keyring when someone unpinned it, and pins it again, instead of starting a new store', async () => {
    const emu = await emulator();
    const t = await discordStore(emu, { frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'a.bin': noise(3 * FRAME, 3) });
    const put = await t.store.put([src], { name: 'kept' });
    const [keyring] = emu.state.pins(emu.archiveChannelId);
    expect(keyring).toBeDefined();
    await botRest(emu).delete(Routes.channelMessagesPin(emu.archiveChannelId, keyring!.id));
    expect(emu.state.pins(emu.archiveChannelId)).toEqual([]);

    const other = await t.fresh(); // another machine: nothing but the channel to go on
    expect(other.store.listArchives().map((a) => a.id)).toEqual([put.id]);
    const out = join(tempDir(), 'out');
    await other.store.get(put.id, out);
    expect(snapshot(out)).toEqual(snapshot(src));
    expect(emu.state.pins(emu.archiveChannelId).map((m) => m.id)).toEqual([keyring!.id]);
    await other.store.close();
    await t.store.close();
  });

  it('an archive that gets a removed archive id again (another index, the same day) posts a card of its own', async () => {
    const emu = await emulator();
    const t = await discordStore(emu, { frameSize: FRAME });
    const src = tempDir();
    writeTree(src, { 'a.txt': 'first' });
    const first = await t.store.put([src], { name: 'first', now: new Date('2026-11-28T10:00:00Z') });
    await t.store.remove(first.id);
    const other = await t.fresh(); // knows nothing of the removed archive: hands out its id again
    writeTree(src, { 'a.txt': 'second' });
    const second = await other.store.put([src], { name: 'second', now: new Date('2026-11-28T10:05:00Z') });
    expect(second.id).toBe(first.id);
    const third = await t.fresh();
    expect(third.store.listArchives().map((a) => a.name)).toEqual(['second']);
    const out = join(tempDir(), 'out');
    await third.store.get(second.id, out);
    expect(snapshot(out)).toEqual(snapshot(src));
    for (const s of [third.store, other.store, t.store]) await s.close();
  });
});


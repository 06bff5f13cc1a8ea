import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { isDosError } from '../../src/core/errors.js';
import { PackTooLargeError, type DiscordBackendOptions } from '../../src/backends/discord/index.js';
import { parseSeedCard } from '../../src/legacy/seed-card.js';
import { MiB } from '../emulator/index.js';
import { TEST_DISPLAY } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { snapshot, writeTree } from '../helpers/trees.js';
import { backendFor, closeAll, discordStore, emulator, packAttachments } from './helpers.js';

afterEach(closeAll);

const RECORD = Buffer.from(JSON.stringify({ format: 'dos-archive', version: 4, archiveId: '#281126-07', name: 'x', mac: 'ab' }));
/** A record too large to share the card's 2000 characters (a manifest spread over many packs). */
const BIG_RECORD = Buffer.from(JSON.stringify({ format: 'dos-archive', version: 4, archiveId: '#281126-07', name: 'ü'.repeat(900), mac: 'ab' }));

function embedLength(e: { title?: string; fields?: Array<{ name: string; value: string }>; footer?: { text: string } }): number {
  return (e.title?.length ?? 0) + (e.fields ?? []).reduce((s, f) => s + f.name.length + f.value.length, 0) + (e.footer?.text.length ?? 0);
}

describe('archive cards and the keyring pin', () => {
  it('writes the seed card layout, keeps the seed parser working, and shows progress at most every interval', async () => {
    const emu = await emulator();
    const t = await discordStore(emu, { progressIntervalMs: 300 });
    const src = tempDir();
    writeTree(src, { 'a.txt': 'a', 'dir/b.txt': 'b' });
    const put = await t.store.put([src], { name: 'named' });
    const card = emu.state.messages(emu.archiveChannelId).find((m) => m.content.startsWith('```json'))!;
    const embed = card.embeds[0] as { fields: Array<{ name: string; value: string }> };
    expect(embed.fields.map((f) => f.name)).toEqual(['📅 Timestamp', '📁 Files', '📊 Total Size', '🧩 Chunks', '✅ Status', '💾 Download']);
    expect(embed.fields[1]!.value).toBe('a.txt\ndir/');
    expect(embed.fields[5]!.value).toBe(`\`!download ${put.id}\``);
    // The seed's own reader still lists it, with lossless ids.
    const seed = parseSeedCard(card.content, card.embeds as never, card.id)!;
    expect(seed).toMatchObject({ archive_id: put.id, status: 'success', lot: 1, uploader: 'dos', archive_channel_id: emu.archiveChannelId });
    expect(seed.thread_id).toMatch(/^\d{17,20}$/);
    expect(card.editedAt).not.toBeNull();

    const backend = t.backend;
    const display = { ...TEST_DISPLAY, status: 'uploading' as const, progress: { done: 1, total: 10 } };
    const before = emu.stats.requests('PATCH /channels/:channel_id/messages/:message_id');
    for (let i = 0; i < 50; i++) backend.showProgress('#281126-09', { ...display, progress: { done: i, total: 50 } });
    await new Promise((r) => setTimeout(r, 700));
    const edits = emu.stats.requests('PATCH /channels/:channel_id/messages/:message_id') - before;
    expect(edits).toBeLessThanOrEqual(2);
    const progress = emu.state.messages(emu.archiveChannelId).find((m) => m.content.includes('#281126-09'))!;
    expect(progress.embeds[0]).toMatchObject({ color: 0xf1c40f });
    expect(JSON.stringify(progress.embeds[0])).toContain('⏳ Progress');
  });

  it('keeps a card within Discord limits with 500 long non-ASCII names, moving the record to record.json', async () => {
    const emu = await emulator();
    const backend = backendFor(emu);
    const names = Array.from({ length: 500 }, (_, i) => `${'ñame-日本語-🎉-'.repeat(12)}${i}.txt`);
    await backend.putRecord('#281126-07', BIG_RECORD, { ...TEST_DISPLAY, files: 500, fileNames: names });
    const card = emu.state.messages(emu.archiveChannelId).find((m) => m.content.startsWith('```json'))!;
    expect(card.content.length).toBeLessThanOrEqual(2000);
    const embed = card.embeds[0] as { title: string; fields: Array<{ name: string; value: string }>; footer: { text: string } };
    expect(embed.fields.every((f) => f.value.length <= 1024 && f.name.length <= 256)).toBe(true);
    expect(embedLength(embed)).toBeLessThanOrEqual(6000);
    expect(emu.state.attachments(card.id).map((a) => a.filename)).toEqual(['record.json']);
    expect(await backend.listRecords()).toEqual([{ archiveId: '#281126-07', data: BIG_RECORD }]);
    // A smaller record moves back into the content, and record.json goes.
    await backend.putRecord('#281126-07', RECORD, { ...TEST_DISPLAY, files: 500, fileNames: names });
    expect(emu.state.attachments(card.id).filter((a) => !a.deleted)).toEqual([]);
    expect(emu.state.message(card.id)!.content.length).toBeLessThanOrEqual(2000);
    expect(await backendFor(emu).listRecords()).toEqual([{ archiveId: '#281126-07', data: RECORD }]);
    // Names switched off for privacy: the card shows a count only.
    const quiet = backendFor(emu, { cardFileNames: false });
    await quiet.putRecord('#281126-08', RECORD, { ...TEST_DISPLAY, files: 500, fileNames: names });
    const quietCard = emu.state.messages(emu.archiveChannelId).find((m) => m.content.includes('#281126-08'))!;
    expect(JSON.stringify(quietCard.embeds[0])).toContain('500 files');
    expect(quietCard.content).not.toContain('\\u00f1ame');
  });

  it('ignores cards and keyring pins posted by anyone but the bot', async () => {
    const emu = await emulator();
    const t = await discordStore(emu);
    const src = tempDir();
    writeTree(src, { 'a.txt': 'a' });
    const put = await t.store.put([src]);
    const real = emu.state.messages(emu.archiveChannelId).find((m) => m.content.startsWith('```json'))!;
    // A forged card: a copy of the real one for another archive, and a newer one for the same archive.
    emu.injectUserMessage({ channelId: emu.archiveChannelId, content: real.content.replaceAll(put.id, '#010101-99'), embeds: real.embeds as never });
    emu.injectUserMessage({ channelId: emu.archiveChannelId, content: real.content.replace('"status":"success"', '"status":"success","x":1'), embeds: real.embeds as never });
    const records = await t.backend.listRecords();
    expect(records.map((r) => r.archiveId)).toEqual([put.id]);

    // A keyring pinned by someone else, newer than the bot's, is never read.
    const before = await t.backend.readKeyring();
    const forged = emu.injectUserMessage({ channelId: emu.archiveChannelId, content: '🔐 dos keyring\n```json\n{"format":"dos-keyring","forged":true}\n```' });
    const m = emu.state.message(forged.id as string)!;
    m.pinned = true;
    m.pinnedAt = emu.clock.now() + 1000;
    expect(await t.backend.readKeyring()).toEqual(before);
    // On a channel with only a forged pin, there is no store.
    const fresh = await emulator();
    const lonely = fresh.injectUserMessage({ channelId: fresh.archiveChannelId, content: '🔐 dos keyring\n```json\n{"format":"dos-keyring"}\n```' });
    const record = fresh.state.message(lonely.id as string)!;
    record.pinned = true;
    record.pinnedAt = fresh.clock.now();
    expect(await backendFor(fresh).readKeyring()).toBeNull();
  });

  it('raises limits() with the boost tier and learns a lower limit from a 413', async () => {
    const emu = await emulator();
    expect((await backendFor(emu).limits()).maxPackBytes).toBe(10 * MiB - 64 * 1024);
    emu.setPremiumTier(2);
    const boosted = await backendFor(emu).limits();
    expect(boosted.maxPackBytes).toBe(50 * MiB - 64 * 1024);
    expect(boosted.uploadConcurrency).toBeGreaterThanOrEqual(2);
    emu.setPremiumTier(3);
    expect((await backendFor(emu).limits()).maxPackBytes).toBe(100 * MiB - 64 * 1024);

    // A server that allows less than its tier says: the pack is refused with a typed error.
    const strict = await emulator({ limits: { attachmentBytesByTier: [1 * MiB, 1 * MiB, 1 * MiB, 1 * MiB] } });
    const backend = backendFor(strict);
    const limits = await backend.limits();
    expect(limits.maxPackBytes).toBe(10 * MiB - 64 * 1024);
    const err = await backend.putPack({ name: 'a'.repeat(32), data: Buffer.alloc(2 * MiB), archiveId: '#281126-05' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackTooLargeError);
    expect(err).toMatchObject({ code: 'BACKEND' });
    const lowered = await backend.limits();
    expect(lowered.maxPackBytes).toBeLessThan(2 * MiB);
    expect((err as PackTooLargeError).maxPackBytes).toBe(lowered.maxPackBytes);
  });

  /** Two machines on one channel, the second synced while it was still empty, each with a folder to put. */
  async function twoMachines(secondOptions: Partial<DiscordBackendOptions> = {}) {
    const emu = await emulator();
    const t = await discordStore(emu);
    const other = await t.fresh(secondOptions);
    const mine = tempDir();
    writeTree(mine, { 'mine.txt': 'from the first machine' });
    const theirs = tempDir();
    writeTree(theirs, { 'theirs.txt': 'from the second machine' });
    /** The first machine's archive is untouched (a third machine lists and restores it); synced, the second machine puts under the next id. */
    const expectFirstKeepsTheId = async (firstId: string) => {
      const third = await t.fresh();
      expect(third.store.listArchives().map((a) => a.id)).toEqual([firstId]);
      const out = join(tempDir(), 'out');
      await third.store.get(firstId, out);
      expect(snapshot(out)).toEqual(snapshot(mine));
      await other.store.sync();
      expect((await other.store.put([theirs])).id).not.toBe(firstId);
    };
    return { emu, t, other, mine, theirs, expectFirstKeepsTheId };
  }

  it('never takes over a card another machine made for the same archive id', async () => {
    const { t, other, mine, theirs, expectFirstKeepsTheId } = await twoMachines();
    const first = await t.store.put([mine]);
    // A card is looked for in a read of the channel at most a second old.
    await new Promise((r) => setTimeout(r, 1100));
    const err = await other.store.put([theirs]).catch((e: unknown) => e);
    expect(isDosError(err) && err.code).toBe('EXISTS');
    expect((err as Error).message).toMatch(new RegExp(`${first.id} is already taken on Discord[\\s\\S]*dos sync`));
    await expectFirstKeepsTheId(first.id);
  });

  it('two machines taking the same id at the same moment: the later card is withdrawn before any pack, the earlier archive keeps the id', async () => {
    // The second machine's read of the channel is older than the first machine's card, as when
    // both look for a card within the same second and then both post one.
    const { emu, t, other, mine, theirs, expectFirstKeepsTheId } = await twoMachines({ cardLookupMaxAgeMs: 60_000 });
    const first = await t.store.put([mine]);
    const packsBefore = packAttachments(emu).length;
    const err = await other.store.put([theirs]).catch((e: unknown) => e);
    expect(isDosError(err) && err.code).toBe('EXISTS');
    expect((err as Error).message).toMatch(new RegExp(`${first.id} was taken on Discord by another archive at the same moment[\\s\\S]*dos sync`));
    // One card for the id (the first machine's), and no pack of the second machine's anywhere.
    const cardsForId = emu.state.messages(emu.archiveChannelId).filter((m) => m.embeds.some((e) => e['title'] === `📦 Archive ${first.id}`));
    expect(cardsForId).toHaveLength(1);
    expect(packAttachments(emu)).toHaveLength(packsBefore);
    await expectFirstKeepsTheId(first.id);
  });
});

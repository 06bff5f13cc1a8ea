import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Routes } from 'discord.js';
import { seedListingOf } from '../../src/backends/discord/seed-archives.js';
import type { APIMessage } from '../../src/backends/discord/api.js';
import { isDosError } from '../../src/core/errors.js';
import { renderSeedCard } from '../../src/legacy/index.js';
import { listFiles, readFixtureExpectation, sha256File } from '../helpers/seed-fixtures.js';
import { TEST_KEY } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { writeTree } from '../helpers/trees.js';
import { closeAll, discordStore, emulator } from './helpers.js';
import { botRest, fixtureFiles, postFixture, postSeedArchive } from './seed-post.js';

afterEach(closeAll);

const ID = '#271126-07';

async function expectFixtureRestored(dir: string): Promise<void> {
  const expected = await readFixtureExpectation('legacy-v3.1');
  expect(await listFiles(dir)).toEqual(Object.keys(expected.files).sort());
  for (const [name, e] of Object.entries(expected.files)) expect(await sha256File(join(dir, name)), name).toBe(e.sha256);
}

describe('seed archives on Discord', () => {
  it('sync lists a seed card + thread; get restores it byte-exact; verify and ls read it', async () => {
    const emu = await emulator();
    const rest = botRest(emu);
    const posted = await postFixture(emu, rest);
    const { store, fresh } = await discordStore(emu);
    // initStore synced a new index: the seed archive is there, named after its source folder.
    const listed = store.listArchives();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: ID, name: 'Holiday Photos', files: 5, status: 'complete', bytes: 20983865 + 29 + 307201 + 900 });
    expect(store.archive(ID).kind).toBe('seed');
    expect(listed[0]!.created).toBe(new Date(2026, 10, 27, 23, 23, 32).toISOString());

    // A second machine: empty index, explicit sync is a no-op after the open's own sync.
    const other = await fresh();
    expect(other.store.listArchives().map((a) => a.id)).toEqual([ID]);
    expect(await other.store.sync()).toMatchObject({ archives: 1, added: 0, removed: 0 });

    const tree = await other.store.tree(ID);
    expect(tree.entries.map((e) => [e.path, e.size])).toEqual([
      ['empty.txt', 0], ['hello.txt', 29], ['notes-big.txt', 20983865], ['random.bin', 307201], ['unicodé ñame 😀.txt', 900],
    ]);

    const quick = await other.store.verify(ID, false);
    expect(quick).toMatchObject({ ok: true, packs: 7, files: 5 });

    const work = tempDir('dos-seed-work-');
    const dest = join(tempDir('dos-seed-dest-'), 'out');
    const got = await other.store.get(ID, dest, { userKey: TEST_KEY, workDir: work });
    expect(got).toMatchObject({ archive: ID, files: 5, skipped: 0 });
    await expectFixtureRestored(dest);
    expect(readdirSync(work)).toEqual([]); // the download folder is gone after success

    // Again: identical files are left alone; without --force nothing else may be overwritten.
    const again = await other.store.get(ID, dest, { userKey: TEST_KEY, workDir: work });
    expect(again).toMatchObject({ files: 5, skipped: 5 });
    await expectFixtureRestored(dest);

    const deep = await other.store.verify(ID, true, { userKey: TEST_KEY, workDir: work });
    expect(deep).toMatchObject({ ok: true, deep: true, files: 5, bytes: 20983865 + 29 + 307201 + 900 });
    expect(posted.attachments.size).toBe(8);
  });

  it('an interrupted download resumes: the second get fetches only what is missing', async () => {
    const emu = await emulator();
    const posted = await postFixture(emu, botRest(emu));
    const { store } = await discordStore(emu);
    const stuck = posted.attachments.get('0007-d0730f7d768a-9d473320bd30626c-0000.bin')!;
    emu.faults.cdnNotFound({ attachmentId: stuck.attachmentId, count: 1000 });
    const work = tempDir('dos-seed-work-');
    const dest = join(tempDir('dos-seed-dest-'), 'out');
    const first = await store.get(ID, dest, { userKey: TEST_KEY, workDir: work }).catch((e: unknown) => e);
    expect(isDosError(first) && first.code).toBe('MISSING');
    expect(existsSync(dest)).toBe(false); // nothing under final names
    const kept = readdirSync(join(work, `[Archive] ${ID}`)).filter((n) => !n.startsWith('.'));
    expect(kept).toHaveLength(7); // the manifest and 6 of 7 chunks
    emu.faults.clear();
    const before = new Map([...posted.attachments].map(([name, a]) => [name, emu.stats.cdnRequestsByAttachment.get(a.attachmentId) ?? 0]));
    await store.get(ID, dest, { userKey: TEST_KEY, workDir: work });
    await expectFixtureRestored(dest);
    for (const [name, a] of posted.attachments) {
      const fetched = (emu.stats.cdnRequestsByAttachment.get(a.attachmentId) ?? 0) - before.get(name)!;
      // Only the stuck chunk is downloaded again (the manifest is small and always re-read fresh).
      if (name === '0007-d0730f7d768a-9d473320bd30626c-0000.bin') expect(fetched, name).toBe(1);
      else if (!name.includes('manifest')) expect(fetched, name).toBe(0);
    }
  });

  it('ignores cards and attachments not written by the bot; refuses hostile attachment names', async () => {
    const emu = await emulator();
    const rest = botRest(emu);
    const posted = await postFixture(emu, rest);
    // Someone else's thread with a planted, unencrypted manifest, and two forged cards pointing at it.
    const evilThread = (await rest.post(Routes.threads(emu.archiveChannelId), { body: { name: 'evil', type: 11 } })) as { id: string };
    const plantedManifest = JSON.stringify({ version: '2.1', source_folder: 'Holiday Photos', files: { a: { original_name: 'hello.txt', total_size: 5, chunks: ['x.bin'] } } });
    emu.injectUserMessage({ channelId: evilThread.id, files: [{ name: '1-manifest_000000_010101.json', data: plantedManifest }, { name: 'x.bin', data: 'pwned' }] });
    for (const id of [ID, '#010126-99']) {
      const forged = renderSeedCard({ lot: 99, archive_id: id, timestamp: '2026-12-01 00:00:00', status: 'success', thread_id: evilThread.id });
      emu.injectUserMessage({ channelId: emu.archiveChannelId, content: forged.content, embeds: [forged.embed as unknown as Record<string, unknown>] });
    }
    // A planted manifest inside the real thread, by another user.
    emu.injectUserMessage({ channelId: posted.threadId, files: [{ name: '2-manifest_000000_010101.json', data: plantedManifest }] });
    // And a hostile name on a bot-written attachment (Discord would sanitise it; a server cannot be trusted to).
    const m = (await rest.post(Routes.channelMessages(posted.threadId), { files: [{ name: 'evil.bin', data: Buffer.from('evil') }] })) as { attachments: Array<{ id: string }> };
    emu.state.attachment(m.attachments[0]!.id)!.filename = '../../evil';

    const { store, backend } = await discordStore(emu);
    expect(store.listArchives().map((a) => a.id)).toEqual([ID]);
    const listing = await backend.listSeedThread(posted.threadId);
    expect(listing.foreign).toBe(1);
    expect(listing.refused.map((r) => r.name)).toEqual(['../../evil']);
    expect(listing.attachments.map((a) => a.name)).not.toContain('2-manifest_000000_010101.json');

    const root = tempDir('dos-seed-root-');
    const work = join(root, 'a', 'b');
    const dest = join(root, 'out');
    await store.get(ID, dest, { userKey: TEST_KEY, workDir: work });
    await expectFixtureRestored(dest);
    expect(await listFiles(root)).toEqual((await listFiles(dest)).map((f) => `out/${f}`));

    const direct = await backend.downloadSeedFiles(posted.threadId, join(work, 'x'), [{ name: '../../evil' }]).catch((e: unknown) => e);
    expect(isDosError(direct) && direct.code).toBe('UNSAFE_PATH');
    expect(existsSync(join(root, 'evil'))).toBe(false);
  });

  it('dos rm of a seed archive deletes its thread and marks its card deleted, as the seed\'s !cleanup did', async () => {
    const emu = await emulator();
    const rest = botRest(emu);
    const posted = await postFixture(emu, rest);
    // A bot-written card whose thread_id names a thread someone else owns: never deleted.
    const files = (await fixtureFiles()).slice(0, 1);
    const other = await postSeedArchive(emu, rest, { archiveId: '#010126-98', lot: 98, files });
    const stranger = emu.createMember({ username: 'stranger' }).user;
    emu.state.channel(other.threadId)!.ownerId = stranger.id;

    const { store, fresh } = await discordStore(emu);
    expect(store.listArchives().map((a) => a.id).sort()).toEqual(['#010126-98', ID]);
    const freed = await store.remove(ID);
    expect(freed.freedBytes).toBeGreaterThan(0);
    expect(emu.state.channel(posted.threadId)?.deleted ?? true).toBe(true);
    const card = emu.state.messages(emu.archiveChannelId).find((m) => m.id === posted.cardId)!;
    expect(card.content).toContain('"status":"deleted"');
    expect(store.listArchives().map((a) => a.id)).toEqual(['#010126-98']);
    // Another machine's sync does not bring it back.
    expect((await fresh()).store.listArchives().map((a) => a.id)).toEqual(['#010126-98']);

    const refused = await store.remove('#010126-98').catch((e: unknown) => e);
    expect(isDosError(refused) && refused.message).toMatch(/not one of this bot's threads/);
    expect(emu.state.channel(other.threadId)?.deleted).toBeFalsy();
    expect(store.listArchives().map((a) => a.id)).toEqual(['#010126-98']);
  });

  it('verify reports a chunk missing from the thread by name; get refuses to restore without it', async () => {
    const emu = await emulator();
    const rest = botRest(emu);
    const posted = await postFixture(emu, rest);
    const gone = '0004-988d78314a6f-50d6a09f7921d289-0001.bin';
    await rest.delete(Routes.channelMessage(posted.threadId, posted.attachments.get(gone)!.messageId));
    const { store } = await discordStore(emu);
    const quick = await store.verify(ID, false);
    expect(quick.ok).toBe(false);
    expect(quick.problems).toEqual([expect.objectContaining({ code: 'MISSING', pack: gone, path: 'notes-big.txt' })]);
    const work = tempDir('dos-seed-work-');
    const deep = await store.verify(ID, true, { userKey: TEST_KEY, workDir: work });
    expect(deep.problems.map((p) => p.pack)).toEqual([gone]);
    const dest = join(tempDir('dos-seed-dest-'), 'out');
    const got = await store.get(ID, dest, { userKey: TEST_KEY, workDir: work }).catch((e: unknown) => e);
    expect(isDosError(got) && got.code).toBe('MISSING');
    expect(existsSync(dest)).toBe(false);
  });

  it('newest bot card per id wins: a later "deleted" card hides the archive', async () => {
    const emu = await emulator();
    const rest = botRest(emu);
    const files = (await fixtureFiles()).filter((f) => f.name.includes('manifest'));
    await postSeedArchive(emu, rest, { archiveId: '#020126-3', lot: 3, files });
    await postSeedArchive(emu, rest, { archiveId: '#020126-03', lot: 3, files, status: 'deleted' });
    await postSeedArchive(emu, rest, { archiveId: '#030126-04', lot: 4, files, status: 'partial' });
    // The seed restarted its lots when its log was lost: two ids, one lot (lots are unique in the index).
    await postSeedArchive(emu, rest, { archiveId: '#050126-04', lot: 4, files });
    const { store, fresh } = await discordStore(emu);
    expect(store.listArchives().map((a) => [a.id, a.status]).sort()).toEqual([['#030126-04', 'partial'], ['#050126-04', 'complete']]);
    // A new archive of ours still gets a lot after every seed lot.
    expect(store.ctx.index.createArchive('new').lot).toBe(5);
    // Our own archives share the channel: a new machine sees both kinds, each once.
    const src = tempDir('dos-seed-src-');
    writeTree(src, { 'a.txt': 'hello' });
    const put = await store.put([src], { name: 'mine' });
    const { store: other } = await fresh();
    expect(other.listArchives().map((a) => [a.id, other.archive(a.id).kind]).sort()).toEqual([['#030126-04', 'seed'], ['#050126-04', 'seed'], [put.id, 'v4']].sort());
  });
});

describe('seedListingOf', () => {
  const message = (over: Partial<APIMessage>): APIMessage => ({ id: '1300000000000000000', content: '', embeds: [], attachments: [], ...over }) as unknown as APIMessage;

  it('falls back to the embed, skips our v4 cards, keeps snowflakes exact; JSON without the card embed is no card', () => {
    const seed = renderSeedCard({ lot: 12, archive_id: '#170126-12', timestamp: '2026-01-17 10:00:00', status: 'success', thread_id: '1234567890123456789' });
    const fromJson = seedListingOf(message({ content: seed.content, embeds: [seed.embed] as never }));
    expect(fromJson).toMatchObject({ archiveId: '#170126-12', threadId: '1234567890123456789', lot: 12, status: 'success' });
    const fromEmbed = seedListingOf(message({ embeds: [seed.embed] as never, thread: { id: '1300000000000000000' } as never }));
    expect(fromEmbed).toMatchObject({ archiveId: '#170126-12', threadId: '1300000000000000000', lot: 12, timestamp: '2026-01-17 10:00:00' });
    const ours = renderSeedCard({ lot: 13, archive_id: '#170126-13', uploader: 'dos', status: 'uploading' });
    expect(seedListingOf(message({ content: ours.content }))).toBeNull();
    expect(seedListingOf(message({ content: 'hello' }))).toBeNull();
    // A reply of the bot that echoes what a user typed, JSON included, is not a card...
    expect(seedListingOf(message({ content: '⚠️ Invalid archive id `{"archive_id":"#170126-12"}`' }))).toBeNull();
    expect(seedListingOf(message({ content: seed.content }))).toBeNull();
    // ...nor is a card whose embed names another archive than its JSON.
    const other = renderSeedCard({ lot: 14, archive_id: '#170126-14', status: 'success' });
    expect(seedListingOf(message({ content: seed.content, embeds: [other.embed] as never }))).toBeNull();
  });
});

import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Routes } from 'discord.js';
import { LosslessNumber } from 'lossless-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHistoryLog, parseLosslessJson, stringifyPythonIndented } from '../../src/legacy/index.js';
import { makeRest } from '../emulator/harness.js';
import { Permissions, type MessageRecord } from '../emulator/index.js';
import { fixtureFiles } from '../discord/seed-post.js';
import { readFixtureExpectation, sha256 } from '../helpers/seed-fixtures.js';
import { command, fileTempDir, startBotWorld, type BotWorld } from './helpers.js';

/**
 * `!migrate-legacy` (legacy-format.md §4.9): archives from before cards, whose files the seed
 * posted as plain messages, get a seed card and a `{id} legacy` thread holding copies of the
 * bot's attachments; the history log records it; `!download` restores them like any seed
 * archive. Built here: a storage channel holding the legacy-v3.1 fixture's chunks as the bot
 * posted them in the channel era, plus a message by someone else, and a log pointing at them.
 */

const ID = '#150125-03';
const PRE_REPO_ID = '#100125-02';
const CARD_ERA_CARD = '1405000000000000001';

let world: BotWorld;
let storageId = '';
let logPath = '';
let member = '';
let outsider = '';
let originalLog = '';
/** The channel-era message ids, in the order the log lists them. */
let oldIds: string[] = [];
let fixtureNames: string[] = [];

const has = (re: RegExp) => (texts: string[]) => texts.some((t) => re.test(t));
const migrated = has(/Legacy archives migrated|No legacy archives migrated|Admin permissions required/);
const last = (texts: string[]) => texts[texts.length - 1] ?? '';
/** The command's answer (the new card lands in the same channel when the command is typed there). */
const answer = (texts: string[]) => texts.find((t) => /Legacy archives migrated|No legacy archives migrated|Admin permissions required/.test(t)) ?? '';

beforeAll(async () => {
  const key = (await readFixtureExpectation('legacy-v3.1')).user_key;
  logPath = join(fileTempDir('dos-seed-log-'), 'discord-drive-history.json');
  world = await startBotWorld({
    userKey: key,
    prepare: (emu) => {
      storageId = emu.createChannel({ name: 'storage' }).id;
      member = emu.createMember({ username: 'member', permissions: Permissions.ViewChannel | Permissions.SendMessages }).user.id;
      outsider = emu.createMember({ username: 'outsider', permissions: Permissions.ViewChannel | Permissions.SendMessages }).user.id;
      return { historyLog: logPath, storageChannelId: storageId, allowedUsers: [member] };
    },
  });

  // The channel era (legacy-format.md §3.10): a header and a status message, then one message
  // per file, all by the bot; here also a file someone else posted, and a message since deleted.
  const rest = makeRest(world.emu);
  const post = async (body: Record<string, unknown>, files?: Array<{ name: string; data: Buffer }>) =>
    ((await rest.post(Routes.channelMessages(storageId), { body, ...(files ? { files } : {}) })) as { id: string }).id;
  const files = await fixtureFiles();
  fixtureNames = files.map((f) => f.name).sort();
  oldIds.push(await post({ content: `📦 **Archive: ${ID}** | **Timestamp: 2025-01-15 10:00:00**` }));
  oldIds.push(await post({ content: `📤 Uploading ${files.length} file(s)...` }));
  for (const f of files) oldIds.push(await post({}, [f]));
  const planted = world.emu.injectUserMessage({
    channelId: storageId, authorId: outsider, files: [{ name: 'zz-manifest_000000_010101.json', data: '{"version":"2.1","files":{}}' }],
  }) as { id: string };
  oldIds.push(planted.id);
  const gone = await post({ content: 'deleted later' });
  await rest.delete(Routes.channelMessage(storageId, gone));

  const n = (id: string) => new LosslessNumber(id);
  const log = [
    // Card era: not touched by the migration (its snowflakes must stay bare integers).
    {
      lot: 1, archive_id: '#010125-01', timestamp: '2025-01-01 08:00:00', message_ids: [n('1405000000000000002')], status: 'success', file_count: 1,
      total_size_bytes: 10, uploaded_files: ['a.bin'], failed_files: [], thread_id: n('1405000000000000003'), archive_message_id: n(CARD_ERA_CARD),
      archive_channel_id: n('1405000000000000004'), storage_channel_id: null, chunk_count: 1,
    },
    // Pre-repo: no archive_id (derived from lot + timestamp); its only message is gone.
    { lot: 2, timestamp: '2025-01-10 09:00:00', message_ids: [n(gone)], status: 'success', file_count: 1, total_size_bytes: 5 },
    // Channel era, with the files above.
    {
      lot: 3, archive_id: ID, timestamp: '2025-01-15 10:00:00', message_ids: oldIds.map(n), status: 'success', file_count: files.length,
      total_size_bytes: files.reduce((s, f) => s + f.data.length, 0), uploaded_files: files.map((f) => f.name), failed_files: [],
    },
  ];
  originalLog = stringifyPythonIndented(log);
  writeFileSync(logPath, originalLog);
});

afterAll(async () => {
  await world?.close();
  if (world) rmSync(world.root, { recursive: true, force: true });
  if (logPath) rmSync(dirname(logPath), { recursive: true, force: true });
});

function cardsOf(id: string): MessageRecord[] {
  return world.emu.state.messages(world.emu.archiveChannelId)
    .filter((m) => m.authorId === world.emu.botUser.id && m.embeds.some((e) => e['title'] === `📦 Archive ${id}`));
}

function legacyThreads() {
  return world.emu.state.threads(world.emu.archiveChannelId).filter((t) => t.name.endsWith(' legacy'));
}

function threadAttachments(threadId: string): string[] {
  return world.emu.state.messages(threadId).flatMap((m) => world.emu.state.attachments(m.id).map((a) => a.filename)).sort();
}

describe('!migrate-legacy', () => {
  it('is refused to a member who is not an admin; nothing is created', async () => {
    expect(answer(await command(world, '!migrate-legacy', { authorId: member, done: migrated }))).toBe('⛔ Admin permissions required.');
    expect(cardsOf(ID)).toEqual([]);
    expect(readFileSync(logPath, 'utf8')).toBe(originalLog);
  });

  it('moves a channel-era archive into a legacy card and thread, copying only what the bot posted', async () => {
    const reply = answer(await command(world, '!migrate-legacy', { done: migrated, timeoutMs: 60_000 }));
    expect(reply).toMatch(/^✅ Legacy archives migrated to archive cards and threads\.\n📦 Migrated: 1 • ⏭️ Migrated earlier: 0 • ⚠️ Not migrated: 1/);
    expect(reply).toContain(`• ${ID}: 8 attachment(s) copied; 1 posted by someone else not copied`);
    expect(reply).toMatch(new RegExp(`⚠️ ${PRE_REPO_ID}: none of its 1 old message\\(s\\) holds an attachment the bot posted .*1 message\\(s\\) gone.*nothing was created`));

    // The card: the seed's migrated-card metadata (§4.9), the thread and its messages.
    const cards = cardsOf(ID);
    expect(cards).toHaveLength(1);
    const thread = legacyThreads().find((t) => t.name === `${ID} legacy`)!;
    expect(thread).toBeDefined();
    expect(thread.starterMessageId).toBe(cards[0]!.id);
    expect(thread.thread!.autoArchiveDuration).toBe(1440);
    const json = parseLosslessJson(cards[0]!.content.slice('```json\n'.length, -'\n```'.length)) as Record<string, unknown>;
    const threadMessages = world.emu.state.messages(thread.id).filter((m) => world.emu.state.attachments(m.id).length > 0).map((m) => m.id);
    expect(json).toMatchObject({
      lot: 3, archive_id: ID, timestamp: '2025-01-15 10:00:00', status: 'success', file_count: 8, chunk_count: 8,
      uploader: 'Legacy Import', legacy: true, storage_channel_id: storageId, archive_channel_id: world.emu.archiveChannelId,
      thread_id: thread.id, message_ids: threadMessages,
    });
    expect(json.files_display).toEqual(json.uploaded_files);
    expect(cards[0]!.content).toMatch(/"thread_id":\d+[,}]/);
    expect((cards[0]!.embeds[0] as { footer: { text: string } }).footer.text).toBe('Lot 3 • Uploader: Legacy Import');

    // Only the bot's attachments were copied; every old message is still there.
    expect(threadAttachments(thread.id)).toEqual(fixtureNames);
    for (const id of oldIds) expect(world.emu.state.message(id)?.deleted, id).toBe(false);
    // The entry with nothing to copy got nothing at all.
    expect(cardsOf(PRE_REPO_ID)).toEqual([]);

    // The log: that entry now names its card and thread, ids as bare integers; nothing else changed.
    const text = readFileSync(logPath, 'utf8');
    const entries = parseHistoryLog(text);
    expect(entries[2]).toMatchObject({ archiveId: ID, era: 'migrated', archiveMessageId: cards[0]!.id, threadId: thread.id, messageIds: threadMessages });
    expect(text).toContain(`"archive_message_id": ${cards[0]!.id}`);
    expect(text).toContain(`"archive_message_id": ${CARD_ERA_CARD}`);
    expect(entries.slice(0, 2).map((e) => e.raw)).toEqual(parseHistoryLog(originalLog).slice(0, 2).map((e) => e.raw));
    expect(readdirSync(dirname(logPath))).toEqual(['discord-drive-history.json']); // no temporary file left

    // The store knows it as a seed archive.
    expect(world.store.archive(ID).kind).toBe('seed');
    expect(world.store.listArchives().find((a) => a.id === ID)).toMatchObject({ name: 'Holiday Photos', files: 5, status: 'complete' });
  });

  it('!download restores the migrated archive byte-exact, also after !rebuild-log confirm', async () => {
    expect(last(await command(world, '!rebuild-log confirm'))).toMatch(/Rebuilt local index/);
    expect(world.store.archive(ID).kind).toBe('seed');
    const texts = await command(world, `!download ${ID}`, { done: has(/✅ Downloaded|with errors/), timeoutMs: 60_000 });
    expect(texts.join('\n')).toMatch(/downloaded and verified/);
    const expected = await readFixtureExpectation('legacy-v3.1');
    const dest = join(world.folders.download, `[Archive] ${ID}`);
    for (const [name, file] of Object.entries(expected.files)) expect(sha256(readFileSync(join(dest, name))), name).toBe(file.sha256);
  });

  it('a second run migrates nothing', async () => {
    const before = readFileSync(logPath, 'utf8');
    const threads = legacyThreads().length;
    const reply = answer(await command(world, '!migrate-legacy', { done: migrated, timeoutMs: 60_000 }));
    expect(reply).toMatch(/^⚠️ No legacy archives migrated \(1 pre-card entry\):\n⚠️ #100125-02: none of its 1 old message/);
    expect(cardsOf(ID)).toHaveLength(1);
    expect(legacyThreads()).toHaveLength(threads);
    expect(readFileSync(logPath, 'utf8')).toBe(before);
  });

  it('a run interrupted before the log was written reuses its card: no second card, nothing copied twice', async () => {
    writeFileSync(logPath, originalLog); // as if the log write had been lost
    const thread = legacyThreads().find((t) => t.name === `${ID} legacy`)!;
    const reply = answer(await command(world, '!migrate-legacy', { done: migrated, timeoutMs: 60_000 }));
    expect(reply).toContain(`• ${ID}: 0 attachment(s) copied; 8 already in its thread; 1 posted by someone else not copied`);
    expect(cardsOf(ID)).toHaveLength(1);
    expect(legacyThreads()).toHaveLength(1);
    expect(threadAttachments(thread.id)).toEqual(fixtureNames);
    expect(parseHistoryLog(readFileSync(logPath, 'utf8'))[2]).toMatchObject({ era: 'migrated', archiveMessageId: cardsOf(ID)[0]!.id, threadId: thread.id });
  });
});

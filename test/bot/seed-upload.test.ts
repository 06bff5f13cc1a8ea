import { readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lotOf } from '../../src/core/archive-id.js';
import { isDosError } from '../../src/core/errors.js';
import { parseLosslessJson } from '../../src/legacy/index.js';
import type { MessageRecord } from '../emulator/index.js';
import { copyFixtureChunks, readFixtureExpectation, sha256, snapshotFiles } from '../helpers/seed-fixtures.js';
import { editSeedManifest, writeSeedSet } from '../helpers/seed-writer.js';
import { makeTestStore } from '../helpers/store.js';
import { noise, writeTree } from '../helpers/trees.js';
import { FAST_RETRY, command, startBotWorld, type BotWorld } from './helpers.js';

/**
 * `!upload` of a folder the seed sliced (chunks + manifest) posts it as a seed archive, exactly
 * as the seed's `!upload` did (legacy-format.md §3.2–3.6, §4.1): a card, its `{id} chunks`
 * thread, every chunk and manifest as an attachment. Nothing is reassembled; `!download`
 * restores it through the seed download path. One bot for the file; the tests run in order.
 */

let world: BotWorld;
let fixtureKey: string;
const FIXTURE_MANIFEST = '7-manifest_232332_271126.json';

const has = (re: RegExp) => (texts: string[]) => texts.some((t) => re.test(t));
const finished = has(/uploaded successfully|uploaded with errors|was not uploaded|did not finish|mixed with other files/);
const last = (texts: string[]) => texts[texts.length - 1] ?? '';

beforeAll(async () => {
  fixtureKey = (await readFixtureExpectation('legacy-v3.1')).user_key;
  world = await startBotWorld({ userKey: fixtureKey });
});

afterAll(async () => {
  await world?.close();
  if (world) rmSync(world.root, { recursive: true, force: true });
});

/** Bot messages in the archive channel that are archive cards. */
function cards(): MessageRecord[] {
  return world.emu.state.messages(world.emu.archiveChannelId)
    .filter((m) => m.authorId === world.emu.botUser.id && m.embeds.some((e) => String(e['title'] ?? '').startsWith('📦 Archive')));
}

function cardOf(id: string): MessageRecord {
  const found = cards().filter((m) => m.embeds.some((e) => e['title'] === `📦 Archive ${id}`));
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The card's JSON block, ids as exact strings. */
function cardJson(m: MessageRecord): Record<string, unknown> {
  expect(m.content.startsWith('```json\n') && m.content.endsWith('\n```')).toBe(true);
  return parseLosslessJson(m.content.slice('```json\n'.length, -'\n```'.length)) as Record<string, unknown>;
}

/** Attachment names (with sizes) the bot posted in a thread, one entry per attachment. */
function threadFiles(threadId: string): string[] {
  return world.emu.state.messages(threadId)
    .filter((m) => m.authorId === world.emu.botUser.id)
    .flatMap((m) => world.emu.state.attachments(m.id).map((a) => `${a.filename}:${a.size}`))
    .sort();
}

function threadNamed(name: string) {
  return world.emu.state.threads(world.emu.archiveChannelId).find((t) => t.name === name);
}

function localFiles(): string[] {
  return readdirSync(world.folders.upload).sort();
}

function sizesOf(dir: string): string[] {
  return readdirSync(dir).map((n) => `${n}:${readFileSync(join(dir, n)).length}`).sort();
}

describe('!upload of a seed-sliced set', () => {
  let seedId = '';

  it('posts the set as a seed archive: the seed card, a "{id} chunks" thread, every chunk and manifest attached', async () => {
    // A dos archive first: the seed archive's id comes from the same lot counter.
    writeTree(world.folders.upload, { 'first.txt': 'a dos archive\n' });
    const v4 = /Archive (#\d{6}-\d+) uploaded successfully/.exec((await command(world, '!upload', { done: finished })).join('\n'))![1]!;
    rmSync(world.folders.upload, { recursive: true, force: true });
    await copyFixtureChunks('legacy-v3.1', world.folders.upload);
    const sent = sizesOf(world.folders.upload);

    const texts = await command(world, '!upload', { done: finished, timeoutMs: 60_000 });
    const all = texts.join('\n');
    seedId = /Archive (#\d{6}-\d+) uploaded successfully/.exec(all)?.[1] ?? '';
    expect(seedId, all).not.toBe('');
    expect(lotOf(seedId)).toBe(lotOf(v4) + 1);
    expect(all).toMatch(/USER_KEY decrypts this set/);
    expect(all).toMatch(/8 attachment\(s\) \(1 manifest\(s\)\) • 5 file\(s\)/);
    expect(all).not.toContain(world.root);

    // The card: the seed's compact JSON, keys in the seed's order, ids as bare integers.
    const card = cardOf(seedId);
    const json = cardJson(card);
    const thread = threadNamed(`${seedId} chunks`)!;
    expect(thread).toBeDefined();
    expect(Object.keys(json)).toEqual([
      'lot', 'archive_id', 'timestamp', 'status', 'file_count', 'total_size_bytes', 'uploaded_files', 'failed_files', 'message_ids',
      'chunk_count', 'files_display', 'uploader', 'archive_channel_id', 'storage_channel_id', 'thread_id',
    ]);
    const expected = await readFixtureExpectation('legacy-v3.1');
    const totalBytes = sent.reduce((s, e) => s + Number(e.split(':')[1]), 0);
    expect(json).toMatchObject({
      lot: lotOf(seedId), archive_id: seedId, status: 'success', file_count: 5, total_size_bytes: totalBytes, chunk_count: 8,
      failed_files: [], uploader: world.emu.ownerUser.username, storage_channel_id: null,
      archive_channel_id: world.emu.archiveChannelId, thread_id: thread.id,
    });
    expect([...(json.files_display as string[])].sort()).toEqual(Object.keys(expected.files).sort());
    expect([...(json.uploaded_files as string[])].sort()).toEqual(sent.map((e) => e.split(':')[0]).sort());
    expect(json.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(card.content).toMatch(/"thread_id":\d+[,}]/);
    expect(card.content).not.toMatch(/progress_text|errors/);
    // The embed, as the seed drew it.
    const embed = card.embeds[0] as { title: string; color: number; fields: Array<{ name: string; value: string }>; footer: { text: string } };
    expect(embed.color).toBe(0x2ecc71);
    expect(embed.fields.map((f) => f.name)).toEqual(['📅 Timestamp', '📁 Files', '📊 Total Size', '🧩 Chunks', '✅ Status', '💾 Download']);
    expect(embed.fields[3]!.value).toBe('8 chunks');
    expect(embed.fields[4]!.value).toBe('success');
    expect(embed.fields[5]!.value).toBe(`\`!download ${seedId}\``);
    expect(embed.footer.text).toBe(`Lot ${lotOf(seedId)} • Uploader: ${world.emu.ownerUser.username}`);

    // The thread: started from the card, archived after a day, each file exactly once, no packs.
    expect(thread.starterMessageId).toBe(card.id);
    expect(thread.thread!.autoArchiveDuration).toBe(1440);
    expect(threadFiles(thread.id)).toEqual(sent);

    // Every file is in the thread, so the user's copies are gone (the seed deleted them too).
    expect(localFiles()).toEqual([]);
    expect(world.store.archive(seedId).kind).toBe('seed');
    expect(world.store.listArchives().find((a) => a.id === seedId)).toMatchObject({ name: 'Holiday Photos', files: 5, status: 'complete' });
  });

  it('!download restores it byte-exact, also after the index is rebuilt from the channel', async () => {
    const expected = await readFixtureExpectation('legacy-v3.1');
    expect(last(await command(world, '!rebuild-log confirm'))).toMatch(/Rebuilt local index/);
    expect(world.store.archive(seedId).kind).toBe('seed');
    const texts = await command(world, `!download ${seedId}`, { done: has(/✅ Downloaded|with errors/), timeoutMs: 60_000 });
    expect(texts.join('\n')).toMatch(/downloaded and verified/);
    const dest = join(world.folders.download, `[Archive] ${seedId}`);
    for (const [name, file] of Object.entries(expected.files)) expect(sha256(readFileSync(join(dest, name))), name).toBe(file.sha256);
  });
});

describe('a set that cannot be restored is refused before anything is posted', () => {
  /** Runs `!upload` and checks that no card, thread, attachment or index entry appeared and the folder is untouched. */
  async function refused(pattern: RegExp): Promise<void> {
    const before = { cards: cards().length, threads: world.emu.state.threads(world.emu.archiveChannelId).length, archives: world.store.listArchives().length };
    const files = await snapshotFiles(world.folders.upload);
    const reply = last(await command(world, '!upload', { done: finished, timeoutMs: 30_000 }));
    expect(reply).toMatch(pattern);
    if (!/mixed with other files/.test(reply)) expect(reply).toMatch(/Nothing was posted/);
    expect(reply).not.toContain(world.root);
    expect(cards().length).toBe(before.cards);
    expect(world.emu.state.threads(world.emu.archiveChannelId).length).toBe(before.threads);
    expect(world.store.listArchives().length).toBe(before.archives);
    expect(await snapshotFiles(world.folders.upload)).toEqual(files);
  }

  async function freshFixture(): Promise<void> {
    rmSync(world.folders.upload, { recursive: true, force: true });
    await copyFixtureChunks('legacy-v3.1', world.folders.upload);
  }

  it('a chunk the manifest lists is missing, or has another size', async () => {
    await freshFixture();
    unlinkSync(join(world.folders.upload, '0004-988d78314a6f-50d6a09f7921d289-0001.bin'));
    await refused(/was not uploaded: chunk 0004-988d78314a6f-50d6a09f7921d289-0001\.bin of notes-big\.txt .*is missing/);
    await freshFixture();
    writeFileSync(join(world.folders.upload, '0007-d0730f7d768a-9d473320bd30626c-0000.bin'), 'short');
    await refused(/0007-d0730f7d768a-9d473320bd30626c-0000\.bin .* is 5 bytes but the manifest recorded 307358/);
  });

  it('hostile names in the manifest (.., /, NUL) are refused', async () => {
    const manifest = () => join(world.folders.upload, FIXTURE_MANIFEST);
    await freshFixture();
    await editSeedManifest(manifest(), (m) => {
      (Object.values(m.files)[0] as any).chunks[0].name = '../0001-78907f14915c-00f40c1d9fbb8201-0000.bin';
    });
    await refused(/was not uploaded: manifest 7-manifest_232332_271126\.json: refusing unsafe .*"\.\.\/0001/);
    await freshFixture();
    await editSeedManifest(manifest(), (m) => {
      (Object.values(m.files)[1] as any).original_name = '/etc/passwd';
    });
    await refused(/was not uploaded: manifest .*: refusing unsafe original_name .*passwd.*: it is absolute/);
    await freshFixture();
    await editSeedManifest(manifest(), (m) => {
      (Object.values(m.files)[1] as any).original_name = 'a\u0000b.txt';
    });
    await refused(/was not uploaded: manifest .*: refusing unsafe original_name .*NUL byte/);
    await freshFixture();
    await editSeedManifest(manifest(), (m) => {
      m.source_folder = '../outside';
    });
    await refused(/was not uploaded: manifest .*: refusing unsafe .*"\.\.\/outside"/);
  });

  it('names Discord would change, stray chunks and other files are refused', async () => {
    await freshFixture();
    renameSync(join(world.folders.upload, '0006-c0e777386284-3b742b1bdda1d15c-0000.bin'), join(world.folders.upload, '0006 renamed.bin'));
    await editSeedManifest(join(world.folders.upload, FIXTURE_MANIFEST), (m) => {
      for (const f of Object.values(m.files) as any[]) for (const c of f.chunks) if (c.name.startsWith('0006-')) c.name = '0006 renamed.bin';
    });
    await refused(/was not uploaded: the file name "0006 renamed\.bin" has characters Discord would change/);
    await freshFixture();
    writeFileSync(join(world.folders.upload, '0099-leftover-from-an-earlier-run-0000.bin'), noise(100, 1));
    await refused(/chunks no manifest lists \(0099-leftover-from-an-earlier-run-0000\.bin\)/);
    await freshFixture();
    writeFileSync(join(world.folders.upload, 'evil\\name.bin'), 'x');
    await refused(/was not uploaded: refusing unsafe file name .*backslash/);
    await freshFixture();
    writeFileSync(join(world.folders.upload, 'stray.txt'), 'x');
    await refused(/seed set .* mixed with other files \(stray\.txt\)/);
  });

  it('a set USER_KEY does not decrypt is refused (it could never be restored with this key)', async () => {
    rmSync(world.folders.upload, { recursive: true, force: true });
    await writeSeedSet({ format: '3.1', dir: world.folders.upload, files: [{ name: 'secret.txt', data: Buffer.from('sliced with another key\n') }], sourceFolder: 'Other', userKey: 'a different passphrase' });
    await refused(/was not uploaded: USER_KEY does not decrypt .*secret\.txt/);
  });
});

describe('interrupted uploads', () => {
  /** An unencrypted (2.1) set of 14 attachments: two messages of up to 10. */
  async function plainSet(seed: number): Promise<{ data: Buffer; sent: string[] }> {
    rmSync(world.folders.upload, { recursive: true, force: true });
    const data = noise(13_000, seed);
    await writeSeedSet({ format: '2.1', dir: world.folders.upload, files: [{ name: 'plain.dat', data }], sourceFolder: `Plain${seed}`, chunkSize: 1000 });
    return { data, sent: sizesOf(world.folders.upload) };
  }
  const threadPosts = () => new RegExp(`^/channels/(?!${world.emu.archiveChannelId})\\d+/messages$`);

  it('a message that cannot be posted gives a partial card; the files stay; !resume posts only what is missing', async () => {
    const { data, sent } = await plainSet(31);
    expect(sent).toHaveLength(14);
    // Every attempt at the first message into the thread fails (retries included); the second goes through.
    world.emu.faults.serverError({ method: 'POST', path: threadPosts(), count: FAST_RETRY.attempts, status: 502 });
    const texts = await command(world, '!upload', { done: finished, timeoutMs: 60_000 });
    world.emu.faults.clear();
    const reply = texts.join('\n');
    const id = /Archive (#\d{6}-\d+) uploaded with errors/.exec(reply)?.[1] ?? '';
    expect(id, reply).not.toBe('');
    expect(reply).toMatch(/Uploaded: 4\/14/);
    expect(reply).toMatch(new RegExp(`Use \`!resume ${id}\` to continue`));

    let json = cardJson(cardOf(id));
    expect(json.status).toBe('partial');
    // Each failed file with its reason; the lists themselves went, by the seed's own 1800-character rule.
    expect(Object.keys(json.errors as object)).toHaveLength(10);
    expect(Object.values(json.errors as object)[0]).toMatch(/Bad Gateway/);
    expect(json.metadata_truncated).toBe(true);
    expect((cardOf(id).embeds[0] as { color: number }).color).toBe(0xf1c40f);
    expect(sizesOf(world.folders.upload)).toEqual(sent); // nothing deleted before the card says success
    expect(world.store.listArchives().find((a) => a.id === id)?.status).toBe('partial');

    // A folder holding something else is not "the same upload": refused, nothing posted.
    writeFileSync(join(world.folders.upload, '0099-data_x_y_0000.bin'), 'x');
    expect(last(await command(world, `!resume ${id}`, { done: has(/completed|could not be resumed|still has/) }))).toMatch(/could not be resumed: the folder also holds chunks no manifest lists/);
    unlinkSync(join(world.folders.upload, '0099-data_x_y_0000.bin'));

    const resumed = await command(world, '!resume', { done: has(/successfully completed|still has failed|could not be resumed/), timeoutMs: 60_000 });
    expect(last(resumed)).toMatch(new RegExp(`✅ Archive ${id} successfully completed\\.\\n📦 Chunks: 14 \\(10 posted now\\)`));
    json = cardJson(cardOf(id));
    expect(json.status).toBe('success');
    expect(json.errors).toBeUndefined();
    expect(cardOf(id).content).not.toMatch(/progress_text/);
    // Each file exactly once in the thread, and the folder is empty.
    expect(threadFiles(threadNamed(`${id} chunks`)!.id)).toEqual(sent);
    expect(localFiles()).toEqual([]);
    expect(last(await command(world, '!resume'))).toMatch(/No failed uploads to resume/);

    await command(world, `!download ${id}`, { done: has(/✅ Downloaded|with errors/), timeoutMs: 30_000 });
    expect(readFileSync(join(world.folders.download, `[Archive] ${id}`, 'plain.dat'))).toEqual(data);
  });

  it('a response lost after Discord stored the message is retried with the same nonce: nothing is posted twice', async () => {
    const { sent } = await plainSet(32);
    world.emu.faults.dropConnection({ method: 'POST', path: threadPosts(), count: 2 });
    const reply = (await command(world, '!upload', { done: finished, timeoutMs: 60_000 })).join('\n');
    world.emu.faults.clear();
    const id = /Archive (#\d{6}-\d+) uploaded successfully/.exec(reply)?.[1] ?? '';
    expect(id, reply).not.toBe('');
    expect(world.emu.stats.droppedConnections).toBeGreaterThanOrEqual(2);
    expect(threadFiles(threadNamed(`${id} chunks`)!.id)).toEqual(sent);
  });
});

describe('without Discord', () => {
  it('the local store refuses a seed upload with a clear error and touches nothing', async () => {
    const { store, home } = await makeTestStore();
    try {
      const dir = join(home, 'set');
      await copyFixtureChunks('legacy-v3.1', dir);
      const err = await store.uploadSeedSet(dir).catch((e: unknown) => e);
      expect(isDosError(err, 'UNSUPPORTED')).toBe(true);
      expect((err as Error).message).toMatch(/seed archives live on Discord/);
      expect(readdirSync(dir)).toHaveLength(8);
      expect(store.listArchives()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

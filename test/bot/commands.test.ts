import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Events, Routes, type Message } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRest } from '../emulator/harness.js';
import { Permissions } from '../emulator/index.js';
import { packAttachments } from '../discord/helpers.js';
import { postFixture } from '../discord/seed-post.js';
import { readFixtureExpectation, sha256 } from '../helpers/seed-fixtures.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';
import { botMessagesAfter, command, silence, sleep, startBotWorld, type BotWorld } from './helpers.js';

/**
 * The companion bot against the emulator over real sockets: a user's message arrives over the
 * gateway, the bot answers through REST, the test reads the emulator's state. One bot for the
 * file; the tests run in order and build on each other (upload, then list, download...).
 */

let world: BotWorld;
let userKey: string;
/** A member with the allowed role (by name), one with no role, one on the user allow-list. */
let archivist: string;
let stranger: string;
let listed: string;
const ROLE = 'Archivists';

const last = (texts: string[]) => texts[texts.length - 1] ?? '';
const has = (re: RegExp) => (texts: string[]) => texts.some((t) => re.test(t));

beforeAll(async () => {
  userKey = (await readFixtureExpectation('legacy-v3.1')).user_key;
  world = await startBotWorld({
    userKey,
    prepare: (emu) => {
      const role = emu.createRole({ name: ROLE, permissions: Permissions.ViewChannel | Permissions.SendMessages });
      archivist = emu.createMember({ username: 'archivist', roles: [role.id] }).user.id;
      stranger = emu.createMember({ username: 'stranger', permissions: Permissions.ViewChannel | Permissions.SendMessages }).user.id;
      listed = emu.createMember({ username: 'listed' }).user.id;
      return { allowedRole: ROLE.toLowerCase(), allowedUsers: [listed] };
    },
  });
});

afterAll(async () => {
  await world?.close();
  if (world) rmSync(world.root, { recursive: true, force: true });
});

describe('help and errors', () => {
  it('!help lists every command and leaks no local path', async () => {
    const texts = await command(world, '!help');
    const help = texts[0]!;
    for (const c of ['!upload', '!download', '!resume', '!status', '!history', '!archives', '!verify', '!rebuild-log', '!migrate-legacy', '!cleanup']) expect(help).toContain(c);
    expect(help).not.toContain(world.root);
    expect(help).not.toMatch(/\/tmp|lot_history/);
    expect(help.length).toBeLessThanOrEqual(2000);
  });

  it('an unknown command gets the command list; missing arguments get usage', async () => {
    expect(last(await command(world, '!frobnicate'))).toMatch(/Invalid command[\s\S]*!download/);
    expect(last(await command(world, '!verify'))).toMatch(/Which archive\? Usage: `!verify <archive_id>`/);
    expect(last(await command(world, '!download'))).toMatch(/Which archive\?.*!download <start>/);
    expect(last(await command(world, '!cleanup'))).toMatch(/Usage: `!cleanup <archive_id>`/);
  });

  it('!history and !archives on an empty store', async () => {
    expect(last(await command(world, '!history'))).toBe('📭 No history found yet.');
    expect(last(await command(world, '!archives'))).toBe('📭 No archives found.');
    expect(last(await command(world, '!resume'))).toMatch(/No failed uploads to resume/);
  });
});

describe('access control', () => {
  it('a member without the allowed role is refused; with it (or on the user list) accepted', async () => {
    expect(last(await command(world, '!status', { authorId: stranger }))).toMatch(/⛔ You are not allowed/);
    expect(last(await command(world, '!status', { authorId: archivist }))).toMatch(/📊 \*\*Bot Status\*\*/);
    expect(last(await command(world, '!status', { authorId: listed }))).toMatch(/📊 \*\*Bot Status\*\*/);
    // An unknown command from someone not allowed says "not allowed", not the command list.
    expect(last(await command(world, '!nope', { authorId: stranger }))).toMatch(/⛔/);
  });

  it('an admin command from a non-admin is refused; a Manage Server member may run it', async () => {
    expect(last(await command(world, '!rebuild-log', { authorId: archivist }))).toBe('⛔ Admin permissions required.');
    expect(last(await command(world, '!cleanup #010101-01', { authorId: listed }))).toBe('⛔ Admin permissions required.');
    const manager = world.emu.createMember({ username: 'manager', permissions: Permissions.ManageGuild }).user.id;
    expect(last(await command(world, '!rebuild-log', { authorId: manager }))).toMatch(/🧾 Rebuild preview: local 0 entries/);
  });

  it('other bots are ignored, also in other channels of the server', async () => {
    const otherBot = world.emu.createUser({ username: 'otherbot', bot: true });
    world.emu.createMember({ userId: otherBot.id, permissions: Permissions.Administrator });
    expect(await silence(world, '!help', { authorId: otherBot.id })).toEqual([]);
    const commands = world.emu.createChannel({ name: 'commands' });
    expect(last(await command(world, '!history', { channelId: commands.id }))).toBe('📭 No history found yet.');
  });
});

describe('upload, list, download, verify', () => {
  let firstId = '';
  const tree = { 'photos/beach.jpg': noise(700_000, 3), 'notes.txt': 'hello from the bot\n', 'Ünïcödé name.md': '# ü\n' };

  it('!upload archives the upload folder through the store; the backend posts the one card', async () => {
    writeTree(world.folders.upload, tree);
    const cardsBefore = cards();
    const texts = await command(world, '!upload', { authorId: archivist, done: has(/uploaded successfully|did not finish/) });
    const done = texts.find((t) => /uploaded successfully/.test(t));
    expect(done, JSON.stringify(texts)).toBeDefined();
    firstId = /Archive (#\d{6}-\d+)/.exec(done!)![1]!;
    expect(done).toMatch(/Encryption: Enabled/);
    expect(done).toMatch(/Files: 3/);
    expect(texts.join('\n')).not.toContain(world.root);
    expect(world.store.listArchives().map((a) => a.id)).toEqual([firstId]);
    // Exactly one new card, written by the backend (not the bot's reply channel logic).
    expect(cards().length).toBe(cardsBefore.length + 1);
    // The files stay in the upload folder (the reply says so).
    expect(existsSync(join(world.folders.upload, 'notes.txt'))).toBe(true);
  });

  it('!archives and !status show it; a fake card by another user is ignored', async () => {
    // A card-looking message by a human, naming a made-up archive and a thread.
    world.emu.injectUserMessage({
      channelId: world.emu.archiveChannelId, authorId: stranger,
      content: '```json\n{"lot":99,"archive_id":"#010199-99","status":"success","thread_id":"1"}\n```',
      embeds: [{ title: '📦 Archive #010199-99', fields: [{ name: '✅ Status', value: 'success' }] }],
    });
    await sleep(200);
    const list = last(await command(world, '!archives'));
    expect(list).toContain(firstId);
    expect(list).not.toContain('#010199-99');
    expect(last(await command(world, '!archives 010199'))).toBe('📭 No archives found.');
    expect(last(await command(world, '!download #010199-99'))).toMatch(/Archive #010199-99 not found/);
    expect(last(await command(world, '!verify 010199-99'))).toMatch(/Archive #010199-99 not found/);
    const status = last(await command(world, '!status'));
    expect(status).toMatch(/Upload queue: 3 file\(s\)/);
    expect(status).toContain(`Last Archive: ${firstId} • Status: complete`);
  });

  it('!download restores byte-exact into the download folder, with progress', async () => {
    const texts = await command(world, `!download ${firstId.slice(1).replace(/-0*/, '-')}`, { done: has(/✅ Downloaded|with errors/) });
    expect(texts[0]).toMatch(/📥 Starting download #\d{6}-\d+ \(1 archive\(s\), 3 files\)/);
    expect(texts.join('\n')).toMatch(/downloaded and verified/);
    const dest = join(world.folders.download, `[Archive] ${firstId}`);
    expect(snapshot(dest)).toEqual(snapshot(world.folders.upload));
    // Run again: everything is already there and identical.
    const again = await command(world, `!download ${firstId}`, { done: has(/✅ Downloaded|with errors/) });
    expect(again.join('\n')).toMatch(/Already there: 3/);
    // The archive changes (a new version through the mount, say): a download replaces what differs.
    const name = Object.keys(snapshot(dest)).sort()[0]!;
    const changed = join(world.root, 'changed.txt');
    writeFileSync(changed, 'a new version\n');
    await world.store.applyChanges(firstId, [{ op: 'put-file', path: name, source: changed, mode: 0o644, mtimeMs: Date.now() }]);
    const third = await command(world, `!download ${firstId}`, { done: has(/✅ Downloaded|with errors/) });
    expect(third.join('\n')).toMatch(/downloaded and verified[\s\S]*Restored: 1 • ⏭️ Already there: 2/);
    expect(readFileSync(join(dest, name), 'utf8')).toBe('a new version\n');
  });

  it('hostile arguments cannot reach outside the folders', async () => {
    const before = readdirSync(world.root).sort();
    const downloads = readdirSync(world.folders.download).sort();
    for (const arg of ['../../etc', '/etc/passwd', '..', '#010101-01/../../x', '`@everyone`', 'C:\\Windows', '%2e%2e%2f']) {
      const reply = last(await command(world, `!download ${arg}`));
      expect(reply).toMatch(/Invalid download target/);
      // User text is shown only inside a code span it cannot break out of (backticks removed).
      if (arg.includes('@')) expect(reply).toContain('target `@everyone`.');
      expect(last(await command(world, `!verify ${arg}`))).toMatch(/Invalid archive id/);
    }
    expect(last(await command(world, '!archives ../../'))).toBe('📭 No archives found.');
    expect(readdirSync(world.root).sort()).toEqual(before);
    expect(readdirSync(world.folders.download).sort()).toEqual(downloads);
  });

  it('!verify checks the packs for real and names the missing ones', async () => {
    expect(last(await command(world, `!verify ${firstId}`))).toMatch(new RegExp(`✅ Archive ${firstId} verified\\. \\d+ packs? present\\.`));
    // Delete one pack message behind the store's back.
    const pack = packAttachments(world.emu)[0]!;
    await makeRest(world.emu).delete(Routes.channelMessage(pack.channelId, pack.messageId));
    const reply = last(await command(world, `!verify ${firstId}`));
    expect(reply).toMatch(new RegExp(`⚠️ Archive ${firstId} missing 1 pack\\(s\\)\\.`));
    expect(reply).toContain(pack.filename.replace(/\.pack$/, ''));
  });

  it('!history is newest first; !download ranges by lot number', async () => {
    rmSync(world.folders.upload, { recursive: true, force: true });
    writeTree(world.folders.upload, { 'second.txt': 'second archive\n' });
    const up = await command(world, '!upload', { done: has(/uploaded successfully|did not finish/) });
    const secondId = /Archive (#\d{6}-\d+) uploaded/.exec(up.join('\n'))![1]!;
    const history = last(await command(world, '!history'));
    const lines = history.split('\n');
    expect(lines[0]).toBe('📜 **Recent Archives**');
    expect(lines[1]).toContain(secondId);
    expect(lines[2]).toContain(firstId);
    const lo = Number(secondId.split('-')[1]);
    const texts = await command(world, `!download ${lo} ${lo}`, { done: has(/✅ Downloaded|with errors/) });
    expect(texts[0]).toMatch(/\(1 archive\(s\), 1 files\)/);
    expect(readFileSync(join(world.folders.download, `[Archive] ${secondId}`, 'second.txt'), 'utf8')).toBe('second archive\n');
    expect(last(await command(world, '!download 90 95'))).toBe('⚠️ No data found for the requested range.');
  });

  it('!cleanup (admin) deletes an archive; !rebuild-log confirm rebuilds the index', async () => {
    const id = world.store.listArchives().find((a) => a.name === 'second.txt')!.id;
    expect(last(await command(world, `!cleanup ${id}`))).toMatch(new RegExp(`🗑️ Archive ${id} cleaned up`));
    expect(world.store.listArchives().map((a) => a.id)).not.toContain(id);
    expect(last(await command(world, '!rebuild-log'))).toMatch(/Rebuild preview: local 1 entries, archive channel 1 entries/);
    expect(last(await command(world, '!rebuild-log confirm'))).toMatch(/✅ Rebuilt local index from archive channel \(1 entries/);
  });
});

describe('seed archives and seed sets', () => {
  it('!download of a seed archive (the legacy-v3.1 fixture posted seed-style) restores byte-exact', async () => {
    const expected = await readFixtureExpectation('legacy-v3.1');
    await postFixture(world.emu, makeRest(world.emu), '#271126-07', 7);
    expect(last(await command(world, '!rebuild-log confirm'))).toMatch(/Rebuilt/);
    const texts = await command(world, '!download #271126-07', { done: has(/✅ Downloaded|with errors/), timeoutMs: 40_000 });
    expect(texts.join('\n')).toMatch(/downloaded and verified/);
    const dest = join(world.folders.download, '[Archive] #271126-07');
    for (const [name, file] of Object.entries(expected.files)) expect(sha256(readFileSync(join(dest, name)))).toBe(file.sha256);
  });

  // `!upload` of a seed-sliced set (posted as a seed archive) and its refusals: test/bot/seed-upload.test.ts.
});

describe('interrupted uploads', () => {
  it('an upload whose packs cannot be stored says so; !resume finishes it', async () => {
    rmSync(world.folders.upload, { recursive: true, force: true });
    writeTree(world.folders.upload, { 'big.bin': noise(400_000, 21) });
    // Every pack post into a thread fails (the archive channel, where replies go, still works).
    world.emu.faults.serverError({ method: 'POST', path: new RegExp(`^/channels/(?!${world.emu.archiveChannelId})\\d+/messages$`), count: 1000, status: 502 });
    const texts = await command(world, '!upload', { done: has(/uploaded successfully|did not finish/), timeoutMs: 40_000 });
    world.emu.faults.clear();
    expect(texts.join('\n')).toMatch(/The upload did not finish[\s\S]*Use `!resume` to continue/);
    const failed = world.store.listArchives().find((a) => a.status === 'failed');
    expect(failed).toBeDefined();
    expect(last(await command(world, '!status'))).toMatch(/❗ Failed: 1/);
    const resumed = await command(world, `!resume ${failed!.id}`, { done: has(/successfully completed|still has failed/), timeoutMs: 40_000 });
    expect(last(resumed)).toMatch(new RegExp(`✅ Archive ${failed!.id} successfully completed\\.`));
    expect(last(await command(world, '!resume'))).toMatch(/No failed uploads to resume/);
    expect(last(await command(world, `!verify ${failed!.id}`))).toMatch(/verified/);
  });
});

describe('gateway drops and slash commands', () => {
  it('a dropped gateway connection does not duplicate replies or work', async () => {
    rmSync(world.folders.upload, { recursive: true, force: true });
    writeTree(world.folders.upload, { 'during-drop.txt': noise(300_000, 11) });
    const archivesBefore = world.store.listArchives().length;
    let delivered: Message | undefined;
    world.bot.client.once(Events.MessageCreate, (m) => (delivered = m));
    const sent = world.emu.injectUserMessage({ channelId: world.emu.archiveChannelId, content: '!upload' }) as { id: string };
    world.emu.faults.gateway.drop();
    const deadline = Date.now() + 20_000;
    while (!botMessagesAfter(world.emu, world.emu.archiveChannelId, sent.id).some((m) => /uploaded successfully|did not finish/.test(m.content))) {
      if (Date.now() > deadline) throw new Error('no upload reply');
      await sleep(50);
    }
    // Let a resume (and any replay) happen, then count.
    for (let i = 0; i < 100 && world.emu.gatewayConnections() === 0; i++) await sleep(50);
    await sleep(800);
    // The same dispatch delivered again (what a resume replay would do) is not acted on twice.
    expect(delivered?.id).toBe(sent.id);
    (world.bot.client as unknown as { emit(event: string, message: Message): boolean }).emit(Events.MessageCreate, delivered!);
    await sleep(500);
    const replies = botMessagesAfter(world.emu, world.emu.archiveChannelId, sent.id).map((m) => m.content);
    expect(replies.filter((t) => /^📤 Uploading/.test(t) || /uploaded successfully/.test(t))).toHaveLength(1);
    expect(replies.filter((t) => /uploaded successfully/.test(t))).toHaveLength(1);
    expect(world.store.listArchives().length).toBe(archivesBefore + 1);
    // And the bot still answers, once.
    world.emu.faults.gateway.reconnect();
    await sleep(300);
    expect(await command(world, '!history', { done: (t) => t.length > 0 })).toHaveLength(1);
  });

  it('/dos slash commands answer with the same permissions', async () => {
    const ok = world.emu.injectSlashCommand({ name: 'dos', options: [{ name: 'status', type: 1 }] });
    const rec = await ok.responded;
    // Acknowledged at once (a command may take longer than Discord's 3 s), then answered.
    expect(rec.callback?.type).toBe(5);
    expect(await answerOf(rec.originalMessageId!)).toMatch(/📊 \*\*Bot Status\*\*/);
    const refused = world.emu.injectSlashCommand({ name: 'dos', userId: archivist, options: [{ name: 'cleanup', type: 1, options: [{ name: 'id', type: 3, value: '#010101-01' }] }] });
    const r2 = await refused.responded;
    expect(world.emu.state.message(r2.originalMessageId!)!.content).toBe('⛔ Admin permissions required.');
    const stranger2 = world.emu.injectSlashCommand({ name: 'dos', userId: stranger, options: [{ name: 'history', type: 1 }] });
    expect(world.emu.state.message((await stranger2.responded).originalMessageId!)!.content).toMatch(/⛔ You are not allowed/);
  });
});

/** The text that replaced a deferred slash command's "thinking..." message. */
async function answerOf(messageId: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const content = world.emu.state.message(messageId)?.content ?? '';
    if (content !== '') return content;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the slash command was never answered');
}

/** Archive cards in the archive channel (messages with an embed titled "📦 Archive …") by the bot. */
function cards() {
  return world.emu.state.messages(world.emu.archiveChannelId).filter((m) => m.authorId === world.emu.botUser.id && m.embeds.some((e) => String(e['title'] ?? '').startsWith('📦 Archive')));
}

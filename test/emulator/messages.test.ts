import { AttachmentBuilder, type Client, DiscordAPIError, EmbedBuilder, Events, type Message, type REST, type TextChannel, ThreadAutoArchiveDuration } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, MessageType, Permissions } from './index.js';
import { bytes, waitFor, closeSession, loggedInSession } from './harness.js';

describe('messages, attachments, threads, pins through discord.js', () => {
  let emu: Emulator;
  let client: Client;
  let rest: REST;
  let channel: TextChannel;

  beforeAll(async () => {
    ({ emu, client, rest, channel } = await loggedInSession());
  });
  afterAll(() => closeSession({ emu, client }));

  it('sends 2 files multipart and downloads both byte-exact from the CDN URLs', async () => {
    const a = bytes(300_000, 1);
    const b = bytes(5_000, 2);
    const msg = await channel.send({
      content: 'chunks',
      files: [new AttachmentBuilder(a, { name: 'chunk 000.bin', description: 'first' }), new AttachmentBuilder(b, { name: 'chunk.001.bin' })],
    });
    const atts = [...msg.attachments.values()];
    expect(atts.map((x) => x.name)).toEqual(['chunk_000.bin', 'chunk.001.bin']); // spaces become _
    expect(atts.map((x) => x.size)).toEqual([a.length, b.length]);
    expect(atts[0]!.description).toBe('first');
    for (const [att, want] of [[atts[0]!, a], [atts[1]!, b]] as const) {
      expect(att.url).toMatch(/\?ex=[0-9a-f]+&is=[0-9a-f]+&hm=[0-9a-f]{64}&$/);
      const res = await fetch(att.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(want.length));
      expect(Buffer.from(await res.arrayBuffer()).equals(want)).toBe(true);
      const proxied = await fetch(att.proxyURL);
      expect(Buffer.from(await proxied.arrayBuffer()).equals(want)).toBe(true);
    }
    // the emulator keeps the bytes
    expect(emu.state.attachments(msg.id).map((x) => x.data.equals(x.id === atts[0]!.id ? a : b))).toEqual([true, true]);
    expect(emu.stats.cdnBytes(atts[0]!.id)).toBe(2 * a.length);
  });

  it('an embed-only edit keeps the attachments; attachments: [] removes them and the CDN forgets them', async () => {
    const msg = await channel.send({ files: [new AttachmentBuilder(bytes(1000, 3), { name: 'keep.bin' })] });
    const url = msg.attachments.first()!.url;
    const edited = await msg.edit({ embeds: [new EmbedBuilder().setTitle('card').setDescription('archive #010125-01')] });
    expect(edited.embeds[0]?.title).toBe('card');
    expect(edited.attachments.size).toBe(1);
    expect(edited.editedTimestamp).not.toBeNull();
    const stripped = await msg.edit({ attachments: [] });
    expect(stripped.attachments.size).toBe(0);
    expect(stripped.embeds.length).toBe(1);
    expect((await fetch(url)).status).toBe(404);
  });

  it('creates a thread from a message, sends into it, and pages its history (before/limit, newest first)', async () => {
    const card = await channel.send({ content: 'archive card' });
    const thread = await channel.threads.create({ name: 'packs', startMessage: card, autoArchiveDuration: ThreadAutoArchiveDuration.OneWeek });
    expect(thread).not.toBeNull();
    expect(thread.id).toBe(card.id);
    expect(thread.parentId).toBe(channel.id);
    expect(thread.guildId).toBe(emu.guildId);
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await thread.send(`pack ${i}`));
    const page = await thread.messages.fetch({ limit: 2, before: sent[4]!.id });
    expect([...page.values()].map((m) => m.content)).toEqual(['pack 3', 'pack 2']);
    const all = await thread.messages.fetch({ limit: 100 });
    // the thread starts with Discord's THREAD_STARTER_MESSAGE system message
    expect([...all.values()].at(-1)?.type).toBe(MessageType.ThreadStarterMessage);
    expect(all.size).toBe(6);
    const after = await thread.messages.fetch({ after: sent[1]!.id, limit: 10 });
    expect([...after.values()].map((m) => m.content)).toEqual(['pack 4', 'pack 3', 'pack 2']);
    // a second thread on the same message is refused
    await expect(channel.threads.create({ name: 'again', startMessage: card })).rejects.toMatchObject({ code: 160004 });
    // active threads list + the starter message knows its thread
    const active = await client.guilds.cache.get(emu.guildId)!.channels.fetchActiveThreads();
    expect(active.threads.has(thread.id)).toBe(true);
    const refetched = await channel.messages.fetch({ message: card.id, force: true });
    expect(refetched.hasThread).toBe(true);
  });

  it('creates a thread without a start message (guild_id present, THREAD_CREATED system message) and deletes it', async () => {
    const created = waitFor(client, Events.ThreadCreate, () => true);
    const thread = await channel.threads.create({ name: 'standalone', type: 11 });
    expect(thread).not.toBeNull();
    expect(thread.guildId).toBe(emu.guildId);
    await created;
    const last = emu.state.messages(channel.id).at(-1)!;
    expect(last.type).toBe(MessageType.ThreadCreated);
    await thread.send('inside');
    const deleted = waitFor(client, Events.ThreadDelete, (t: { id: string }) => t.id === thread.id);
    await thread.delete();
    await deleted;
    expect(emu.state.channel(thread.id)?.deleted).toBe(true);
    await expect(client.channels.fetch(thread.id, { force: true })).rejects.toMatchObject({ code: 10003 });
  });

  it('pins and unpins (PUT/DELETE pins, GET pins, pinned flag, CHANNEL_PINS_UPDATE)', async () => {
    const keyring = await channel.send('keyring');
    const pinsUpdate = waitFor(client, Events.ChannelPinsUpdate, () => true);
    await keyring.pin();
    await pinsUpdate;
    const pins = await channel.messages.fetchPins();
    expect(pins.items.map((p) => p.message.id)).toEqual([keyring.id]);
    expect((await channel.messages.fetch({ message: keyring.id, force: true })).pinned).toBe(true);
    const legacy = (await rest.get(`/channels/${channel.id}/pins`)) as Array<{ id: string; pinned: boolean }>;
    expect(legacy.map((m) => m.id)).toEqual([keyring.id]);
    expect(emu.state.pins(channel.id).map((m) => m.id)).toEqual([keyring.id]);
    // Discord posts a "pinned a message" system message
    expect(emu.state.messages(channel.id).at(-1)?.type).toBe(MessageType.ChannelPinnedMessage);
    await keyring.unpin();
    expect(emu.state.pins(channel.id)).toEqual([]);
    expect(emu.state.message(keyring.id)?.pinned).toBe(false);
  });

  it('deletes a message (MESSAGE_DELETE, then 404/10008)', async () => {
    const m = await channel.send({ content: 'bye', files: [new AttachmentBuilder(bytes(10), { name: 'x.bin' })] });
    const url = m.attachments.first()!.url;
    const gone = waitFor(client, Events.MessageDelete, (x: { id: string }) => x.id === m.id);
    await m.delete();
    await gone;
    await expect(channel.messages.fetch({ message: m.id, force: true })).rejects.toMatchObject({ code: 10008, status: 404 });
    expect((await fetch(url)).status).toBe(404);
    await expect(rest.delete(`/channels/${channel.id}/messages/${m.id}`)).rejects.toMatchObject({ code: 10008 });
  });

  it('nonce + enforce_nonce returns the same message twice', async () => {
    const body = { content: 'idempotent', nonce: 'put-42-chunk-7', enforce_nonce: true };
    const first = (await rest.post(`/channels/${channel.id}/messages`, { body })) as { id: string; nonce: string };
    const second = (await rest.post(`/channels/${channel.id}/messages`, { body })) as { id: string };
    expect(second.id).toBe(first.id);
    expect(first.nonce).toBe('put-42-chunk-7');
    expect(emu.state.messages(channel.id).filter((m) => m.content === 'idempotent')).toHaveLength(1);
    // without enforce_nonce, a duplicate is created
    const third = (await rest.post(`/channels/${channel.id}/messages`, { body: { content: 'idempotent', nonce: 'put-42-chunk-7' } })) as { id: string };
    expect(third.id).not.toBe(first.id);
  });

  it('refuses what Discord refuses: 11 files, empty, long content, embed limits, unknown ids, others’ messages', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => new AttachmentBuilder(bytes(10, i + 1), { name: `f${i}.bin` }));
    const err = await channel.send({ files: eleven }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect(err).toMatchObject({ code: 50035, status: 400 });
    expect((err as Error).message).toContain('files[BASE_TYPE_MAX_LENGTH]: Must be 10 or fewer in length.');

    await expect(rest.post(`/channels/${channel.id}/messages`, { body: {} })).rejects.toMatchObject({ code: 50006 });
    await expect(channel.send('x'.repeat(2001))).rejects.toMatchObject({ code: 50035 });
    expect((await channel.send('x'.repeat(2000))).content.length).toBe(2000);
    const tooManyFields = new EmbedBuilder().setTitle('t');
    const bigEmbed = { title: 't'.repeat(257), fields: Array.from({ length: 26 }, (_, i) => ({ name: `n${i}`, value: 'v' })) };
    const embedErr = (await rest.post(`/channels/${channel.id}/messages`, { body: { embeds: [bigEmbed] } }).catch((e: unknown) => e)) as DiscordAPIError;
    expect(embedErr.code).toBe(50035);
    expect(embedErr.message).toContain('embeds[0].title[BASE_TYPE_MAX_LENGTH]');
    expect(embedErr.message).toContain('embeds[0].fields[BASE_TYPE_MAX_LENGTH]');
    await expect(
      channel.send({ embeds: [tooManyFields.setDescription('d'.repeat(4096)), new EmbedBuilder().setDescription('d'.repeat(2000))] }),
    ).rejects.toMatchObject({ code: 50035 });

    await expect(rest.get('/channels/123456789012345678')).rejects.toMatchObject({ code: 10003, status: 404 });
    await expect(rest.get(`/channels/${channel.id}/messages/123456789012345678`)).rejects.toMatchObject({ code: 10008 });

    const theirs = emu.injectUserMessage({ channelId: channel.id, content: 'mine' });
    await expect(rest.patch(`/channels/${channel.id}/messages/${theirs['id'] as string}`, { body: { content: 'hijack' } })).rejects.toMatchObject({
      code: 50005,
      status: 403,
    });
    await expect(rest.get(`/channels/${channel.id}/messages?limit=101`)).rejects.toMatchObject({ code: 50035 });
  });

  it('bot permissions are enforced (e.g. without Attach Files)', async () => {
    const ch = emu.createChannel({ name: 'no-files', permissionOverwrites: [{ id: emu.botRoleId, type: 'role', deny: Permissions.AttachFiles }] });
    await expect(rest.post(`/channels/${ch.id}/messages`, { body: { content: 'x' }, files: [{ name: 'a.bin', data: bytes(4) }] })).rejects.toMatchObject({
      code: 50013,
      status: 403,
    });
    expect(((await rest.post(`/channels/${ch.id}/messages`, { body: { content: 'text is fine' } })) as { id: string }).id).toBeTruthy();
    const hidden = emu.createChannel({ name: 'hidden', permissionOverwrites: [{ id: emu.guildId, type: 'role', deny: Permissions.ViewChannel }] });
    await expect(rest.get(`/channels/${hidden.id}`)).rejects.toMatchObject({ code: 50001 });
  });

  it('guild, member and role routes; users/@me via %40me', async () => {
    const me = (await rest.get('/users/@me')) as { id: string; bot: boolean };
    expect(me).toMatchObject({ id: emu.botUser.id, bot: true });
    const guild = await client.guilds.fetch({ guild: emu.guildId, force: true });
    expect(guild.premiumTier).toBe(0);
    const member = await guild.members.fetch({ user: emu.botUser.id, force: true });
    expect(member.roles.cache.has(emu.botRoleId)).toBe(true);
    const admin = emu.createMember({ username: 'admin', permissions: Permissions.Administrator | Permissions.ManageGuild });
    const fetched = await guild.members.fetch({ user: admin.user.id, force: true });
    expect(fetched.permissions.has('Administrator')).toBe(true);
    const roles = await guild.roles.fetch();
    expect(roles.size).toBe(3);
  });
});

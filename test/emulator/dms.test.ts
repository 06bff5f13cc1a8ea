import { ChannelType, type Client, DiscordAPIError, type DMChannel, Events, GatewayIntentBits, type Message, Partials, Routes } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './index.js';
import { loginClient, makeRest, sleep, waitFor } from './harness.js';

/**
 * Direct messages through an unmodified discord.js 14, as Discord has them since API v8: DM
 * channels between the bot and a user, no CHANNEL_CREATE for them, MESSAGE_CREATE without
 * guild_id but with channel_type 1, only with the DIRECT_MESSAGES intent, and exempt from the
 * MESSAGE_CONTENT privileged intent.
 */

const DM_INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages];

async function apiError(p: Promise<unknown>): Promise<DiscordAPIError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DiscordAPIError) return err;
    throw err;
  }
  throw new Error('expected a DiscordAPIError');
}

describe('direct messages', () => {
  let emu: Emulator;
  /** DIRECT_MESSAGES + Partials.Channel, and deliberately no MESSAGE_CONTENT intent. */
  let client: Client;
  const raw: Array<{ t: string; d: Record<string, unknown> }> = [];

  beforeAll(async () => {
    emu = await startEmulator({ profile: 'fast' });
    client = await loginClient(emu, { intents: DM_INTENTS, partials: [Partials.Channel] });
    client.on(Events.Raw, (packet: { t: string | null; d: Record<string, unknown> }) => {
      if (packet.t) raw.push({ t: packet.t, d: packet.d });
    });
  });
  afterAll(async () => {
    await client?.destroy();
    await emu?.close();
  });

  it('POST /users/@me/channels opens one DM per user, shaped like Discord’s (no guild_id, the other user in recipients)', async () => {
    const rest = makeRest(emu);
    const body = (await rest.post(Routes.userChannels(), { body: { recipient_id: emu.ownerUser.id } })) as Record<string, unknown>;
    expect(body).toEqual({
      id: expect.stringMatching(/^\d+$/), type: 1, last_message_id: null, flags: 0,
      recipients: [expect.objectContaining({ id: emu.ownerUser.id, username: 'owner', bot: false })],
    });
    const again = (await rest.post(Routes.userChannels(), { body: { recipient_id: emu.ownerUser.id } })) as { id: string };
    expect(again.id).toBe(body['id']);
    expect(emu.state.dmChannel(emu.ownerUser.id)?.id).toBe(body['id']);
    // Bots get no CHANNEL_CREATE for DMs.
    await sleep(100);
    expect(raw.filter((p) => p.t === 'CHANNEL_CREATE')).toEqual([]);
    // A DM is no channel of the server.
    expect(emu.state.channels().map((c) => c.id)).not.toContain(body['id']);
    const guildChannels = (await rest.get(Routes.guildChannels(emu.guildId))) as Array<{ id: string }>;
    expect(guildChannels.map((c) => c.id)).not.toContain(body['id']);
  });

  it('refuses a missing, malformed or unknown recipient', async () => {
    const rest = makeRest(emu);
    expect((await apiError(rest.post(Routes.userChannels(), { body: {} }))).code).toBe(50035);
    expect((await apiError(rest.post(Routes.userChannels(), { body: { recipient_id: 'nope' } }))).code).toBe(50035);
    const unknown = await apiError(rest.post(Routes.userChannels(), { body: { recipient_id: '1234567890' } }));
    expect([unknown.status, unknown.code]).toEqual([400, 50033]);
  });

  it('client.users.createDM, then send, fetch and edit in the DM; GET /channels/{id} returns the DM', async () => {
    const user = emu.createMember({ username: 'dmuser' }).user;
    const dm = await client.users.createDM(user.id);
    expect(dm.type).toBe(ChannelType.DM);
    expect(dm.recipientId).toBe(user.id);
    const sent = await dm.send('hello in private');
    expect(sent.channelId).toBe(dm.id);
    expect(sent.guildId).toBeNull();
    const edited = await sent.edit('hello, edited');
    expect(edited.content).toBe('hello, edited');
    expect(edited.editedTimestamp).not.toBeNull();
    const fetched = await dm.messages.fetch({ limit: 10 });
    expect([...fetched.values()].map((m) => m.content)).toEqual(['hello, edited']);
    const one = await dm.messages.fetch({ message: sent.id, force: true });
    expect(one.content).toBe('hello, edited');

    const channel = await client.channels.fetch(dm.id, { force: true });
    expect(channel?.type).toBe(ChannelType.DM);
    const body = (await makeRest(emu).get(Routes.channel(dm.id))) as Record<string, unknown>;
    expect(body['guild_id']).toBeUndefined();
    expect(body['last_message_id']).toBe(sent.id);
    expect((body['recipients'] as Array<{ id: string }>).map((r) => r.id)).toEqual([user.id]);
    // A DM has no server settings to change and no bulk delete.
    expect((await apiError(makeRest(emu).patch(Routes.channel(dm.id), { body: { name: 'x' } }))).code).toBe(50003);
    expect((await apiError(makeRest(emu).post(Routes.channelBulkDelete(dm.id), { body: { messages: [sent.id, sent.id] } }))).code).toBe(50003);
  });

  it('a user’s DM arrives as MESSAGE_CREATE without guild_id, with channel_type 1 and its content (no MESSAGE_CONTENT intent needed)', async () => {
    const user = emu.createMember({ username: 'writer' }).user;
    const channelCreates = raw.filter((p) => p.t === 'CHANNEL_CREATE').length;
    const got = waitFor<[Message]>(client, Events.MessageCreate, (m) => m.author.id === user.id);
    const payload = emu.injectDirectMessage({ authorId: user.id, content: '!status' });
    const [m] = await got;
    expect(m.content).toBe('!status');
    expect(m.guildId).toBeNull();
    expect(m.member).toBeNull();
    expect(m.channel.type).toBe(ChannelType.DM);
    expect((m.channel as DMChannel).recipientId).toBe(user.id);
    expect(m.channel.id).toBe(emu.state.dmChannel(user.id)!.id);
    expect(payload['guild_id']).toBeUndefined();
    expect(payload['member']).toBeUndefined();
    expect(payload['channel_type']).toBe(1);
    const dispatched = raw.find((p) => p.t === 'MESSAGE_CREATE' && p.d['id'] === m.id)!;
    expect(dispatched.d['content']).toBe('!status');
    expect('guild_id' in dispatched.d).toBe(false);
    expect(raw.filter((p) => p.t === 'CHANNEL_CREATE').length).toBe(channelCreates);

    // The bot answers in the (partial) DM channel discord.js made from the message.
    const reply = await (m.channel as DMChannel).send('pong');
    expect(emu.state.messages(m.channel.id).map((x) => [x.authorId, x.content])).toEqual([[user.id, '!status'], [emu.botUser.id, 'pong']]);
    expect(reply.channel.type).toBe(ChannelType.DM);
    // A second DM from the same user uses the same channel.
    const second = waitFor<[Message]>(client, Events.MessageCreate, (x) => x.content === 'again');
    emu.injectDirectMessage({ authorId: user.id, content: 'again' });
    expect((await second)[0].channel.id).toBe(m.channel.id);
  });

  it('guild messages now carry channel_type 0 and keep guild_id and member', async () => {
    const payload = emu.injectUserMessage({ channelId: emu.archiveChannelId, content: 'in the server' });
    expect(payload['channel_type']).toBe(0);
    expect(payload['guild_id']).toBe(emu.guildId);
    expect(payload['member']).toBeDefined();
  });

  it('without DIRECT_MESSAGES no DM arrives; without Partials.Channel a DM from an uncached channel is dropped (as discord.js 14 does)', async () => {
    const noDmIntent = await loginClient(emu, { intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent], partials: [Partials.Channel] });
    const noPartials = await loginClient(emu, { intents: DM_INTENTS });
    try {
      const user = emu.createMember({ username: 'quiet' }).user;
      const seenBy = { noDmIntent: 0, noPartials: 0, partials: 0 };
      const isDm = (m: Message) => m.author.id === user.id && m.guildId === null;
      noDmIntent.on(Events.MessageCreate, (m) => void (isDm(m) && seenBy.noDmIntent++));
      noPartials.on(Events.MessageCreate, (m) => void (isDm(m) && seenBy.noPartials++));
      const got = waitFor<[Message]>(client, Events.MessageCreate, (m) => m.author.id === user.id);
      emu.injectDirectMessage({ authorId: user.id, content: 'anyone there?' });
      await got;
      seenBy.partials++;
      // The same user in a server channel reaches both clients, so they are listening.
      const guildSeen = waitFor<[Message]>(noDmIntent, Events.MessageCreate, (m) => m.content === 'control');
      emu.injectUserMessage({ channelId: emu.archiveChannelId, authorId: user.id, content: 'control' });
      await guildSeen;
      await sleep(100);
      expect(seenBy).toEqual({ noDmIntent: 0, noPartials: 0, partials: 1 });

      // Once the channel is cached (createDM), the client without partials gets the next DM.
      await noPartials.users.createDM(user.id);
      const cached = waitFor<[Message]>(noPartials, Events.MessageCreate, (m) => m.content === 'now?');
      emu.injectDirectMessage({ authorId: user.id, content: 'now?' });
      expect((await cached)[0].channel.type).toBe(ChannelType.DM);
    } finally {
      await noDmIntent.destroy();
      await noPartials.destroy();
    }
  });

  it('a bot cannot DM another bot (50007); injecting a DM needs a real, non-bot-user author', async () => {
    const otherBot = emu.createUser({ username: 'otherbot', bot: true });
    const dm = await client.users.createDM(otherBot.id);
    const err = await apiError(dm.send('hi bot'));
    expect([err.status, err.code]).toEqual([403, 50007]);
    expect(() => emu.injectDirectMessage({ authorId: emu.botUser.id, content: 'self' })).toThrow();
    expect(() => emu.injectDirectMessage({ authorId: '42', content: 'ghost' })).toThrow();
  });
});

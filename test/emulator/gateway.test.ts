import { Client, Events, GatewayIntentBits, type Message, type TextChannel } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Emulator, startEmulator } from './index.js';
import { loginClient, restOptions, sleep, waitFor } from './harness.js';

/** Counts messageCreate events by content. */
function counter(client: Client): Map<string, number> {
  const seen = new Map<string, number>();
  client.on(Events.MessageCreate, (m: Message) => seen.set(m.content, (seen.get(m.content) ?? 0) + 1));
  return seen;
}

describe('gateway with an unmodified discord.js Client', () => {
  let emu: Emulator;
  let client: Client;
  let seen: Map<string, number>;

  beforeAll(async () => {
    emu = await startEmulator({ profile: 'fast' });
    client = await loginClient(emu);
    seen = counter(client);
  });
  afterAll(async () => {
    await client?.destroy();
    await emu?.close();
  });

  it('logs in and is ready with the guild and its channels cached', async () => {
    expect(client.user?.id).toBe(emu.botUser.id);
    expect(client.application?.id).toBe(emu.applicationId);
    const guild = client.guilds.cache.get(emu.guildId);
    expect(guild?.available).toBe(true);
    expect(client.channels.cache.has(emu.archiveChannelId)).toBe(true);
    expect(emu.gatewayConnections()).toBe(1);
    expect(emu.stats.gateway.identifies).toBe(1);
    // a channel created later arrives through CHANNEL_CREATE
    const extra = emu.createChannel({ name: 'later' });
    await waitFor(client, Events.ChannelCreate, (c: { id: string }) => c.id === extra.id);
    expect(client.channels.cache.has(extra.id)).toBe(true);
  });

  it('emits messageCreate for an injected user message, with content', async () => {
    const got = waitFor<[Message]>(client, Events.MessageCreate, (m) => m.content === '!status');
    emu.injectUserMessage({ channelId: emu.archiveChannelId, content: '!status' });
    const [m] = await got;
    expect(m.author.id).toBe(emu.ownerUser.id);
    expect(m.author.bot).toBe(false);
    expect(m.guildId).toBe(emu.guildId);
    expect(m.channel.id).toBe(emu.archiveChannelId);
  });

  it('dispatches MESSAGE_CREATE for the bot’s own REST sends', async () => {
    const ch = client.channels.cache.get(emu.archiveChannelId) as TextChannel;
    const got = waitFor<[Message]>(client, Events.MessageCreate, (m) => m.content === 'own send');
    const sent = await ch.send('own send');
    const [viaGateway] = await got;
    expect(viaGateway.id).toBe(sent.id);
  });

  it('op 7 RECONNECT: the client resumes; messages sent during and after the gap arrive exactly once', async () => {
    const resumed = waitFor(client, Events.ShardResume, () => true, 5000);
    expect(emu.faults.gateway.reconnect()).toBe(1);
    // the client waits ~500 ms before reconnecting: this one is buffered and replayed
    emu.injectUserMessage({ channelId: emu.archiveChannelId, content: 'during-op7' });
    await resumed;
    expect(emu.stats.gateway.resumes).toBeGreaterThanOrEqual(1);
    const after = waitFor<[Message]>(client, Events.MessageCreate, (m) => m.content === 'after-op7');
    emu.injectUserMessage({ channelId: emu.archiveChannelId, content: 'after-op7' });
    await after;
    await sleep(150);
    expect(seen.get('during-op7')).toBe(1);
    expect(seen.get('after-op7')).toBe(1);
    expect(emu.stats.gateway.identifies).toBe(1);
  });

  it('close 4000: the client resumes and a message injected after the resume arrives once', async () => {
    const resumes = emu.stats.gateway.resumes;
    const resumed = waitFor(client, Events.ShardResume, () => true, 5000);
    emu.faults.gateway.close(4000);
    await resumed;
    expect(emu.stats.gateway.resumes).toBe(resumes + 1);
    const after = waitFor<[Message]>(client, Events.MessageCreate, (m) => m.content === 'after-4000');
    emu.injectUserMessage({ channelId: emu.archiveChannelId, content: 'after-4000' });
    await after;
    await sleep(150);
    expect(seen.get('after-4000')).toBe(1);
    expect(emu.stats.gateway.identifies).toBe(1);
  });

  it('a dropped TCP connection (no close frame): the client resumes', async () => {
    const resumed = waitFor(client, Events.ShardResume, () => true, 5000);
    emu.faults.gateway.drop();
    emu.injectUserMessage({ channelId: emu.archiveChannelId, content: 'during-drop' });
    await resumed;
    await sleep(150);
    expect(seen.get('during-drop')).toBe(1);
  });
});

describe('gateway: heartbeats, invalid sessions, intents, auth', () => {
  it('no HEARTBEAT_ACK: the client declares a zombie connection and resumes', async () => {
    const emu = await startEmulator({ profile: 'fast', gateway: { heartbeatIntervalMs: 250 } });
    const client = await loginClient(emu);
    try {
      const resumed = waitFor(client, Events.ShardResume, () => true, 5000);
      emu.faults.gateway.stopHeartbeatAcks(1);
      await resumed;
      expect(emu.stats.gateway.resumes).toBe(1);
      expect(emu.gatewayConnections()).toBe(1);
    } finally {
      await client.destroy();
      await emu.close();
    }
  });

  it('op 9 INVALID_SESSION (not resumable): the client re-identifies and gets READY again', async () => {
    const emu = await startEmulator({ profile: 'fast' });
    const client = await loginClient(emu);
    try {
      const seen = counter(client);
      // @discordjs/ws waits up to 6.5 s between two identifies (identify throttle)
      const ready = waitFor(client, Events.ShardReady, () => true, 12_000);
      emu.faults.gateway.invalidSession(false);
      await ready;
      expect(emu.stats.gateway.identifies).toBe(2);
      const got = waitFor<[Message]>(client, Events.MessageCreate, (m) => m.content === 'after-op9');
      emu.injectUserMessage({ channelId: emu.archiveChannelId, content: 'after-op9' });
      await got;
      expect(seen.get('after-op9')).toBe(1);
    } finally {
      await client.destroy();
      await emu.close();
    }
  }, 20_000);

  it('without the MessageContent intent, other users’ messages arrive with blank content', async () => {
    const emu = await startEmulator({ profile: 'fast' });
    const client = await loginClient(emu, { intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages] });
    try {
      const blank = waitFor<[Message]>(client, Events.MessageCreate, (m) => m.author.id === emu.ownerUser.id);
      emu.injectUserMessage({ channelId: emu.archiveChannelId, content: '!secret', files: [{ name: 'x.txt', data: 'x' }] });
      const [m] = await blank;
      expect(m.content).toBe('');
      expect(m.attachments.size).toBe(0);
      // mentioning the bot makes the content visible
      const mention = waitFor<[Message]>(client, Events.MessageCreate, (x) => x.content.includes('hello'));
      emu.injectUserMessage({ channelId: emu.archiveChannelId, content: `<@${emu.botUser.id}> hello` });
      const [mm] = await mention;
      expect(mm.mentions.users.has(emu.botUser.id)).toBe(true);
    } finally {
      await client.destroy();
      await emu.close();
    }
  });

  it('privileged intents the application lacks: close 4014, login rejects', async () => {
    const emu = await startEmulator({ profile: 'fast', privilegedIntents: { messageContent: false } });
    try {
      await expect(loginClient(emu)).rejects.toThrow(/disallowed intents/i);
    } finally {
      await emu.close();
    }
  });

  it('bad token: REST 401 → TokenInvalid; gateway IDENTIFY → close 4004', async () => {
    const emu = await startEmulator({ profile: 'fast' });
    try {
      const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: restOptions(emu) });
      await expect(client.login('not.a.token')).rejects.toThrow(/token/i);
      await client.destroy();
      const code = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${emu.gatewayUrl}?v=10&encoding=json`);
        ws.on('message', (raw) => {
          const p = JSON.parse(raw.toString()) as { op: number };
          if (p.op === 10) ws.send(JSON.stringify({ op: 2, d: { token: 'nope', intents: 1, properties: {} } }));
        });
        ws.on('close', (c) => resolve(c));
        ws.on('error', reject);
      });
      expect(code).toBe(4004);
      expect(emu.stats.invalidRequests).toBeGreaterThanOrEqual(1);
    } finally {
      await emu.close();
    }
  });

  it('zlib-stream compression (raw client): HELLO and READY inflate to JSON', async () => {
    const { createInflate, constants } = await import('node:zlib');
    const emu = await startEmulator({ profile: 'fast' });
    try {
      const events = await new Promise<string[]>((resolve, reject) => {
        const ws = new WebSocket(`${emu.gatewayUrl}?v=10&encoding=json&compress=zlib-stream`);
        const inflate = createInflate({ flush: constants.Z_SYNC_FLUSH });
        const seen: string[] = [];
        inflate.on('data', (chunk: Buffer) => {
          const p = JSON.parse(chunk.toString('utf8')) as { op: number; t: string | null };
          seen.push(p.t ?? `op${p.op}`);
          if (p.op === 10) ws.send(JSON.stringify({ op: 2, d: { token: emu.token, intents: 1, properties: {} } }));
          if (p.t === 'GUILD_CREATE') {
            ws.close(1000);
            resolve(seen);
          }
        });
        ws.on('message', (raw: Buffer) => inflate.write(raw));
        ws.on('error', reject);
      });
      expect(events).toEqual(['op10', 'READY', 'GUILD_CREATE']);
    } finally {
      await emu.close();
    }
  });
});

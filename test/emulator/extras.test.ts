import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { AttachmentBuilder, type Client, Events, type REST, type TextChannel } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, Permissions } from './index.js';
import { bytes, waitFor, closeSession, loggedInSession } from './harness.js';

interface ApiMessage {
  id: string;
  content: string;
  attachments: Array<{ id: string; filename: string; size: number }>;
}

describe('edit semantics, history paging, thread archival, bulk delete', () => {
  let emu: Emulator;
  let client: Client;
  let rest: REST;
  let channel: TextChannel;

  beforeAll(async () => {
    ({ emu, client, rest, channel } = await loggedInSession());
  });
  afterAll(() => closeSession({ emu, client }));

  it('edit: listed attachments are kept, new files added, unlisted ones removed (MESSAGE_UPDATE dispatched)', async () => {
    const m = await channel.send({ files: [new AttachmentBuilder(bytes(10, 1), { name: 'a.bin' }), new AttachmentBuilder(bytes(20, 2), { name: 'b.bin' })] });
    const [a] = [...m.attachments.values()];
    const updated = waitFor(client, Events.MessageUpdate, (_old: unknown, n: { id: string }) => n.id === m.id);
    const edited = await m.edit({ attachments: [a!], files: [new AttachmentBuilder(bytes(30, 3), { name: 'c.bin' })] });
    await updated;
    expect([...edited.attachments.values()].map((x) => x.name)).toEqual(['a.bin', 'c.bin']);
    // bare REST without an `attachments` key: existing ones are kept, the new file appended
    const appended = (await rest.patch(`/channels/${channel.id}/messages/${m.id}`, { files: [{ name: 'd.bin', data: bytes(5) }] })) as ApiMessage;
    expect(appended.attachments.map((x) => x.filename)).toEqual(['a.bin', 'c.bin', 'd.bin']);
    // discord.js with files only lists just the new ones in `attachments`: that replaces everything
    const replaced = await m.edit({ files: [new AttachmentBuilder(bytes(5, 9), { name: 'e.bin' })] });
    expect([...replaced.attachments.values()].map((x) => x.name)).toEqual(['e.bin']);
  });

  it('history: around, after, default limit 50, limit 0 refused', async () => {
    const ch = emu.createChannel({ name: 'history' });
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push(((await rest.post(`/channels/${ch.id}/messages`, { body: { content: `h${i}` } })) as ApiMessage).id);
    const def = (await rest.get(`/channels/${ch.id}/messages`)) as ApiMessage[];
    expect(def).toHaveLength(50);
    expect(def[0]!.content).toBe('h59');
    const around = (await rest.get(`/channels/${ch.id}/messages`, { query: new URLSearchParams({ around: ids[30]!, limit: '5' }) })) as ApiMessage[];
    expect(around.map((x) => x.content)).toEqual(['h32', 'h31', 'h30', 'h29', 'h28']);
    // Near an end, half the limit on each side and no more: a short page, the channel not over.
    const nearStart = (await rest.get(`/channels/${ch.id}/messages`, { query: new URLSearchParams({ around: ids[1]!, limit: '10' }) })) as ApiMessage[];
    expect(nearStart.map((x) => x.content)).toEqual(['h5', 'h4', 'h3', 'h2', 'h1', 'h0']);
    const after = (await rest.get(`/channels/${ch.id}/messages`, { query: new URLSearchParams({ after: ids[57]!, limit: '100' }) })) as ApiMessage[];
    expect(after.map((x) => x.content)).toEqual(['h59', 'h58']);
    await expect(rest.get(`/channels/${ch.id}/messages`, { query: new URLSearchParams({ limit: '0' }) })).rejects.toMatchObject({ code: 50035 });
  });

  it('threads auto-archive on the emulator clock and drop out of the active list; sending unarchives', async () => {
    const thread = await channel.threads.create({ name: 'idle', autoArchiveDuration: 60, type: 11 });
    emu.clock.advance(61 * 60_000);
    const active = (await rest.get(`/guilds/${emu.guildId}/threads/active`)) as { threads: Array<{ id: string }> };
    expect(active.threads.map((t) => t.id)).not.toContain(thread.id);
    const archived = (await rest.get(`/channels/${channel.id}/threads/archived/public`)) as { threads: Array<{ id: string }> };
    expect(archived.threads.map((t) => t.id)).toContain(thread.id);
    await rest.post(`/channels/${thread.id}/messages`, { body: { content: 'wake up' } });
    const again = (await rest.get(`/guilds/${emu.guildId}/threads/active`)) as { threads: Array<{ id: string; thread_metadata: { archived: boolean } }> };
    expect(again.threads.find((t) => t.id === thread.id)?.thread_metadata.archived).toBe(false);
  });

  it('bulk delete removes messages and their CDN files', async () => {
    const a = (await rest.post(`/channels/${channel.id}/messages`, { files: [{ name: 'x.bin', data: bytes(8) }] })) as ApiMessage & { attachments: Array<{ url: string }> };
    const b = (await rest.post(`/channels/${channel.id}/messages`, { body: { content: 'b' } })) as ApiMessage;
    await rest.post(`/channels/${channel.id}/messages/bulk-delete`, { body: { messages: [a.id, b.id] } });
    expect(emu.state.message(a.id)?.deleted).toBe(true);
    expect((await fetch(a.attachments[0]!.url)).status).toBe(404);
  });

  it('a member with Manage Server but not Manage Messages; the bot without Manage Messages cannot delete others’ messages', async () => {
    const { user } = emu.createMember({ username: 'mod', permissions: Permissions.ManageGuild });
    const theirs = emu.injectUserMessage({ channelId: channel.id, authorId: user.id, content: 'from mod' });
    emu.setBotPermissions(Permissions.ViewChannel | Permissions.SendMessages | Permissions.ReadMessageHistory);
    try {
      await expect(rest.delete(`/channels/${channel.id}/messages/${theirs['id'] as string}`)).rejects.toMatchObject({ code: 50013 });
    } finally {
      emu.setBotPermissions(Permissions.ViewChannel | Permissions.SendMessages | Permissions.ReadMessageHistory | Permissions.ManageMessages | Permissions.AttachFiles);
    }
    await rest.delete(`/channels/${channel.id}/messages/${theirs['id'] as string}`);
  });
});

describe('main.ts', () => {
  it('prints the env lines for dos and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/emulator/main.ts', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const deadline = Date.now() + 15_000;
    while (!out.includes('DISCORD_CDN_BASE=') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const env = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
    expect(Object.keys(env)).toEqual(['DISCORD_BOT_TOKEN', 'DISCORD_DRIVE_ARCHIVE_CHANNEL_ID', 'DISCORD_API_BASE', 'DISCORD_CDN_BASE']);
    expect(env['DISCORD_API_BASE']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    const me = await fetch(`${env['DISCORD_API_BASE']}/v10/users/@me`, { headers: { Authorization: `Bot ${env['DISCORD_BOT_TOKEN']}` } });
    expect(me.status).toBe(200);
    const ch = await fetch(`${env['DISCORD_API_BASE']}/v10/channels/${env['DISCORD_DRIVE_ARCHIVE_CHANNEL_ID']}`, { headers: { Authorization: `Bot ${env['DISCORD_BOT_TOKEN']}` } });
    expect(((await ch.json()) as { name: string }).name).toBe('archive');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  }, 20_000);
});

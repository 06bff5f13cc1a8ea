import { ApplicationCommandOptionType, type ChatInputCommandInteraction, type Client, Events, MessageFlags as DjsMessageFlags } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, MessageFlags, startEmulator } from './index.js';
import { loginClient, waitFor } from './harness.js';

describe('application commands and interactions (companion bot)', () => {
  let emu: Emulator;
  let client: Client;

  beforeAll(async () => {
    emu = await startEmulator({ profile: 'fast' });
    client = await loginClient(emu);
    await client.application!.commands.set(
      [
        { name: 'status', description: 'Show the archive status' },
        { name: 'get', description: 'Fetch a file', options: [{ name: 'path', description: 'path', type: ApplicationCommandOptionType.String, required: true }] },
      ],
      emu.guildId,
    );
  });
  afterAll(async () => {
    await client?.destroy();
    await emu?.close();
  });

  const next = () => waitFor<[ChatInputCommandInteraction]>(client, Events.InteractionCreate, () => true);

  it('registers guild commands (PUT) and lists them (GET)', async () => {
    const cmds = await client.application!.commands.fetch({ guildId: emu.guildId });
    expect([...cmds.values()].map((c) => c.name).sort()).toEqual(['get', 'status']);
  });

  it('delivers a slash command; reply() creates the response message', async () => {
    const got = next();
    const injected = emu.injectSlashCommand({ name: 'status' });
    const [interaction] = await got;
    expect(interaction.isChatInputCommand()).toBe(true);
    expect(interaction.commandName).toBe('status');
    expect(interaction.user.id).toBe(emu.ownerUser.id);
    await interaction.reply('3 archives, 1.2 GiB');
    const rec = await injected.responded;
    expect(rec.callback?.type).toBe(4);
    const msg = emu.state.message(rec.originalMessageId!)!;
    expect(msg.content).toBe('3 archives, 1.2 GiB');
    expect(msg.channelId).toBe(emu.archiveChannelId);
    // replying twice is refused
    await expect(interaction.reply('again')).rejects.toThrow();
  });

  it('deferReply() + editReply() + followUp() with options', async () => {
    const got = next();
    const injected = emu.injectSlashCommand({ name: 'get', options: [{ name: 'path', type: 3, value: '/photos/a.jpg' }] });
    const [interaction] = await got;
    expect(interaction.options.getString('path')).toBe('/photos/a.jpg');
    await interaction.deferReply();
    const rec = await injected.responded;
    expect(rec.callback?.type).toBe(5);
    expect(emu.state.message(rec.originalMessageId!)!.flags & MessageFlags.Loading).toBeTruthy();
    await interaction.editReply('found it');
    const original = emu.state.message(rec.originalMessageId!)!;
    expect(original.content).toBe('found it');
    expect(original.flags & MessageFlags.Loading).toBe(0);
    const follow = await interaction.followUp({ content: 'only you can see this', flags: DjsMessageFlags.Ephemeral });
    expect(follow.content).toBe('only you can see this');
    expect(rec.followUpIds).toHaveLength(1);
    expect(emu.state.message(rec.followUpIds[0]!)!.ephemeral).toBe(true);
    // ephemeral messages are not in the channel history
    expect(emu.state.raw.messageIds(emu.archiveChannelId)).not.toContain(rec.followUpIds[0]);
  });

  it('an interaction not answered within 3 s is unknown (10062)', async () => {
    const got = next();
    emu.injectSlashCommand({ name: 'status' });
    const [interaction] = await got;
    emu.clock.advance(3500);
    await expect(interaction.reply('too late')).rejects.toMatchObject({ code: 10062 });
  });

  it('refuses unregistered commands at injection', () => {
    expect(() => emu.injectSlashCommand({ name: 'nope' })).toThrow(/not registered/);
  });
});

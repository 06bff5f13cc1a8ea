import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSALS } from '../../src/bot/index.js';
import { Permissions } from '../emulator/index.js';
import { botMessagesAfter, fileTempDir, sleep, startBotWorld, type BotWorld } from './helpers.js';

/**
 * The bot answering direct messages end to end: the emulator delivers a user's DM over the
 * gateway (no guild, channel_type 1), the bot judges the author as the member they are in the
 * configured server and answers in the DM.
 */

const KEY = 'a long passphrase for the DM tests';
const ROLE = 'Archivists';

/** Sends `content` to the bot as a DM from `authorId`; resolves with the bot's replies in that DM. */
async function dm(world: BotWorld, authorId: string, content: string, opts: { quietMs?: number; timeoutMs?: number } = {}): Promise<string[]> {
  const { emu } = world;
  const sent = emu.injectDirectMessage({ authorId, content }) as { id: string; channel_id: string };
  const replies = () => botMessagesAfter(emu, sent.channel_id, sent.id).map((m) => m.content).filter((t) => t !== '');
  if (opts.quietMs !== undefined) {
    await sleep(opts.quietMs);
    return replies();
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  while (replies().length === 0) {
    if (Date.now() > deadline) throw new Error(`no DM reply to ${JSON.stringify(content)}\n${world.logs.join('\n')}`);
    await sleep(25);
  }
  return replies();
}

/** What the bot wrote anywhere in the server (to check a DM command leaves no trace there). */
function botGuildMessages(world: BotWorld): number {
  const { emu } = world;
  return emu.state.channels().flatMap((c) => emu.state.messages(c.id)).filter((m) => m.authorId === emu.botUser.id).length;
}

describe('direct messages with DOS_ALLOW_DMS off (the default)', () => {
  let world: BotWorld;
  beforeAll(async () => {
    world = await startBotWorld({ userKey: KEY });
  });
  afterAll(async () => {
    await world?.close();
    if (world) rmSync(world.root, { recursive: true, force: true });
  });

  it('even the server owner gets the DM refusal, and no command runs', async () => {
    const before = botGuildMessages(world);
    expect(await dm(world, world.emu.ownerUser.id, '!status')).toEqual([REFUSALS.dm]);
    expect(await dm(world, world.emu.ownerUser.id, '!upload', { quietMs: 300 })).toEqual([REFUSALS.dm]);
    expect(world.store.listArchives()).toEqual([]);
    expect(botGuildMessages(world)).toBe(before);
  });

  it('text that is not a command gets no reply', async () => {
    expect(await dm(world, world.emu.ownerUser.id, 'hello bot', { quietMs: 300 })).toEqual([]);
  });
});

describe('direct messages with DOS_ALLOW_DMS=1', () => {
  let world: BotWorld;
  let archivist: string;
  let stranger: string;
  let outsider: string;
  let manager: string;
  let archiveId: string;

  beforeAll(async () => {
    world = await startBotWorld({
      userKey: KEY,
      prepare: (emu) => {
        const role = emu.createRole({ name: ROLE });
        archivist = emu.createMember({ username: 'archivist', roles: [role.id] }).user.id;
        stranger = emu.createMember({ username: 'stranger' }).user.id;
        manager = emu.createMember({ username: 'manager', permissions: Permissions.ManageGuild }).user.id;
        // Shares some other server with the bot (or it could not DM it), but not this one.
        outsider = emu.createUser({ username: 'outsider' }).id;
        return { allowDms: true, allowedRole: ROLE };
      },
    });
    const src = fileTempDir('dos-bot-dm-src-');
    mkdirSync(join(src, 'letters'));
    writeFileSync(join(src, 'letters', 'a.txt'), 'dear bot\n');
    archiveId = (await world.store.put([join(src, 'letters')])).id;
    rmSync(src, { recursive: true, force: true });
  });
  afterAll(async () => {
    await world?.close();
    if (world) rmSync(world.root, { recursive: true, force: true });
  });

  it('an allowed member’s !status and !archives are answered in the DM, not in the server', async () => {
    const before = botGuildMessages(world);
    const status = await dm(world, archivist, '!status');
    expect(status[0]).toMatch(/📊 \*\*Bot Status\*\*[\s\S]*Encryption: ✅ Enabled/);
    const archives = await dm(world, archivist, '!archives');
    expect(archives.join('\n')).toContain(archiveId);
    expect(archives.join('\n')).toContain('letters');
    expect(botGuildMessages(world)).toBe(before);
    // Both commands went to the one DM channel the user has with the bot.
    const channel = world.emu.state.dmChannel(archivist)!;
    expect(world.emu.state.messages(channel.id).filter((m) => m.authorId === world.emu.botUser.id)).toHaveLength(2);
  });

  it('a member without the allowed role, and a user who is not in the server, are refused', async () => {
    expect(await dm(world, stranger, '!status')).toEqual([REFUSALS.user]);
    expect(await dm(world, outsider, '!status')).toEqual([REFUSALS.notMember]);
    expect(await dm(world, outsider, '!archives')).toEqual([REFUSALS.notMember]);
  });

  it('admin commands by DM need the member’s admin permission in the server', async () => {
    expect(await dm(world, archivist, '!rebuild-log')).toEqual([REFUSALS.admin]);
    expect(await dm(world, stranger, '!cleanup #010101-01')).toEqual([REFUSALS.admin]);
    expect((await dm(world, manager, '!rebuild-log'))[0]).toMatch(/🧾 Rebuild preview/);
    expect((await dm(world, world.emu.ownerUser.id, '!rebuild-log'))[0]).toMatch(/🧾 Rebuild preview/);
  });

  it('a role given or taken after the bot first saw the member counts at the next DM', async () => {
    const role = [...world.emu.state.raw.roles.values()].find((r) => r.name === ROLE)!;
    expect(await dm(world, stranger, '!status')).toEqual([REFUSALS.user]);
    world.emu.setMemberRoles(stranger, [role.id]);
    expect((await dm(world, stranger, '!status'))[0]).toMatch(/📊 \*\*Bot Status\*\*/);
    world.emu.setMemberRoles(archivist, []);
    expect(await dm(world, archivist, '!status')).toEqual([REFUSALS.user]);
  });

  it('someone who left the server loses access by DM at once', async () => {
    const leaver = world.emu.createMember({ username: 'leaver', roles: [[...world.emu.state.raw.roles.values()].find((r) => r.name === ROLE)!.id] }).user.id;
    expect((await dm(world, leaver, '!status'))[0]).toMatch(/📊 \*\*Bot Status\*\*/);
    world.emu.removeMember(leaver);
    expect(await dm(world, leaver, '!status')).toEqual([REFUSALS.notMember]);
  });

  it('other bots are ignored in DMs too', async () => {
    const otherBot = world.emu.createUser({ username: 'otherbot', bot: true });
    world.emu.createMember({ userId: otherBot.id, permissions: Permissions.Administrator });
    expect(await dm(world, otherBot.id, '!status', { quietMs: 300 })).toEqual([]);
  });
});

/** Helpers for the companion bot's tests: a store and a DosBot against the emulator, in process. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DiscordBackend } from '../../src/backends/discord/index.js';
import { DosBot, type BotOptions } from '../../src/bot/index.js';
import { initStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { startEmulator, type Emulator, type MessageRecord } from '../emulator/index.js';
import { FAST_SCRYPT } from '../helpers/store.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

export const FAST_RETRY = { attempts: 8, baseDelayMs: 5, maxDelayMs: 40 };

export interface BotWorld {
  emu: Emulator;
  store: Store;
  bot: DosBot;
  root: string;
  folders: { upload: string; download: string; work: string };
  logs: string[];
  close(): Promise<void>;
}

/** A temp folder that lives for the whole test file (the bot's folders outlive single tests). */
export function fileTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** `prepare` runs on the emulator before the bot starts (members, roles) and returns bot options. */
export async function startBotWorld(options: { userKey: string; prepare?: (emu: Emulator) => Partial<BotOptions> }): Promise<BotWorld> {
  const emu = await startEmulator({ profile: 'fast' });
  const extra = options.prepare?.(emu) ?? {};
  const root = fileTempDir('dos-bot-');
  const folders = { upload: join(root, 'uploads'), download: join(root, 'downloads'), work: join(root, 'work') };
  for (const dir of Object.values(folders)) mkdirSync(dir, { recursive: true });
  const backend = new DiscordBackend({ token: emu.token, archiveChannelId: emu.archiveChannelId, apiBase: emu.apiBase, cdnBase: emu.cdnBase, retry: FAST_RETRY, progressIntervalMs: 50 });
  const store = await initStore({ backend, indexPath: join(root, 'index.db'), userKey: options.userKey, scrypt: FAST_SCRYPT });
  const logs: string[] = [];
  const bot = new DosBot({
    store, token: emu.token, archiveChannelId: emu.archiveChannelId, apiBase: emu.apiBase, cdnBase: emu.cdnBase, folders, userKey: options.userKey,
    progressIntervalMs: 50, log: (line) => logs.push(line), ...extra,
  });
  await bot.start();
  return {
    emu, store, bot, root, folders, logs,
    async close() {
      await bot.stop();
      await store.close();
      await emu.close();
    },
  };
}

/** Messages the bot wrote in a channel after message `afterId`. */
export function botMessagesAfter(emu: Emulator, channelId: string, afterId: string): MessageRecord[] {
  return emu.state.messages(channelId).filter((m) => m.authorId === emu.botUser.id && BigInt(m.id) > BigInt(afterId));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Types `content` as `authorId` (default: the server owner, an admin) and waits until a reply
 * (or the reply's latest edit) satisfies `done`; returns every bot message since the command.
 */
export async function command(
  world: Pick<BotWorld, 'emu'>, content: string,
  opts: { authorId?: string; channelId?: string; done?: (texts: string[]) => boolean; timeoutMs?: number } = {},
): Promise<string[]> {
  const { emu } = world;
  const channelId = opts.channelId ?? emu.archiveChannelId;
  const sent = emu.injectUserMessage({ channelId, authorId: opts.authorId, content }) as { id: string };
  // "Queued behind" is a courtesy notice when another command is still finishing: not the answer.
  const done = opts.done ?? ((texts) => texts.some((t) => !t.startsWith('⏳ Queued behind')));
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const texts = botMessagesAfter(emu, channelId, sent.id).filter((m) => m.content !== '').map((m) => m.content);
    if (done(texts)) return texts;
    if (Date.now() > deadline) throw new Error(`no reply to ${JSON.stringify(content)} satisfied the test; replies so far: ${JSON.stringify(texts)}`);
    await sleep(25);
  }
}

/** Waits `ms` and returns what the bot wrote after the command (for "no reply" checks). */
export async function silence(world: Pick<BotWorld, 'emu'>, content: string, opts: { authorId?: string; channelId?: string; ms?: number } = {}): Promise<string[]> {
  const channelId = opts.channelId ?? world.emu.archiveChannelId;
  const sent = world.emu.injectUserMessage({ channelId, authorId: opts.authorId, content }) as { id: string };
  await sleep(opts.ms ?? 400);
  return botMessagesAfter(world.emu, channelId, sent.id).map((m) => m.content);
}

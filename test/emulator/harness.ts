/** Test helpers: a real discord.js Client / REST pointed at an emulator. Not a test file itself. */
import type { EventEmitter } from 'node:events';
import { Client, Events, GatewayIntentBits, REST, type Partials, type TextChannel } from 'discord.js';
import { startEmulator, type Emulator } from './index.js';

export const DEFAULT_INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent];

export function restOptions(emu: Emulator) {
  return { api: emu.apiBase, cdn: emu.cdnBase, mediaProxy: `${emu.url}/media`, version: '10' };
}

/** A bare @discordjs/rest client with the emulator's token. */
export function makeRest(emu: Emulator, extra: Record<string, unknown> = {}): REST {
  return new REST({ ...restOptions(emu), ...extra }).setToken(emu.token);
}

/** Logs in an unmodified discord.js Client and waits for clientReady. */
export async function loginClient(emu: Emulator, opts: { intents?: number[]; token?: string; partials?: Partials[] } = {}): Promise<Client> {
  const client = new Client({ intents: opts.intents ?? DEFAULT_INTENTS, partials: opts.partials ?? [], rest: restOptions(emu) });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  try {
    await client.login(opts.token ?? emu.token);
  } catch (err) {
    await client.destroy();
    throw err;
  }
  await ready;
  return client;
}

/** Resolves with the first event args matching `pred`, or rejects after `ms`. */
export function waitFor<T extends unknown[]>(emitter: EventEmitter, event: string, pred: (...args: T) => boolean = () => true, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, ms);
    const listener = (...args: unknown[]): void => {
      if (!pred(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as T);
    };
    emitter.on(event, listener);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Deterministic pseudo-random bytes (so failures are reproducible). */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export interface LoggedInSession {
  emu: Emulator;
  client: Client;
  rest: REST;
  /** The archive channel, as the logged-in client caches it. */
  channel: TextChannel;
}

/** A fast-profile emulator with a logged-in discord.js Client and a bare REST beside it. */
export async function loggedInSession(): Promise<LoggedInSession> {
  const emu = await startEmulator({ profile: 'fast' });
  const client = await loginClient(emu);
  return { emu, client, rest: makeRest(emu), channel: client.channels.cache.get(emu.archiveChannelId) as TextChannel };
}

export async function closeSession(session: Partial<LoggedInSession>): Promise<void> {
  await session.client?.destroy();
  await session.emu?.close();
}

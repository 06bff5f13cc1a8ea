/** Helpers for Discord backend tests: a store on the Discord backend against the emulator. */
import { join } from 'node:path';
import { DiscordBackend } from '../../src/backends/discord/index.js';
import type { DiscordBackendOptions } from '../../src/backends/discord/index.js';
import { initStore, openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js';
import { FAST_SCRYPT, TEST_KEY } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';

/** Fast retries: the faults are deterministic, the backoff only has to exist. */
export const FAST_RETRY = { attempts: 8, baseDelayMs: 5, maxDelayMs: 40 };

const running: Emulator[] = [];
const backends: DiscordBackend[] = [];

export async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ profile: 'fast', ...options });
  running.push(emu);
  return emu;
}

/** Closes every emulator and backend a test made (call from afterEach). */
export async function closeAll(): Promise<void> {
  while (backends.length > 0) await backends.pop()!.close();
  while (running.length > 0) await running.pop()!.close();
}

export function backendFor(emu: Emulator, options: Partial<DiscordBackendOptions> = {}): DiscordBackend {
  const backend = new DiscordBackend({ token: emu.token, archiveChannelId: emu.archiveChannelId, apiBase: emu.apiBase, cdnBase: emu.cdnBase, retry: FAST_RETRY, progressIntervalMs: 50, ...options });
  backends.push(backend);
  return backend;
}

export interface DiscordTestStore {
  store: Store;
  backend: DiscordBackend;
  indexPath: string;
  notices: string[];
  /** A second process: a new backend and a new, empty index. */
  fresh(options?: Partial<DiscordBackendOptions>): Promise<{ store: Store; backend: DiscordBackend }>;
}

export async function discordStore(emu: Emulator, options: Partial<DiscordBackendOptions> & { frameSize?: number } = {}): Promise<DiscordTestStore> {
  const { frameSize, ...backendOptions } = options;
  const home = tempDir('dos-discord-');
  const indexPath = join(home, 'index.db');
  const notices: string[] = [];
  const notice = (m: string) => notices.push(m);
  const backend = backendFor(emu, backendOptions);
  const store = await initStore({ backend, indexPath, userKey: TEST_KEY, scrypt: FAST_SCRYPT, frameSize, notice });
  return {
    store, backend, indexPath, notices,
    async fresh(more = {}) {
      const again = backendFor(emu, { ...backendOptions, ...more });
      const reopened = await openStore({ backend: again, indexPath: join(tempDir('dos-discord-'), 'index.db'), userKey: TEST_KEY, frameSize, notice });
      return { store: reopened, backend: again };
    },
  };
}

/** Pack attachments (`*.pack`) in every live thread of the archive channel. */
export function packAttachments(emu: Emulator): Array<{ id: string; filename: string; channelId: string; messageId: string }> {
  const out = [];
  for (const thread of emu.state.threads(emu.archiveChannelId)) {
    for (const m of emu.state.messages(thread.id)) {
      for (const a of emu.state.attachments(m.id)) if (!a.deleted && a.filename.endsWith('.pack')) out.push({ id: a.id, filename: a.filename, channelId: thread.id, messageId: m.id });
    }
  }
  return out;
}

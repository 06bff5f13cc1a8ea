import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backends/backend.js';
import { LocalBackend } from '../backends/local/local-backend.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import { DEFAULT_COMPRESSION, type CompressionPolicy } from '../core/frame.js';
import { initStore, openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import type { Config } from './config.js';

/** Notices go to stderr so stdout stays clean for --json and pipes. */
export const notice = (message: string): void => {
  process.stderr.write(`dos: ${message}\n`);
};

/**
 * Picks the backend the configuration asks for. The Discord backend is imported only when
 * used: discord.js alone takes most of a second to load, which every local command would pay.
 */
export function backendFor(config: Config): { backend: Promise<Backend>; indexPath: string } {
  const wantsDiscord = config.backend ? config.backend === 'discord' : config.discordToken !== undefined;
  if (wantsDiscord) {
    if (!config.discordToken || !config.archiveChannelId) {
      throw new DosError(ErrorCodes.BAD_INPUT, 'the Discord backend needs both DISCORD_BOT_TOKEN and DISCORD_DRIVE_ARCHIVE_CHANNEL_ID (or set DOS_BACKEND=local)');
    }
    const { discordToken: token, archiveChannelId } = config;
    // Loading takes ~0.3 s: the caller unlocks the keyring meanwhile.
    const backend = import('../backends/discord/index.js').then(({ DiscordBackend }) => new DiscordBackend({
      token,
      archiveChannelId,
      apiBase: config.discordApiBase,
      cdnBase: config.discordCdnBase,
      // File names on archive cards are visible to everyone in the server: DOS_CARD_FILE_NAMES=0 hides them.
      cardFileNames: process.env.DOS_CARD_FILE_NAMES?.trim() !== '0',
    }));
    return { backend, indexPath: join(config.home, 'index', `discord-${archiveChannelId}.db`) };
  }
  if (config.backend && config.backend !== 'local') throw new DosError(ErrorCodes.BAD_INPUT, `unknown DOS_BACKEND "${config.backend}" (expected local or discord)`);
  announceLocalOnce(config);
  return { backend: Promise.resolve(new LocalBackend(join(config.home, 'store'))), indexPath: join(config.home, 'index', 'local.db') };
}

/** "Without DISCORD_BOT_TOKEN, dos uses the local store and says so once." */
function announceLocalOnce(config: Config): void {
  const marker = join(config.home, '.local-backend-announced');
  if (existsSync(marker)) return;
  notice(`no DISCORD_BOT_TOKEN set: using the local store in ${join(config.home, 'store')} (set DISCORD_BOT_TOKEN and DISCORD_DRIVE_ARCHIVE_CHANNEL_ID to store on Discord)`);
  mkdirSync(config.home, { recursive: true });
  writeFileSync(marker, `${new Date().toISOString()}\n`);
}

/** The compression policy for new frames: DOS_COMPRESSION_LEVEL, else the measured default. */
export function compressionFor(config: Config): CompressionPolicy {
  return config.compressionLevel === undefined ? DEFAULT_COMPRESSION : { quality: config.compressionLevel };
}

/** Opens the configured store; `create` makes it on first use when USER_KEY is set (put, mount). */
/** `uploading`: an upload follows at once, so the backend may get ready for it while the keyring unlocks. */
export async function openConfiguredStore(config: Config, create = false, uploading = false): Promise<Store> {
  const { backend, indexPath } = backendFor(config);
  if (uploading) backend.then((b) => b.warmUp?.(), () => {});
  return openStore({ backend, indexPath, userKey: config.userKey, createIfMissing: create, notice, compression: compressionFor(config) });
}

export async function initConfiguredStore(config: Config, noEncryption: boolean): Promise<Store> {
  if (!noEncryption && !config.userKey) {
    throw new DosError(ErrorCodes.KEY_REQUIRED, 'set USER_KEY (a long passphrase) to create an encrypted store, or pass --no-encryption to store your files unencrypted');
  }
  const { backend, indexPath } = backendFor(config);
  return initStore({ backend: await backend, indexPath, userKey: noEncryption ? null : config.userKey!, notice });
}

/** Where the mount keeps staged files until they are uploaded. */
export function stagingDirOf(config: Config): string {
  return join(config.home, 'staging');
}

/** Opens the store, runs `fn`, and always closes it. */
export async function withStore<T>(config: Config, create: boolean, fn: (store: Store) => Promise<T>, uploading = false): Promise<T> {
  const store = await openConfiguredStore(config, create, uploading);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

import { join, relative, resolve } from 'node:path';
import type { BotFolders } from '../bot/folders.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { Store } from '../store/store.js';
import type { Config } from './config.js';
import { notice } from './open.js';

/**
 * Starting the companion bot on an opened store: the one code path behind `dos bot` and
 * `dos mount --bot` (issue #5: the bot can share the mount's process and index).
 */

/** What the bot needs from the configuration; checked before anything is opened or mounted. */
export interface BotSettings {
  token: string;
  archiveChannelId: string;
  folders: BotFolders;
}

export interface RunningBot {
  /** "bot ready as NAME in SERVER (who may use it); uploads from ..., downloads to ..." */
  readonly description: string;
  /** Stops taking commands, lets the running one finish, then disconnects. */
  stop(): Promise<void>;
}

/** `command` names the command in the error (e.g. "dos bot", "dos mount --bot"). */
export function botSettings(cfg: Config, command: string): BotSettings {
  if (!cfg.discordToken || !cfg.archiveChannelId) {
    throw new DosError(ErrorCodes.BAD_INPUT, `${command} needs DISCORD_BOT_TOKEN and DISCORD_DRIVE_ARCHIVE_CHANNEL_ID`);
  }
  return { token: cfg.discordToken, archiveChannelId: cfg.archiveChannelId, folders: botFolders(cfg) };
}

/** The bot's folders: the seed's settings, else folders under DOS_HOME (created at start). */
export function botFolders(cfg: Config): BotFolders {
  const upload = resolve(cfg.uploadPath ?? join(cfg.home, 'bot', 'uploads'));
  const download = resolve(cfg.downloadPath ?? join(cfg.home, 'bot', 'downloads'));
  const work = resolve(join(cfg.home, 'bot', 'work'));
  const inside = (a: string, b: string) => a === b || !relative(b, a).startsWith('..');
  if (inside(upload, download) || inside(download, upload)) {
    throw new DosError(ErrorCodes.BAD_INPUT, 'DISCORD_DRIVE_UPLOAD_PATH and DISCORD_DRIVE_DOWNLOAD_PATH must be separate folders (neither inside the other)');
  }
  if (inside(work, upload) || inside(work, download)) {
    throw new DosError(ErrorCodes.BAD_INPUT, `the bot's work folder ${work} must not be inside the upload or download folder`);
  }
  return { upload, download, work };
}

/**
 * Logs the bot in on `store` (which stays its caller's to close, also when this throws).
 * `syncOnStart`: rebuild the index from the archive channel first (`dos bot`; a mount never
 * does, its index is in use).
 */
export async function startBot(cfg: Config, settings: BotSettings, store: Store, options: { syncOnStart: boolean }): Promise<RunningBot> {
  // discord.js takes most of a second to load: only commands that run the bot pay for it.
  const { DosBot } = await import('../bot/index.js');
  const bot = new DosBot({
    store, token: settings.token, archiveChannelId: settings.archiveChannelId, guildId: cfg.guildId,
    apiBase: cfg.discordApiBase, cdnBase: cfg.discordCdnBase, folders: settings.folders, userKey: cfg.seedUserKey, historyLog: cfg.logFile, storageChannelId: cfg.storageChannelId,
    allowedRole: cfg.allowedRole, allowedUsers: cfg.allowedUsers, allowDms: cfg.allowDms,
    syncOnStart: options.syncOnStart,
    log: (line) => notice(`bot: ${line}`),
  });
  try {
    await bot.start();
  } catch (err) {
    await bot.stop().catch(() => {});
    throw new DosError(ErrorCodes.BACKEND, `the bot could not connect to Discord: ${(err as Error).message}`, {}, { cause: err });
  }
  const who = cfg.allowedRole || (cfg.allowedUsers?.length ?? 0) > 0 ? 'admins and allowed members' : 'admins only';
  return {
    description: `bot ready as ${bot.userTag} in ${bot.guildName} (${who}${cfg.allowDms ? ', DMs on' : ''}); uploads from ${settings.folders.upload}, downloads to ${settings.folders.download}`,
    stop: () => bot.stop(),
  };
}

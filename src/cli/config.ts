import { config as loadDotenv } from 'dotenv';
import { homedir, platform } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { DosError, ErrorCodes } from '../core/errors.js';

/**
 * Configuration from the environment and `.env` files, with the seed's variable names
 * (DESIGN.md §7). The real environment always wins over a `.env` file, as in the seed.
 */
export interface Config {
  home: string;
  userKey?: string;
  /**
   * The passphrase the Python seed's archives are encrypted with (each chunk's key comes from
   * it directly): SEED_USER_KEY, else USER_KEY. They differ only after `dos passwd --force`.
   */
  seedUserKey?: string;
  discordToken?: string;
  archiveChannelId?: string;
  logChannelId?: string;
  storageChannelId?: string;
  databaseChannelId?: string;
  uploadPath?: string;
  downloadPath?: string;
  logFile?: string;
  discordApiBase?: string;
  discordCdnBase?: string;
  /** Forces a backend (`local`), overriding the token-based choice. */
  backend?: string;
  /** Brotli quality 0-11 for new frames (DOS_COMPRESSION_LEVEL); see README "Compression". */
  compressionLevel?: number;
  /** The companion bot (`dos bot`): who may use its non-admin commands (a role id or name; user ids). */
  allowedRole?: string;
  allowedUsers?: string[];
  /** The bot answers direct messages only when DOS_ALLOW_DMS=1. */
  allowDms?: boolean;
  /** The server the bot serves (default: the archive channel's). */
  guildId?: string;
}

/** Loads `.env` from the working directory, then from DOS_HOME; existing variables are kept. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  loadDotenv({ path: join(cwd, '.env'), processEnv: env as Record<string, string>, quiet: true });
  const home = expandPath(nonEmpty(env.DOS_HOME), cwd) ?? defaultHome(env);
  loadDotenv({ path: join(home, '.env'), processEnv: env as Record<string, string>, quiet: true });
  return {
    home,
    userKey: nonEmpty(env.USER_KEY),
    seedUserKey: nonEmpty(env.SEED_USER_KEY) ?? nonEmpty(env.USER_KEY),
    discordToken: nonEmpty(env.DISCORD_BOT_TOKEN),
    archiveChannelId: nonEmpty(env.DISCORD_DRIVE_ARCHIVE_CHANNEL_ID),
    logChannelId: nonEmpty(env.DISCORD_DRIVE_LOG_CHANNEL_ID),
    storageChannelId: nonEmpty(env.DISCORD_DRIVE_STORAGE_CHANNEL_ID) ?? nonEmpty(env.STORAGE_CHANNEL_ID),
    databaseChannelId: nonEmpty(env.DISCORD_DRIVE_DATABASE) ?? nonEmpty(env.DISCORD_DRIVE_DATABASE_CHANNEL_ID),
    uploadPath: expandPath(nonEmpty(env.DISCORD_DRIVE_UPLOAD_PATH), cwd),
    downloadPath: expandPath(nonEmpty(env.DISCORD_DRIVE_DOWNLOAD_PATH), cwd),
    logFile: expandPath(nonEmpty(env.DISCORD_DRIVE_LOG_FILE), cwd),
    discordApiBase: nonEmpty(env.DISCORD_API_BASE),
    discordCdnBase: nonEmpty(env.DISCORD_CDN_BASE),
    backend: nonEmpty(env.DOS_BACKEND),
    compressionLevel: compressionLevelOf(nonEmpty(env.DOS_COMPRESSION_LEVEL)),
    allowedRole: nonEmpty(env.DOS_ALLOWED_ROLE),
    allowedUsers: (nonEmpty(env.DOS_ALLOWED_USERS) ?? '').split(/[\s,]+/).filter((u) => u !== ''),
    allowDms: ['1', 'true', 'yes'].includes((nonEmpty(env.DOS_ALLOW_DMS) ?? '').toLowerCase()),
    guildId: nonEmpty(env.DOS_GUILD_ID),
  };
}

function compressionLevelOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const level = Number(value);
  if (!Number.isInteger(level) || level < 0 || level > 11) {
    throw new DosError(ErrorCodes.BAD_INPUT, `DOS_COMPRESSION_LEVEL must be a whole number from 0 to 11, not "${value}"`);
  }
  return level;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** `~` expansion and absolute paths, as the seed did for every path setting. */
export function expandPath(value: string | undefined, cwd: string): string | undefined {
  if (value === undefined) return undefined;
  const expanded = value === '~' ? homedir() : value.startsWith('~/') ? join(homedir(), value.slice(2)) : value;
  return isAbsolute(expanded) ? expanded : resolve(cwd, expanded);
}

/** The platform's place for application data. */
function defaultHome(env: NodeJS.ProcessEnv): string {
  switch (platform()) {
    case 'darwin':
      return join(homedir(), 'Library', 'Application Support', 'dos');
    case 'win32':
      return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'dos');
    default:
      return join(nonEmpty(env.XDG_DATA_HOME) ?? join(homedir(), '.local', 'share'), 'dos');
  }
}

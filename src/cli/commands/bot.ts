import type { Command } from 'commander';
import { join, relative, resolve } from 'node:path';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { Config } from '../config.js';
import { notice, openConfiguredStore } from '../open.js';

/** The bot's folders: the seed's settings, else folders under DOS_HOME (created at start). */
export function botFolders(cfg: Config): { upload: string; download: string; work: string } {
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

export function registerBot(program: Command, config: () => Config): void {
  program
    .command('bot')
    .description('run the companion Discord bot (! and /dos commands) in the foreground; Ctrl-C stops it')
    .action(async () => {
      const cfg = config();
      if (!cfg.discordToken || !cfg.archiveChannelId) {
        throw new DosError(ErrorCodes.BAD_INPUT, 'dos bot needs DISCORD_BOT_TOKEN and DISCORD_DRIVE_ARCHIVE_CHANNEL_ID');
      }
      const folders = botFolders(cfg);
      const store = await openConfiguredStore(cfg, true);
      // discord.js takes most of a second to load: only `dos bot` pays for it.
      const { DosBot } = await import('../../bot/index.js');
      const bot = new DosBot({
        store, token: cfg.discordToken, archiveChannelId: cfg.archiveChannelId, guildId: cfg.guildId,
        apiBase: cfg.discordApiBase, cdnBase: cfg.discordCdnBase, folders, userKey: cfg.userKey, historyLog: cfg.logFile,
        allowedRole: cfg.allowedRole, allowedUsers: cfg.allowedUsers, allowDms: cfg.allowDms,
        syncOnStart: process.env.DOS_BOT_SYNC?.trim() !== '0',
        log: (line) => notice(`bot: ${line}`),
      });
      try {
        await bot.start();
      } catch (err) {
        await bot.stop().catch(() => {});
        await store.close();
        throw new DosError(ErrorCodes.BACKEND, `the bot could not connect to Discord: ${(err as Error).message}`, {}, { cause: err });
      }
      const who = cfg.allowedRole || (cfg.allowedUsers?.length ?? 0) > 0 ? 'admins and allowed members' : 'admins only';
      process.stdout.write(`dos: bot ready as ${bot.userTag} in ${bot.guildName} (${who}${cfg.allowDms ? ', DMs on' : ''}); uploads from ${folders.upload}, downloads to ${folders.download} (Ctrl-C stops)\n`);
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            notice(`${signal} again: exiting now; an interrupted upload continues with dos resume`);
            process.exit(130);
          }
          stopping = true;
          notice(`${signal}: stopping the bot (finishing the running command first; ${signal} again exits now)`);
          void (async () => {
            await bot.stop();
            await store.close();
            done();
          })();
        };
        process.on('SIGINT', () => stop('SIGINT'));
        process.on('SIGTERM', () => stop('SIGTERM'));
      });
    });
}

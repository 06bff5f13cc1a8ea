import type { Command } from 'commander';
import { botSettings, startBot } from '../bot-runner.js';
import type { Config } from '../config.js';
import { notice, openConfiguredStore } from '../open.js';

export function registerBot(program: Command, config: () => Config): void {
  program
    .command('bot')
    .description('run the companion Discord bot (! and /dos commands) in the foreground; Ctrl-C stops it')
    .action(async () => {
      const cfg = config();
      const settings = botSettings(cfg, 'dos bot');
      const store = await openConfiguredStore(cfg, true);
      let bot;
      try {
        bot = await startBot(cfg, settings, store, { syncOnStart: process.env.DOS_BOT_SYNC?.trim() !== '0' });
      } catch (err) {
        await store.close();
        throw err;
      }
      process.stdout.write(`dos: ${bot.description} (Ctrl-C stops)\n`);
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

import type { Command } from 'commander';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { DosError, ErrorCodes } from '../../core/errors.js';
import { mountFilesystem, prepareMountpoint } from '../../fs/mount.js';
import { countingBackend } from '../../store/mount/counting-backend.js';
import { removeMountInfo, runningMounts, writeMountInfo, type MountInfo } from '../../store/mount/runtime.js';
import { DEFAULT_SEED_CACHE_BYTES, MountSession } from '../../store/mount/session.js';
import { botSettings, startBot, type RunningBot } from '../bot-runner.js';
import type { Config } from '../config.js';
import { notice, openConfiguredStore, stagingDirOf } from '../open.js';

const MB = 1024 * 1024;

function megabytes(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new DosError(ErrorCodes.BAD_INPUT, `${name} must be a number of MiB, not "${raw}"`);
  return Math.floor(n * MB);
}

export function registerMount(program: Command, config: () => Config): void {
  program
    .command('mount')
    .description('show every archive as a folder at MOUNTPOINT (FUSE); runs until Ctrl-C, which unmounts')
    .argument('<mountpoint>', 'an empty folder (created if missing)')
    .option('--bot', 'also run the companion Discord bot (as dos bot does) in this process, on the same store')
    .action(async (mountpoint: string, options: { bot?: boolean }) => {
      const cfg = config();
      // Checked before anything is mounted: a refused --bot leaves nothing to undo.
      const withBot = options.bot ? botSettings(cfg, 'dos mount --bot') : null;
      const dir = resolve(mountpoint);
      const live = runningMounts(cfg.home).some((m) => m.mountpoint === dir && m.host === hostname());
      const { recovered } = prepareMountpoint(dir, live);
      if (recovered) notice(`recovered a stale mount at ${dir} (a previous dos mount did not exit cleanly)`);

      const store = await openConfiguredStore(cfg, true);
      const { backend: counted, counters } = countingBackend(store.ctx.backend);
      store.ctx.backend = counted;
      const remote = counted.kind !== 'local';
      let publishNow = (): void => {};
      const session = new MountSession(store.ctx, {
        stagingDir: stagingDirOf(cfg),
        cacheBytes: megabytes('DOS_CACHE_MB', 256 * MB),
        // A disk cache of a local folder would only copy it: on by default for remote backends.
        diskCacheDir: join(cfg.home, 'cache', 'frames'),
        diskCacheBytes: megabytes('DOS_DISK_CACHE_MB', remote ? 2048 * MB : 0),
        // Changes made within this window are committed as one generation (tests stretch it).
        batchDelayMs: Number(process.env.DOS_MOUNT_BATCH_MS ?? 500),
        maxBatchDelayMs: Math.max(2000, Number(process.env.DOS_MOUNT_BATCH_MS ?? 500)),
        log: notice,
        // dos status sees a finished commit at once, not at the next tick.
        onCommitted: () => publishNow(),
        // Seed archives are restored whole on first read (their chunks allow nothing else).
        seedCacheDir: join(cfg.home, 'cache', 'seed'),
        seedCacheBytes: megabytes('DOS_SEED_CACHE_MB', DEFAULT_SEED_CACHE_BYTES),
        userKey: cfg.seedUserKey,
      });
      const { resumed } = session.start();
      if (resumed > 0) notice(`${resumed} change(s) queued by an earlier mount will be committed now`);

      let mounted;
      try {
        mounted = await mountFilesystem(session, dir, notice);
      } catch (err) {
        await store.close();
        throw err;
      }
      const startedAt = new Date().toISOString();
      // One write at a time (they share a temp file); each describes the moment it was asked for.
      let publishing: Promise<void> = Promise.resolve();
      const publish = () => {
        const c = session.cacheStats();
        const info: MountInfo = {
          pid: process.pid, host: hostname(), mountpoint: dir, backend: counted.description, startedAt, updatedAt: new Date().toISOString(),
          pending: session.pendingCounts(), committedChanges: session.committedChanges,
          cache: { memoryBytes: c.memoryBytes, memoryMaxBytes: c.memoryMaxBytes, diskBytes: c.diskBytes, diskMaxBytes: c.diskMaxBytes, hits: c.hits, misses: c.misses },
          backendReads: { requests: counters.reads, bytes: counters.readBytes },
        };
        publishing = publishing.then(() => writeMountInfo(cfg.home, info)).catch((err: unknown) => notice(`cannot write the mount's status file: ${(err as Error).message}`));
      };
      publish();
      await publishing; // dos status finds the mount as soon as it says it is mounted
      publishNow = publish;
      const ticker = setInterval(publish, 500);
      const archives = store.listArchives().filter((a) => a.generation !== null).length;
      process.stdout.write(`dos: mounted ${archives} archive(s) from the ${counted.description} at ${dir} (Ctrl-C unmounts)\n`);
      // The bot shares this store and index, once the drive is usable. Not awaited here, so a
      // signal during its login still unmounts; if it cannot start, the drive stays mounted.
      const bot: Promise<RunningBot | null> = withBot
        ? startBot(cfg, withBot, store, { syncOnStart: false }).then(
            (running) => {
              process.stdout.write(`dos: ${running.description}\n`);
              return running;
            },
            (err: unknown) => {
              notice(`${(err as Error).message}; the drive stays mounted without the bot`);
              return null;
            },
          )
        : Promise.resolve(null);

      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            notice(`${signal} again: exiting now; uncommitted changes stay queued for the next dos mount`);
            removeMountInfo(cfg.home);
            process.exit(130);
          }
          stopping = true;
          void (async () => {
            const running = await bot;
            if (running) {
              notice(`${signal}: stopping the bot first (it finishes its running command; ${signal} again exits now)`);
              await running.stop();
            }
            await mounted.unmount();
            const pending = session.pendingCounts();
            if (pending.changes > 0) notice(`unmounted ${dir}; committing ${pending.changes} queued change(s) (${pending.files} file(s)) first (Ctrl-C again to leave them queued)`);
            const drained = await session.close((megabytes('DOS_UNMOUNT_WAIT_S', 600 * MB) / MB) * 1000);
            if (!drained) notice('some changes are still queued; the next dos mount (or dos resume) commits them');
            clearInterval(ticker);
            publishNow = () => {}; // a commit still running must not write the file back
            await publishing;
            removeMountInfo(cfg.home);
            await store.close();
            notice(`unmounted ${dir}`);
            done();
          })();
        };
        process.on('SIGINT', () => stop('SIGINT'));
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGHUP', () => stop('SIGHUP'));
      });
    });
}

import type { Command } from 'commander';
import { MountQueue } from '../../index/mount-queue.js';
import { runningMounts } from '../../store/mount/runtime.js';
import type { Config } from '../config.js';
import { formatBytes, printJson } from '../format.js';
import { withStore } from '../open.js';

export function registerStatus(program: Command, config: () => Config): void {
  program
    .command('status')
    .description('show the store: backend, archives, sizes, pending uploads, running mounts')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withStore(config(), false, async (store) => {
        // One read transaction: a snapshot, so a commit landing between the two reads cannot
        // make a file count in neither (or both).
        const { s, staged } = store.ctx.index.db.transaction(() => ({
          s: store.status(),
          // Files closed in a mount and not committed yet (any mount of this DOS_HOME, running or crashed).
          staged: new MountQueue(store.ctx.index.db).pendingFiles(),
        }))();
        const mounts = runningMounts(config().home);
        const openFiles = mounts.reduce((n, m) => n + m.pending.openFiles, 0);
        const pendingUploads = s.pendingUploads + staged.files + openFiles;
        const cache = {
          memoryBytes: mounts.reduce((n, m) => n + m.cache.memoryBytes, 0),
          memoryMaxBytes: mounts.reduce((n, m) => n + m.cache.memoryMaxBytes, 0),
          diskBytes: mounts.reduce((n, m) => Math.max(n, m.cache.diskBytes), 0),
          diskMaxBytes: mounts.reduce((n, m) => Math.max(n, m.cache.diskMaxBytes), 0),
        };
        if (opts.json) {
          return printJson({ ...s, pendingUploads, pendingBytes: staged.bytes, cache, mounts, home: config().home });
        }
        process.stdout.write([
          `backend:         ${s.backend}`,
          `encryption:      ${s.encrypted ? 'on (AES-256-GCM, scrypt-wrapped key)' : 'OFF'}`,
          `cipher:          ${s.cipher.implementation}${s.cipher.fallbackReason === null ? '' : ` (${s.cipher.fallbackReason})`}`,
          `archives:        ${s.archives} (${s.files} files, ${formatBytes(s.bytes)})`,
          `stored:          ${formatBytes(s.storedBytes)} in ${s.packs} pack(s)${s.bytes > 0 ? ` (${((s.storedBytes / s.bytes) * 100).toFixed(1)}% of the original)` : ''}`,
          `pending uploads: ${pendingUploads}${staged.files > 0 ? ` (${formatBytes(staged.bytes)} staged by dos mount)` : ''}`,
          ...(mounts.length === 0 ? [] : [
            `mounted:         ${mounts.map((m) => `${m.mountpoint} (pid ${m.pid})`).join(', ')}`,
            `read cache:      ${formatBytes(cache.memoryBytes)} of ${formatBytes(cache.memoryMaxBytes)} in memory, ${formatBytes(cache.diskBytes)} of ${formatBytes(cache.diskMaxBytes)} on disk`,
          ]),
          '',
        ].join('\n'));
      });
    });

  program
    .command('sync')
    .description('rebuild the local index from the backend alone')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withStore(config(), false, async (store) => {
        const result = await store.sync();
        if (opts.json) printJson(result);
        else process.stdout.write(`${result.archives} archive(s) on the backend: ${result.added} added, ${result.updated} updated, ${result.removed} removed, ${result.rejected.length} rejected\n`);
      });
    });
}

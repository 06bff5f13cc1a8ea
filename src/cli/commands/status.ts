import type { Command } from 'commander';
import type { Config } from '../config.js';
import { formatBytes, printJson } from '../format.js';
import { withStore } from '../open.js';

export function registerStatus(program: Command, config: () => Config): void {
  program
    .command('status')
    .description('show the store: backend, archives, sizes, pending uploads')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withStore(config(), false, async (store) => {
        const s = store.status();
        if (opts.json) return printJson({ ...s, home: config().home });
        process.stdout.write([
          `backend:         ${s.backend}`,
          `encryption:      ${s.encrypted ? 'on (AES-256-GCM, scrypt-wrapped key)' : 'OFF'}`,
          `archives:        ${s.archives} (${s.files} files, ${formatBytes(s.bytes)})`,
          `stored:          ${formatBytes(s.storedBytes)} in ${s.packs} pack(s)${s.bytes > 0 ? ` (${((s.storedBytes / s.bytes) * 100).toFixed(1)}% of the original)` : ''}`,
          `pending uploads: ${s.pendingUploads}`,
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

import type { Command } from 'commander';
import type { Config } from '../config.js';
import { formatBytes, printJson } from '../format.js';
import { withStore } from '../open.js';
import { progressBar } from '../progress.js';

export function registerPut(program: Command, config: () => Config): void {
  program
    .command('put')
    .description('archive files: a folder becomes an archive holding its contents; several paths become entries at its root')
    .argument('<path...>', 'files or folders to archive')
    .option('--name <name>', 'archive name (default: the folder or file name)')
    .option('--json', 'print one JSON object describing the new archive')
    .action(async (paths: string[], opts: { name?: string; json?: boolean }) => {
      await withStore(config(), true, async (store) => {
        const bar = progressBar('put', !opts.json);
        const result = await store.put(paths, { name: opts.name, onProgress: bar.update }).finally(bar.stop);
        if (opts.json) {
          printJson(result);
        } else {
          process.stdout.write(`${result.id}  ${result.name}: ${result.files} files, ${formatBytes(result.bytes)} → ${formatBytes(result.storedBytes)} stored in ${result.attachments} attachment(s)\n`);
        }
      });
    });
}

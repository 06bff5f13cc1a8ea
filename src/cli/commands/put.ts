import type { Command } from 'commander';
import type { Config } from '../config.js';
import { formatBytes, printJson } from '../format.js';
import { DEFAULT_FRAME_SIZE } from '../../core/frame.js';
import { InputSource } from '../../store/input-source.js';
import { compressionFor, notice, withStore } from '../open.js';
import { progressBar } from '../progress.js';
import { resumeQuietly } from './resume.js';

export function registerPut(program: Command, config: () => Config): void {
  program
    .command('put')
    .description('archive files: a folder becomes an archive holding its contents; several paths become entries at its root')
    .argument('<path...>', 'files or folders to archive')
    .option('--name <name>', 'archive name (default: the folder or file name)')
    .option('--json', 'print one JSON object describing the new archive')
    .action(async (paths: string[], opts: { name?: string; json?: boolean }) => {
      // Reading and compressing start now, while the store unlocks (scrypt takes ~0.5 s).
      const source = (await InputSource.open(paths, { frameSize: DEFAULT_FRAME_SIZE, compression: compressionFor(config()), notice })).start(notice);
      await withStore(config(), true, async (store) => {
        await resumeQuietly(store);
        const bar = progressBar('put', !opts.json);
        const result = await store.put(source, { name: opts.name, onProgress: bar.update }).finally(bar.stop);
        if (opts.json) {
          printJson(result);
        } else {
          process.stdout.write(`${result.id}  ${result.name}: ${result.files} files, ${formatBytes(result.bytes)} → ${formatBytes(result.storedBytes)} stored in ${result.attachments} attachment(s)\n`);
        }
      }, true).catch((err: unknown) => {
        source.abort(err); // stop reading ahead: the store could not be opened
        throw err;
      });
    });
}

import { join } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { formatBytes, printJson } from '../format.js';
import { withStore } from '../open.js';
import { progressBar } from '../progress.js';

export function registerGet(program: Command, config: () => Config): void {
  program
    .command('get')
    .description('restore an archive (its root contents land in DEST) or one path inside it')
    .argument('<target>', 'ARCHIVE or ARCHIVE/PATH (archive id like #271126-07, or its name)')
    .argument('[dest]', 'destination folder (or file, for a single file); default: the archive or file name')
    .option('-f, --force', 'overwrite existing files')
    .option('--json', 'print JSON')
    .action(async (target: string, dest: string | undefined, opts: { force?: boolean; json?: boolean }) => {
      const cfg = config();
      await withStore(cfg, false, async (store) => {
        const bar = progressBar('get', !opts.json);
        // USER_KEY and the download folder are for archives the Python seed made.
        const seed = { userKey: cfg.seedUserKey, workDir: join(cfg.home, 'downloads') };
        const result = await store.get(target, dest, { force: opts.force, onProgress: bar.update, ...seed }).finally(bar.stop);
        if (opts.json) printJson(result);
        else process.stdout.write(`restored ${result.files} file(s), ${formatBytes(result.bytes)}, from ${result.archive} into ${result.destination}\n`);
      });
    });
}

import type { Command } from 'commander';
import { DosError, ErrorCodes } from '../../core/errors.js';
import { assembleOfflineSet, sliceToSet } from '../../store/offline-set.js';
import type { Config } from '../config.js';
import { formatBytes, printJson } from '../format.js';
import { notice } from '../open.js';
import { progressBar } from '../progress.js';

export function registerSlice(program: Command, config: () => Config): void {
  program
    .command('slice')
    .description('offline: write a folder as a self-contained encrypted set (packs + manifest + keyring) into DIR')
    .argument('<folder>', 'the folder to slice')
    .requiredOption('--out <dir>', 'a new or empty folder for the set')
    .option('--name <name>', 'archive name (default: the folder name)')
    .option('--no-encryption', 'write the set WITHOUT encryption')
    .option('--json', 'print JSON')
    .action(async (folder: string, opts: { out: string; name?: string; encryption: boolean; json?: boolean }) => {
      const cfg = config();
      if (opts.encryption && !cfg.userKey) {
        throw new DosError(ErrorCodes.KEY_REQUIRED, 'set USER_KEY to slice (the set is encrypted with it), or pass --no-encryption');
      }
      const bar = progressBar('slice', !opts.json);
      const result = await sliceToSet(folder, opts.out, { userKey: opts.encryption ? cfg.userKey! : null, name: opts.name, onProgress: bar.update, notice }).finally(bar.stop);
      if (opts.json) printJson({ ...result, out: opts.out });
      else process.stdout.write(`sliced ${result.files} files (${formatBytes(result.bytes)}) into ${result.attachments} pack(s), ${formatBytes(result.storedBytes)}, in ${opts.out}\nkeep USER_KEY safe: without it the set cannot be read\n`);
    });

  program
    .command('assemble')
    .description('offline: restore a sliced set (dos v4, or any seed set: manifest 2.0-3.1) into OUT/<source folder>/')
    .argument('<dir>', 'the folder holding the set')
    .option('--out <dir>', 'where restored folders go (default: the parent of DIR)')
    .option('-f, --force', 'overwrite existing files')
    .option('--delete-input', 'delete DIR after everything was restored and verified')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { out?: string; force?: boolean; deleteInput?: boolean; json?: boolean }) => {
      const bar = progressBar('assemble', !opts.json);
      const result = await assembleOfflineSet(dir, { out: opts.out, userKey: config().userKey, seedUserKey: config().seedUserKey, force: opts.force, deleteInput: opts.deleteInput, onProgress: bar.update, notice })
        .finally(bar.stop);
      if (opts.json) printJson(result);
      else for (const folder of result.folders) process.stdout.write(`restored ${folder.files} file(s), ${formatBytes(folder.bytes)}, into ${folder.destination}\n`);
    });
}

import type { Command } from 'commander';
import type { Config } from '../config.js';
import { formatBytes, printJson } from '../format.js';
import { withStore } from '../open.js';

export function registerRm(program: Command, config: () => Config): void {
  program
    .command('rm')
    .description('delete an archive and collect the packs nothing references any more')
    .argument('<archive>', 'archive id or name')
    .option('--json', 'print JSON')
    .action(async (archiveText: string, opts: { json?: boolean }) => {
      await withStore(config(), false, async (store) => {
        const archive = store.archive(archiveText);
        const gc = await store.remove(archive.id);
        if (opts.json) printJson({ id: archive.id, name: archive.name, ...gc });
        else process.stdout.write(`removed ${archive.id} (${archive.name}); freed ${gc.deletedPacks} pack(s), ${formatBytes(gc.freedBytes)}\n`);
      });
    });

  program
    .command('gc')
    .description('delete packs that no archive references any more')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withStore(config(), false, async (store) => {
        const gc = await store.gc();
        if (opts.json) printJson(gc);
        else process.stdout.write(gc.deferred ? 'another dos process is writing; try again later\n' : `freed ${gc.deletedPacks} pack(s), ${formatBytes(gc.freedBytes)}\n`);
      });
    });
}

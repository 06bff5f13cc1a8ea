import type { Command } from 'commander';
import { DosError, ErrorCodes } from '../../core/errors.js';
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
    .option('--orphan-grace <minutes>', 'delete packs the index never knew only when older than this (default 60)', '60')
    .option('--json', 'print JSON')
    .action(async (opts: { orphanGrace: string; json?: boolean }) => {
      const minutes = Number(opts.orphanGrace);
      if (!Number.isFinite(minutes) || minutes < 0) throw new DosError(ErrorCodes.BAD_INPUT, '--orphan-grace takes a number of minutes');
      await withStore(config(), false, async (store) => {
        const gc = await store.gc({ orphanGraceMs: minutes * 60_000 });
        if (opts.json) printJson(gc);
        else process.stdout.write(gc.deferred ? 'nothing collected this time (see the note above); try again later\n' : `freed ${gc.deletedPacks} pack(s), ${formatBytes(gc.freedBytes)}\n`);
      });
    });
}

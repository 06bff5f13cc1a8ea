import type { Command } from 'commander';
import type { Config } from '../config.js';
import { formatBytes, formatDate, printJson, table } from '../format.js';
import { withStore } from '../open.js';

export function registerLs(program: Command, config: () => Config): void {
  program
    .command('ls')
    .description('list archives, or the tree inside ARCHIVE[/PATH]')
    .argument('[target]', 'archive id (or name), optionally followed by /path')
    .option('-r, --recursive', 'list a tree recursively')
    .option('--json', 'print JSON')
    .action(async (target: string | undefined, opts: { recursive?: boolean; json?: boolean }) => {
      await withStore(config(), false, async (store) => {
        if (target === undefined) {
          const archives = store.listArchives();
          if (opts.json) return printJson(archives);
          if (archives.length === 0) return void process.stdout.write('no archives yet: dos put <folder> makes one\n');
          const rows = [['ID', 'NAME', 'CREATED', 'FILES', 'SIZE', 'STATUS']];
          for (const a of archives) rows.push([a.id, a.name, formatDate(a.created), String(a.files), formatBytes(a.bytes), a.status]);
          process.stdout.write(`${table(rows)}\n`);
          return;
        }
        const { archive, entries } = await store.tree(target, opts.recursive);
        if (opts.json) {
          return printJson(entries.map((e) => ({ path: e.path, type: e.type, size: e.size, mode: e.mode, mtime: isoOrNull(e.mtimeMs), sha256: e.sha256 ?? undefined, target: e.target ?? undefined })));
        }
        const rows = entries.map((e) => [
          e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-',
          e.type === 'file' ? formatBytes(e.size) : '',
          formatDate(e.mtimeMs),
          (opts.recursive ? e.path : e.path.split('/').pop()!) + (e.type === 'dir' ? '/' : e.type === 'symlink' ? ` -> ${e.target}` : ''),
        ]);
        if (rows.length === 0) process.stdout.write(`${archive.id} is empty here\n`);
        else process.stdout.write(`${table(rows)}\n`);
      });
    });
}

/** An mtime as ISO text; null for one no date can hold (an older mount stored pre-1970 times wrapped). */
function isoOrNull(ms: number): string | null {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

import { join } from 'node:path';
import type { Command } from 'commander';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { VerifyResult } from '../../store/verify.js';
import type { Config } from '../config.js';
import { formatBytes, printJson } from '../format.js';
import { withStore } from '../open.js';

export function registerVerify(program: Command, config: () => Config): void {
  program
    .command('verify')
    .description('check an archive: quick (every pack exists) or --deep (every frame authenticates, every sha256 matches)')
    .argument('[archive]', 'archive id or name')
    .option('--deep', 'download and authenticate everything')
    .option('--all', 'verify every archive')
    .option('--json', 'print JSON')
    .action(async (archive: string | undefined, opts: { deep?: boolean; all?: boolean; json?: boolean }) => {
      if (!archive && !opts.all) throw new DosError(ErrorCodes.BAD_INPUT, 'name an archive to verify, or pass --all');
      const cfg = config();
      await withStore(cfg, false, async (store) => {
        const seed = { userKey: cfg.seedUserKey, workDir: join(cfg.home, 'downloads') };
        const results = opts.all ? await store.verifyAll(opts.deep === true, seed) : [await store.verify(archive!, opts.deep === true, seed)];
        if (opts.json) printJson(opts.all ? results : results[0]);
        else for (const r of results) process.stdout.write(describe(r));
        const failed = results.filter((r) => !r.ok);
        if (failed.length > 0) {
          const first = failed[0]!;
          throw new DosError(first.problems.some((p) => p.code === ErrorCodes.CORRUPT) ? ErrorCodes.CORRUPT : ErrorCodes.MISSING,
            `${failed.length} archive(s) failed verification: ${failed.map((f) => f.archive).join(', ')}`, { quiet: opts.json === true });
        }
      });
    });
}

function describe(r: VerifyResult): string {
  if (r.ok) {
    return r.deep
      ? `${r.archive}: OK (deep): ${r.files} files, ${formatBytes(r.bytes)} authenticated, ${r.packs} packs\n`
      : `${r.archive}: OK (quick): ${r.packs} packs present for ${r.files} files\n`;
  }
  return `${r.archive}: FAILED\n${r.problems.map((p) => `  ${p.code}: ${p.message}\n`).join('')}`;
}

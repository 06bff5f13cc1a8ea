import type { Command } from 'commander';
import type { Config } from '../config.js';
import { printJson } from '../format.js';
import { initConfiguredStore, notice } from '../open.js';

export function registerInit(program: Command, config: () => Config): void {
  program
    .command('init')
    .description('create the store and its keyring (needs USER_KEY unless --no-encryption)')
    .option('--no-encryption', 'store files WITHOUT encryption (anyone who can read the store can read them)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { encryption: boolean; json?: boolean }) => {
      const cfg = config();
      if (!opts.encryption && cfg.userKey) notice('--no-encryption given: USER_KEY is ignored for this store');
      const store = await initConfiguredStore(cfg, !opts.encryption);
      const status = store.status();
      await store.close();
      if (opts.json) printJson({ storeId: status.storeId, encrypted: status.encrypted, backend: status.backend });
      else process.stdout.write(`created ${status.encrypted ? 'an encrypted' : 'an UNENCRYPTED'} store: ${status.backend}\n`);
    });
}

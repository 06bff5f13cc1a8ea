import { join } from 'node:path';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { initStore, openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from './temp.js';

/** scrypt at 2^10 keeps unit tests fast; the CLI tests use the real 2^17. */
export const FAST_SCRYPT = { logN: 10, r: 8, p: 1 };
export const TEST_KEY = 'correct horse battery staple';

export interface TestStore {
  store: Store;
  home: string;
  storeDir: string;
  indexPath: string;
  notices: string[];
  reopen(userKey?: string): Promise<Store>;
}

/** A store on the local backend in a temp folder, in one line. */
export async function makeTestStore(options: { frameSize?: number; maxPackBytes?: number; userKey?: string | null } = {}): Promise<TestStore> {
  const home = tempDir('dos-home-');
  const storeDir = join(home, 'store');
  const indexPath = join(home, 'index.db');
  const notices: string[] = [];
  const notice = (m: string) => notices.push(m);
  const backendOf = () => new LocalBackend(storeDir, options.maxPackBytes);
  const store = await initStore({
    backend: backendOf(), indexPath, userKey: options.userKey === undefined ? TEST_KEY : options.userKey, scrypt: FAST_SCRYPT, frameSize: options.frameSize, notice,
  });
  const opened: Store[] = [store];
  return {
    store, home, storeDir, indexPath, notices,
    async reopen(userKey = TEST_KEY) {
      const again = await openStore({ backend: backendOf(), indexPath, userKey, frameSize: options.frameSize, notice });
      opened.push(again);
      return again;
    },
  };
}

/** A plausible card display, for tests that publish records by hand. */
export const TEST_DISPLAY = {
  name: 'test', lot: 1, createdAt: new Date(0), status: 'complete' as const, files: 1, bytes: 1, storedBytes: 1, packs: 1, fileNames: ['x.txt'],
};

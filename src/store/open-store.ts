import { rmSync } from 'node:fs';
import type { Backend } from '../backends/backend.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import { DEFAULT_COMPRESSION, DEFAULT_FRAME_SIZE, type CompressionPolicy } from '../core/frame.js';
import { createKeyring, parseKeyringRecord, unlockKeyring, DEFAULT_SCRYPT, type KeyringRecord, type KeySet, type ScryptParams } from '../core/keyring.js';
import { StoreIndex } from '../index/store-index.js';
import type { StoreContext } from './context.js';
import { abandonDeadJobs } from './remove.js';
import { Store } from './store.js';
import { syncFromBackend } from './sync.js';

export interface OpenStoreOptions {
  /** A backend still loading is fine: the keyring starts unlocking from the index's copy meanwhile. */
  backend: Backend | Promise<Backend>;
  /** Path of the SQLite index, or ':memory:'. */
  indexPath: string;
  userKey?: string;
  /** Create the store on first use when USER_KEY is set (put and mount do; get and ls do not). */
  createIfMissing?: boolean;
  frameSize?: number;
  compression?: CompressionPolicy;
  /** KDF cost for a store created now (tests lower it; the default is DESIGN.md's). */
  scrypt?: ScryptParams;
  notice?: (message: string) => void;
}

/** Index meta key: the keyring record as last read from the backend. */
const KEYRING_COPY = 'keyringRecord';

/**
 * Opens an existing store (or creates it, see createIfMissing), unlocking its keyring.
 *
 * The keyring record is public (salt, wrapped key) and the index keeps a copy of it, so the
 * slow part, scrypt (~0.5 s), starts at once, in parallel with reaching the backend (loading
 * the Discord client and fetching the pinned keyring take about as long). The backend's copy
 * stays the authority: the early result is used only when both copies are byte-identical.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const notice = options.notice ?? (() => {});
  const index = new StoreIndex(options.indexPath);
  try {
    const cached = index.getMeta(KEYRING_COPY);
    // A damaged copy only loses the head start: the backend's keyring decides.
    const early = cached === undefined ? null : Promise.resolve().then(() => unlockKeyring(parseKeyringRecord(cached), options.userKey)).catch(() => null);
    const backend = await options.backend;
    const existing = await backend.readKeyring();
    let keys: KeySet;
    if (existing) {
      const same = cached !== undefined && existing.equals(Buffer.from(cached));
      keys = (same ? await early : null) ?? (await unlockKeyring(parseKeyringRecord(existing), options.userKey));
      if (!same) index.setMeta(KEYRING_COPY, existing.toString());
    } else if (options.createIfMissing && options.userKey) {
      refuseToReplaceKnownStore(index, backend, options.indexPath);
      keys = await writeNewKeyring(backend, index, options.userKey, options.scrypt);
      notice(`created a new encrypted store (${backend.description})`);
    } else {
      throw new DosError(ErrorCodes.NO_STORE, `no store yet (${backend.description}): run "dos init" with USER_KEY set`);
    }
    return await assemble({ ...options, backend }, index, keys, notice);
  } catch (err) {
    index.close();
    throw err;
  }
}

/**
 * The index has served a store here, and its keyring is gone from the backend (deleted, or an
 * unpinned message on Discord that could not be found). A new keyring would be a new store:
 * every archive of the old one unreadable, and its packs orphans for the next gc to delete.
 */
function refuseToReplaceKnownStore(index: StoreIndex, backend: Backend, indexPath: string): void {
  const storeId = index.getMeta('storeId');
  if (storeId === undefined && index.getMeta(KEYRING_COPY) === undefined) return;
  throw new DosError(ErrorCodes.NO_STORE, `the keyring of store ${storeId ?? '(unknown)'} is missing from the ${backend.description}; refusing to create a new store over it, which would orphan every archive. Put the keyring back (on Discord: the bot's "dos keyring" message); to really start a new store, delete ${indexPath} first`, { storeId });
}

/** `dos init`: creates the store. `userKey === null` only for an explicit --no-encryption. */
export async function initStore(options: Omit<OpenStoreOptions, 'userKey' | 'createIfMissing' | 'backend'> & { backend: Backend; userKey: string | null }): Promise<Store> {
  if (await options.backend.readKeyring()) {
    throw new DosError(ErrorCodes.STORE_EXISTS, `a store already exists (${options.backend.description})`);
  }
  const index = new StoreIndex(options.indexPath);
  try {
    refuseToReplaceKnownStore(index, options.backend, options.indexPath);
  } catch (err) {
    index.close();
    throw err;
  }
  const keys = await writeNewKeyring(options.backend, index, options.userKey, options.scrypt);
  return assemble(options, index, keys, options.notice ?? (() => {}));
}

async function writeNewKeyring(backend: Backend, index: StoreIndex, userKey: string | null, scrypt: ScryptParams = DEFAULT_SCRYPT): Promise<KeySet> {
  const { record, keys } = await createKeyring(userKey, scrypt);
  await publishKeyring(backend, index, record);
  return keys;
}

/** Writes the keyring to the backend (the authority), then the index's copy of it. */
export async function publishKeyring(backend: Backend, index: StoreIndex, record: KeyringRecord): Promise<void> {
  const bytes = Buffer.from(JSON.stringify(record, null, 2));
  await backend.writeKeyring(bytes);
  index.setMeta(KEYRING_COPY, bytes.toString());
}

async function assemble(options: Omit<OpenStoreOptions, 'userKey' | 'backend'> & { backend: Backend }, opened: StoreIndex, keys: KeySet, notice: (m: string) => void): Promise<Store> {
  let index = opened;
  const indexedStore = index.getMeta('storeId');
  if (indexedStore !== undefined && indexedStore !== keys.storeId) {
    // The index is a cache of another store (the store folder was replaced): rebuild it.
    notice('the local index belongs to a different store; rebuilding it from the backend');
    index.close();
    if (options.indexPath !== ':memory:') for (const suffix of ['', '-wal', '-shm']) rmSync(options.indexPath + suffix, { force: true });
    index = new StoreIndex(options.indexPath);
  }
  const ctx: StoreContext = {
    backend: options.backend,
    index,
    keys,
    frameSize: options.frameSize ?? DEFAULT_FRAME_SIZE,
    compression: options.compression ?? DEFAULT_COMPRESSION,
    notice,
  };
  if (indexedStore !== keys.storeId) {
    index.setMeta('storeId', keys.storeId);
    const synced = await syncFromBackend(ctx);
    if (synced.archives > 0) notice(`indexed ${synced.archives} archive(s) found in the ${options.backend.description}`);
  }
  abandonDeadJobs(ctx);
  if (!keys.encrypted) notice('this store is NOT encrypted (created with --no-encryption): anyone who can read it can read your files');
  return new Store(ctx);
}

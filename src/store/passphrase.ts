import { DosError, ErrorCodes } from '../core/errors.js';
import { DEFAULT_SCRYPT, parseKeyringRecord, rewrapKeyring, unlockKeyring, type KeyringRecord, type ScryptParams } from '../core/keyring.js';
import type { StoreContext } from './context.js';
import { publishKeyring } from './open-store.js';

export interface PassphraseChangeOptions {
  /** Change it even though archives the Python seed made stay readable with the old passphrase only (SEED_USER_KEY). */
  force?: boolean;
  /** KDF cost for the new wrapping; default: the keyring's own, or DESIGN.md's if that is stronger. */
  scrypt?: ScryptParams;
}

export interface PassphraseChange {
  storeId: string;
  kdf: ScryptParams;
  /** Seed archives still encrypted with the old passphrase itself (only with `force`). */
  seedArchivesOnOldKey: number;
}

/**
 * Changes the store's passphrase: the master key is rewrapped under the new one and the
 * keyring replaced in one write (a file rename, or one edit of the pinned message). No data
 * moves, the store id stays, and processes already running (a mount, the bot) keep working.
 * No copy of the old keyring is kept: a passphrase is usually changed because the old one
 * leaked, and an old keyring would go on opening the store with it.
 */
export async function changePassphrase(ctx: StoreContext, currentKey: string | undefined, newKey: string, options: PassphraseChangeOptions = {}): Promise<PassphraseChange> {
  if (!ctx.keys.encrypted) {
    throw new DosError(ErrorCodes.UNSUPPORTED, 'this store was created with --no-encryption: its master key is stored in the clear, so a passphrase now would not protect anything already written. Create an encrypted store (dos init with USER_KEY in a new DOS_HOME) and copy the archives into it');
  }
  if (newKey.length === 0) throw new DosError(ErrorCodes.BAD_INPUT, 'the new passphrase is empty');
  if (newKey === currentKey) throw new DosError(ErrorCodes.BAD_INPUT, 'the new passphrase is the same as the current one');
  // The seed derived each chunk's key from USER_KEY itself (legacy-format.md), not from our master key.
  const seedArchives = ctx.index.listArchives().filter((a) => a.kind === 'seed').length;
  if (seedArchives > 0 && !options.force) {
    throw new DosError(ErrorCodes.BAD_INPUT, `${seedArchives} archive(s) made by the Python seed are encrypted with the passphrase itself, not with this store's key, so they will still need the old one. Pass --force and keep the old passphrase as SEED_USER_KEY for them (or first re-archive them: dos get, then dos put)`);
  }

  const stored = await ctx.backend.readKeyring();
  if (!stored) throw new DosError(ErrorCodes.NO_STORE, `the keyring is missing from the ${ctx.backend.description}`);
  const record = parseKeyringRecord(stored);
  if (record.storeId !== ctx.keys.storeId) throw new DosError(ErrorCodes.CORRUPT, 'the keyring in the backend belongs to another store than the one opened');
  const kdf = options.scrypt ?? strongerOf(record, DEFAULT_SCRYPT);
  const rewrapped = await rewrapKeyring(record, currentKey, newKey, kdf);

  // Losing the master key loses every archive: prove the new keyring opens to the same keys
  // before it replaces the old one.
  const reopened = await unlockKeyring(rewrapped, newKey);
  if (!reopened.frameKey.equals(ctx.keys.frameKey) || !reopened.idKey.equals(ctx.keys.idKey)) {
    throw new DosError(ErrorCodes.CORRUPT, 'the rewrapped keyring did not open to the same keys; nothing was changed');
  }
  await publishKeyring(ctx.backend, ctx.index, rewrapped);
  return { storeId: record.storeId, kdf, seedArchivesOnOldKey: seedArchives };
}

/** A change never weakens the KDF: the keyring's own cost, or the current default if that is higher. */
function strongerOf(record: KeyringRecord, floor: ScryptParams): ScryptParams {
  const own = record.kdf;
  if (!own) return floor;
  const cost = (p: ScryptParams) => 2 ** p.logN * p.r * p.p;
  return cost(own) >= cost(floor) ? { logN: own.logN, r: own.r, p: own.p } : floor;
}

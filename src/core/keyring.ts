import { createHmac, hkdfSync, randomBytes, randomFillSync, scrypt, timingSafeEqual } from 'node:crypto';
import { aesGcm, GCM_NONCE_BYTES, GCM_TAG_BYTES } from './aes-gcm.js';
import { DosError, ErrorCodes } from './errors.js';

/**
 * The keyring: one random 32-byte master key per store, wrapped with AES-256-GCM under a
 * key-encryption key (KEK) derived from USER_KEY with scrypt. It is safe to publish (the
 * master key inside is wrapped). See docs/FORMAT.md "Keyring".
 */
export interface KeyringRecord {
  format: 'dos-keyring';
  version: 1;
  storeId: string;
  encryption: 'scrypt-aes256gcm' | 'none';
  kdf?: { name: 'scrypt'; logN: number; r: number; p: number; salt: string };
  /** hex HMAC-SHA256(KEK, "dos/key-check/v1"), first 16 bytes: tells "wrong key" apart from "damaged keyring". */
  keyCheck?: string;
  /** base64 nonce(12) || ciphertext(32) || tag(16) of the master key; AAD = "dos/keyring/v1" || storeId. */
  wrappedMasterKey?: string;
  /** Only for stores made with --no-encryption: the master key in the clear (base64). */
  plainMasterKey?: string;
  createdAt: string;
}

/** Subkeys derived once per process from the master key. */
export interface KeySet {
  storeId: string;
  encrypted: boolean;
  /** AES-256-GCM key for frames. */
  frameKey: Buffer;
  /** HMAC-SHA256 key for frame ids (and so for dedup). */
  idKey: Buffer;
  /** HMAC-SHA256 key authenticating published archive records. */
  recordKey: Buffer;
}

export interface ScryptParams { logN: number; r: number; p: number }
/** DESIGN.md fixes N=2^17, r=8, p=1 (about 0.5 s and 128 MiB here); stored so they can be raised later. */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 17, r: 8, p: 1 };

const WRAP_AAD = 'dos/keyring/v1';
const KEY_CHECK_INFO = 'dos/key-check/v1';

function deriveKek(userKey: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  // scrypt needs 128 * N * r bytes; Node refuses above maxmem, so size it to the parameters.
  const maxmem = 128 * N * params.r + 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(userKey, 'utf8'), salt, 32, { N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function keyCheckOf(kek: Buffer): string {
  return createHmac('sha256', kek).update(KEY_CHECK_INFO).digest().subarray(0, 16).toString('hex');
}

export function deriveKeySet(master: Buffer, storeId: string, encrypted: boolean): KeySet {
  const sub = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.from(storeId, 'utf8'), info, 32));
  return { storeId, encrypted, frameKey: sub('dos/frame/v1'), idKey: sub('dos/id/v1'), recordKey: sub('dos/record/v1') };
}

/** Creates a new keyring. `userKey === null` makes an unencrypted store (explicit --no-encryption only). */
export async function createKeyring(userKey: string | null, params: ScryptParams = DEFAULT_SCRYPT): Promise<{ record: KeyringRecord; keys: KeySet }> {
  const storeId = randomBytes(12).toString('hex');
  const master = randomBytes(32);
  const createdAt = new Date().toISOString();
  if (userKey === null) {
    const record: KeyringRecord = { format: 'dos-keyring', version: 1, storeId, encryption: 'none', plainMasterKey: master.toString('base64'), createdAt };
    return { record, keys: deriveKeySet(master, storeId, false) };
  }
  if (userKey.length === 0) throw new DosError(ErrorCodes.KEY_REQUIRED, 'USER_KEY is empty');
  const record: KeyringRecord = {
    format: 'dos-keyring',
    version: 1,
    storeId,
    encryption: 'scrypt-aes256gcm',
    ...(await wrapMasterKey(master, storeId, userKey, params)),
    createdAt,
  };
  return { record, keys: deriveKeySet(master, storeId, true) };
}

export function parseKeyringRecord(bytes: Buffer | string): KeyringRecord {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString());
  } catch (err) {
    throw new DosError(ErrorCodes.CORRUPT, 'the keyring is not valid JSON', {}, { cause: err });
  }
  const rec = value as Partial<KeyringRecord> | null;
  if (!rec || rec.format !== 'dos-keyring' || typeof rec.storeId !== 'string') {
    throw new DosError(ErrorCodes.CORRUPT, 'the keyring is damaged or not a dos keyring');
  }
  if (rec.version !== 1) throw new DosError(ErrorCodes.UNSUPPORTED, `keyring version ${String(rec.version)} is newer than this dos understands`);
  return rec as KeyringRecord;
}

/** Unlocks a keyring. Wrong key → WRONG_KEY; missing key for an encrypted store → KEY_REQUIRED. */
export async function unlockKeyring(record: KeyringRecord, userKey: string | undefined): Promise<KeySet> {
  return deriveKeySet(await masterKeyOf(record, userKey), record.storeId, record.encryption !== 'none');
}

/** Rewraps the master key under a new passphrase: no data moves, the store id stays. */
export async function rewrapKeyring(record: KeyringRecord, oldKey: string | undefined, newKey: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<KeyringRecord> {
  const master = await masterKeyOf(record, oldKey);
  const { plainMasterKey: _dropped, ...rest } = record;
  return { ...rest, encryption: 'scrypt-aes256gcm', ...(await wrapMasterKey(master, record.storeId, newKey, params)) };
}

async function wrapMasterKey(master: Buffer, storeId: string, userKey: string, params: ScryptParams): Promise<Pick<KeyringRecord, 'kdf' | 'keyCheck' | 'wrappedMasterKey'>> {
  const salt = randomBytes(16);
  const kek = await deriveKek(userKey, salt, params);
  // nonce(12) || ciphertext || tag(16)
  const wrapped = Buffer.alloc(GCM_NONCE_BYTES + master.length + GCM_TAG_BYTES);
  const nonce = wrapped.subarray(0, GCM_NONCE_BYTES);
  randomFillSync(nonce);
  aesGcm.sealInto(kek, nonce, Buffer.from(WRAP_AAD + storeId, 'utf8'), master, wrapped.subarray(GCM_NONCE_BYTES));
  return { kdf: { name: 'scrypt', ...params, salt: salt.toString('base64') }, keyCheck: keyCheckOf(kek), wrappedMasterKey: wrapped.toString('base64') };
}

async function masterKeyOf(record: KeyringRecord, userKey: string | undefined): Promise<Buffer> {
  if (record.encryption === 'none') {
    if (!record.plainMasterKey) throw new DosError(ErrorCodes.CORRUPT, 'the keyring of this unencrypted store has no key');
    return Buffer.from(record.plainMasterKey, 'base64');
  }
  if (record.encryption !== 'scrypt-aes256gcm' || !record.kdf || !record.wrappedMasterKey || !record.keyCheck) {
    throw new DosError(ErrorCodes.UNSUPPORTED, `unknown keyring encryption ${String(record.encryption)}`);
  }
  if (!userKey) throw new DosError(ErrorCodes.KEY_REQUIRED, 'this store is encrypted: set USER_KEY (in the environment or in .env)');
  const { logN, r, p, salt } = record.kdf;
  const kek = await deriveKek(userKey, Buffer.from(salt, 'base64'), { logN, r, p });
  const check = Buffer.from(keyCheckOf(kek), 'hex');
  const expected = Buffer.from(record.keyCheck, 'hex');
  if (check.length !== expected.length || !timingSafeEqual(check, expected)) {
    throw new DosError(ErrorCodes.WRONG_KEY, 'USER_KEY does not match this store (the key check failed); nothing was read or written');
  }
  const wrapped = Buffer.from(record.wrappedMasterKey, 'base64');
  const master = wrapped.length < GCM_NONCE_BYTES + GCM_TAG_BYTES ? null : aesGcm.open(
    kek, wrapped.subarray(0, GCM_NONCE_BYTES), Buffer.from(WRAP_AAD + record.storeId, 'utf8'),
    wrapped.subarray(GCM_NONCE_BYTES, wrapped.length - GCM_TAG_BYTES), wrapped.subarray(wrapped.length - GCM_TAG_BYTES),
  );
  if (!master) throw new DosError(ErrorCodes.CORRUPT, 'the key check matched but the master key failed to unwrap: the keyring is damaged');
  return master;
}

import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { SEED_KEY_LENGTH, SEED_PBKDF2_ITERATIONS } from './constants.js';

const pbkdf2Async = promisify(pbkdf2);

/**
 * The seed's key derivation: PBKDF2-HMAC-SHA256(UTF-8 USER_KEY, salt, 600 000, 32 bytes).
 * Always the async variant: 600 000 iterations take ~130 ms, and pbkdf2Sync would freeze the
 * event loop (and with it the Discord gateway heartbeat) for that long on every chunk. The async
 * call runs on libuv's thread pool, so two derivations really do run on two cores.
 */
export function deriveSeedKey(userKey: string, salt: Buffer): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(userKey, 'utf8'), salt, SEED_PBKDF2_ITERATIONS, SEED_KEY_LENGTH, 'sha256');
}

/**
 * Numbers fixed by the Python seed's formats (legacy-format.md §1). They are facts about data
 * that already exists, not tunables: changing any of them makes real archives unreadable.
 */

/** Plaintext piece (3.1) or ciphertext slice (3.0, 2.x) size the seed used: int(9.5 MiB). */
export const SEED_CHUNK_SIZE = 9_961_472;

/**
 * PBKDF2-HMAC-SHA256 iterations of every seed generation. Deliberately not configurable in the
 * reader: a lower value could never decrypt a real chunk, so making it an option would only
 * invite tests that pass against a reader that fails in production.
 */
export const SEED_PBKDF2_ITERATIONS = 600_000;
export const SEED_KEY_LENGTH = 32;

/** Layout of a sealed blob: salt(16) ‖ nonce(12) ‖ ciphertext ‖ tag(16). */
export const SEED_SALT_LENGTH = 16;
export const SEED_NONCE_LENGTH = 12;
export const SEED_TAG_LENGTH = 16;
export const SEED_HEADER_LENGTH = SEED_SALT_LENGTH + SEED_NONCE_LENGTH;
/** The smallest blob that can authenticate (empty ciphertext). Anything shorter is truncated. */
export const SEED_MIN_SEALED_LENGTH = SEED_HEADER_LENGTH + SEED_TAG_LENGTH;

/**
 * Typed errors with stable codes. Scripts and tests match on `code`, never on message text,
 * so messages can improve without breaking anyone. Every code maps to a CLI exit status.
 */
export const ErrorCodes = {
  /** USER_KEY does not unlock this store's keyring (key-check value mismatch). */
  WRONG_KEY: 'WRONG_KEY',
  /** The store is encrypted and no USER_KEY was given. */
  KEY_REQUIRED: 'KEY_REQUIRED',
  /** No store/keyring exists yet where one was expected. */
  NO_STORE: 'NO_STORE',
  /** A store already exists where `init` was asked to create one. */
  STORE_EXISTS: 'STORE_EXISTS',
  /** Data failed authentication or a hash check: tampered, corrupted or truncated. */
  CORRUPT: 'CORRUPT',
  /** Something the store references is missing from the backend. */
  MISSING: 'MISSING',
  /** A path from a manifest, card or attachment would escape its destination (.., absolute, NUL...). */
  UNSAFE_PATH: 'UNSAFE_PATH',
  /** No archive (or no path inside an archive) matches what the user asked for. */
  NOT_FOUND: 'NOT_FOUND',
  /** The user gave something we cannot parse (an archive id, an option value...). */
  BAD_INPUT: 'BAD_INPUT',
  /** The destination exists and --force was not given. */
  EXISTS: 'EXISTS',
  /** The disk filled up while writing. */
  NO_SPACE: 'NO_SPACE',
  /** A format or version this build does not understand. */
  UNSUPPORTED: 'UNSUPPORTED',
  /** A backend (network, Discord, disk) operation failed after retries. */
  BACKEND: 'BACKEND',
  /** Another process holds a lock we need. */
  BUSY: 'BUSY',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Exit statuses per code; 1 stays "unexpected failure". */
export const exitStatusFor: Record<ErrorCode, number> = {
  BAD_INPUT: 2,
  NOT_FOUND: 3,
  EXISTS: 4,
  WRONG_KEY: 5,
  KEY_REQUIRED: 5,
  NO_STORE: 6,
  STORE_EXISTS: 6,
  CORRUPT: 7,
  MISSING: 7,
  UNSAFE_PATH: 8,
  NO_SPACE: 9,
  UNSUPPORTED: 10,
  BACKEND: 11,
  BUSY: 12,
};

export class DosError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for logs and --json output (archive id, path, offset...). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DosError';
    this.code = code;
    this.details = details;
  }
}

export function isDosError(err: unknown, code?: ErrorCode): err is DosError {
  return err instanceof DosError && (code === undefined || err.code === code);
}

/** Maps a Node system error (ENOSPC...) to a DosError where we have a better name for it. */
export function fromSystemError(err: unknown, context: string): unknown {
  const sys = err as NodeJS.ErrnoException | undefined;
  if (sys && (sys.code === 'ENOSPC' || sys.code === 'EDQUOT' || sys.code === 'SQLITE_FULL')) {
    return new DosError(ErrorCodes.NO_SPACE, `${context}: the disk is full`, { syscall: sys.syscall, path: sys.path }, { cause: err });
  }
  return err;
}

import { DosError, ErrorCodes, fromSystemError, isDosError } from '../core/errors.js';

/** Where a decode problem happened, for messages and `details`. */
export interface DecodeSite {
  chunkDir: string;
  manifest: string;
  /** The restored file's name. */
  file: string;
  /** The chunk (3.1, 2.x) or all slices of the file (3.0, where GCM cannot point at one). */
  chunk: string | string[];
}

function chunkText(site: DecodeSite): string {
  if (typeof site.chunk === 'string') return `chunk ${site.chunk}`;
  return site.chunk.length === 1 ? `chunk ${site.chunk[0]}` : `chunks ${site.chunk[0]} … ${site.chunk[site.chunk.length - 1]}`;
}

/**
 * AES-GCM refused the data. The seed stored no key-check value, so before any chunk of this run
 * has authenticated we cannot tell a wrong USER_KEY from a damaged chunk and must say both.
 * Once one chunk decrypted, the key is known to be right and the chunk is what is broken.
 */
export function authenticationFailed(site: DecodeSite, keyVerified: boolean, cause?: unknown): DosError {
  const message = keyVerified
    ? `corrupted ${chunkText(site)} of ${site.file} (manifest ${site.manifest}): it failed authentication although earlier chunks decrypted with this USER_KEY`
    : `wrong USER_KEY or corrupted ${chunkText(site)} of ${site.file} (manifest ${site.manifest}): authentication failed (seed data is read with SEED_USER_KEY when that is set)`;
  return new DosError(ErrorCodes.CORRUPT, message, { ...site, keyVerified }, { cause });
}

export function tooShort(site: DecodeSite, length: number): DosError {
  return new DosError(ErrorCodes.CORRUPT, `${chunkText(site)} of ${site.file} is truncated: ${length} bytes cannot hold salt, nonce and tag`, { ...site, length });
}

/** Authenticated data that does not gunzip: the writer stored something else (or a bug). */
export function notGzip(site: DecodeSite, cause: unknown): DosError {
  return new DosError(ErrorCodes.CORRUPT, `${chunkText(site)} of ${site.file} (manifest ${site.manifest}) is not a valid gzip stream: ${(cause as Error)?.message ?? cause}`, { ...site }, { cause });
}

/** Disk errors keep their identity (ENOSPC → NO_SPACE); DosErrors pass through unchanged. */
export function isSystemError(err: unknown): boolean {
  return typeof (err as NodeJS.ErrnoException | undefined)?.syscall === 'string';
}

export function passThroughOr(err: unknown, context: string, otherwise: () => DosError): unknown {
  if (isDosError(err)) return err;
  if (isSystemError(err)) {
    const sys = err as NodeJS.ErrnoException;
    // Planning saw every chunk; one that vanished since is missing, not a mystery crash.
    if (sys.code === 'ENOENT') return new DosError(ErrorCodes.MISSING, `${context}: ${sys.path ?? 'a file'} disappeared during the restore`, { path: sys.path }, { cause: err });
    return fromSystemError(err, context);
  }
  return otherwise();
}

import { DosError, ErrorCodes, type ErrorCode } from '../../core/errors.js';

export type ErrnoName =
  | 'ENOENT' | 'EEXIST' | 'ENOTEMPTY' | 'EISDIR' | 'ENOTDIR' | 'EIO' | 'ENOSPC' | 'EROFS' | 'EXDEV'
  | 'EINVAL' | 'EBADF' | 'ENOTSUP' | 'ENODATA' | 'EBUSY' | 'EACCES' | 'EPERM' | 'ENAMETOOLONG';

/** An error the mount answers the kernel with: `errno` is the name (ENOENT...). */
export class FsError extends Error {
  constructor(readonly errno: ErrnoName, message?: string) {
    super(message ?? errno);
    this.name = 'FsError';
  }
}

const byCode: Record<ErrorCode, ErrnoName> = {
  [ErrorCodes.NOT_FOUND]: 'ENOENT',
  [ErrorCodes.EXISTS]: 'EEXIST',
  [ErrorCodes.CORRUPT]: 'EIO',
  [ErrorCodes.MISSING]: 'EIO',
  [ErrorCodes.BACKEND]: 'EIO',
  [ErrorCodes.NO_SPACE]: 'ENOSPC',
  [ErrorCodes.BAD_INPUT]: 'EINVAL',
  [ErrorCodes.UNSAFE_PATH]: 'EINVAL',
  [ErrorCodes.BUSY]: 'EBUSY',
  [ErrorCodes.WRONG_KEY]: 'EACCES',
  [ErrorCodes.KEY_REQUIRED]: 'EACCES',
  [ErrorCodes.NO_STORE]: 'EIO',
  [ErrorCodes.STORE_EXISTS]: 'EEXIST',
  [ErrorCodes.UNSUPPORTED]: 'EIO',
};

/** The errno name for any error: ours, the engine's (details.errno, else by code), or Node's. */
export function errnoNameOf(err: unknown): string {
  if (err instanceof FsError) return err.errno;
  if (err instanceof DosError) return typeof err.details.errno === 'string' ? err.details.errno : byCode[err.code];
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code === 'EDQUOT' ? 'ENOSPC' : code;
  // The index lives beside the staging folder: SQLite finding the disk full is the same full disk.
  if (code === 'SQLITE_FULL') return 'ENOSPC';
  return 'EIO';
}

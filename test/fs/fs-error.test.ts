import { describe, expect, it } from 'vitest';
import { DosError, ErrorCodes } from '../../src/core/errors.js';
import { errnoNameOf, FsError } from '../../src/store/mount/fs-error.js';

describe('the errno a mount answers with', () => {
  it('is the system error, the engine error mapped, or EIO; a full disk is ENOSPC wherever it was found', () => {
    expect(errnoNameOf(new FsError('ENOTEMPTY'))).toBe('ENOTEMPTY');
    expect(errnoNameOf(Object.assign(new Error('x'), { code: 'ENAMETOOLONG' }))).toBe('ENAMETOOLONG');
    expect(errnoNameOf(new DosError(ErrorCodes.CORRUPT, 'x'))).toBe('EIO');
    expect(errnoNameOf(new DosError(ErrorCodes.UNSAFE_PATH, 'x'))).toBe('EINVAL');
    expect(errnoNameOf(Object.assign(new Error('quota'), { code: 'EDQUOT' }))).toBe('ENOSPC');
    // The index sits beside the staging folder: SQLite meets the same full disk.
    expect(errnoNameOf(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))).toBe('ENOSPC');
    expect(errnoNameOf(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' }))).toBe('EIO');
    expect(errnoNameOf(new Error('anything else'))).toBe('EIO');
  });
});

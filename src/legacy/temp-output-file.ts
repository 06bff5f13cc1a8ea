import { randomBytes } from 'node:crypto';
import { lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DosError, ErrorCodes, fromSystemError } from '../core/errors.js';

/** Prefix of every temp file; short on purpose so a 255-byte original name still fits NAME_MAX. */
export const TEMP_PREFIX = '.dos-tmp-';

/** Identity of a file we produced in this run (device + inode), to catch case-folding collisions. */
export type FileIdentity = `${number}:${number}`;

export interface CommitOptions {
  /** Replace an existing file at the target (the user asked for --force). */
  overwrite: boolean;
  /** Files already committed in this run: never overwritten, even with `overwrite`. */
  committed: Set<FileIdentity>;
}

/**
 * A restored file under construction. Bytes go to a hidden temp file in the target folder (same
 * filesystem, so the final rename is atomic) and only reach the real name once the whole file
 * decoded and checked out. A failure therefore never leaves wrong bytes under the final name.
 */
export class TempOutputFile {
  private written = 0;
  private handle: FileHandle | null;

  private constructor(readonly tempPath: string, handle: FileHandle) {
    this.handle = handle;
  }

  static async create(dir: string): Promise<TempOutputFile> {
    const tempPath = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      // 'wx' = O_CREAT|O_EXCL: never reuses (or follows a symlink planted at) an existing name.
      return new TempOutputFile(tempPath, await open(tempPath, 'wx'));
    } catch (err) {
      throw fromSystemError(err, `creating a temporary file in ${dir}`);
    }
  }

  get bytesWritten(): number {
    return this.written;
  }

  async write(data: Uint8Array): Promise<void> {
    const handle = this.requireOpen();
    let offset = 0;
    try {
      // write() may accept fewer bytes than offered; loop until all of them are down.
      while (offset < data.length) {
        const { bytesWritten } = await handle.write(data, offset, data.length - offset);
        offset += bytesWritten;
      }
    } catch (err) {
      throw fromSystemError(err, `writing ${this.tempPath}`);
    } finally {
      this.written += offset;
    }
  }

  /** Flushes, closes and renames to `target`. Returns the identity of the committed file. */
  async commit(target: string, options: CommitOptions): Promise<FileIdentity> {
    const handle = this.requireOpen();
    try {
      await handle.datasync();
      const stats = await handle.stat();
      this.handle = null;
      await handle.close();
      await checkTarget(target, options);
      await rename(this.tempPath, target);
      const identity: FileIdentity = `${stats.dev}:${stats.ino}`;
      options.committed.add(identity);
      return identity;
    } catch (err) {
      throw fromSystemError(err, `saving ${target}`);
    }
  }

  /** Closes and deletes the temp file; safe to call after a failed commit or twice. */
  async discard(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
    await rm(this.tempPath, { force: true });
  }

  private requireOpen(): FileHandle {
    if (this.handle === null) throw new Error(`TempOutputFile ${this.tempPath} is already closed`);
    return this.handle;
  }
}

/**
 * Last look before the rename. Planning already refused existing targets, but the target may
 * have appeared since, or (on a case-insensitive volume such as macOS APFS or exFAT) be a file
 * this very run wrote under a name that differs only in case.
 */
async function checkTarget(target: string, options: CommitOptions): Promise<void> {
  let stats;
  try {
    stats = await lstat(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (options.committed.has(`${stats.dev}:${stats.ino}`)) {
    throw new DosError(ErrorCodes.EXISTS, `${target} was already restored by this run under another spelling of its name (case-insensitive filesystem); refusing to overwrite it`, { path: target });
  }
  if (!stats.isFile()) {
    throw new DosError(ErrorCodes.EXISTS, `${target} exists and is not a regular file`, { path: target });
  }
  if (!options.overwrite) {
    throw new DosError(ErrorCodes.EXISTS, `${target} already exists (use force to overwrite it)`, { path: target });
  }
}

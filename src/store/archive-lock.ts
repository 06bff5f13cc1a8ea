import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { StoreContext } from './context.js';
import { isDeadProcess } from './liveness.js';

const LOCK_WAIT_MS = 120_000;

/** Holds the archive's generation lock across processes while `fn` runs. */
export async function withArchiveLock<T>(ctx: StoreContext, archiveId: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  const token = randomBytes(8).toString('hex');
  while (!ctx.index.tryLockArchive(archiveId, token, isDeadProcess)) {
    if (Date.now() > deadline) throw new DosError(ErrorCodes.BUSY, `another dos process has been changing ${archiveId} for over ${LOCK_WAIT_MS / 1000} s`, { archive: archiveId });
    await sleep(25 + Math.random() * 50);
  }
  try {
    return await fn();
  } finally {
    ctx.index.unlockArchive(archiveId, token);
  }
}

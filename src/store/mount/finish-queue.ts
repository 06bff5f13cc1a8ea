import type { StoreContext } from '../context.js';
import { MountSession } from './session.js';

/**
 * Commits what dead mounts left queued (files closed in a mount that was killed before its
 * upload committed), without mounting anything: for `dos resume`. Returns how many queued
 * changes were found; `false` in `drained` means some could not be committed yet.
 */
export async function finishMountQueue(ctx: StoreContext, stagingDir: string, log: (line: string) => void): Promise<{ changes: number; drained: boolean }> {
  const session = new MountSession(ctx, { stagingDir, cacheBytes: 64 * 1024 * 1024, batchDelayMs: 0, maxBatchDelayMs: 0, log });
  const { resumed } = session.start();
  if (resumed === 0) return { changes: 0, drained: true };
  const drained = await session.close(5 * 60_000);
  return { changes: resumed, drained };
}

import { DosError } from '../core/errors.js';
import type { ProgressFn, StoreContext } from './context.js';
import { InputSource } from './input-source.js';
import { isInputError, writeArchiveGeneration, type PutResult } from './put.js';
import { abandonDeadJobs } from './remove.js';

export interface ResumeOutcome {
  archive: string;
  job: number;
  completed: boolean;
  result?: PutResult;
  error?: { code: string; message: string };
}

/**
 * Finishes puts that were interrupted (a crash, `kill -9`, a network failure). The journal
 * keeps the inputs; every pack that made it to the backend is in the index, so writing the
 * generation again reuses those frames through dedup: finished packs are not uploaded again,
 * and the record is only published once everything it points at is stored.
 */
export async function resumeInterrupted(ctx: StoreContext, onProgress?: ProgressFn, onlyArchive?: string): Promise<ResumeOutcome[]> {
  abandonDeadJobs(ctx);
  const outcomes: ResumeOutcome[] = [];
  for (const job of ctx.index.unfinishedJobs()) {
    if (job.state !== 'abandoned' || job.kind !== 'put' || !job.archiveId) continue;
    if (onlyArchive !== undefined && job.archiveId !== onlyArchive) continue;
    const archive = ctx.index.getArchive(job.archiveId);
    if (!archive || archive.currentGeneration !== null) {
      ctx.index.setJobState(job.id, 'done');
      continue;
    }
    if (!ctx.index.claimJob(job.id)) continue; // another process is resuming it
    const { inputs, name } = JSON.parse(job.payload) as { inputs: string[]; name: string };
    try {
      ctx.index.setArchiveStatus(archive.id, 'uploading');
      const source = await InputSource.open(inputs, { frameSize: ctx.frameSize, compression: ctx.compression, notice: ctx.notice });
      source.unlocked(ctx.keys, (id) => ctx.index.findFrame(id) !== undefined);
      source.start(ctx.notice);
      const result = await writeArchiveGeneration(ctx, { archiveId: archive.id, lot: archive.lot, name, createdAt: new Date(archive.createdAt), generation: 1, jobId: job.id }, source, onProgress)
        .catch((err: unknown) => {
          source.abort(err);
          throw err;
        });
      ctx.index.setJobState(job.id, 'done');
      outcomes.push({ archive: archive.id, job: job.id, completed: true, result });
    } catch (err) {
      // Reported, never thrown: one archive that cannot be finished must not stop every later put.
      ctx.index.setJobState(job.id, isInputError(err) ? 'cancelled' : 'abandoned');
      ctx.index.setArchiveStatus(archive.id, 'failed');
      const code = err instanceof DosError ? err.code : ((err as NodeJS.ErrnoException).code ?? 'UNEXPECTED');
      outcomes.push({ archive: archive.id, job: job.id, completed: false, error: { code, message: (err as Error).message } });
    }
  }
  return outcomes;
}

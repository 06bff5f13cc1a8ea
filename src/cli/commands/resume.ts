import type { Command } from 'commander';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { ResumeOutcome } from '../../store/resume.js';
import type { SeedResumeOutcome } from '../../store/seed-upload.js';
import type { Config } from '../config.js';
import { formatBytes, printJson } from '../format.js';
import { finishMountQueue } from '../../store/mount/finish-queue.js';
import { notice, stagingDirOf, withStore } from '../open.js';
import { progressBar } from '../progress.js';

export function registerResume(program: Command, config: () => Config): void {
  program
    .command('resume')
    .description('finish uploads that were interrupted (crash, kill, network failure) without re-uploading what is stored')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withStore(config(), false, async (store) => {
        const bar = progressBar('resume', !opts.json);
        const outcomes = await store.resume(bar.update).finally(bar.stop);
        // Files closed in a mount that was killed before they were uploaded.
        const mountQueue = await finishMountQueue(store.ctx, stagingDirOf(config()), notice);
        // Seed-sliced sets the bot's !upload did not finish (a crash, a failed file).
        const seedUploads = await store.resumeSeedUploads({ userKey: config().seedUserKey });
        if (opts.json) printJson({ puts: outcomes, mountQueue, seedUploads });
        else if (outcomes.length === 0 && mountQueue.changes === 0 && seedUploads.length === 0) process.stdout.write('nothing to resume\n');
        else {
          for (const o of outcomes) process.stdout.write(`${describeOutcome(o)}\n`);
          if (mountQueue.changes > 0) process.stdout.write(`committed ${mountQueue.changes} change(s) a mount left queued${mountQueue.drained ? '' : ' (some are still pending)'}\n`);
          for (const o of seedUploads) process.stdout.write(`${describeSeedOutcome(o)}\n`);
        }
        const failed = outcomes.filter((o) => !o.completed);
        const seedFailed = seedUploads.filter((o) => o.outcome?.status !== 'success');
        if (failed.length > 0 || !mountQueue.drained || seedFailed.length > 0) {
          throw new DosError(ErrorCodes.BACKEND, 'some uploads could not be finished; run dos resume again', { quiet: opts.json === true });
        }
      });
    });
}

export function describeOutcome(o: ResumeOutcome): string {
  return o.completed
    ? `resumed ${o.archive}: ${o.result!.files} files, ${formatBytes(o.result!.bytes)}, ${o.result!.attachments} new attachment(s)`
    : `could not resume ${o.archive}: [${o.error!.code}] ${o.error!.message}`;
}

function describeSeedOutcome(o: SeedResumeOutcome): string {
  if (o.error) return `could not resume the seed upload ${o.archiveId} from ${o.dir}: [${o.error.code}] ${o.error.message}`;
  const r = o.outcome!;
  if (r.status === 'success') return `resumed the seed upload ${o.archiveId}: ${r.attachments} attachment(s), ${r.uploaded - r.alreadyThere} posted now${r.removedLocal ? `; ${o.dir} emptied` : ''}`;
  return `the seed upload ${o.archiveId} still lacks ${r.failed.length} of ${r.attachments} attachment(s) (${r.failed.slice(0, 3).map((f) => f.name).join(', ')}${r.failed.length > 3 ? ', …' : ''})`;
}

/** put and mount finish interrupted uploads first, so a new user never has to know about resume. */
export async function resumeQuietly(store: { resume: () => Promise<ResumeOutcome[]> }): Promise<void> {
  for (const outcome of await store.resume()) notice(describeOutcome(outcome));
}

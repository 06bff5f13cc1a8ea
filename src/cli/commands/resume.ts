import type { Command } from 'commander';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { ResumeOutcome } from '../../store/resume.js';
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
        if (opts.json) printJson({ puts: outcomes, mountQueue });
        else if (outcomes.length === 0 && mountQueue.changes === 0) process.stdout.write('nothing to resume\n');
        else {
          for (const o of outcomes) process.stdout.write(`${describeOutcome(o)}\n`);
          if (mountQueue.changes > 0) process.stdout.write(`committed ${mountQueue.changes} change(s) a mount left queued${mountQueue.drained ? '' : ' (some are still pending)'}\n`);
        }
        const failed = outcomes.filter((o) => !o.completed);
        if (failed.length > 0 || !mountQueue.drained) {
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

/** put and mount finish interrupted uploads first, so a new user never has to know about resume. */
export async function resumeQuietly(store: { resume: () => Promise<ResumeOutcome[]> }): Promise<void> {
  for (const outcome of await store.resume()) notice(describeOutcome(outcome));
}

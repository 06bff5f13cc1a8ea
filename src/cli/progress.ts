import cliProgress from 'cli-progress';
import type { ProgressFn } from '../store/context.js';
import { formatBytes } from './format.js';

/**
 * A byte progress bar on stderr when it is a terminal, nothing otherwise (pipes, CI, --json):
 * scripts get clean output, people get feedback on long work.
 */
export function progressBar(label: string, enabled: boolean): { update: ProgressFn; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} {bar} {percentage}% | {doneText} / {totalText} | {speed}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let running = false;
  return {
    update(done, total) {
      const payload = { doneText: formatBytes(done), totalText: formatBytes(total), speed: `${formatBytes(done / Math.max((Date.now() - started) / 1000, 0.001))}/s` };
      if (!running) {
        bar.start(Math.max(total, 1), done, payload);
        running = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(done, payload);
      }
    },
    stop() {
      if (running) bar.stop();
    },
  };
}

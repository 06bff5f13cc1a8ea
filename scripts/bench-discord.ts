/**
 * Benchmark for issue #3: `dos put` of an incompressible corpus (default 200 MB, as the issue
 * asks) to the Discord emulator with Discord's default limits (10 MiB per attachment, 10
 * attachments and 25 MiB per message, message create 5 per 5 s per channel, 50 requests/s
 * globally), next to the ceiling those limits allow. Prints ratios, never asserts.
 *
 *   npm run build && npx tsx scripts/bench-discord.ts [MB]
 *
 * The store exists before the timed put (`dos init`, untimed): creating it is a one-off scrypt.
 *
 * Two ceilings are printed:
 * - the issue's: packs per second the buckets admit x pack size. Each thread is a channel with
 *   its own message bucket (5 per 5 s = 1 message/s), T threads, P packs per message: T x P
 *   packs/s, times this upload's mean pack size. The target is judged against this one.
 * - a stricter, burst-aware bound for this exact upload: N packs need M = ceil(N / P) messages;
 *   each thread sends 5 at once and 5 more every 5 s, so the buckets alone need
 *   (ceil(M / T / 5) - 1) x 5 s, and the machine needs the time of the same put into a local
 *   store measured in this run. A large upload (600 MB) makes this one meaningful.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startEmulator } from '../test/emulator/index.js';

const run = promisify(execFile);
const DOS = fileURLToPath(new URL('../dist/bundle/main.js', import.meta.url));
const totalMB = Number(process.argv[2] ?? 200);
const THREADS = 3; // the backend's default threadsPerArchive
const PACKS_PER_MESSAGE = 2; // two ~10 MiB packs per 25 MiB request
const BUCKET = { limit: 5, windowMs: 5000 };

const work = mkdtempSync(join(tmpdir(), 'dos-bench-discord-'));
const emu = await startEmulator({ profile: 'realistic' });
try {
  const corpus = join(work, 'corpus');
  execFileSync('mkdir', ['-p', corpus]);
  for (let i = 0; i * 50 < totalMB; i++) {
    const fd = openSync(join(corpus, `video-${i}.mov`), 'w');
    for (let mb = 0; mb < Math.min(50, totalMB - i * 50); mb++) writeSync(fd, randomBytes(1_000_000));
    closeSync(fd);
  }
  const bytes = totalMB * 1_000_000;
  const key = { USER_KEY: 'benchmark passphrase' };

  // The emulator runs in this process: children must be awaited, never run synchronously.
  const dos = (args: string[], env: Record<string, string>) => run(process.execPath, [DOS, ...args], { env: { ...process.env, ...key, ...env }, maxBuffer: 1 << 24 });
  const localEnv = { DOS_HOME: join(work, 'local'), DISCORD_BOT_TOKEN: '' };
  const discordEnv = { DOS_HOME: join(work, 'discord'), ...emu.env() };
  await dos(['init'], localEnv);
  await dos(['init'], discordEnv);
  const local = await timed(() => dos(['put', corpus, '--json'], localEnv));
  const remote = await timed(() => dos(['put', corpus, '--json'], discordEnv));
  const result = JSON.parse(remote.output) as { attachments: number; id: string; storedBytes: number };

  const messages = Math.ceil(result.attachments / PACKS_PER_MESSAGE);
  const bucketSeconds = (Math.ceil(messages / THREADS / BUCKET.limit) - 1) * (BUCKET.windowMs / 1000);
  const ceilingSeconds = Math.max(bucketSeconds, local.seconds);
  const names = emu.state.threads(emu.archiveChannelId).flatMap((t) => emu.state.messages(t.id).flatMap((m) => emu.state.attachments(m.id).filter((a) => a.filename.endsWith('.pack')).map((a) => a.filename)));
  const duplicates = names.length - new Set(names).size;
  const verify = await dos(['verify', result.id, '--json'], { DOS_HOME: join(work, 'discord'), ...emu.env() });
  const verified = JSON.parse(verify.stdout) as { ok: boolean; packs: number };

  const mbps = (s: number) => (bytes / 1e6 / s).toFixed(1);
  const achieved = bytes / 1e6 / remote.seconds;
  const meanPack = result.storedBytes / result.attachments;
  const steadyCeiling = (THREADS * (BUCKET.limit / (BUCKET.windowMs / 1000)) * PACKS_PER_MESSAGE * meanPack) / 1e6;
  console.log(`corpus: ${totalMB} MB incompressible, ${result.attachments} packs (mean ${(meanPack / 1048576).toFixed(2)} MiB) in ${messages} messages over up to ${THREADS} threads`);
  console.log(`dos put to the emulator: ${remote.seconds.toFixed(2)} s = ${achieved.toFixed(1)} MB/s`);
  console.log(`issue's ceiling (packs/s the buckets admit x pack size): ${THREADS} threads x 1 message/s x ${PACKS_PER_MESSAGE} packs x ${(meanPack / 1e6).toFixed(2)} MB = ${steadyCeiling.toFixed(1)} MB/s -> ${((achieved / steadyCeiling) * 100).toFixed(0)}% (target >= 80%)`);
  console.log(`burst-aware bound for this upload: buckets ${bucketSeconds.toFixed(1)} s, local put ${local.seconds.toFixed(2)} s (${mbps(local.seconds)} MB/s) -> ${mbps(ceilingSeconds)} MB/s -> ${((ceilingSeconds / remote.seconds) * 100).toFixed(0)}%`);
  console.log(`packs lost: ${verified.ok ? 0 : 'verify failed'} (quick verify of ${verified.packs} packs), duplicate attachments: ${duplicates}, 429s served: ${emu.stats.total429}`);
} finally {
  await emu.close();
  rmSync(work, { recursive: true, force: true });
}

async function timed(fn: () => Promise<{ stdout: string }>): Promise<{ seconds: number; output: string }> {
  const started = process.hrtime.bigint();
  const { stdout } = await fn();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, output: stdout };
}

/**
 * Benchmark for issue #2: `dos put` of a ~140 MB mixed corpus into a fresh local store,
 * compared in the same run with (a) reading the same bytes with `cat` (the I/O ceiling) and
 * (b) the Python seed's pipeline (gzip-9, PBKDF2-600k per 9.5 MiB chunk, AES-GCM) re-run in
 * Node on the same bytes. Prints ratios, never asserts: the machines are shared and noisy.
 *
 *   npm run build && npm run bench:put
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zc, gzipSync } from 'node:zlib';
import { writeSeedSet } from '../test/helpers/seed-writer.js';
import { makeCorpus } from './corpus.js';

const DOS = fileURLToPath(new URL('../dist/bundle/main.js', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 3);
const work = mkdtempSync(join(tmpdir(), 'dos-bench-'));
const corpus = join(work, 'corpus');
const mb = (bytes: number) => bytes / 1e6;

try {
  const { files, bytes } = makeCorpus(corpus);
  console.log(`corpus: ${files} files, ${mb(bytes).toFixed(1)} MB (24 photos x 4 MiB, 18 texts x 2 MiB, 300 JSON, a deep tree)\n`);

  const catSeconds = time(() => spawnSync('sh', ['-c', `find "${corpus}" -type f -print0 | xargs -0 cat > /dev/null`]));
  console.log(`baseline cat:        ${(mb(bytes) / catSeconds).toFixed(0)} MB/s (reading the bytes, nothing else)`);

  const seed = await seedBaseline(corpus, join(work, 'seed'));
  console.log(`baseline seed (3.1): ${seed.mbps.toFixed(1)} MB/s, stored ${seed.ratio.toFixed(3)} of input, ${seed.attachments} attachments (the seed's own pipeline re-run in Node here)`);

  const results = [];
  for (let i = 0; i < runs; i++) results.push(timedPut(join(work, `home-${i}`)));
  results.sort((a, b) => a.seconds - b.seconds);
  const best = results[0]!;
  const median = results[Math.floor(results.length / 2)]!;
  const dosMbps = mb(bytes) / median.seconds;
  console.log(`dos put (median of ${runs}): ${dosMbps.toFixed(1)} MB/s end to end (best ${(mb(bytes) / best.seconds).toFixed(1)}), stored ${(median.storedBytes / bytes).toFixed(3)} of input, ${median.attachments} attachments`);
  console.log(`\nratios: dos/seed speed ${(dosMbps / seed.mbps).toFixed(1)}x, dos/cat ${(dosMbps / (mb(bytes) / catSeconds)).toFixed(2)}, attachments dos/seed ${(median.attachments / seed.attachments).toFixed(3)}`);
  console.log(`targets (issue #2): >= 100 MB/s end to end, stored <= 0.77 of input, <= 20 attachments`);

  console.log('\nthe same put at other DOS_COMPRESSION_LEVELs (one run each):');
  for (const level of [1, 3, 5]) {
    const r = timedPut(join(work, `home-level-${level}`), String(level));
    console.log(`  level ${level}: ${(mb(bytes) / r.seconds).toFixed(1)} MB/s, stored ${(r.storedBytes / bytes).toFixed(3)} of input`);
  }

  codecTable(join(corpus, 'documents', 'notes-0.txt'));
  codecTable(join(corpus, 'logs', 'server-1.log'));
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** One `dos put` of the corpus into a fresh store, as a user runs it (the built CLI, scrypt included). */
function timedPut(home: string, level?: string): { seconds: number; storedBytes: number; attachments: number; bytes: number } {
  const env = { ...process.env, DOS_HOME: home, USER_KEY: 'benchmark passphrase', DISCORD_BOT_TOKEN: '', ...(level ? { DOS_COMPRESSION_LEVEL: level } : {}) };
  const started = process.hrtime.bigint();
  const out = execFileSync(process.execPath, [DOS, 'put', corpus, '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(home, { recursive: true, force: true });
  return { seconds, ...(JSON.parse(out.toString()) as { storedBytes: number; attachments: number; bytes: number }) };
}

function time(fn: () => unknown): number {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The seed slicer's work on the same bytes (it only took top-level files, so feed it all of them flat). */
async function seedBaseline(root: string, out: string): Promise<{ mbps: number; ratio: number; attachments: number }> {
  const paths = listFiles(root);
  const inputs = paths.map((p) => ({ name: relative(root, p).replaceAll('/', '_'), data: readFileSync(p) }));
  const total = inputs.reduce((s, f) => s + f.data.length, 0);
  const started = process.hrtime.bigint();
  const set = await writeSeedSet({ format: '3.1', dir: out, files: inputs, sourceFolder: 'corpus', userKey: 'benchmark passphrase' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stored = readdirSync(out).reduce((s, n) => s + statSync(join(out, n)).size, 0);
  return { mbps: mb(total) / seconds, ratio: stored / total, attachments: set.chunks.length + 1 };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? listFiles(join(dir, d.name)) : [join(dir, d.name)]));
}

/** Why brotli: per 1 MiB frame of the corpus text, speed and ratio of each candidate codec. */
function codecTable(sample: string): void {
  const frame = readFileSync(sample).subarray(0, 1024 * 1024);
  console.log(`\ncodec per 1 MiB frame of ${relative(corpus, sample)} (one core):`);
  const candidates: Array<[string, () => Buffer]> = [
    ['gzip -1', () => gzipSync(frame, { level: 1 })],
    ['gzip -6', () => gzipSync(frame, { level: 6 })],
    ['gzip -9 (seed)', () => gzipSync(frame, { level: 9 })],
    ...[1, 3, 4, 5, 6].map((q) => [`brotli q${q}`, () => brotliCompressSync(frame, { params: { [zc.BROTLI_PARAM_QUALITY]: q, [zc.BROTLI_PARAM_SIZE_HINT]: frame.length } })] as [string, () => Buffer]),
  ];
  for (const [name, compress] of candidates) {
    let size = 0;
    const seconds = time(() => {
      for (let i = 0; i < 5; i++) size = compress().length;
    }) / 5;
    console.log(`  ${name.padEnd(15)} ${(mb(frame.length) / seconds).toFixed(0).padStart(5)} MB/s  ratio ${(size / frame.length).toFixed(3)}`);
  }
}

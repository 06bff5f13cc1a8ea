import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOS_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const PRELOAD = fileURLToPath(new URL('../helpers/report-max-rss.cjs', import.meta.url));
const FILE_MIB = 400;

/** Runs the built CLI and reports its peak resident memory. */
function dosWithPeakMemory(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string; maxRssMiB: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--require', PRELOAD, DOS_BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      const kb = Number(/DOS_TEST_MAX_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? Number.NaN);
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, maxRssMiB: kb / 1024 });
    });
  });
}

describe('streaming', () => {
  it(`puts and gets a ${FILE_MIB} MiB file without holding it in memory`, async () => {
    const work = tempDir();
    mkdirSync(join(work, 'src'));
    const hash = createHash('sha256');
    const fd = openSync(join(work, 'src', 'big.bin'), 'w');
    for (let i = 0; i < FILE_MIB; i++) {
      const block = randomBytes(1024 * 1024);
      hash.update(block);
      writeSync(fd, block);
    }
    closeSync(fd);
    const env = { DOS_HOME: join(work, 'home'), USER_KEY: 'memory test key' };

    const put = await dosWithPeakMemory(['put', join(work, 'src'), '--json'], env);
    expect(put.code, put.stderr).toBe(0);
    const { id } = JSON.parse(put.stdout) as { id: string };
    const got = await dosWithPeakMemory(['get', id, join(work, 'out')], env);
    expect(got.code, got.stderr).toBe(0);
    expect(createHash('sha256').update(readFileSync(join(work, 'out', 'big.bin'))).digest('hex')).toBe(hash.digest('hex'));

    // Bounded by scrypt (128 MiB, briefly), the read-ahead window and a few pack buffers, not by
    // the file size: measured ~235 MiB for put and ~180 MiB for get.
    expect(put.maxRssMiB).toBeLessThan(FILE_MIB * 0.75);
    expect(got.maxRssMiB).toBeLessThan(FILE_MIB * 0.75);
  });
});

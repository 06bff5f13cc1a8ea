/**
 * Benchmark for issue #4: one 512 MiB encrypted file through `dos mount` (sequential read cold
 * and warm, `cp` in until durable) and through `rclone mount` of an rclone-crypt remote on the
 * same bytes, in the same run, with ratios. Needs /dev/fuse, a built dist/ (npm run build) and
 * rclone (apt-get install -y rclone). Run: npx tsx scripts/bench-mount.ts [MiB]
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 512) * MiB;
const DOS = fileURLToPath(new URL('../dist/bundle/main.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'dos-bench-mount-'));
const home = join(work, 'home');
const env = { ...process.env, DOS_HOME: home, USER_KEY: 'bench mount key', DOS_CACHE_MB: String(Math.ceil((size * 1.25) / MiB)), DOS_MOUNT_BATCH_MS: '100' };
const children: ChildProcess[] = [];
const mounts: string[] = [];

function cleanup(): void {
  for (const c of children) c.kill('SIGKILL');
  for (const m of mounts) spawnSync('fusermount', ['-uz', m]);
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function dropCaches(): void {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
  } catch {
    // not root: the kernel page cache may make "cold" reads warmer than they are
  }
}

/** Sequential read with dd bs=1M; MB/s. */
function ddRead(path: string): number {
  const start = process.hrtime.bigint();
  execFileSync('dd', [`if=${path}`, 'of=/dev/null', 'bs=1M'], { stdio: 'ignore' });
  return size / 1e6 / (Number(process.hrtime.bigint() - start) / 1e9);
}

function seconds(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startDosMount(dir: string): Promise<ChildProcess> {
  mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, [DOS, 'mount', dir], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  mounts.push(dir);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('dos: mounted'), 'dos mount', 60_000);
  return child;
}

async function stopMount(child: ChildProcess): Promise<void> {
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
}

/** Whether the mount's status (DOS_HOME/mounts/<pid>.json), published after `since`, shows nothing pending. */
function settledSince(child: ChildProcess, since: number): boolean {
  try {
    const info = JSON.parse(readFileSync(join(home, 'mounts', `${child.pid}.json`), 'utf8')) as { pending: { changes: number; openFiles: number }; updatedAt: string };
    return Date.parse(info.updatedAt) >= since && info.pending.changes + info.pending.openFiles === 0;
  } catch {
    return false; // being replaced
  }
}

async function main(): Promise<void> {
  if (!existsSync('/dev/fuse')) throw new Error('/dev/fuse is missing');
  const hasRclone = spawnSync('rclone', ['version'], { stdio: 'ignore' }).status === 0;
  // The same bytes for both: incompressible, like the photos and videos people store.
  const file = join(work, 'data.bin');
  const fd = openSync(file, 'w');
  for (let done = 0; done < size; done += 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, size - done)));
  closeSync(fd);
  // Different bytes for the cp test, so dedup against the first file cannot help dos.
  const file2 = join(work, 'data2.bin');
  const fd2 = openSync(file2, 'w');
  for (let done = 0; done < size; done += 16 * MiB) writeSync(fd2, randomBytes(Math.min(16 * MiB, size - done)));
  closeSync(fd2);
  console.log(`${size / MiB} MiB of random bytes; dos store in ${home}`);

  execFileSync(process.execPath, [DOS, 'put', file, '--name', 'bench'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const mnt = join(work, 'dos-mnt');
  let child = await startDosMount(mnt);
  dropCaches();
  const dosCold = ddRead(join(mnt, 'bench', 'data.bin'));
  dropCaches(); // the kernel's page cache goes; dos's frame cache stays
  const dosWarm = ddRead(join(mnt, 'bench', 'data.bin'));
  mkdirSync(join(mnt, 'bench-in'));
  const mountChild = child;
  let dosWrite = 0;
  let dosCopy = 0;
  {
    const start = process.hrtime.bigint();
    execFileSync('cp', [file2, join(mnt, 'bench-in', 'data.bin')]);
    // The file was queued before cp returned; a status published after that with nothing
    // pending means it is committed (the mount publishes one as soon as a commit lands).
    const copied = Date.now();
    dosCopy = Number(process.hrtime.bigint() - start) / 1e9;
    await waitFor(() => settledSince(mountChild, copied), 'the upload to commit');
    dosWrite = Number(process.hrtime.bigint() - start) / 1e9;
  }
  await stopMount(child);

  let rc: { cold: number; warm: number; write: number } | null = null;
  if (hasRclone) {
    const backing = join(work, 'rclone-backing');
    mkdirSync(backing);
    const password = execFileSync('rclone', ['obscure', 'bench mount key']).toString().trim();
    const renv = { ...process.env, RCLONE_CONFIG_BENCH_TYPE: 'crypt', RCLONE_CONFIG_BENCH_REMOTE: backing, RCLONE_CONFIG_BENCH_PASSWORD: password };
    execFileSync('rclone', ['copy', file, 'bench:'], { env: renv });
    const rmnt = join(work, 'rclone-mnt');
    mkdirSync(rmnt);
    const r = spawn('rclone', ['mount', 'bench:', rmnt], { env: renv, stdio: 'ignore' });
    children.push(r);
    mounts.push(rmnt);
    await waitFor(() => existsSync(join(rmnt, 'data.bin')), 'rclone mount', 30_000);
    dropCaches();
    const cold = ddRead(join(rmnt, 'data.bin'));
    dropCaches();
    const warm = ddRead(join(rmnt, 'data.bin'));
    // Default vfs-cache-mode off: close() returns once the bytes are in the (local) remote.
    const write = seconds(() => execFileSync('cp', [file2, join(rmnt, 'copy.bin')]));
    rc = { cold, warm, write };
    r.kill('SIGINT');
    await new Promise((res) => r.once('exit', res));
  }

  const line = (label: string, dos: string, other: string, ratio: string) => console.log(`${label.padEnd(34)}${dos.padStart(14)}${other.padStart(14)}${ratio.padStart(10)}`);
  line('', 'dos mount', 'rclone crypt', 'ratio');
  line('sequential read, cold (MB/s)', dosCold.toFixed(0), rc ? rc.cold.toFixed(0) : '-', rc ? `${(dosCold / rc.cold).toFixed(2)}x` : '-');
  line('sequential read, warm (MB/s)', dosWarm.toFixed(0), rc ? rc.warm.toFixed(0) : '-', rc ? `${(dosWarm / rc.warm).toFixed(2)}x` : '-');
  line('cp in until durable (s)', dosWrite.toFixed(2), rc ? rc.write.toFixed(2) : '-', rc ? `${(rc.write / dosWrite).toFixed(2)}x` : '-');
  console.log(`(dos: cp returned after ${dosCopy.toFixed(2)} s, the upload committed ${(dosWrite - dosCopy).toFixed(2)} s later)`);
  if (!rc) console.log('(rclone not installed: apt-get install -y rclone)');
  child = undefined as unknown as ChildProcess;
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});

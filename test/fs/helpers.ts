import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOS_BIN, runDos } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

/** FUSE tests need /dev/fuse (CI has it; some containers do not). */
export const hasFuse = existsSync('/dev/fuse');
if (!hasFuse) console.warn('test/fs: /dev/fuse is absent, so the FUSE mount tests are skipped');

export const KEY = 'mount test key';

/** A DOS_HOME with a store, and helpers to run dos and `dos mount` in it. */
export function makeHome(extraEnv: Record<string, string> = {}) {
  const home = tempDir('dos-mount-home-');
  const env = { DOS_HOME: home, USER_KEY: KEY, ...extraEnv };
  return {
    home,
    env,
    dos: (args: string[], more: Record<string, string> = {}) => runDos(args, { ...env, ...more }),
    mount: (mnt?: string, more: Record<string, string> = {}) => startMount(mnt ?? join(tempDir('dos-mnt-'), 'drive'), { ...env, ...more }),
  };
}

const running = new Set<Mount>();

export class Mount {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly dir: string, readonly child: ChildProcess, readonly env: Record<string, string>) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    running.add(this);
  }

  /** The path of ARCHIVE/... inside the mount. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  async ready(): Promise<this> {
    const deadline = Date.now() + 30_000;
    while (!this.output.includes('dos: mounted')) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`dos mount did not start:\n${this.output}`);
      await sleep(25);
    }
    return this;
  }

  /** SIGINT: unmounts and commits what is queued, then exits. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
    const result = await this.exited;
    running.delete(this);
    if (result.code !== 0) throw new Error(`dos mount exited with ${result.code ?? result.signal}:\n${this.output}`);
  }

  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
    running.delete(this);
  }

  /** What the mount publishes for dos status (DOS_HOME/mounts/<pid>.json), once it is newer than `since`. */
  async info(since = Date.now()): Promise<MountInfoLike> {
    const file = join(this.env.DOS_HOME!, 'mounts', `${this.child.pid}.json`);
    for (;;) {
      try {
        const info = JSON.parse(readFileSync(file, 'utf8')) as MountInfoLike;
        if (Date.parse(info.updatedAt) >= since) return info;
      } catch {
        // being replaced
      }
      await sleep(50);
    }
  }

  /** Waits until every change made through the mount is committed. */
  async settled(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await this.info();
      if (info.pending.changes === 0 && info.pending.openFiles === 0) return;
      if (Date.now() > deadline) throw new Error(`still pending: ${JSON.stringify(info.pending)}\n${this.output}`);
      await sleep(100);
    }
  }
}

export interface MountInfoLike {
  pid: number;
  updatedAt: string;
  mountpoint: string;
  pending: { changes: number; files: number; bytes: number; openFiles: number };
  cache: { memoryBytes: number; memoryMaxBytes: number };
  backendReads: { requests: number; bytes: number };
}

const mountDirs = new Set<string>();

export function startMount(dir: string, env: Record<string, string>): Promise<Mount> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    // a stale mount ("not connected"): dos mount recovers it
  }
  mountDirs.add(dir);
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env };
  const child = spawn(process.execPath, [DOS_BIN, 'mount', dir], { env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Mount(dir, child, clean).ready();
}

/** afterEach: nothing stays mounted or running, whatever the test did. */
export async function cleanupMounts(): Promise<void> {
  for (const m of [...running]) {
    m.child.kill('SIGKILL');
    await m.exited;
    running.delete(m);
  }
  for (const dir of mountDirs) fusermount(dir);
  mountDirs.clear();
}

export function fusermount(dir: string): void {
  spawnSync('fusermount', ['-uz', dir], { stdio: 'ignore' });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function sh(command: string, cwd?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', command], { cwd, encoding: 'utf8' });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `sh` without blocking the event loop: for tests whose backend (the Discord emulator) runs in
 * the test process and must keep answering the mount while the command reads or writes it.
 */
export function shAsync(command: string, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Every pack file of the local backend. */
export function packFiles(home: string): string[] {
  const root = join(home, 'store', 'packs');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((shard) => readdirSync(join(root, shard)).map((n) => join(root, shard, n)));
}

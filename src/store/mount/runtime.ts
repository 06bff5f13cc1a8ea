import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isDeadProcess } from '../liveness.js';

/** What a running mount publishes about itself in `DOS_HOME/mounts/<pid>.json` (read by dos status). */
export interface MountInfo {
  pid: number;
  host: string;
  mountpoint: string;
  backend: string;
  startedAt: string;
  updatedAt: string;
  pending: { changes: number; files: number; bytes: number; openFiles: number };
  committedChanges: number;
  cache: { memoryBytes: number; memoryMaxBytes: number; diskBytes: number; diskMaxBytes: number; hits: number; misses: number };
  backendReads: { requests: number; bytes: number };
}

const dirOf = (home: string) => join(home, 'mounts');

/**
 * Replaces the mount's status file (temp + rename, so readers never see half of it).
 * Asynchronous: under heavy writes a rename on ext4 can wait on the journal for a tenth of a
 * second or more, and the mount's JS thread serves every kernel request. Callers serialise
 * their writes (one temp name per pid).
 */
export async function writeMountInfo(home: string, info: MountInfo): Promise<void> {
  await mkdir(dirOf(home), { recursive: true });
  const path = join(dirOf(home), `${info.pid}.json`);
  const temp = `${path}.tmp`;
  await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`);
  await rename(temp, path);
}

export function removeMountInfo(home: string, pid = process.pid): void {
  rmSync(join(dirOf(home), `${pid}.json`), { force: true });
}

/** Mounts running now (files of dead processes are removed). */
export function runningMounts(home: string): MountInfo[] {
  let names: string[];
  try {
    names = readdirSync(dirOf(home));
  } catch {
    return [];
  }
  const out: MountInfo[] = [];
  for (const name of names) {
    if (!/^\d+\.json$/.test(name)) continue;
    try {
      const info = JSON.parse(readFileSync(join(dirOf(home), name), 'utf8')) as MountInfo;
      if (info.host === hostname() && isDeadProcess(info.pid, info.host)) {
        rmSync(join(dirOf(home), name), { force: true });
        continue;
      }
      out.push(info);
    } catch {
      // being replaced right now
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { isDeadProcess } from '../liveness.js';
import { hostname } from 'node:os';

/** `._*` (AppleDouble) and `.DS_Store`: Finder's files stay on this machine, never uploaded. */
export function isLocalOnly(name: string): boolean {
  return name === '.DS_Store' || name.startsWith('._');
}

/**
 * The staging area of the mount (`DOS_HOME/staging`): every byte written through the mount
 * lands in a file here first (`<pid>-<random>.stage`), and the upload worker reads it from
 * there. Finder's local-only files live in a mirror tree (`local/<archive>/<path>`).
 */
export class Staging {
  readonly localRoot: string;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.localRoot = join(dir, 'local');
    mkdirSync(this.localRoot, { recursive: true });
  }

  newPath(): string {
    return join(this.dir, `${process.pid}-${randomBytes(8).toString('hex')}.stage`);
  }

  /** Where a local-only file (or a folder holding some) of an archive lives. */
  localPath(archiveId: string, path: string): string {
    const root = join(this.localRoot, archiveId.replace(/^#/, ''));
    return path === '' ? root : join(root, ...path.split('/'));
  }

  /**
   * Deletes staging files of dead processes that no queued change needs (files that were
   * still open when their mount died: never closed, so never promised).
   */
  removeOrphans(inUse: Set<string>): number {
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      const match = /^(\d+)-[0-9a-f]+\.stage$/.exec(name);
      if (!match) continue;
      const path = join(this.dir, name);
      if (inUse.has(path) || !isDeadProcess(Number(match[1]), hostname())) continue;
      rmSync(path, { force: true });
      removed++;
    }
    return removed;
  }

  /** Free space where staging files go (what statfs reports). */
  space(): { bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number } {
    const s = statfsSync(this.dir);
    return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
  }
}

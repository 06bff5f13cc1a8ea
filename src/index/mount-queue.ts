import { hostname } from 'node:os';
import type { Db } from './database.js';

/**
 * The mount's change queue: one row per change made through `dos mount` (a closed file, a
 * rename, a delete...), in order, owned by the mount process. A row is deleted only after an
 * applyChanges that included it has committed, so `kill -9` at any moment loses no closed
 * file: the next mount (or `dos resume`) claims the rows of dead owners and applies them.
 */
export interface QueueRow {
  id: number;
  archiveId: string;
  change: string;
  staging: string | null;
  size: number;
  pid: number;
  host: string;
  attempts: number;
  createdAt: number;
}

interface RawRow { id: number; archive_id: string; change: string; staging: string | null; size: number; pid: number; host: string; attempts: number; created_at: number }
const toRow = (r: RawRow): QueueRow => ({
  id: r.id, archiveId: r.archive_id, change: r.change, staging: r.staging, size: r.size, pid: r.pid, host: r.host, attempts: r.attempts, createdAt: r.created_at,
});

export class MountQueue {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      insert: db.prepare('INSERT INTO mount_queue(archive_id, change, staging, size, pid, host, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      remove: db.prepare('DELETE FROM mount_queue WHERE id = ?'),
      mine: db.prepare<[number, string], RawRow>('SELECT * FROM mount_queue WHERE pid = ? AND host = ? ORDER BY id'),
      all: db.prepare<[], RawRow>('SELECT * FROM mount_queue ORDER BY id'),
      owners: db.prepare<[], { pid: number; host: string }>('SELECT DISTINCT pid, host FROM mount_queue'),
      claim: db.prepare('UPDATE mount_queue SET pid = ?, host = ? WHERE pid = ? AND host = ?'),
      attempt: db.prepare('UPDATE mount_queue SET attempts = attempts + 1 WHERE id = ?'),
      pendingFiles: db.prepare<[], { n: number; bytes: number | null }>("SELECT COUNT(*) AS n, SUM(size) AS bytes FROM mount_queue WHERE staging IS NOT NULL"),
      stagingInUse: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM mount_queue WHERE staging = ?'),
    };
  }

  /** Appends a change for this process; returns its id. */
  add(archiveId: string, change: unknown, staging: string | null = null, size = 0): number {
    return Number(this.stmts.insert.run(archiveId, JSON.stringify(change), staging, size, process.pid, hostname(), Date.now()).lastInsertRowid);
  }

  /** Forgets committed changes, all at once. */
  removeAll(ids: number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.stmts.remove.run(id);
    })();
  }

  countAttempt(ids: number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.stmts.attempt.run(id);
    })();
  }

  /** This process's rows, oldest first. */
  mine(): QueueRow[] {
    return this.stmts.mine.all(process.pid, hostname()).map(toRow);
  }

  all(): QueueRow[] {
    return this.stmts.all.all().map(toRow);
  }

  /** Takes over the rows of processes `isDead` says are gone (atomically); returns how many owners. */
  claimDead(isDead: (pid: number, host: string) => boolean): number {
    return this.db.transaction(() => {
      let claimed = 0;
      for (const owner of this.stmts.owners.all()) {
        if (owner.pid === process.pid && owner.host === hostname()) continue;
        if (!isDead(owner.pid, owner.host)) continue;
        this.stmts.claim.run(process.pid, hostname(), owner.pid, owner.host);
        claimed++;
      }
      return claimed;
    }).immediate();
  }

  /** Files closed in a mount and not yet committed (every owner), and their bytes. */
  pendingFiles(): { files: number; bytes: number } {
    const r = this.stmts.pendingFiles.get()!;
    return { files: r.n, bytes: r.bytes ?? 0 };
  }

  stagingInUse(path: string): boolean {
    return this.stmts.stagingInUse.get(path)!.n > 0;
  }
}

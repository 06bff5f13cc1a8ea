import { hostname } from 'node:os';
import { formatArchiveId } from '../core/archive-id.js';
import type { ArchiveStatus } from '../core/archive-record.js';
import { FRAME_ID_BYTES } from '../core/frame.js';
import type { EntryType } from '../core/manifest.js';
import { openDatabase, type Db } from './database.js';

/** Meta key: the highest lot createArchive handed out (removed archives keep theirs taken). */
const LOT_HIGH_WATER = 'lotHighWater';

/**
 * The local index: a cache of what the backend holds, fast enough for the FUSE hot path
 * (synchronous better-sqlite3 calls cost microseconds). The backend stays the source of
 * truth; the index can be rebuilt from it.
 */
export interface ArchiveRow {
  id: string;
  lot: number;
  name: string;
  kind: 'v4' | 'seed';
  status: ArchiveStatus;
  createdAt: number;
  updatedAt: number;
  currentGeneration: number | null;
}

export interface GenerationRow {
  archiveId: string;
  generation: number;
  createdAt: number;
  files: number;
  bytes: number;
  storedBytes: number;
  manifestRef: string;
  /** Every pack the manifest names (see migration 4); undefined when not known. */
  dataPacks?: string[];
}

export interface EntryRow {
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  mtimeMs: number;
  sha256: string | null;
  target: string | null;
  frameIds: Buffer[];
}

export interface FrameLocation {
  id: Buffer;
  packId: string;
  locator: string;
  offset: number;
  storedLength: number;
  plainLength: number;
  flags: number;
}

export interface PackRow {
  id: string;
  locator: string;
  size: number;
  archiveId: string | null;
}

export interface NewFrame {
  id: Buffer;
  offset: number;
  storedLength: number;
  plainLength: number;
  flags: number;
}

export interface JobRow {
  id: number;
  kind: string;
  archiveId: string | null;
  /** open: running (or its process died); abandoned: its process died; done/cancelled: finished. */
  state: 'open' | 'done' | 'abandoned' | 'cancelled';
  pid: number;
  host: string;
  payload: string;
  createdAt: number;
  updatedAt: number;
}

interface RawJob { id: number; kind: string; archive_id: string | null; state: JobRow['state']; pid: number; host: string; payload: string; created_at: number; updated_at: number }
const toJob = (r: RawJob): JobRow => ({
  id: r.id, kind: r.kind, archiveId: r.archive_id, state: r.state, pid: r.pid, host: r.host, payload: r.payload, createdAt: r.created_at, updatedAt: r.updated_at,
});

interface RawArchive { id: string; lot: number; name: string; kind: 'v4' | 'seed'; status: ArchiveStatus; created_at: number; updated_at: number; current_generation: number | null }
interface RawEntry { path: string; type: EntryType; size: number; mode: number; mtime_ms: number; sha256: string | null; target: string | null; frames: Buffer | null }
interface RawFrame { id: Buffer; pack_id: string; locator: string; offset: number; stored_length: number; plain_length: number; flags: number }

const toArchive = (r: RawArchive): ArchiveRow => ({
  id: r.id, lot: r.lot, name: r.name, kind: r.kind, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at, currentGeneration: r.current_generation,
});

export function splitFrameIds(blob: Buffer | null): Buffer[] {
  const ids: Buffer[] = [];
  if (!blob) return ids;
  for (let i = 0; i < blob.length; i += FRAME_ID_BYTES) ids.push(blob.subarray(i, i + FRAME_ID_BYTES));
  return ids;
}

const toEntry = (r: RawEntry): EntryRow => ({
  path: r.path, type: r.type, size: r.size, mode: r.mode, mtimeMs: r.mtime_ms, sha256: r.sha256, target: r.target, frameIds: splitFrameIds(r.frames),
});

const toFrame = (r: RawFrame): FrameLocation => ({
  id: r.id, packId: r.pack_id, locator: r.locator, offset: r.offset, storedLength: r.stored_length, plainLength: r.plain_length, flags: r.flags,
});

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export class StoreIndex {
  readonly db: Db;
  private readonly stmts;

  constructor(path: string) {
    this.db = openDatabase(path);
    const db = this.db;
    this.stmts = {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      maxLot: db.prepare<[], { lot: number | null }>('SELECT MAX(lot) AS lot FROM archives'),
      insertArchive: db.prepare('INSERT INTO archives(id, lot, name, kind, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      getArchive: db.prepare<[string], RawArchive>('SELECT * FROM archives WHERE id = ?'),
      archivesByName: db.prepare<[string], RawArchive>('SELECT * FROM archives WHERE name = ? ORDER BY lot'),
      listArchives: db.prepare<[], RawArchive>('SELECT * FROM archives ORDER BY lot'),
      setStatus: db.prepare('UPDATE archives SET status = ?, updated_at = ? WHERE id = ?'),
      archiveByLot: db.prepare<[number], RawArchive>('SELECT * FROM archives WHERE lot = ?'),
      setLot: db.prepare('UPDATE archives SET lot = ? WHERE id = ?'),
      deleteArchive: db.prepare('DELETE FROM archives WHERE id = ?'),
      insertGeneration: db.prepare('INSERT OR REPLACE INTO generations(archive_id, generation, created_at, files, bytes, stored_bytes, manifest_ref, data_packs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      currentDataPacks: db.prepare<[], { archive_id: string; generation: number; manifest_ref: string; data_packs: string | null }>(
        'SELECT g.archive_id, g.generation, g.manifest_ref, g.data_packs FROM generations g JOIN archives a ON a.id = g.archive_id AND a.current_generation = g.generation'),
      setDataPacks: db.prepare('UPDATE generations SET data_packs = ? WHERE archive_id = ? AND generation = ?'),
      getGeneration: db.prepare<[string, number], { archive_id: string; generation: number; created_at: number; files: number; bytes: number; stored_bytes: number; manifest_ref: string }>(
        'SELECT * FROM generations WHERE archive_id = ? AND generation = ?'),
      setCurrent: db.prepare('UPDATE archives SET current_generation = ?, status = ?, name = ?, updated_at = ? WHERE id = ?'),
      clearEntries: db.prepare('DELETE FROM entries WHERE archive_id = ?'),
      insertEntry: db.prepare('INSERT INTO entries(archive_id, path, parent, type, size, mode, mtime_ms, sha256, target, frames) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      getEntry: db.prepare<[string, string], RawEntry>('SELECT * FROM entries WHERE archive_id = ? AND path = ?'),
      children: db.prepare<[string, string], RawEntry>('SELECT * FROM entries WHERE archive_id = ? AND parent = ? ORDER BY path'),
      allEntries: db.prepare<[string], RawEntry>('SELECT * FROM entries WHERE archive_id = ? ORDER BY path'),
      allFrameBlobs: db.prepare<[], { frames: Buffer | null }>("SELECT frames FROM entries WHERE type = 'file'"),
      allFrames: db.prepare<[], { id: Buffer; pack_id: string }>('SELECT id, pack_id FROM frames'),
      findFrame: db.prepare<[Buffer], RawFrame>(
        'SELECT f.id, f.pack_id, p.locator, f.offset, f.stored_length, f.plain_length, f.flags FROM frames f JOIN packs p ON p.id = f.pack_id WHERE f.id = ?'),
      insertPack: db.prepare('INSERT INTO packs(id, locator, size, archive_id, job_id, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      insertFrame: db.prepare('INSERT OR IGNORE INTO frames(id, pack_id, offset, stored_length, plain_length, flags) VALUES (?, ?, ?, ?, ?, ?)'),
      getPack: db.prepare<[string], { id: string; locator: string; size: number; archive_id: string | null }>('SELECT id, locator, size, archive_id FROM packs WHERE id = ?'),
      listPacks: db.prepare<[], { id: string; locator: string; size: number; archive_id: string | null; job_id: number | null }>('SELECT id, locator, size, archive_id, job_id FROM packs'),
      deletePack: db.prepare('DELETE FROM packs WHERE id = ?'),
      openJob: db.prepare('INSERT INTO journal(kind, archive_id, state, pid, host, payload, created_at, updated_at) VALUES (?, ?, \'open\', ?, ?, ?, ?, ?)'),
      getLock: db.prepare<[string], { token: string; pid: number; host: string; acquired_at: number }>('SELECT token, pid, host, acquired_at FROM archive_locks WHERE archive_id = ?'),
      putLock: db.prepare('INSERT OR REPLACE INTO archive_locks(archive_id, token, pid, host, acquired_at) VALUES (?, ?, ?, ?, ?)'),
      deleteLock: db.prepare('DELETE FROM archive_locks WHERE archive_id = ? AND token = ?'),
      claimJob: db.prepare("UPDATE journal SET state = 'open', pid = ?, host = ?, updated_at = ? WHERE id = ? AND state = 'abandoned'"),
      setJobState: db.prepare('UPDATE journal SET state = ?, updated_at = ? WHERE id = ?'),
      openJobs: db.prepare<[], RawJob>("SELECT * FROM journal WHERE state = 'open' ORDER BY id"),
      unfinishedJobs: db.prepare<[], RawJob>("SELECT * FROM journal WHERE state IN ('open', 'abandoned') ORDER BY id"),
      jobsOfArchive: db.prepare<[string], RawJob>('SELECT * FROM journal WHERE archive_id = ? ORDER BY id'),
    };
  }

  close(): void {
    this.db.close();
  }

  getMeta(key: string): string | undefined {
    return this.stmts.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmts.setMeta.run(key, value);
  }

  /** Allocates the next lot and its `#DDMMYY-NN` id atomically: two processes never get the same one. */
  createArchive(name: string, now = new Date(), kind: 'v4' | 'seed' = 'v4'): ArchiveRow {
    return this.db.transaction(() => {
      const lot = this.unusedLot();
      // Never hand out a removed archive's lot again: the same day, its id would come back too.
      this.setMeta(LOT_HIGH_WATER, String(lot));
      const id = formatArchiveId(lot, now);
      const ms = now.getTime();
      this.stmts.insertArchive.run(id, lot, name, kind, 'uploading', ms, ms);
      return toArchive(this.stmts.getArchive.get(id)!);
    }).immediate();
  }

  /** A lot above every archive's and every lot this index ever handed out. */
  unusedLot(): number {
    return Math.max(this.stmts.maxLot.get()?.lot ?? 0, Number(this.getMeta(LOT_HIGH_WATER) ?? 0)) + 1;
  }

  /** Inserts an archive known from elsewhere (a backend record during sync). */
  insertArchive(row: Omit<ArchiveRow, 'currentGeneration'>): void {
    this.stmts.insertArchive.run(row.id, row.lot, row.name, row.kind, row.status, row.createdAt, row.updatedAt);
  }

  getArchive(id: string): ArchiveRow | undefined {
    const row = this.stmts.getArchive.get(id);
    return row && toArchive(row);
  }

  archivesNamed(name: string): ArchiveRow[] {
    return this.stmts.archivesByName.all(name).map(toArchive);
  }

  listArchives(): ArchiveRow[] {
    return this.stmts.listArchives.all().map(toArchive);
  }

  /** The archive holding a lot number (lots are unique in the index). */
  archiveWithLot(lot: number): ArchiveRow | undefined {
    const row = this.stmts.archiveByLot.get(lot);
    return row && toArchive(row);
  }

  /** Moves an archive to another lot number (a seed archive making room for a v4 one). */
  setArchiveLot(id: string, lot: number): void {
    this.stmts.setLot.run(lot, id);
  }

  setArchiveStatus(id: string, status: ArchiveStatus): void {
    this.stmts.setStatus.run(status, Date.now(), id);
  }

  deleteArchive(id: string): void {
    this.stmts.deleteArchive.run(id);
  }

  getGeneration(archiveId: string, generation: number): GenerationRow | undefined {
    const r = this.stmts.getGeneration.get(archiveId, generation);
    return r && { archiveId: r.archive_id, generation: r.generation, createdAt: r.created_at, files: r.files, bytes: r.bytes, storedBytes: r.stored_bytes, manifestRef: r.manifest_ref };
  }

  /**
   * Makes a generation current in one transaction: its tree replaces the previous one, so
   * readers see either the old tree or the new one, never a mix.
   */
  commitGeneration(gen: GenerationRow & { name: string; status: ArchiveStatus; entries: EntryRow[] }, alsoInTransaction?: () => void): void {
    this.db.transaction(() => {
      alsoInTransaction?.();
      this.stmts.insertGeneration.run(gen.archiveId, gen.generation, gen.createdAt, gen.files, gen.bytes, gen.storedBytes, gen.manifestRef,
        gen.dataPacks === undefined ? null : JSON.stringify(gen.dataPacks));
      this.stmts.clearEntries.run(gen.archiveId);
      for (const e of gen.entries) {
        this.stmts.insertEntry.run(gen.archiveId, e.path, parentOf(e.path), e.type, e.size, e.mode, e.mtimeMs, e.sha256, e.target,
          e.type === 'file' ? Buffer.concat(e.frameIds) : null);
      }
      this.stmts.setCurrent.run(gen.generation, gen.status, gen.name, Date.now(), gen.archiveId);
    })();
  }

  getEntry(archiveId: string, path: string): EntryRow | undefined {
    const row = this.stmts.getEntry.get(archiveId, path);
    return row && toEntry(row);
  }

  listChildren(archiveId: string, parent: string): EntryRow[] {
    return this.stmts.children.all(archiveId, parent).map(toEntry);
  }

  listEntries(archiveId: string): EntryRow[] {
    return this.stmts.allEntries.all(archiveId).map(toEntry);
  }

  findFrame(id: Buffer): FrameLocation | undefined {
    const row = this.stmts.findFrame.get(id);
    return row && toFrame(row);
  }

  /** Records an uploaded pack and the frames in it (frames already known keep their first home). */
  recordPack(pack: PackRow & { jobId: number | null }, frames: NewFrame[]): void {
    this.db.transaction(() => {
      this.stmts.insertPack.run(pack.id, pack.locator, pack.size, pack.archiveId, pack.jobId, Date.now());
      for (const f of frames) this.stmts.insertFrame.run(f.id, pack.id, f.offset, f.storedLength, f.plainLength, f.flags);
    })();
  }

  getPack(id: string): PackRow | undefined {
    const r = this.stmts.getPack.get(id);
    return r && { id: r.id, locator: r.locator, size: r.size, archiveId: r.archive_id };
  }

  listPacks(): Array<PackRow & { jobId: number | null }> {
    return this.stmts.listPacks.all().map((r) => ({ id: r.id, locator: r.locator, size: r.size, archiveId: r.archive_id, jobId: r.job_id }));
  }

  /** Every frame id referenced by a current tree, and every pack holding a current manifest. */
  liveReferences(): { frameIds: Set<string>; manifestPacks: Set<string> } {
    const frameIds = new Set<string>();
    for (const { frames } of this.stmts.allFrameBlobs.iterate()) {
      for (const id of splitFrameIds(frames)) frameIds.add(id.toString('hex'));
    }
    const manifestPacks = new Set<string>();
    for (const { manifest_ref, data_packs } of this.stmts.currentDataPacks.iterate()) {
      const ref = JSON.parse(manifest_ref) as { packs: Array<{ name: string }> };
      for (const p of ref.packs) manifestPacks.add(p.name);
      if (data_packs !== null) for (const name of JSON.parse(data_packs) as string[]) manifestPacks.add(name);
    }
    return { frameIds, manifestPacks };
  }

  /** Current generations whose data packs are not recorded yet (committed before migration 4). */
  generationsWithoutDataPacks(): Array<{ archiveId: string; generation: number; manifestRef: string }> {
    return this.stmts.currentDataPacks.all().filter((g) => g.data_packs === null).map((g) => ({ archiveId: g.archive_id, generation: g.generation, manifestRef: g.manifest_ref }));
  }

  setDataPacks(archiveId: string, generation: number, packs: string[]): void {
    this.stmts.setDataPacks.run(JSON.stringify(packs), archiveId, generation);
  }

  /**
   * Packs that hold no frame of any current tree and no current manifest, and that no
   * unfinished job uploaded (an interrupted put resumes from its packs).
   */
  unreferencedPacks(): PackRow[] {
    const { frameIds, manifestPacks } = this.liveReferences();
    const live = new Set<string>(manifestPacks);
    for (const f of this.stmts.allFrames.iterate()) if (frameIds.has(f.id.toString('hex'))) live.add(f.pack_id);
    const resumable = new Set(this.unfinishedJobs().map((j) => j.id));
    return this.listPacks().filter((p) => !live.has(p.id) && (p.jobId === null || !resumable.has(p.jobId)));
  }

  /** Forgets packs (and, by cascade, their frames). */
  forgetPacks(ids: string[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.stmts.deletePack.run(id);
    })();
  }

  openJob(kind: string, archiveId: string | null, payload: unknown = {}): number {
    const now = Date.now();
    return Number(this.stmts.openJob.run(kind, archiveId, process.pid, hostname(), JSON.stringify(payload), now, now).lastInsertRowid);
  }

  /** Takes over an interrupted job for this process; false when another process got it first. */
  claimJob(id: number): boolean {
    return this.stmts.claimJob.run(process.pid, hostname(), Date.now(), id).changes === 1;
  }

  setJobState(id: number, state: JobRow['state']): void {
    this.stmts.setJobState.run(state, Date.now(), id);
  }

  openJobs(): JobRow[] {
    return this.stmts.openJobs.all().map(toJob);
  }

  /** Jobs that have not finished: running, or interrupted and waiting to be resumed. */
  unfinishedJobs(): JobRow[] {
    return this.stmts.unfinishedJobs.all().map(toJob);
  }

  jobsOfArchive(archiveId: string): JobRow[] {
    return this.stmts.jobsOfArchive.all(archiveId).map(toJob);
  }

  /**
   * Takes the lock on an archive's next generation for the holder `token`. Returns false while
   * another holder has it; a lock left by a dead process on this host is taken over.
   */
  tryLockArchive(archiveId: string, token: string, isDead: (pid: number, host: string, since: number) => boolean): boolean {
    return this.exclusive(() => {
      const holder = this.stmts.getLock.get(archiveId);
      if (holder && holder.token !== token && !isDead(holder.pid, holder.host, holder.acquired_at)) return false;
      this.stmts.putLock.run(archiveId, token, process.pid, hostname(), Date.now());
      return true;
    });
  }

  unlockArchive(archiveId: string, token: string): void {
    this.stmts.deleteLock.run(archiveId, token);
  }

  /** Runs `fn` holding the database write lock (BEGIN IMMEDIATE). */
  exclusive<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}

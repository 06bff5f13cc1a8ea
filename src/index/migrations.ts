/**
 * Schema migrations, applied in order inside one transaction each; PRAGMA user_version
 * records how many have run. Never edit a released migration: append a new one.
 */
export const MIGRATIONS: string[] = [
  /* 1: the first schema */ `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE archives (
    id TEXT PRIMARY KEY,                 -- '#DDMMYY-NN'
    lot INTEGER NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'v4',     -- 'v4' | 'seed'
    status TEXT NOT NULL,                -- ArchiveStatus
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    current_generation INTEGER           -- null until the first commit
  );

  CREATE TABLE generations (
    archive_id TEXT NOT NULL REFERENCES archives(id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    stored_bytes INTEGER NOT NULL,
    manifest_ref TEXT NOT NULL,          -- JSON {packs, frames, length}: where the manifest lives
    PRIMARY KEY (archive_id, generation)
  );

  -- The tree of each archive's current generation (older generations keep only their row above).
  CREATE TABLE entries (
    archive_id TEXT NOT NULL REFERENCES archives(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    parent TEXT NOT NULL,                -- '' at the archive root
    type TEXT NOT NULL,                  -- 'file' | 'dir' | 'symlink'
    size INTEGER NOT NULL,
    mode INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    sha256 TEXT,
    target TEXT,
    frames BLOB,                         -- concatenated 16-byte frame ids, in file order
    PRIMARY KEY (archive_id, path)
  ) WITHOUT ROWID;
  CREATE INDEX entries_by_parent ON entries (archive_id, parent);

  CREATE TABLE packs (
    id TEXT PRIMARY KEY,                 -- opaque random name
    locator TEXT NOT NULL,               -- where the backend keeps it
    size INTEGER NOT NULL,
    archive_id TEXT,                     -- the archive whose upload created it
    job_id INTEGER,                      -- the journal job that uploaded it
    created_at INTEGER NOT NULL
  );

  CREATE TABLE frames (
    id BLOB PRIMARY KEY,                 -- keyed 16-byte frame id
    pack_id TEXT NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
    offset INTEGER NOT NULL,
    stored_length INTEGER NOT NULL,
    plain_length INTEGER NOT NULL,
    flags INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX frames_by_pack ON frames (pack_id);

  -- The upload journal: one row per job (a put, a staged mount file...). A job stays 'open'
  -- until its generation is committed, so a crash leaves a trail that resume can follow.
  CREATE TABLE journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    archive_id TEXT,
    state TEXT NOT NULL,                 -- 'open' | 'done' | 'abandoned'
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX journal_open ON journal (state);
  `,
  /* 2: one writer of an archive's next generation at a time, across processes */ `
  CREATE TABLE archive_locks (
    archive_id TEXT PRIMARY KEY,
    token TEXT NOT NULL,                 -- unique per holder, so two writers in one process exclude each other too
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    acquired_at INTEGER NOT NULL
  );
  `,
  /* 3: the mount's change queue (src/index/mount-queue.ts): every change made through
     dos mount, in order, until an applyChanges that includes it has committed */ `
  CREATE TABLE mount_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    archive_id TEXT NOT NULL,
    change TEXT NOT NULL,                -- JSON TreeChange (store/tree-change.ts)
    staging TEXT,                        -- the staging file a put-file reads (deleted after commit)
    size INTEGER NOT NULL DEFAULT 0,     -- bytes of that file
    pid INTEGER NOT NULL,                -- the mount process that owns the row
    host TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, -- applyChanges calls that included it
    created_at INTEGER NOT NULL
  );
  CREATE INDEX mount_queue_by_owner ON mount_queue (pid, host);
  `,
  /* 4: every pack a generation's manifest names (JSON array). The frames table keeps one pack
     per frame id, so a second copy of a frame (two puts of the same data that did not know of
     each other) is only known to be live from here; NULL until learned (see gc). */ `
  ALTER TABLE generations ADD COLUMN data_packs TEXT;
  `,
];

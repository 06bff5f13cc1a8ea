import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DosError, ErrorCodes } from '../core/errors.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the index database: WAL so readers never block the writer, a busy
 * timeout so two processes (a mount and a CLI put) queue instead of failing, and migrations.
 * `:memory:` gives a throwaway index (used by `dos slice`).
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new DosError(ErrorCodes.UNSUPPORTED, `the index at ${db.name} was written by a newer dos (schema ${current}); upgrade dos`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    // IMMEDIATE takes the write lock first, so two processes opening a new index do not race.
    db.transaction(() => {
      const now = db.pragma('user_version', { simple: true }) as number;
      if (now !== version) return;
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}

/**
 * Access to the real seed output in ../shared/fixtures (read-only in CI) and small filesystem
 * helpers for legacy tests. Tests never touch the fixture folders: they work on a temp copy.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `<repo>/../shared/fixtures`, wherever the repository is checked out. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));

export type SeedFixture = 'legacy-v3.0' | 'legacy-v3.1';

export interface SeedFixtureExpectation {
  user_key: string;
  source_folder: string;
  files: Record<string, { size: number; sha256: string }>;
}

export async function readFixtureExpectation(fixture: SeedFixture): Promise<SeedFixtureExpectation> {
  return JSON.parse(await readFile(join(FIXTURES_DIR, fixture, 'expected.json'), 'utf8')) as SeedFixtureExpectation;
}

/** Copies a fixture's chunk folder to `dest` with writable permissions (the originals are r--). */
export async function copyFixtureChunks(fixture: SeedFixture, dest: string): Promise<string> {
  const from = join(FIXTURES_DIR, fixture, 'chunks');
  await mkdir(dest, { recursive: true });
  for (const name of await readdir(from)) {
    await copyFile(join(from, name), join(dest, name));
    await chmod(join(dest, name), 0o644);
  }
  return dest;
}

/** A fresh temp folder; remove it with removeTempDir. */
export function makeTempDir(label = 'dos-legacy-'): Promise<string> {
  return mkdtemp(join(tmpdir(), label));
}

export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file under `dir` (hidden ones included), as sorted `/`-separated relative paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Every folder under `dir`, as sorted relative paths. */
export async function listDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(current, entry.name);
      out.push(relative(dir, path).split(sep).join('/'));
      await walk(path);
    }
  };
  await walk(dir);
  return out.sort();
}

/** path → sha256 of every file under `dir`, to prove a folder was left untouched. */
export async function snapshotFiles(dir: string): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  for (const file of await listFiles(dir)) snapshot[file] = await sha256File(join(dir, file));
  return snapshot;
}

/** A temp folder with where a seed set goes and where it is restored to (remove `tmp` afterwards). */
export async function seedWorkspace(chunkFolder = 'chunks', outFolder = 'out'): Promise<{ tmp: string; chunkDir: string; outBase: string }> {
  const tmp = await makeTempDir();
  return { tmp, chunkDir: join(tmp, chunkFolder), outBase: join(tmp, outFolder) };
}

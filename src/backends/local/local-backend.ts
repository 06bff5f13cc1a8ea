import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DosError, ErrorCodes, fromSystemError } from '../../core/errors.js';
import { DEFAULT_MAX_PACK_BYTES } from '../../core/pack.js';
import type { ArchiveDisplay, Backend, BackendLimits, ByteRange, PackStat, PackUpload } from '../backend.js';

/**
 * The embedded default backend: a folder.
 *
 *   ROOT/keyring.json
 *   ROOT/packs/<first 2 hex of name>/<name>.pack
 *   ROOT/records/<DDMMYY-NN>.json
 *
 * Every file is written to a temporary name, fsynced and renamed, so a crash never leaves a
 * half-written pack or record under its final name. The locator of a pack is its name.
 */
export class LocalBackend implements Backend {
  readonly kind = 'local' as const;
  readonly description: string;
  /** readPack allocates a new buffer per call and keeps nothing. */
  readonly readsAreFresh = true;

  constructor(readonly root: string, private readonly maxPackBytes = DEFAULT_MAX_PACK_BYTES) {
    this.description = `local store at ${root}`;
  }

  async limits(): Promise<BackendLimits> {
    return { maxPackBytes: this.maxPackBytes, uploadConcurrency: 2 };
  }

  private packPath(locator: string): string {
    if (!/^[0-9a-f]{32}$/.test(locator)) throw new DosError(ErrorCodes.CORRUPT, `invalid local pack locator ${JSON.stringify(locator)}`);
    return join(this.root, 'packs', locator.slice(0, 2), `${locator}.pack`);
  }

  private recordPath(archiveId: string): string {
    const bare = archiveId.replace(/^#/, '');
    if (!/^\d{6}-\d+$/.test(bare)) throw new DosError(ErrorCodes.BAD_INPUT, `invalid archive id ${JSON.stringify(archiveId)}`);
    return join(this.root, 'records', `${bare}.json`);
  }

  async putPack(pack: PackUpload): Promise<string> {
    const path = this.packPath(pack.name);
    await writeFileAtomic(path, pack.data);
    return pack.name;
  }

  async readPack(locator: string, range?: ByteRange): Promise<Buffer> {
    const path = this.packPath(locator);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DosError(ErrorCodes.MISSING, `pack ${locator} is missing from the ${this.description}`, { pack: locator });
      throw err;
    }
    try {
      const size = (await handle.stat()).size;
      const offset = range?.offset ?? 0;
      const length = range?.length ?? size - offset;
      if (offset + length > size) {
        throw new DosError(ErrorCodes.CORRUPT, `pack ${locator} is truncated: ${size} bytes, needed ${offset + length}`, { pack: locator });
      }
      const buffer = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) throw new DosError(ErrorCodes.CORRUPT, `pack ${locator} ended early`, { pack: locator });
        done += bytesRead;
      }
      return buffer;
    } finally {
      await handle.close();
    }
  }

  async statPacks(locators: string[]): Promise<Map<string, PackStat>> {
    const result = new Map<string, PackStat>();
    await Promise.all(
      locators.map(async (locator) => {
        try {
          result.set(locator, { exists: true, size: (await stat(this.packPath(locator))).size });
        } catch {
          result.set(locator, { exists: false });
        }
      }),
    );
    return result;
  }

  async deletePacks(locators: string[]): Promise<void> {
    for (const locator of locators) await rm(this.packPath(locator), { force: true });
  }

  async listPacks(): Promise<Array<{ locator: string; size: number; createdAt: number }>> {
    const root = join(this.root, 'packs');
    const found: Array<{ locator: string; size: number; createdAt: number }> = [];
    let shards: string[];
    try {
      shards = await readdir(root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return found;
      throw err;
    }
    for (const shard of shards) {
      for (const name of await readdir(join(root, shard))) {
        const match = /^([0-9a-f]{32})\.pack$/.exec(name);
        if (!match) continue;
        const stats = await stat(join(root, shard, name));
        found.push({ locator: match[1]!, size: stats.size, createdAt: stats.mtimeMs });
      }
    }
    return found;
  }

  async removePartialUploads(graceMs: number): Promise<number> {
    const root = join(this.root, 'packs');
    const cutoff = Date.now() - graceMs;
    let removed = 0;
    for (const shard of await readdir(root).catch(() => [] as string[])) {
      for (const name of await readdir(join(root, shard))) {
        if (!name.endsWith('.tmp')) continue;
        const path = join(root, shard, name);
        if ((await stat(path)).mtimeMs > cutoff) continue;
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async readKeyring(): Promise<Buffer | null> {
    try {
      return await readFile(join(this.root, 'keyring.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async writeKeyring(data: Buffer): Promise<void> {
    await writeFileAtomic(join(this.root, 'keyring.json'), data);
  }

  async putRecord(archiveId: string, data: Buffer, _display?: ArchiveDisplay): Promise<void> {
    await writeFileAtomic(this.recordPath(archiveId), data);
  }

  async listRecords(): Promise<Array<{ archiveId: string; data: Buffer }>> {
    let names: string[];
    try {
      names = await readdir(join(this.root, 'records'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const records = [];
    for (const name of names.sort()) {
      const match = /^(\d{6}-\d+)\.json$/.exec(name);
      if (!match) continue;
      records.push({ archiveId: `#${match[1]}`, data: await readFile(join(this.root, 'records', name)) });
    }
    return records;
  }

  async deleteRecord(archiveId: string): Promise<void> {
    await rm(this.recordPath(archiveId), { force: true });
  }

  async close(): Promise<void> {}
}

/** Writes to a temporary sibling, fsyncs, then renames into place (a crash leaves the old file or the new one). */
export async function writeFileAtomic(path: string, data: Buffer | string, mode = 0o666): Promise<void> {
  const dir = join(path, '..');
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw fromSystemError(err, `writing ${path}`);
  }
}

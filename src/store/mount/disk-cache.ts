import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';

/**
 * A bounded on-disk cache of fetched ciphertext, one file per stored frame, named by frame id
 * (`DIR/<aa>/<id>`). Frames are authenticated on every use, so a damaged cache file costs a
 * re-fetch, never wrong bytes. Several processes may share the folder: files appear by
 * rename (never half-written) and a file another process evicted is simply a miss.
 */
export class DiskCache {
  private readonly lru: LRUCache<string, number>;

  constructor(readonly dir: string, readonly maxBytes: number) {
    this.lru = new LRUCache<string, number>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (size) => Math.max(1, size),
      dispose: (_size, id, reason) => {
        if (reason === 'evict' || reason === 'delete') unlink(this.pathOf(id)).catch(() => {});
      },
    });
    mkdirSync(dir, { recursive: true });
    // What earlier runs left, oldest first so the newest survive eviction.
    const found: Array<{ id: string; size: number; mtime: number }> = [];
    for (const shard of readdirSync(dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of readdirSync(join(dir, shard))) {
        if (!/^[0-9a-f]{32}$/.test(name)) continue;
        try {
          const st = statSync(join(dir, shard, name));
          found.push({ id: name, size: st.size, mtime: st.mtimeMs });
        } catch {
          // evicted meanwhile by another process
        }
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) this.lru.set(f.id, f.size);
  }

  private pathOf(id: string): string {
    return join(this.dir, id.slice(0, 2), id);
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }

  async get(id: string): Promise<Buffer | undefined> {
    if (!this.lru.has(id)) return undefined;
    try {
      const data = await readFile(this.pathOf(id));
      this.lru.get(id); // recency
      return data;
    } catch {
      this.lru.delete(id);
      return undefined;
    }
  }

  async put(id: string, data: Buffer): Promise<void> {
    if (this.lru.has(id) || data.length > this.maxBytes) return;
    const path = this.pathOf(id);
    const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      mkdirSync(join(this.dir, id.slice(0, 2)), { recursive: true });
      await writeFile(temp, data);
      await rename(temp, path);
      this.lru.set(id, data.length);
    } catch {
      await unlink(temp).catch(() => {});
    }
  }

  /** Drops a frame whose bytes failed authentication. */
  drop(id: string): void {
    if (this.lru.has(id)) this.lru.delete(id);
    else unlink(this.pathOf(id)).catch(() => {});
  }
}

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, lstatSync, writeFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes files (relative path → content) under root. */
export function writeTree(root: string, files: Record<string, Buffer | string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** Deterministic pseudo-random bytes (incompressible), so failures reproduce. */
export function noise(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let block = Buffer.alloc(0);
  let counter = 0;
  for (let offset = 0; offset < length; offset += block.length) {
    block = createHash('sha256').update(`${seed}:${counter++}`).digest();
    block.copy(out, offset);
  }
  return out;
}

export function randomText(length: number): string {
  const words = ['archive', 'frame', 'pack', 'discord', 'store', 'manifest', 'the', 'of', 'a', 'and', randomBytes(3).toString('hex')];
  let text = '';
  while (text.length < length) text += words[Math.floor(Math.random() * words.length)] + (Math.random() < 0.1 ? '\n' : ' ');
  return text.slice(0, length);
}

/** path → sha256 (files), "dir" (folders) or "-> target" (symlinks), for comparing trees. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(full)}`;
      else if (st.isDirectory()) {
        out[rel] = 'dir';
        walk(full, rel);
      } else out[rel] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(root, '');
  return out;
}

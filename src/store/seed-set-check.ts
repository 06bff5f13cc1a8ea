import { randomBytes } from 'node:crypto';
import { lstat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeedUploadFile } from '../backends/backend.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import { safeName } from '../core/safe-path.js';
import { isSeedManifestName, planSeedRestore, type SeedManifest, type SeedRestorePlan } from '../legacy/index.js';

/**
 * Names Discord stores unchanged. It rewrites others (a space becomes "_"), and a chunk stored
 * under another name could never be found by the manifest that lists it. Every name the seed's
 * slicer wrote fits (`0001-5f2c…-0000.bin`, `7-manifest_143005_170126.json`).
 */
const DISCORD_SAFE_NAME = /^[A-Za-z0-9._-]+$/;

export interface CheckedSeedSet {
  dir: string;
  plan: SeedRestorePlan;
  manifests: SeedManifest[];
  /** What is uploaded: every chunk a manifest lists (by name), then the manifests. */
  files: SeedUploadFile[];
  /** Distinct original names across the manifests (the card's file list). */
  originalNames: string[];
  /** Sum of the files' sizes: what the seed called total_size_bytes. */
  bytes: number;
}

/**
 * Checks a seed-sliced set before anything is posted, so the user never uploads an archive
 * that cannot be restored: every manifest parses with only safe names (no `..`, `/`, NUL,
 * absolute paths; parseSeedManifest refuses them), every chunk a manifest lists is a regular
 * file with the size it recorded (planSeedRestore), every file has a name Discord keeps, and
 * nothing else is in the folder (unreferenced chunks from an earlier run, other files, links)
 * to be swept into this archive, as the seed did (legacy-format.md §7.3.8). Dot-files (macOS's
 * `.DS_Store`, `._*`) are ignored, as everywhere in the bot.
 */
export async function checkSeedSet(dir: string): Promise<CheckedSeedSet> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new DosError(ErrorCodes.NOT_FOUND, `the folder ${dir} does not exist`, { path: dir });
    throw err;
  });
  const names = entries.filter((e) => !e.name.startsWith('.')).map((e) => e.name);
  for (const name of names) checkName(name);
  if (!entries.some((e) => e.isFile() && isSeedManifestName(e.name))) {
    throw new DosError(ErrorCodes.NOT_FOUND, `no seed manifest in ${dir} (a .json file whose name contains "manifest")`, { path: dir });
  }

  // A restore target that cannot exist: only the checks on the set itself matter here.
  const nowhere = join(tmpdir(), `dos-seed-check-${randomBytes(6).toString('hex')}`);
  const plan = await planSeedRestore(dir, nowhere, { haveKey: true, force: false });
  const manifests = plan.manifests.map((m) => m.manifest);

  const chunks = new Map<string, number>();
  for (const m of plan.manifests) for (const f of m.files) for (const c of f.chunks) chunks.set(c.name, c.size);
  const files: SeedUploadFile[] = [];
  for (const [name, size] of [...chunks.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    checkName(name);
    files.push({ name, path: join(dir, name), size });
  }
  for (const m of plan.manifests) {
    checkName(m.manifest.fileName);
    files.push({ name: m.manifest.fileName, path: m.path, size: (await lstat(m.path)).size });
  }

  const inSet = new Set(files.map((f) => f.name));
  const others = names.filter((n) => !inSet.has(n)).sort();
  if (others.length > 0) {
    const bins = others.filter((n) => n.endsWith('.bin'));
    const what = bins.length === others.length ? 'chunks no manifest lists' : 'files that are not part of the set';
    throw new DosError(ErrorCodes.BAD_INPUT, `the folder also holds ${what} (${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''}); move them out so they are not swept into this archive`, { path: dir, others });
  }
  const originalNames = [...new Set(manifests.flatMap((m) => m.files.map((f) => f.originalName)))];
  return { dir, plan, manifests, files, originalNames, bytes: files.reduce((s, f) => s + f.size, 0) };
}

function checkName(name: string): void {
  safeName(name, 'file name');
  if (!DISCORD_SAFE_NAME.test(name)) {
    throw new DosError(ErrorCodes.BAD_INPUT, `the file name ${JSON.stringify(name)} has characters Discord would change (only letters, digits, ".", "_" and "-" are kept); a renamed chunk could not be found by its manifest`, { name });
  }
}

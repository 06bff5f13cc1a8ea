import { readFile } from 'node:fs/promises';
import { DosError, ErrorCodes, isDosError } from '../core/errors.js';
import { deriveSeedKey, openSealedChunk, SEED_MIN_SEALED_LENGTH, SEED_SALT_LENGTH, type SeedRestorePlan } from '../legacy/index.js';

/** A 3.0 file is one sealed blob: checked only when that blob is small enough to hold in memory. */
const MAX_FILE_SCOPE_CHECK = 32 * 1024 * 1024;

/**
 * Whether USER_KEY opens the set, so nobody uploads an archive they can never read. One sealed
 * blob per encrypted manifest is opened (the smallest: one PBKDF2 of ~130 ms each): a 3.1 chunk,
 * or a whole 3.0 file (its slices joined are one salt ‖ nonce ‖ GCM ‖ tag). Returns the manifests
 * that were checked; throws WRONG_KEY when one does not open. Unencrypted sets have nothing to check.
 */
export async function checkSeedKey(plan: SeedRestorePlan, userKey: string): Promise<string[]> {
  const checked: string[] = [];
  for (const m of plan.manifests) {
    if (!m.manifest.encrypted) continue;
    const blob = await smallestBlob(m, m.manifest.mode);
    if (!blob) continue;
    const sealed = blob.paths.length === 1 ? await readFile(blob.paths[0]!) : Buffer.concat(await Promise.all(blob.paths.map((p) => readFile(p))));
    if (sealed.length < SEED_MIN_SEALED_LENGTH) continue; // planning already refused truncated 3.1 chunks
    const key = await deriveSeedKey(userKey, sealed.subarray(0, SEED_SALT_LENGTH));
    try {
      openSealedChunk(sealed, key, { chunkDir: plan.chunkDir, manifest: m.manifest.fileName, file: blob.file, chunk: blob.names }, false);
    } catch (err) {
      if (!isDosError(err, ErrorCodes.CORRUPT)) throw err;
      throw new DosError(ErrorCodes.WRONG_KEY, `USER_KEY does not decrypt ${blob.names.join(', ')} (${blob.file}, manifest ${m.manifest.fileName}): the set was sliced with another USER_KEY, or that chunk is damaged. Uploaded, it could never be restored with this key`, { manifest: m.manifest.fileName, chunk: blob.names }, { cause: err });
    }
    checked.push(m.manifest.fileName);
  }
  return checked;
}

type Planned = SeedRestorePlan['manifests'][number];

function smallestBlob(m: Planned, mode: string): { paths: string[]; names: string[]; file: string } | null {
  let best: { paths: string[]; names: string[]; file: string; size: number } | null = null;
  for (const f of m.files) {
    if (mode === 'per-chunk') {
      for (const c of f.chunks) if (!best || c.size < best.size) best = { paths: [c.path], names: [c.name], file: f.entry.originalName, size: c.size };
    } else if (mode === 'file-scope') {
      const size = f.chunks.reduce((s, c) => s + c.size, 0);
      if (f.chunks.length > 0 && size <= MAX_FILE_SCOPE_CHECK && (!best || size < best.size)) {
        best = { paths: f.chunks.map((c) => c.path), names: f.chunks.map((c) => c.name), file: f.entry.originalName, size };
      }
    }
  }
  return best;
}

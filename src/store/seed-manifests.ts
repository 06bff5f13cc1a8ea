import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, SeedThreadListing } from '../backends/backend.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import { isSeedManifestName, readSeedManifest, type SeedManifest } from '../legacy/index.js';

/** Downloads the thread's manifests into a throwaway folder and parses them. */
export async function readSeedManifests(backend: Backend, threadId: string, listing?: SeedThreadListing): Promise<SeedManifest[]> {
  const { listSeedThread, downloadSeedFiles } = backend;
  if (!listSeedThread || !downloadSeedFiles) throw new DosError(ErrorCodes.UNSUPPORTED, 'this backend holds no seed archives');
  const thread = listing ?? (await listSeedThread.call(backend, threadId));
  const names = thread.attachments.filter((a) => isSeedManifestName(a.name));
  if (names.length === 0) throw new DosError(ErrorCodes.MISSING, `the thread ${threadId} holds no manifest (a .json attachment whose name contains "manifest")`, { thread: threadId });
  const dir = await mkdtemp(join(tmpdir(), 'dos-seed-manifests-'));
  try {
    const got = await downloadSeedFiles.call(backend, threadId, dir, names.map((a) => ({ name: a.name, size: a.size })));
    const manifests: SeedManifest[] = [];
    for (const name of names.map((a) => a.name).sort()) {
      if (!got.missing.includes(name)) manifests.push(await readSeedManifest(join(dir, name), name));
    }
    return manifests;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

import { DosError, ErrorCodes } from '../core/errors.js';
import { openFrame, sealFrame, type SealedFrame } from '../core/frame.js';
import { decodeManifest, encodeManifest, type Manifest, type ManifestFrame, type ManifestPack } from '../core/manifest.js';
import type { StoreContext } from './context.js';

/** Where a manifest's own frames are: the `manifest` block of an archive record. */
export interface ManifestRef {
  packs: ManifestPack[];
  frames: ManifestFrame[];
  length: number;
}

/** Serialises a manifest and seals it into frames like any data (compressed, encrypted). */
export async function sealManifest(ctx: StoreContext, manifest: Manifest): Promise<{ frames: SealedFrame[]; length: number }> {
  const bytes = encodeManifest(manifest);
  const frames: SealedFrame[] = [];
  for (let offset = 0; offset < bytes.length || frames.length === 0; offset += ctx.frameSize) {
    frames.push(await sealFrame(ctx.keys, bytes.subarray(offset, offset + ctx.frameSize), ctx.compression));
  }
  return { frames, length: bytes.length };
}

/** Fetches, authenticates and parses a manifest from the backend. */
export async function loadManifest(ctx: StoreContext, ref: ManifestRef, archiveId: string): Promise<Manifest> {
  const parts: Buffer[] = [];
  for (const [idHex, packIndex, offset, storedLength, plainLength] of ref.frames) {
    const pack = ref.packs[packIndex];
    if (!pack?.locator) throw new DosError(ErrorCodes.CORRUPT, `the manifest reference of ${archiveId} is damaged`, { archive: archiveId });
    const stored = await ctx.backend.readPack(pack.locator, { offset, length: storedLength });
    try {
      parts.push(await openFrame(ctx.keys, Buffer.from(idHex, 'hex'), stored, plainLength));
    } catch (err) {
      if (err instanceof DosError) {
        throw new DosError(err.code, `the manifest of ${archiveId} is damaged: ${err.message}`, { archive: archiveId, ...err.details }, { cause: err });
      }
      throw err;
    }
  }
  const bytes = Buffer.concat(parts);
  if (bytes.length !== ref.length) throw new DosError(ErrorCodes.CORRUPT, `the manifest of ${archiveId} has the wrong length`, { archive: archiveId });
  return decodeManifest(bytes, { storeId: ctx.keys.storeId, archiveId });
}

/** Resolves a manifest's pack table: null locators are the packs listed in the record. */
export function resolvePackLocators(manifest: Manifest, ref: ManifestRef, archiveId: string): ManifestPack[] {
  const fromRecord = new Map(ref.packs.map((p) => [p.name, p.locator] as const));
  return manifest.packs.map((p) => {
    const locator = p.locator ?? fromRecord.get(p.name) ?? null;
    if (locator === null) throw new DosError(ErrorCodes.CORRUPT, `the manifest of ${archiveId} names pack ${p.name} without saying where it is`, { archive: archiveId });
    return { ...p, locator };
  });
}

import { normalizeArchiveId } from '../core/archive-id.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { ArchiveRow, EntryRow, FrameLocation } from '../index/store-index.js';
import type { StoreContext } from './context.js';

/**
 * Finds an archive by id in any form the seed accepted (`#271126-07`, `271126-7`...) or,
 * failing that, by its exact name when exactly one archive has it.
 */
export function resolveArchive(ctx: StoreContext, text: string): ArchiveRow {
  const id = normalizeArchiveId(text);
  if (id !== null) {
    const row = ctx.index.getArchive(id);
    if (row) return row;
    throw new DosError(ErrorCodes.NOT_FOUND, `no archive ${id} in this store (dos ls lists them)`, { archive: id });
  }
  const named = ctx.index.archivesNamed(text);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) {
    throw new DosError(ErrorCodes.BAD_INPUT, `several archives are named "${text}": use an id (${named.map((a) => a.id).join(', ')})`);
  }
  throw new DosError(ErrorCodes.NOT_FOUND, `no archive "${text}" in this store: expected an id like #271126-07 or an archive name (dos ls lists them)`, { archive: text });
}

/** Splits `ARCHIVE[/PATH]`. The archive part is an id or a name without "/". */
export function splitArchivePath(text: string): { archive: string; path: string } {
  const slash = text.indexOf('/');
  if (slash < 0) return { archive: text, path: '' };
  return { archive: text.slice(0, slash), path: text.slice(slash + 1).replace(/\/+$/, '') };
}

/** A usable archive: committed, not deleted. */
export function requireReadable(archive: ArchiveRow): void {
  if (archive.currentGeneration === null) {
    throw new DosError(ErrorCodes.NOT_FOUND, `archive ${archive.id} has no committed content (status: ${archive.status})`, { archive: archive.id });
  }
}

/** Locates every frame of a file entry, or reports which are unknown to the index. */
export function frameLocations(ctx: StoreContext, archiveId: string, entry: EntryRow): FrameLocation[] {
  return entry.frameIds.map((id) => {
    const location = ctx.index.findFrame(id);
    if (!location) {
      throw new DosError(ErrorCodes.MISSING, `${archiveId}/${entry.path}: frame ${id.toString('hex')} is not in the index`, { archive: archiveId, path: entry.path });
    }
    return location;
  });
}

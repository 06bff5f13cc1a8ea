import { DosError, ErrorCodes } from './errors.js';

/**
 * Archive ids use the seed's scheme: `#DDMMYY-NN`, where DDMMYY is the local date of the
 * upload and NN a global, ever-increasing lot number padded to at least two digits.
 */
export function formatArchiveId(lot: number, date: Date): string {
  if (!Number.isSafeInteger(lot) || lot < 1) throw new DosError(ErrorCodes.BAD_INPUT, `invalid lot number ${lot}`);
  const dd = String(date.getDate()).padStart(2, '0');
  const mm = String(date.getMonth() + 1).padStart(2, '0');
  const yy = String(date.getFullYear() % 100).padStart(2, '0');
  return `#${dd}${mm}${yy}-${String(lot).padStart(2, '0')}`;
}

/**
 * Normalises every form the seed accepted (`#271126-07`, `271126-7`, `#271126-007`, with
 * surrounding spaces) to `#DDMMYY-NN`. Returns null when the text is not an archive id.
 */
export function normalizeArchiveId(text: string): string | null {
  const trimmed = text.trim().replace(/^#/, '');
  const match = /^(\d{6})-(\d+)$/.exec(trimmed);
  if (!match) return null;
  const lot = Number.parseInt(match[2]!, 10);
  if (!Number.isSafeInteger(lot)) return null;
  return `#${match[1]}-${String(lot).padStart(2, '0')}`;
}

/** Like normalizeArchiveId, but throws a BAD_INPUT error that tells the user the expected form. */
export function parseArchiveId(text: string): string {
  const id = normalizeArchiveId(text);
  if (id === null) {
    throw new DosError(ErrorCodes.BAD_INPUT, `"${text}" is not an archive id; expected the form #DDMMYY-NN (for example #271126-07)`, { input: text });
  }
  return id;
}

/** The lot number inside a normalised archive id. */
export function lotOf(archiveId: string): number {
  return Number.parseInt(archiveId.split('-')[1] ?? '', 10);
}

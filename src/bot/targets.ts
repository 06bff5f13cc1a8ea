import { lotOf, normalizeArchiveId } from '../core/archive-id.js';

/**
 * What a Discord user may name: an archive id in any form the seed accepted, or (for
 * `!download` ranges) a bare lot number. Nothing else is accepted, and nothing the user types is
 * ever used as a path: folders are built from the normalised id alone (`#DDMMYY-NN`).
 */

/** Longest argument we even look at; ids are 10-ish characters. */
const MAX_ARG = 40;

export type Target = { kind: 'id'; id: string; lot: number; text: string } | { kind: 'lot'; lot: number; text: string };

export class TargetError extends Error {}

/**
 * Shown raw in replies: printable, short, without backticks (it goes inside `code`) and without
 * braces: a reply of ours in the archive channel must never read like a card's JSON.
 */
export function quoteArg(text: string): string {
  const clean = text.replace(/[`{}\u0000-\u001f\u007f]/g, '').slice(0, MAX_ARG);
  return `\`${clean || '?'}\``;
}

export function parseArchiveArg(text: string): string {
  const id = text.length <= MAX_ARG ? normalizeArchiveId(text) : null;
  if (id === null) throw new TargetError(`Invalid archive id ${quoteArg(text)}. Use \`#DDMMYY-NN\` (for example \`#120225-07\`).`);
  return id;
}

/** An archive id, or a lot number (digits only), as `!download` accepts. */
export function parseDownloadArg(text: string): Target {
  if (text.length <= MAX_ARG && /^\d{1,9}$/.test(text)) return { kind: 'lot', lot: Number.parseInt(text, 10), text };
  const id = text.length <= MAX_ARG ? normalizeArchiveId(text) : null;
  if (id === null) throw new TargetError(`Invalid download target ${quoteArg(text)}. Use \`#DDMMYY-01\` or a lot number.`);
  return { kind: 'id', id, lot: lotOf(id), text: id };
}

export interface ArchiveLike {
  id: string;
}

/**
 * The archives a `!download <start> [end]` names. One id → exactly that archive; otherwise the
 * inclusive lot range (swapped when reversed, as in the seed) over every archive's id number.
 */
export function selectRange<T extends ArchiveLike>(archives: readonly T[], start: Target, end: Target | undefined): T[] {
  if (!end && start.kind === 'id') return archives.filter((a) => a.id === start.id);
  const a = start.lot;
  const b = (end ?? start).lot;
  const [lo, hi] = a <= b ? [a, b] : [b, a];
  return archives.filter((x) => {
    const lot = lotOf(x.id);
    return lot >= lo && lot <= hi;
  }).sort((x, y) => lotOf(x.id) - lotOf(y.id));
}

/** Discord's message limits (DESIGN.md §3). The seed ignored them and its cards could fail to post. */
export const DISCORD_LIMITS = {
  content: 2000,
  embedTitle: 256,
  embedFieldName: 256,
  embedFieldValue: 1024,
  embedFooter: 2048,
  embedTotal: 6000,
  embedFields: 25,
} as const;

/**
 * Shortens `text` to at most `max` UTF-16 units, ending with "…" when cut, and never splits a
 * surrogate pair (half an emoji would be invalid text).
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/**
 * Joins lines with newlines within `max` characters: keeps as many whole lines as fit and
 * ends with "… and N more" for the rest.
 */
export function joinLinesWithin(lines: readonly string[], max: number): string {
  const all = lines.join('\n');
  if (all.length <= max) return all;
  for (let keep = lines.length - 1; keep >= 0; keep--) {
    const more = `… and ${lines.length - keep} more`;
    const text = [...lines.slice(0, keep), more].join('\n');
    if (text.length <= max) return text;
  }
  return clip(`… and ${lines.length} more`, max);
}

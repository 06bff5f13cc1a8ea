export { formatBytes } from '../core/format-bytes.js';

/** Left-aligned columns for terminal tables. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => [...(r[col] ?? '')].length)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell + ' '.repeat(widths[col]! - [...cell].length))).join('  ')).join('\n');
}

export function formatDate(ms: number | string): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/**
 * The seed's format_bytes (legacy-format.md §3.2): divide by 1024 through B, KB, MB, GB, TB;
 * bytes as an integer (`512 B`), every other unit with two decimals (`9.50 MB`), TB never
 * exceeded, null → `Unknown size`.
 *
 * Python's `f"{x:.2f}"` rounds the exact binary value half-to-even, while JS toFixed rounds
 * ties up: 1152 B = 1.125 KB exactly is "1.12 KB" in Python and "1.13 KB" with toFixed. Sizes
 * divided by powers of 1024 are exact dyadic fractions, so the rounding is done exactly in
 * BigInt to match the seed character for character.
 */
export function formatBytes(size: number | null | undefined): string {
  if (size === null || size === undefined || !Number.isFinite(size)) return 'Unknown size';
  let unit = 0;
  while (unit < UNITS.length - 1 && size >= 1024 ** (unit + 1)) unit++;
  if (unit === 0) return `${Number.isInteger(size) ? size : size.toFixed(2)} B`;
  const text = Number.isSafeInteger(size) ? exactTwoDecimals(BigInt(size), 1024n ** BigInt(unit)) : (size / 1024 ** unit).toFixed(2);
  return `${text} ${UNITS[unit]}`;
}

/** numerator / denominator with two decimals, rounding half to even like Python. */
function exactTwoDecimals(numerator: bigint, denominator: bigint): string {
  const negative = numerator < 0n;
  const n = (negative ? -numerator : numerator) * 100n;
  let quotient = n / denominator;
  const twiceRemainder = (n % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) quotient += 1n;
  const whole = quotient / 100n;
  const cents = (quotient % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${whole}.${cents}`;
}

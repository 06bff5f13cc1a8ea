import { LosslessNumber, isInteger, isSafeNumber, parse, stringify } from 'lossless-json';

/**
 * JSON as the Python seed wrote it, where Discord snowflakes (~1.4e18) are bare integers that
 * `JSON.parse` would silently round. Integers beyond Number.MAX_SAFE_INTEGER come back as their
 * exact decimal string; every other number as a plain JS number. Duplicate keys resolve like
 * Python's json module (the last one wins) instead of throwing.
 */
export function parseLosslessJson(text: string): unknown {
  return parse(text, null, {
    parseNumber: (digits: string) => (isInteger(digits) && !isSafeNumber(digits) ? digits : Number(digits)),
    onDuplicateKey: ({ newValue }) => newValue,
  });
}

/** A Discord id from seed JSON as a string, or null when the value is not a plausible id. */
export function idString(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return value.replace(/^0+(?=\d)/, '');
  return null;
}

/** Writes an id string back as a bare JSON integer, as the Python tool expects to read it. */
export function idNumber(id: string): LosslessNumber {
  return new LosslessNumber(id);
}

/**
 * Compact JSON (`,` and `:` separators) with every non-ASCII UTF-16 unit escaped as `\uXXXX`,
 * i.e. Python's `json.dumps(..., separators=(",", ":"))` with its default ensure_ascii.
 * LosslessNumber values are written as bare numbers.
 */
export function stringifyPythonCompact(value: unknown): string {
  return toAsciiJson(stringify(value) ?? 'null');
}

/** Python-style indented JSON (`indent=4`, ensure_ascii), as the seed wrote manifests and the log. */
export function stringifyPythonIndented(value: unknown): string {
  return toAsciiJson(stringify(value, null, 4) ?? 'null');
}

/** Escapes non-ASCII characters the way Python's ensure_ascii does (lower-case hex, per UTF-16 unit). */
export function toAsciiJson(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

import { DosError, ErrorCodes } from '../../core/errors.js';

/**
 * Where a pack lives on Discord: `{"c":channel,"m":message,"a":attachment,"s":size}`.
 * Snowflakes are always strings (64-bit ids do not fit a JS number). No URL: a CDN URL
 * expires after about a day, so URLs are only a cache inside the backend. Short keys keep
 * records (which list the manifest's locators) small enough for a card's 2000 characters.
 */
export interface PackLocation {
  channelId: string;
  messageId: string;
  attachmentId: string;
  size: number;
}

const SNOWFLAKE = /^\d{1,20}$/;

export function encodeLocator(l: PackLocation): string {
  return JSON.stringify({ c: l.channelId, m: l.messageId, a: l.attachmentId, s: l.size });
}

export function decodeLocator(locator: string): PackLocation {
  let raw: unknown;
  try {
    raw = JSON.parse(locator);
  } catch {
    raw = null;
  }
  const o = raw as { c?: unknown; m?: unknown; a?: unknown; s?: unknown } | null;
  if (
    !o || typeof o !== 'object' ||
    typeof o.c !== 'string' || !SNOWFLAKE.test(o.c) ||
    typeof o.m !== 'string' || !SNOWFLAKE.test(o.m) ||
    typeof o.a !== 'string' || !SNOWFLAKE.test(o.a) ||
    typeof o.s !== 'number' || !Number.isSafeInteger(o.s) || o.s < 0
  ) {
    throw new DosError(ErrorCodes.CORRUPT, `invalid Discord pack locator ${JSON.stringify(locator.slice(0, 200))}`);
  }
  return { channelId: o.c, messageId: o.m, attachmentId: o.a, size: o.s };
}

/** Sorts snowflakes numerically (they are strings of different lengths). */
export function compareSnowflakes(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** When a snowflake was made (ms since 1970): its top 42 bits count ms since Discord's 2015 epoch. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + 1_420_070_400_000n);
}

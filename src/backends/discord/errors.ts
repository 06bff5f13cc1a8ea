import { DiscordAPIError, HTTPError } from '@discordjs/rest';
import { DosError, ErrorCodes } from '../../core/errors.js';

/** Discord JSON error codes this backend reacts to. */
export const DiscordCodes = {
  UNKNOWN_CHANNEL: 10003,
  UNKNOWN_MESSAGE: 10008,
  MAX_PINS: 30003,
  ENTITY_TOO_LARGE: 40005,
  THREAD_ALREADY_CREATED: 160004,
  THREAD_ARCHIVED: 50083,
} as const;

/** The Discord error code of a failed REST call, or undefined for non-API errors. */
export function discordCode(err: unknown): number | undefined {
  return err instanceof DiscordAPIError && typeof err.code === 'number' ? err.code : undefined;
}

export function httpStatus(err: unknown): number | undefined {
  if (err instanceof DiscordAPIError || err instanceof HTTPError) return err.status;
  return undefined;
}

export function isUnknownResource(err: unknown): boolean {
  const code = discordCode(err);
  return code === DiscordCodes.UNKNOWN_CHANNEL || code === DiscordCodes.UNKNOWN_MESSAGE;
}

/** Network-level failures worth another attempt: resets, drops mid-body, timeouts. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Whether a failure is transient (retry with backoff) rather than an answer. 5xx and dropped
 * connections are; 4xx answers are not (429s never reach us: discord.js waits them out itself).
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  if (err instanceof HTTPError) return err.status >= 500;
  if (err instanceof DiscordAPIError) return err.status >= 500;
  if (err instanceof DosError) return false;
  if (!(err instanceof Error)) return false;
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return true;
  // A response cut mid-body surfaces as a JSON parse failure or undici's "terminated".
  if (err instanceof SyntaxError) return true;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && NETWORK_CODES.has(code)) return true;
    if (/terminated|ECONNRESET|other side closed|socket hang up|fetch failed/i.test(e.message)) return true;
  }
  return false;
}

/** Thrown by our own code for a failure that should be retried (e.g. a short CDN body). */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/**
 * A pack was refused as too large (413, code 40005): the server's real limit is lower than
 * what `limits()` said. `limits()` now reports `maxPackBytes`; the engine can re-pack the
 * pack's frames into smaller packs and upload again.
 */
export class PackTooLargeError extends DosError {
  constructor(readonly packName: string, readonly packBytes: number, readonly maxPackBytes: number, options?: { cause?: unknown }) {
    super(ErrorCodes.BACKEND, `Discord refused pack ${packName} (${packBytes} bytes) as too large; packs must now stay under ${maxPackBytes} bytes`, { pack: packName, packBytes, maxPackBytes, discordCode: DiscordCodes.ENTITY_TOO_LARGE }, options);
  }
}

/** Wraps a failed Discord call in a typed error that says what we were doing. */
export function backendError(err: unknown, what: string, details: Record<string, unknown> = {}): DosError {
  if (err instanceof DosError) return err;
  const status = httpStatus(err);
  const code = discordCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (status === 401) {
    return new DosError(ErrorCodes.BACKEND, `${what}: Discord rejected DISCORD_BOT_TOKEN (401)`, { ...details, status }, { cause: err });
  }
  if (status === 403) {
    return new DosError(ErrorCodes.BACKEND, `${what}: the bot lacks a permission (403${code ? `, code ${code}` : ''}): ${message}`, { ...details, status, discordCode: code }, { cause: err });
  }
  return new DosError(ErrorCodes.BACKEND, `${what}: ${message}`, { ...details, status, discordCode: code }, { cause: err });
}

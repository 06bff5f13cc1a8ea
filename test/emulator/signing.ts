import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.js';

export type SignatureCheck = 'ok' | 'missing' | 'bad' | 'expired';

/**
 * Signed CDN URLs like Discord's: `?ex=<hex expiry s>&is=<hex issued s>&hm=<hex hmac>&`.
 * The HMAC (SHA-256, per-run key) covers the canonical resource `channelId/attachmentId/filename`,
 * so `/attachments/...` and `/media/attachments/...` share one signature, like url and proxy_url on Discord.
 */
export class UrlSigner {
  readonly #key: Buffer;

  constructor(
    private readonly clock: Clock,
    public ttlMs: number,
    key?: string,
  ) {
    this.#key = key === undefined ? randomBytes(32) : Buffer.from(key);
  }

  #mac(resource: string, ex: string, is: string): string {
    return createHmac('sha256', this.#key).update(`${resource}|${ex}|${is}`).digest('hex');
  }

  /** The query string (without `?`) for a resource, issued now. Ends with `&` like Discord's. */
  sign(resource: string): string {
    const nowS = Math.floor(this.clock.now() / 1000);
    const is = nowS.toString(16);
    const ex = (nowS + Math.max(1, Math.floor(this.ttlMs / 1000))).toString(16);
    return `ex=${ex}&is=${is}&hm=${this.#mac(resource, ex, is)}&`;
  }

  verify(resource: string, query: URLSearchParams): SignatureCheck {
    const ex = query.get('ex');
    const is = query.get('is');
    const hm = query.get('hm');
    if (!ex || !is || !hm) return 'missing';
    if (!/^[0-9a-f]{1,16}$/.test(ex) || !/^[0-9a-f]{1,16}$/.test(is) || !/^[0-9a-f]{64}$/.test(hm)) return 'bad';
    const expected = Buffer.from(this.#mac(resource, ex, is), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(hm, 'hex'))) return 'bad';
    if (parseInt(ex, 16) * 1000 <= this.clock.now()) return 'expired';
    return 'ok';
  }
}

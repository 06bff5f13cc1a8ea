import { LRUCache } from 'lru-cache';
import { DosError, ErrorCodes } from '../../core/errors.js';
import { TransientError, backendError } from './errors.js';
import type { PackLocation } from './locator.js';
import type { RetryPolicy } from './options.js';
import { withRetry } from './retry.js';
import type { AttachmentUrls } from './url-cache.js';

/** 403/404 answers tolerated per read before the pack counts as missing. */
const MAX_REFUSALS = 3;

/**
 * Downloads byte ranges of attachments from the CDN with plain `fetch` (URLs come from
 * payloads; their host is never checked, so an emulator or proxy works the same).
 *
 * Range is not documented for Discord's CDN: we ask for `bytes=a-b`, use a 206 as is, and on a
 * 200 take the slice of the whole body and remember that this CDN ignores Range (from then on
 * whole packs are fetched once and kept in a small LRU, so the runs of one pack do not each
 * download it again). Every answer is checked for length: a short or dropped body is retried;
 * the caller gets exactly the bytes it asked for or an error. Bytes that are complete but
 * wrong are the engine's to catch (every frame is authenticated with AES-GCM).
 */
export class CdnReader {
  /** Set once a CDN answered a ranged request with the whole body. */
  rangeIgnored = false;
  private readonly whole: LRUCache<string, Buffer>;
  private readonly wholeInFlight = new Map<string, Promise<Buffer>>();
  /**
   * Ranges recently answered from a kept whole pack. The engine asks for the same range again
   * only when the bytes failed authentication (a download corrupted on the way), so a repeat
   * is answered from a fresh download, never from the same kept copy.
   */
  private readonly servedFromWhole = new LRUCache<string, true>({ max: 1024 });

  constructor(private readonly urls: AttachmentUrls, private readonly retry: RetryPolicy, private readonly timeoutMs: number, wholeCacheBytes: number) {
    this.whole = new LRUCache<string, Buffer>({ maxSize: Math.max(1, wholeCacheBytes), sizeCalculation: (b) => Math.max(1, b.length) });
  }

  async read(loc: PackLocation, offset: number, length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > loc.size) {
      throw new DosError(ErrorCodes.CORRUPT, `bytes ${offset}+${length} lie outside pack attachment ${loc.attachmentId} (${loc.size} bytes)`, { attachment: loc.attachmentId });
    }
    if (length === 0) return Buffer.alloc(0);
    if (this.rangeIgnored || (offset === 0 && length === loc.size)) {
      const key = `${loc.attachmentId}:${offset}:${length}`;
      if (this.servedFromWhole.has(key)) {
        this.servedFromWhole.delete(key);
        this.whole.delete(loc.attachmentId);
      }
      const body = await this.wholePack(loc);
      this.servedFromWhole.set(key, true);
      return body.subarray(offset, offset + length);
    }
    return this.fetchChecked(loc, offset, length);
  }

  /** The whole attachment, shared by concurrent readers and kept briefly when Range is off. */
  private wholePack(loc: PackLocation): Promise<Buffer> {
    const cached = this.whole.get(loc.attachmentId);
    if (cached) return Promise.resolve(cached);
    let running = this.wholeInFlight.get(loc.attachmentId);
    if (!running) {
      running = this.fetchChecked(loc, 0, loc.size).finally(() => this.wholeInFlight.delete(loc.attachmentId));
      this.wholeInFlight.set(loc.attachmentId, running);
    }
    return running;
  }

  private async fetchChecked(loc: PackLocation, offset: number, length: number): Promise<Buffer> {
    try {
      return await withRetry(this.retry, () => this.attempt(loc, offset, length));
    } catch (err) {
      throw backendError(err, `downloading pack attachment ${loc.attachmentId}`, { attachment: loc.attachmentId });
    }
  }

  /** One download, following up to MAX_REFUSALS 403/404s with fresh URLs. */
  private async attempt(loc: PackLocation, offset: number, length: number): Promise<Buffer> {
    let url = await this.urls.urlFor(loc);
    const whole = offset === 0 && length === loc.size;
    for (let refusals = 0; ; ) {
      const res = await fetch(url, {
        headers: whole ? {} : { Range: `bytes=${offset}-${offset + length - 1}` },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (res.status === 403 || res.status === 404) {
        await res.body?.cancel().catch(() => {});
        if (++refusals > MAX_REFUSALS) {
          throw new DosError(ErrorCodes.MISSING, `the CDN keeps refusing pack attachment ${loc.attachmentId} (${res.status})`, { attachment: loc.attachmentId });
        }
        url = await this.urls.afterRefusal(loc, url, refusals);
        continue;
      }
      if (res.status === 416) {
        await res.body?.cancel().catch(() => {});
        throw new DosError(ErrorCodes.CORRUPT, `pack attachment ${loc.attachmentId} is shorter than its ${loc.size} bytes (416)`, { attachment: loc.attachmentId });
      }
      if (res.status >= 500 || res.status === 408) {
        await res.body?.cancel().catch(() => {});
        throw new TransientError(`CDN answered ${res.status}`);
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel().catch(() => {});
        throw new DosError(ErrorCodes.BACKEND, `the CDN answered ${res.status} for pack attachment ${loc.attachmentId}`, { attachment: loc.attachmentId, status: res.status });
      }
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status === 206) return checkPartial(res, body, offset, length);
      // 200: the whole attachment, whether or not we asked for a range.
      if (body.length !== loc.size) throw new TransientError(`CDN body of attachment ${loc.attachmentId} is ${body.length} bytes, expected ${loc.size}`);
      if (!whole) this.rangeIgnored = true;
      this.whole.set(loc.attachmentId, body);
      return body.subarray(offset, offset + length);
    }
  }
}

function checkPartial(res: Response, body: Buffer, offset: number, length: number): Buffer {
  const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
  if (!range || Number(range[1]) !== offset || Number(range[2]) !== offset + length - 1) {
    throw new TransientError(`CDN answered range ${res.headers.get('content-range') ?? '(none)'} for bytes ${offset}-${offset + length - 1}`);
  }
  if (body.length !== length) throw new TransientError(`CDN sent ${body.length} of ${length} bytes`);
  return body;
}

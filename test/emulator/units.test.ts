import { describe, expect, it } from 'vitest';
import { parseRange } from './cdn.js';
import { Clock } from './clock.js';
import { FormErrors } from './errors.js';
import { RateLimiter } from './ratelimit.js';
import { UrlSigner } from './signing.js';
import { SnowflakeGenerator, snowflakeTimestamp } from './snowflake.js';
import { DEFAULT_LIMITS, profileRateLimits } from './options.js';
import { parseMessageInput } from './validate.js';

describe('emulator building blocks', () => {
  it('snowflakes follow the clock, are strictly increasing, and never go back', () => {
    const clock = new Clock(1_700_000_000_000);
    const ids = new SnowflakeGenerator(clock);
    const a = ids.next();
    const b = ids.next();
    expect(BigInt(b)).toBeGreaterThan(BigInt(a));
    expect(Math.abs(snowflakeTimestamp(a) - 1_700_000_000_000)).toBeLessThan(1000);
    clock.advance(-3600_000);
    expect(BigInt(ids.next())).toBeGreaterThan(BigInt(b));
    expect(a).toMatch(/^\d{19}$/);
  });

  it('URL signatures verify, expire with the clock, and reject tampering', () => {
    const clock = new Clock();
    const s = new UrlSigner(clock, 24 * 3600_000, 'k');
    const q = new URLSearchParams(s.sign('1/2/a.bin'));
    expect(s.verify('1/2/a.bin', q)).toBe('ok');
    expect(s.verify('1/2/b.bin', q)).toBe('bad');
    expect(s.verify('1/2/a.bin', new URLSearchParams())).toBe('missing');
    clock.advance(24 * 3600_000 + 1000);
    expect(s.verify('1/2/a.bin', q)).toBe('expired');
  });

  it('parses single byte ranges', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-200', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRange(undefined, 100)).toBeNull();
  });

  it('buckets are per major parameter with a route-level hash; windows follow the clock', () => {
    const clock = new Clock();
    const rl = new RateLimiter(clock, profileRateLimits('realistic'));
    const route = 'POST /channels/:channel_id/messages';
    for (let i = 0; i < 5; i++) expect(rl.take(route, '1', { global: true }).ok).toBe(true);
    const limited = rl.take(route, '1', { global: true });
    expect(limited.ok).toBe(false);
    expect(limited.headers['Retry-After']).toBe('5');
    expect(rl.take(route, '2', { global: true }).ok).toBe(true);
    clock.advance(5000);
    expect(rl.take(route, '1', { global: true }).ok).toBe(true);
  });

  it('collects Discord-shaped form errors', () => {
    const f = new FormErrors();
    f.add(['embeds', 0, 'title'], 'BASE_TYPE_MAX_LENGTH', 'Must be 256 or fewer in length.');
    expect(f.tree).toEqual({ embeds: { '0': { title: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 256 or fewer in length.' }] } } } });
    expect(() => parseMessageInput({ content: 'x', nonce: 'n'.repeat(26) }, DEFAULT_LIMITS, 0)).toThrow('Invalid Form Body');
    expect(() => parseMessageInput({ embeds: [{ description: 'd'.repeat(4097) }] }, DEFAULT_LIMITS, 0)).toThrow('Invalid Form Body');
    expect(parseMessageInput({ content: 'ok', enforce_nonce: true, nonce: 'abc' }, DEFAULT_LIMITS, 0)).toMatchObject({ content: 'ok', nonce: 'abc', enforceNonce: true });
  });
});

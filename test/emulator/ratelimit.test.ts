import { type Client, HTTPError, RESTEvents, type TextChannel } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, MESSAGE_CREATE_ROUTE, startEmulator } from './index.js';
import { loginClient, makeRest } from './harness.js';

describe('rate limits: realistic profile with discord.js waiting ahead', () => {
  let emu: Emulator;
  let client: Client;

  beforeAll(async () => {
    emu = await startEmulator({ profile: 'realistic' });
    client = await loginClient(emu);
  });
  afterAll(async () => {
    await client?.destroy();
    await emu?.close();
  });

  it('7 concurrent sends to one channel (bucket 5 per 5 s) all succeed with 0 hard 429s', async () => {
    const channel = client.channels.cache.get(emu.archiveChannelId) as TextChannel;
    const other = emu.createChannel({ name: 'other' });
    let waitedAhead = 0;
    client.rest.on(RESTEvents.RateLimited, () => waitedAhead++);
    const t0 = Date.now();
    const sends = Array.from({ length: 7 }, (_, i) => channel.send(`m${i}`));
    // another channel has its own bucket (major parameter): not delayed by the first one
    const otherSends = Array.from({ length: 5 }, (_, i) => makeRest(emu).post(`/channels/${other.id}/messages`, { body: { content: `o${i}` } }));
    const tOther = await Promise.all(otherSends).then(() => Date.now() - t0);
    const sent = await Promise.all(sends);
    const elapsed = Date.now() - t0;
    expect(sent.map((m) => m.content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(emu.stats.total429).toBe(0);
    expect(waitedAhead).toBeGreaterThanOrEqual(1);
    expect(elapsed).toBeGreaterThanOrEqual(4500);
    expect(tOther).toBeLessThan(2000);
    expect(emu.stats.requests(MESSAGE_CREATE_ROUTE)).toBe(12);
  }, 20_000);

  it('sends X-RateLimit-* headers on every response; the bucket hash does not depend on the channel', async () => {
    const res = await fetch(`${emu.apiBase}/v10/channels/${emu.archiveChannelId}`, { headers: { Authorization: `Bot ${emu.token}` } });
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-ratelimit-limit')).toBe('50');
    expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeLessThan(50);
    expect(res.headers.get('x-ratelimit-reset-after')).toMatch(/^\d+\.\d{3}$/);
    expect(res.headers.get('x-ratelimit-reset')).toMatch(/^\d{10}\.\d{3}$/);
    expect(res.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/);
    const other = emu.createChannel({ name: 'hash' });
    const res2 = await fetch(`${emu.apiBase}/v10/channels/${other.id}`, { headers: { Authorization: `Bot ${emu.token}` } });
    expect(res2.headers.get('x-ratelimit-bucket')).toBe(res.headers.get('x-ratelimit-bucket'));
    expect(res2.headers.get('x-ratelimit-remaining')).toBe('49');
  });
});

describe('rate limits and faults: fast profile', () => {
  let emu: Emulator;

  beforeAll(async () => {
    emu = await startEmulator({ profile: 'fast' });
  });
  afterAll(async () => {
    await emu?.close();
  });

  const post = (content: string, extra: Record<string, unknown> = {}) =>
    makeRest(emu).post(`/channels/${emu.archiveChannelId}/messages`, { body: { content, ...extra } }) as Promise<{ id: string; content: string }>;

  it('a forced 429 is retried after Retry-After and succeeds', async () => {
    const fault = emu.faults.rateLimit({ route: MESSAGE_CREATE_ROUTE, count: 1, retryAfterMs: 400 });
    const t0 = Date.now();
    const m = await post('after 429');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    expect(m.content).toBe('after 429');
    expect(fault.consumed).toBe(1);
    expect(emu.stats.served429.forced).toBe(1);
  });

  it('a hard 429 from an exhausted bucket carries Retry-After, scope and the Discord body', async () => {
    emu.setRouteLimit('GET /users/@me', { limit: 2, windowMs: 1000 });
    const get = () => fetch(`${emu.apiBase}/v10/users/%40me`, { headers: { Authorization: `Bot ${emu.token}` } });
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('x-ratelimit-scope')).toBe('user');
    const body = (await limited.json()) as { message: string; retry_after: number; global: boolean };
    expect(body).toMatchObject({ message: 'You are being rate limited.', global: false });
    expect(body.retry_after).toBeGreaterThan(0);
    expect(emu.stats.served429.bucket).toBe(1);
    emu.setRouteLimit('GET /users/@me', null);
  });

  it('a global 429 sets X-RateLimit-Global', async () => {
    const g = await startEmulator({ profile: 'fast', rateLimits: { global: { limit: 3, windowMs: 1000 } } });
    try {
      const get = () => fetch(`${g.apiBase}/v10/users/%40me`, { headers: { Authorization: `Bot ${g.token}` } });
      for (let i = 0; i < 3; i++) expect((await get()).status).toBe(200);
      const r = await get();
      expect(r.status).toBe(429);
      expect(r.headers.get('x-ratelimit-global')).toBe('true');
      expect(r.headers.get('x-ratelimit-scope')).toBe('global');
      expect(((await r.json()) as { global: boolean }).global).toBe(true);
      // discord.js honours it and succeeds after the wait
      expect(((await makeRest(g).get('/users/@me')) as { id: string }).id).toBe(g.botUser.id);
      expect(g.stats.served429.global).toBeGreaterThanOrEqual(1);
    } finally {
      await g.close();
    }
  });

  it('a 5xx burst (HTML body) is retried by discord.js and then succeeds; too many → HTTPError', async () => {
    emu.faults.serverError({ route: MESSAGE_CREATE_ROUTE, count: 2, status: 502 });
    expect((await post('after 5xx')).content).toBe('after 5xx');
    expect(emu.stats.served5xx).toBe(2);
    emu.faults.serverError({ count: 4, status: 503 }); // any route
    const err = await post('never').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HTTPError);
    expect((err as HTTPError).status).toBe(503);
    expect(emu.faults.pending).toBe(0);
  });

  it('a connection dropped mid-body after the message was created: the retry with enforce_nonce returns the same message', async () => {
    emu.faults.dropConnection({ route: MESSAGE_CREATE_ROUTE, count: 1 });
    const body = { nonce: 'drop-1', enforce_nonce: true };
    await expect(post('dropped', body)).rejects.toThrow();
    const created = emu.state.messages(emu.archiveChannelId).filter((m) => m.content === 'dropped');
    expect(created).toHaveLength(1);
    const retry = await post('dropped', body);
    expect(retry.id).toBe(created[0]!.id);
    expect(emu.stats.droppedConnections).toBe(1);
  });

  it('counts invalid requests and bans (Cloudflare 1015) over the threshold', async () => {
    const b = await startEmulator({ profile: 'fast', rateLimits: { invalidRequests: { limit: 3, windowMs: 60_000 } } });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${b.apiBase}/v10/users/%40me`, { headers: { Authorization: 'Bot wrong' } });
        expect(r.status).toBe(401);
      }
      const banned = await fetch(`${b.apiBase}/v10/users/%40me`, { headers: { Authorization: `Bot ${b.token}` } });
      expect(banned.status).toBe(429);
      expect(await banned.text()).toContain('1015');
      expect(b.stats.invalidRequests).toBeGreaterThanOrEqual(4);
      b.clock.advance(61_000);
      expect((await fetch(`${b.apiBase}/v10/users/%40me`, { headers: { Authorization: `Bot ${b.token}` } })).status).toBe(200);
    } finally {
      await b.close();
    }
  });
});

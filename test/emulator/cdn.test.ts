import type { REST } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './index.js';
import { bytes, makeRest } from './harness.js';

interface ApiAttachment {
  id: string;
  url: string;
  proxy_url: string;
  size: number;
}
interface ApiMessage {
  id: string;
  attachments: ApiAttachment[];
}

describe('CDN: signed URLs, expiry, refresh, Range, faults', () => {
  let emu: Emulator;
  let rest: REST;
  const data = bytes(100_000, 42);
  let msg: ApiMessage;
  let att: ApiAttachment;

  const upload = async (payload: Buffer, name = 'pack.bin'): Promise<ApiMessage> =>
    (await rest.post(`/channels/${emu.archiveChannelId}/messages`, { files: [{ name, data: payload }] })) as ApiMessage;

  beforeAll(async () => {
    emu = await startEmulator({ profile: 'fast' });
    rest = makeRest(emu);
    msg = await upload(data);
    att = msg.attachments[0]!;
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('serves byte ranges: a-b, a-, -n → 206 + Content-Range; beyond the end → 416; HEAD', async () => {
    const r1 = await fetch(att.url, { headers: { Range: 'bytes=10-19' } });
    expect(r1.status).toBe(206);
    expect(r1.headers.get('content-range')).toBe(`bytes 10-19/${data.length}`);
    expect(Buffer.from(await r1.arrayBuffer()).equals(data.subarray(10, 20))).toBe(true);

    const r2 = await fetch(att.url, { headers: { Range: 'bytes=99990-' } });
    expect(r2.status).toBe(206);
    expect(Buffer.from(await r2.arrayBuffer()).equals(data.subarray(99_990))).toBe(true);

    const r3 = await fetch(att.url, { headers: { Range: 'bytes=-5' } });
    expect(r3.status).toBe(206);
    expect(r3.headers.get('content-range')).toBe(`bytes ${data.length - 5}-${data.length - 1}/${data.length}`);
    expect(Buffer.from(await r3.arrayBuffer()).equals(data.subarray(-5))).toBe(true);

    const r4 = await fetch(att.url, { headers: { Range: `bytes=${data.length}-` } });
    expect(r4.status).toBe(416);
    expect(r4.headers.get('content-range')).toBe(`bytes */${data.length}`);
    await r4.arrayBuffer();

    const head = await fetch(att.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(data.length));
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    expect(head.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('with Range switched off, always answers 200 with the full body', async () => {
    emu.setRangeSupport(false);
    try {
      const r = await fetch(att.url, { headers: { Range: 'bytes=10-19' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('accept-ranges')).toBeNull();
      expect(Buffer.from(await r.arrayBuffer()).equals(data)).toBe(true);
    } finally {
      emu.setRangeSupport(true);
    }
  });

  it('refuses a missing or bad signature with 404 text/plain', async () => {
    const bare = att.url.split('?')[0]!;
    const r = await fetch(bare);
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toBe('text/plain');
    expect(await r.text()).toBe('This content is no longer available.');
    const tampered = att.url.replace(/hm=([0-9a-f])/, (_m, c: string) => `hm=${c === '0' ? '1' : '0'}`);
    expect((await fetch(tampered)).status).toBe(404);
  });

  it('expires URLs after 24 h (clock.advance(25 h) → 404); refresh-urls and re-fetching the message give working URLs', async () => {
    const other = await upload(bytes(500, 5), 'other.bin');
    const before = emu.clock.now();
    emu.clock.advance(25 * 3600_000);
    try {
      const expired = await fetch(att.url);
      expect(expired.status).toBe(404);
      await expired.arrayBuffer();
      const urls = [att.url, att.proxy_url, other.attachments[0]!.url];
      const refreshed = (await rest.post('/attachments/refresh-urls', { body: { attachment_urls: urls } })) as {
        refreshed_urls: Array<{ original: string; refreshed: string }>;
      };
      expect(refreshed.refreshed_urls.map((x) => x.original)).toEqual(urls);
      for (const { refreshed: u } of refreshed.refreshed_urls) {
        const is = parseInt(new URL(u).searchParams.get('is')!, 16) * 1000;
        expect(is).toBeGreaterThanOrEqual(Math.floor((before + 25 * 3600_000) / 1000) * 1000);
        const r = await fetch(u);
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
      expect(emu.stats.refreshUrlsCalls).toBe(1);
      // every payload re-signs: a re-fetched message has fresh URLs too
      const again = (await rest.get(`/channels/${emu.archiveChannelId}/messages/${msg.id}`)) as ApiMessage;
      const r = await fetch(again.attachments[0]!.url);
      expect(Buffer.from(await r.arrayBuffer()).equals(data)).toBe(true);
      // at most 50 per call
      await expect(rest.post('/attachments/refresh-urls', { body: { attachment_urls: Array(51).fill(att.url) } })).rejects.toMatchObject({ code: 50035 });
    } finally {
      emu.clock.advance(-25 * 3600_000);
    }
  });

  it('early-404 fault: a valid URL answers 404 N times, then works', async () => {
    const fault = emu.faults.cdnNotFound({ url: att.url, count: 2 });
    expect((await fetch(att.url)).status).toBe(404);
    expect((await fetch(att.url)).status).toBe(404);
    expect(fault.remaining).toBe(0);
    const r = await fetch(att.url);
    expect(r.status).toBe(200);
    expect(Buffer.from(await r.arrayBuffer()).equals(data)).toBe(true);
  });

  it('corrupted download fault: one bit flipped, same length; then healthy', async () => {
    emu.faults.cdnCorrupt({ attachmentId: att.id, offset: 1234 });
    const bad = Buffer.from(await (await fetch(att.url)).arrayBuffer());
    expect(bad.length).toBe(data.length);
    expect(bad.equals(data)).toBe(false);
    expect(bad[1234]! ^ data[1234]!).toBe(1);
    const good = Buffer.from(await (await fetch(att.url)).arrayBuffer());
    expect(good.equals(data)).toBe(true);
  });

  it('truncated download fault: a clean but short response; then healthy', async () => {
    emu.faults.cdnTruncate({ attachmentId: att.id, bytes: 4096, count: 1 });
    const r = await fetch(att.url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe('4096');
    const short = Buffer.from(await r.arrayBuffer());
    expect(short.equals(data.subarray(0, 4096))).toBe(true);
    expect(Buffer.from(await (await fetch(att.url)).arrayBuffer()).equals(data)).toBe(true);
  });

  it('dropped connection mid-body: the body read fails; the retry succeeds', async () => {
    emu.faults.cdnDrop({ attachmentId: att.id, afterBytes: 50_000 });
    const r = await fetch(att.url);
    expect(r.status).toBe(200);
    await expect(r.arrayBuffer()).rejects.toThrow();
    expect(emu.stats.droppedConnections).toBeGreaterThanOrEqual(1);
    const ok = await fetch(att.url);
    expect(Buffer.from(await ok.arrayBuffer()).equals(data)).toBe(true);
  });

  it('URL TTL is configurable', async () => {
    const short = await startEmulator({ profile: 'fast', cdn: { urlTtlMs: 60_000 } });
    try {
      const m = (await makeRest(short).post(`/channels/${short.archiveChannelId}/messages`, { files: [{ name: 'a.bin', data: bytes(10) }] })) as ApiMessage;
      const u = new URL(m.attachments[0]!.url);
      expect(parseInt(u.searchParams.get('ex')!, 16) - parseInt(u.searchParams.get('is')!, 16)).toBe(60);
      short.clock.advance(61_000);
      expect((await fetch(u)).status).toBe(404);
    } finally {
      await short.close();
    }
  });
});

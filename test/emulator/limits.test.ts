import { request } from 'node:http';
import { AttachmentBuilder, type Client, type REST, type TextChannel } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, MiB, startEmulator } from './index.js';
import { bytes, makeRest, closeSession, loggedInSession } from './harness.js';

describe('size limits (10 MiB per file, 25 MiB per request, boost tiers)', () => {
  let emu: Emulator;
  let client: Client;
  let rest: REST;
  let channel: TextChannel;

  beforeAll(async () => {
    ({ emu, client, rest, channel } = await loggedInSession());
  });
  afterAll(() => closeSession({ emu, client }));

  it('accepts exactly 10 MiB and refuses 10 MiB + 1 with 413/40005', async () => {
    const exact = bytes(10 * MiB, 7);
    const ok = await channel.send({ files: [new AttachmentBuilder(exact, { name: 'exact.bin' })] });
    expect(ok.attachments.first()?.size).toBe(10 * MiB);
    const res = await fetch(ok.attachments.first()!.url);
    expect(Buffer.from(await res.arrayBuffer()).equals(exact)).toBe(true);

    const over = Buffer.concat([exact, Buffer.from([1])]);
    await expect(channel.send({ files: [new AttachmentBuilder(over, { name: 'over.bin' })] })).rejects.toMatchObject({ status: 413, code: 40005 });
  });

  it('refuses a request body over 25 MiB (3 × 9 MiB) with 413/40005; 2 × 9 MiB is fine', async () => {
    const nine = bytes(9 * MiB, 9);
    const two = await rest.post(`/channels/${channel.id}/messages`, {
      files: [
        { name: 'a.bin', data: nine },
        { name: 'b.bin', data: nine },
      ],
    });
    expect((two as { attachments: unknown[] }).attachments).toHaveLength(2);
    await expect(
      rest.post(`/channels/${channel.id}/messages`, {
        files: [
          { name: 'a.bin', data: nine },
          { name: 'b.bin', data: nine },
          { name: 'c.bin', data: nine },
        ],
      }),
    ).rejects.toMatchObject({ status: 413, code: 40005 });
  });

  it('answers 413 as soon as the limit is crossed, before the upload ends', async () => {
    const total = 40 * MiB;
    const url = new URL(`${emu.apiBase}/v10/channels/${channel.id}/messages`);
    const boundary = 'xBOUNDARYx';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files[0]"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const result = await new Promise<{ status: number; sentWhenAnswered: number; body: string }>((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const req = request(url, {
        method: 'POST',
        headers: { Authorization: `Bot ${emu.token}`, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': total },
      });
      req.on('response', (res) => {
        answered = true;
        const sentWhenAnswered = sent;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, sentWhenAnswered, body: Buffer.concat(chunks).toString() });
          req.destroy();
        });
      });
      req.on('error', (e) => (answered ? undefined : reject(e)));
      req.write(head);
      sent += head.length;
      const chunk = Buffer.alloc(256 * 1024, 1);
      const pump = (): void => {
        while (!answered && sent + chunk.length <= total) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toEqual({ message: 'Request entity too large', code: 40005 });
    expect(result.sentWhenAnswered).toBeLessThan(total);
  });

  it('boost tier 2 raises the per-file limit to 50 MiB (guild premium_tier follows)', async () => {
    const big = bytes(20 * MiB, 11);
    await expect(channel.send({ files: [new AttachmentBuilder(big, { name: 'big.bin' })] })).rejects.toMatchObject({ code: 40005 });
    emu.setPremiumTier(2);
    try {
      expect(emu.attachmentLimit()).toBe(50 * MiB);
      const guild = (await rest.get(`/guilds/${emu.guildId}`)) as { premium_tier: number };
      expect(guild.premium_tier).toBe(2);
      const m = await channel.send({ files: [new AttachmentBuilder(big, { name: 'big.bin' })] });
      expect(m.attachments.first()?.size).toBe(20 * MiB);
    } finally {
      emu.setPremiumTier(0);
    }
  });

  it('a tier set at start applies from the first request', async () => {
    const tiered = await startEmulator({ profile: 'fast', premiumTier: 3 });
    try {
      expect(tiered.attachmentLimit()).toBe(100 * MiB);
      const r = makeRest(tiered);
      const g = (await r.get(`/guilds/${tiered.guildId}`)) as { premium_tier: number };
      expect(g.premium_tier).toBe(3);
    } finally {
      await tiered.close();
    }
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';
import { closeAll, discordStore, emulator, packAttachments } from './helpers.js';

const MiB = 1024 * 1024;

afterEach(closeAll);

describe('a server that takes smaller attachments than its boost tier says', () => {
  it('gets smaller packs after a 413 instead of a failed upload', async () => {
    const emu = await emulator({ limits: { attachmentBytesByTier: [3 * MiB, 3 * MiB, 3 * MiB, 3 * MiB] } });
    const { store } = await discordStore(emu);
    const src = tempDir();
    writeTree(src, { 'a.bin': noise(12 * MiB, 21), 'small.txt': 'small' });
    const put = await store.put([src]);
    const packs = packAttachments(emu);
    expect(packs.length).toBe(put.attachments);
    for (const p of packs) expect(emu.state.attachment(p.id)!.size).toBeLessThanOrEqual(3 * MiB);
    const out = join(tempDir(), 'out');
    await store.get(put.id, out);
    expect(snapshot(out)).toEqual(snapshot(src));
  }, 60_000);
});

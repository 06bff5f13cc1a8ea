import { it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp.js';
import { noise, writeTree } from '../helpers/trees.js';
import { closeAll, discordStore, emulator, packAttachments } from './helpers.js';
it('dbg', async () => {
  const emu = await emulator({ profile: 'realistic' });
  const t = await discordStore(emu, { frameSize: 16384, maxPackBytes: 65536, packsPerMessage: 2, threadsPerArchive: 3 });
  const src = tempDir();
  writeTree(src, { 'data.bin': noise(148 * 16384, 5) });
  let s = Date.now();
  const put = await t.store.put([src]);
  console.log('put', Date.now() - s, put.attachments);
  for (const th of emu.state.threads(emu.archiveChannelId)) {
    const ms = emu.state.messages(th.id);
    console.log(th.name, ms.map((m) => `${m.attachmentIds.length}@${m.createdAt % 100000}`).join(' '));
  }
  s = Date.now();
  await t.store.get(put.id, join(tempDir(), 'o'));
  console.log('get', Date.now() - s, emu.stats.total429, [...emu.stats.requestsByRoute.entries()]);
  await closeAll();
}, 60000);

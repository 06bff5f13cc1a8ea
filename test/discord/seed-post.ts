/**
 * Posts archives to the emulator the way the Python seed's `!upload` did (legacy-format.md §3.2,
 * §3.5, §3.6, §4.1): a card in the archive channel (```json block + embed) with status
 * "partial", a thread started from it named "{id} chunks", one attachment per message (no
 * text), then the card edited to its final status with the thread id. All as the bot.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Routes, type REST } from 'discord.js';
import { renderSeedCard, type SeedCardMeta } from '../../src/legacy/index.js';
import type { Emulator } from '../emulator/index.js';
import { makeRest } from '../emulator/harness.js';
import { FIXTURES_DIR, readFixtureExpectation } from '../helpers/seed-fixtures.js';

export interface PostedSeedArchive {
  archiveId: string;
  cardId: string;
  threadId: string;
  /** file name → message id and attachment id in the thread. */
  attachments: Map<string, { messageId: string; attachmentId: string; size: number }>;
}

export interface PostSeedOptions {
  archiveId: string;
  lot: number;
  files: Array<{ name: string; data: Buffer }>;
  timestamp?: string;
  /** Original names for the card's file list. */
  filesDisplay?: string[];
  status?: string;
}

export function botRest(emu: Emulator): REST {
  return makeRest(emu);
}

export async function postSeedArchive(emu: Emulator, rest: REST, o: PostSeedOptions): Promise<PostedSeedArchive> {
  const channel = emu.archiveChannelId;
  const total = o.files.reduce((s, f) => s + f.data.length, 0);
  const meta: SeedCardMeta = {
    lot: o.lot, archive_id: o.archiveId, timestamp: o.timestamp ?? '2026-11-27 23:23:32', status: 'partial',
    file_count: o.filesDisplay?.length ?? null, total_size_bytes: total, uploaded_files: [], failed_files: [], message_ids: [],
    chunk_count: o.files.length, files_display: o.filesDisplay ?? [], uploader: 'shakib', archive_channel_id: channel, storage_channel_id: null,
  };
  let rendered = renderSeedCard(meta);
  const card = (await rest.post(Routes.channelMessages(channel), { body: { content: rendered.content, embeds: [rendered.embed] } })) as { id: string };
  const thread = (await rest.post(Routes.threads(channel, card.id), { body: { name: `${o.archiveId} chunks`, auto_archive_duration: 1440 } })) as { id: string };
  const attachments = new Map<string, { messageId: string; attachmentId: string; size: number }>();
  for (const f of o.files) {
    const m = (await rest.post(Routes.channelMessages(thread.id), { files: [{ name: f.name, data: f.data }] })) as { id: string; attachments: Array<{ id: string; size: number }> };
    attachments.set(f.name, { messageId: m.id, attachmentId: m.attachments[0]!.id, size: m.attachments[0]!.size });
  }
  rendered = renderSeedCard({
    ...meta, status: o.status ?? 'success', uploaded_files: o.files.map((f) => f.name), message_ids: [...attachments.values()].map((a) => a.messageId), thread_id: thread.id,
  });
  await rest.patch(Routes.channelMessage(channel, card.id), { body: { content: rendered.content, embeds: [rendered.embed] } });
  return { archiveId: o.archiveId, cardId: card.id, threadId: thread.id, attachments };
}

/** The real seed output in ../shared/fixtures/legacy-v3.1 (7 chunks and one manifest). */
export async function fixtureFiles(): Promise<Array<{ name: string; data: Buffer }>> {
  const dir = join(FIXTURES_DIR, 'legacy-v3.1', 'chunks');
  const names = (await readdir(dir)).sort();
  return Promise.all(names.map(async (name) => ({ name, data: await readFile(join(dir, name)) })));
}

export async function postFixture(emu: Emulator, rest: REST, archiveId = '#271126-07', lot = 7): Promise<PostedSeedArchive> {
  const expected = await readFixtureExpectation('legacy-v3.1');
  return postSeedArchive(emu, rest, { archiveId, lot, files: await fixtureFiles(), filesDisplay: Object.keys(expected.files) });
}

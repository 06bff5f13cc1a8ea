import { Routes } from 'discord-api-types/v10';
import type { APIMessage, DiscordApi } from './api.js';
import { ChannelGoneError, allMessages } from './message-fetch.js';
import { compareSnowflakes } from './locator.js';
import { DiscordCodes, backendError, discordCode, httpStatus } from './errors.js';
import { MAX_ATTACHMENTS_PER_MESSAGE, MAX_REQUEST_BYTES, REQUEST_OVERHEAD } from './options.js';
import { nonceOf } from './uploader.js';

/**
 * Posting named files (seed chunks, manifests) as attachments into a thread, several per
 * message, and reading back which ones a thread holds. Used by seed uploads and legacy
 * migration: unlike packs, these files keep their own names, because seed manifests refer to
 * chunks by name.
 */

/** Bytes one create-message request may carry (Discord: 25 MiB, minus multipart framing). */
export const REQUEST_BYTES = MAX_REQUEST_BYTES - REQUEST_OVERHEAD;

export interface NamedFile {
  name: string;
  data: Buffer;
}

export interface PostOutcome {
  name: string;
  size: number;
  /** The message holding it, when it was posted. */
  messageId?: string;
  error?: string;
}

/** A bot-written attachment in a thread. */
export interface ThreadFile {
  name: string;
  size: number;
  messageId: string;
}

/** Splits files (in order) into messages of at most 10 attachments and `maxBytes` bytes. */
export function batchesOf<T extends { size: number }>(files: T[], maxBytes = REQUEST_BYTES, maxCount = MAX_ATTACHMENTS_PER_MESSAGE): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const f of files) {
    if (current.length > 0 && (current.length >= maxCount || bytes + f.size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(f);
    bytes += f.size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function contentTypeOf(name: string): string {
  return name.toLowerCase().endsWith('.json') ? 'application/json' : 'application/octet-stream';
}

/**
 * Posts one message holding `files`. The nonce is derived from the thread and the names with
 * `enforce_nonce`, so a retry after a dropped response gets the message created the first time
 * back instead of posting the files twice. A request Discord finds too large is split into one
 * file per message. Every file is reported: posted (Discord's answer lists it with its name and
 * size) or failed with the reason; nothing is thrown for a file.
 */
export async function postFiles(api: DiscordApi, threadId: string, files: NamedFile[]): Promise<PostOutcome[]> {
  let message: APIMessage;
  try {
    message = await api.raw<APIMessage>('post', Routes.channelMessages(threadId), {
      body: {
        nonce: nonceOf(['named-files', threadId, ...files.map((f) => `${f.name}:${f.data.length}`)]),
        enforce_nonce: true,
        attachments: files.map((f, i) => ({ id: i, filename: f.name })),
      },
      files: files.map((f) => ({ name: f.name, data: f.data, contentType: contentTypeOf(f.name) })),
    });
  } catch (err) {
    const tooLarge = httpStatus(err) === 413 || discordCode(err) === DiscordCodes.ENTITY_TOO_LARGE;
    if (tooLarge && files.length > 1) {
      const out: PostOutcome[] = [];
      for (const f of files) out.push(...(await postFiles(api, threadId, [f])));
      return out;
    }
    const reason = backendError(err, `posting ${files.length} attachment(s)`).message;
    return files.map((f) => ({ name: f.name, size: f.data.length, error: reason }));
  }
  const attachments = [...(message.attachments ?? [])];
  return files.map((f) => {
    // Matched by name and size: Discord renames some characters (a space becomes "_"), and a
    // renamed chunk could never be found by its manifest.
    const at = attachments.findIndex((a) => a.filename === f.name && a.size === f.data.length);
    if (at < 0) return { name: f.name, size: f.data.length, error: `Discord's answer does not list ${f.name} with its ${f.data.length} bytes` };
    attachments.splice(at, 1);
    return { name: f.name, size: f.data.length, messageId: message.id };
  });
}

/**
 * Every attachment the bot wrote in a thread, oldest message first. Attachments by anyone else
 * are not the archive's and are left out. Throws ChannelGoneError when the thread is gone.
 */
export async function botThreadFiles(api: DiscordApi, threadId: string): Promise<ThreadFile[]> {
  const me = await api.me();
  const messages: APIMessage[] = [];
  for await (const m of allMessages(api, threadId)) if (m.author?.id === me.id) messages.push(m);
  messages.sort((a, b) => compareSnowflakes(a.id, b.id));
  return messages.flatMap((m) => (m.attachments ?? []).map((a) => ({ name: a.filename, size: a.size, messageId: m.id })));
}

/** `name:size`, how files are matched between a thread and what is to be posted. */
export function fileKey(f: { name: string; size: number }): string {
  return `${f.name}:${f.size}`;
}

export { ChannelGoneError };

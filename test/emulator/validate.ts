import { USER_SETTABLE_MESSAGE_FLAGS } from './constants.js';
import { ApiError, FormErrors } from './errors.js';
import type { Limits } from './options.js';

/** Validation of message bodies with Discord's limits and 50035 error shapes. */

export interface AttachmentSpec {
  /** Snowflake of an existing attachment, or the index n of `files[n]` (as string or number). */
  id: string;
  filename?: string;
  description?: string;
  title?: string;
}

export interface MessageInput {
  content?: string;
  embeds?: Record<string, unknown>[];
  components?: unknown[];
  nonce?: string | number;
  enforceNonce: boolean;
  tts: boolean;
  flags?: number;
  attachments?: AttachmentSpec[];
  reference?: { messageId?: string; channelId?: string; failIfNotExists: boolean };
  hasStickersOrPoll: boolean;
}

const maxLen = (n: number): [string, string] => ['BASE_TYPE_MAX_LENGTH', `Must be ${n} or fewer in length.`];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Length in characters the way Discord counts (code points). */
function len(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function validateEmbeds(raw: unknown, limits: Limits, errors: FormErrors): Record<string, unknown>[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    errors.add(['embeds'], 'LIST_TYPE_CONVERT', 'Only iterables may be used in a ListType');
    return undefined;
  }
  if (raw.length > limits.maxEmbeds) errors.add(['embeds'], ...maxLen(limits.maxEmbeds));
  const L = limits.embed;
  let total = 0;
  const out: Record<string, unknown>[] = [];
  raw.forEach((e: unknown, i: number) => {
    if (!isObject(e)) {
      errors.add(['embeds', i], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
      return;
    }
    const check = (path: (string | number)[], value: unknown, max: number): void => {
      if (value === undefined || value === null) return;
      if (typeof value !== 'string') {
        errors.add(path, 'STRING_TYPE_CONVERT', `Could not interpret "${String(value)}" as string.`);
        return;
      }
      const n = len(value);
      total += n;
      if (n > max) errors.add(path, ...maxLen(max));
    };
    check(['embeds', i, 'title'], e['title'], L.title);
    check(['embeds', i, 'description'], e['description'], L.description);
    const footer = e['footer'];
    if (isObject(footer)) check(['embeds', i, 'footer', 'text'], footer['text'], L.footerText);
    const author = e['author'];
    if (isObject(author)) check(['embeds', i, 'author', 'name'], author['name'], L.authorName);
    const fields = e['fields'];
    if (fields !== undefined && fields !== null) {
      if (!Array.isArray(fields)) errors.add(['embeds', i, 'fields'], 'LIST_TYPE_CONVERT', 'Only iterables may be used in a ListType');
      else {
        if (fields.length > L.fields) errors.add(['embeds', i, 'fields'], ...maxLen(L.fields));
        fields.forEach((f: unknown, j: number) => {
          if (!isObject(f)) {
            errors.add(['embeds', i, 'fields', j], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
            return;
          }
          for (const key of ['name', 'value'] as const) {
            if (f[key] === undefined || f[key] === null || f[key] === '') {
              errors.add(['embeds', i, 'fields', j, key], 'BASE_TYPE_REQUIRED', 'This field is required');
            }
          }
          check(['embeds', i, 'fields', j, 'name'], f['name'], L.fieldName);
          check(['embeds', i, 'fields', j, 'value'], f['value'], L.fieldValue);
        });
      }
    }
    out.push({ type: 'rich', ...e });
  });
  if (total > L.total) errors.add(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', `Embed size exceeds maximum size of ${L.total}`);
  return out;
}

function parseAttachments(raw: unknown, limits: Limits, errors: FormErrors): AttachmentSpec[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    errors.add(['attachments'], 'LIST_TYPE_CONVERT', 'Only iterables may be used in a ListType');
    return undefined;
  }
  if (raw.length > limits.maxAttachmentsPerMessage) errors.add(['attachments'], ...maxLen(limits.maxAttachmentsPerMessage));
  const out: AttachmentSpec[] = [];
  raw.forEach((a: unknown, i: number) => {
    if (!isObject(a) || (typeof a['id'] !== 'string' && typeof a['id'] !== 'number')) {
      errors.add(['attachments', i, 'id'], 'BASE_TYPE_REQUIRED', 'This field is required');
      return;
    }
    const spec: AttachmentSpec = { id: String(a['id']) };
    const filename = str(a['filename']);
    const description = str(a['description']);
    const title = str(a['title']);
    if (filename !== undefined) spec.filename = filename;
    if (description !== undefined) {
      if (len(description) > 1024) errors.add(['attachments', i, 'description'], ...maxLen(1024));
      spec.description = description;
    }
    if (title !== undefined) spec.title = title;
    out.push(spec);
  });
  return out;
}

/** Parse + validate a create/edit message body. Throws 400/50035 with every field error found. */
export function parseMessageInput(body: unknown, limits: Limits, fileCount: number): MessageInput {
  if (!isObject(body)) throw new ApiError(400, 50035, 'Invalid Form Body', { _errors: [{ code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' }] });
  const errors = new FormErrors();
  const input: MessageInput = { enforceNonce: body['enforce_nonce'] === true || body['enforce_nonce'] === 'true', tts: body['tts'] === true, hasStickersOrPoll: false };

  const content = body['content'];
  if (content !== undefined && content !== null) {
    if (typeof content !== 'string' && typeof content !== 'number') {
      errors.add(['content'], 'STRING_TYPE_CONVERT', `Could not interpret "${String(content)}" as string.`);
    } else {
      const s = String(content);
      if (len(s) > limits.contentLength) errors.add(['content'], ...maxLen(limits.contentLength));
      input.content = s;
    }
  }
  const embeds = validateEmbeds(body['embeds'], limits, errors);
  if (embeds) input.embeds = embeds;
  if (Array.isArray(body['components'])) input.components = body['components'] as unknown[];

  const nonce = body['nonce'];
  if (nonce !== undefined && nonce !== null) {
    if (typeof nonce === 'string') {
      if (nonce.length > limits.nonceLength) errors.add(['nonce'], ...maxLen(limits.nonceLength));
      input.nonce = nonce;
    } else if (typeof nonce === 'number' && Number.isInteger(nonce)) {
      input.nonce = nonce;
    } else {
      errors.add(['nonce'], 'NONCE_TYPE_INVALID', 'Nonce must be an integer or a string');
    }
  }
  if (body['flags'] !== undefined && body['flags'] !== null) {
    const f = Number(body['flags']);
    if (Number.isInteger(f)) input.flags = f & USER_SETTABLE_MESSAGE_FLAGS;
  }
  const attachments = parseAttachments(body['attachments'], limits, errors);
  if (attachments) input.attachments = attachments;
  if (fileCount > limits.maxAttachmentsPerMessage) errors.add(['files'], ...maxLen(limits.maxAttachmentsPerMessage));

  const ref = body['message_reference'];
  if (isObject(ref)) {
    input.reference = {
      ...(typeof ref['message_id'] === 'string' ? { messageId: ref['message_id'] } : {}),
      ...(typeof ref['channel_id'] === 'string' ? { channelId: ref['channel_id'] } : {}),
      failIfNotExists: ref['fail_if_not_exists'] !== false,
    };
  }
  input.hasStickersOrPoll = (Array.isArray(body['sticker_ids']) && body['sticker_ids'].length > 0) || isObject(body['poll']);
  errors.throwIfAny();
  return input;
}

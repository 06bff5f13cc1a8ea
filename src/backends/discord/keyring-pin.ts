import { Routes } from 'discord-api-types/v10';
import { DosError, ErrorCodes } from '../../core/errors.js';
import { DISCORD_LIMITS } from '../../legacy/discord-limits.js';
import type { APIMessage, DiscordApi } from './api.js';
import { DiscordCodes, backendError, discordCode } from './errors.js';
import { nonceOf } from './uploader.js';

/** First line of the keyring message: how we (and people) recognise it. */
export const KEYRING_MARKER = '🔐 dos keyring';
const KEYRING_FILE = 'keyring.json';
const NOTE = 'The master key inside is wrapped with your USER_KEY. Keep this message pinned; do not edit or delete it.';

/**
 * The keyring lives in a pinned message of the archive channel, written by the bot: the
 * marker line, a note, and the keyring JSON in a ```json block (or attached as keyring.json
 * if it ever outgrows 2000 characters). Pins by anyone else are ignored: a forged keyring
 * would make dos encrypt new data under someone else's key.
 */
export class KeyringPin {
  constructor(
    private readonly api: DiscordApi,
    private readonly channelId: string,
    private readonly download: (url: string) => Promise<Buffer>,
    private readonly channelMessages: () => Promise<APIMessage[]>,
  ) {}

  async read(): Promise<Buffer | null> {
    const message = (await this.find()) ?? (await this.findUnpinned());
    if (!message) return null;
    const file = (message.attachments ?? []).find((a) => a.filename === KEYRING_FILE);
    if (file) return this.download(file.url);
    const match = /```json\n([\s\S]*)\n```\s*$/.exec(message.content ?? '');
    if (!match) throw new DosError(ErrorCodes.CORRUPT, `the pinned keyring message ${message.id} has no keyring block`);
    return Buffer.from(match[1]!, 'utf8');
  }

  async write(data: Buffer): Promise<void> {
    const existing = (await this.find()) ?? (await this.findUnpinned());
    const content = `${KEYRING_MARKER}\n${NOTE}\n\`\`\`json\n${data.toString('utf8')}\n\`\`\``;
    const inline = content.length <= DISCORD_LIMITS.content;
    const attachments = inline ? [] : [{ id: 0, filename: KEYRING_FILE }];
    const text = inline ? content : `${KEYRING_MARKER}\n${NOTE}`;
    const files = inline ? undefined : [{ name: KEYRING_FILE, data, contentType: 'application/json' }];
    if (existing) {
      await this.api.patch(Routes.channelMessage(this.channelId, existing.id), { body: { content: text, attachments }, files, what: 'updating the pinned keyring' });
      return;
    }
    const message = await this.api.post<APIMessage>(Routes.channelMessages(this.channelId), {
      body: { content: text, ...(inline ? {} : { attachments }), nonce: nonceOf([`keyring ${data.toString('hex')}`]), enforce_nonce: true },
      files,
      what: 'posting the keyring',
    });
    try {
      await this.api.raw('put', Routes.channelMessagesPin(this.channelId, message.id), {});
    } catch (err) {
      if (discordCode(err) === DiscordCodes.MAX_PINS) {
        throw new DosError(ErrorCodes.BACKEND, 'cannot pin the keyring: the archive channel already has the maximum number of pins; unpin an old message and try again', { message: message.id }, { cause: err });
      }
      throw backendError(err, 'pinning the keyring');
    }
  }

  /**
   * Someone unpinned the keyring (anyone with Manage Messages can): it is still in the channel.
   * Without this, dos would see no store and make a new one, orphaning every archive. Pinned
   * again on the way, best effort (the pin limit, missing permission).
   */
  private async findUnpinned(): Promise<APIMessage | null> {
    const me = await this.api.me();
    const message = (await this.channelMessages()).find((m) => isKeyringBy(m, me.id));
    if (!message) return null;
    await this.api.raw('put', Routes.channelMessagesPin(this.channelId, message.id), {}).catch(() => {});
    return message;
  }

  /** The newest pinned keyring message written by the bot itself. */
  private async find(): Promise<APIMessage | null> {
    const me = await this.api.me();
    for (const m of await this.pins()) {
      if (isKeyringBy(m, me.id)) return m;
    }
    return null;
  }

  /** Pinned messages, newest first: the paginated route, or the older one where that is missing. */
  private async pins(): Promise<APIMessage[]> {
    const out: APIMessage[] = [];
    try {
      let before: string | undefined;
      for (;;) {
        const query = new URLSearchParams({ limit: '50' });
        if (before) query.set('before', before);
        const page = await this.api.raw<{ items: Array<{ pinned_at: string; message: APIMessage }>; has_more: boolean }>('get', Routes.channelMessagesPins(this.channelId), { query });
        out.push(...page.items.map((i) => i.message));
        if (!page.has_more || page.items.length === 0) return out;
        before = page.items[page.items.length - 1]!.pinned_at;
      }
    } catch (err) {
      if (discordCode(err) === undefined || out.length > 0 || (err as { status?: number }).status !== 404) throw backendError(err, 'reading the pins of the archive channel');
      return this.api.get<APIMessage[]>(Routes.channelPins(this.channelId), { what: 'reading the pins of the archive channel' });
    }
  }
}

/** A keyring message the bot `botId` wrote (pins by anyone else are ignored, see KeyringPin). */
function isKeyringBy(m: APIMessage, botId: string): boolean {
  return m.author?.id === botId && (m.content ?? '').startsWith(KEYRING_MARKER);
}

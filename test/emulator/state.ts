import { ChannelType, THREAD_TYPES } from './constants.js';

/** In-memory records. Everything is keyed by snowflake strings. */

export interface UserRecord {
  id: string;
  username: string;
  globalName: string | null;
  bot: boolean;
}

export interface RoleRecord {
  id: string;
  name: string;
  permissions: bigint;
  position: number;
  color: number;
  hoist: boolean;
  managed: boolean;
  mentionable: boolean;
  /** Set for the bot's integration role. */
  botId?: string;
}

export interface MemberRecord {
  userId: string;
  roles: string[];
  joinedAt: number;
  nick: string | null;
}

export interface OverwriteRecord {
  id: string;
  /** 0 = role, 1 = member */
  type: 0 | 1;
  allow: bigint;
  deny: bigint;
}

export interface ThreadMeta {
  archived: boolean;
  autoArchiveDuration: number;
  archiveTimestamp: number;
  locked: boolean;
  createTimestamp: number;
  invitable: boolean;
}

export interface ChannelRecord {
  id: string;
  type: number;
  name: string;
  /** null for a direct-message channel (type 1), which belongs to no server. */
  guildId: string | null;
  parentId: string | null;
  position: number;
  topic: string | null;
  overwrites: OverwriteRecord[];
  lastMessageId: string | null;
  lastPinTimestamp: number | null;
  createdAt: number;
  deleted: boolean;
  // threads only
  ownerId?: string;
  thread?: ThreadMeta;
  messageCount: number;
  totalMessageSent: number;
  /** For threads started from a message: that message's id (== thread id). */
  starterMessageId?: string;
  /** Last activity (for lazy auto-archival of threads). */
  lastActivityAt: number;
  /** DM channels only: the two users in it (the bot and the other user). */
  recipientIds?: string[];
}

export interface AttachmentRecord {
  id: string;
  /** Channel the file was uploaded to (part of its CDN path). */
  channelId: string;
  messageId: string;
  filename: string;
  contentType: string;
  size: number;
  data: Buffer;
  etag: string;
  description?: string;
  title?: string;
  deleted: boolean;
}

export interface MessageReferenceRecord {
  type?: number;
  messageId?: string;
  channelId?: string;
  /** Absent or null for a message in a DM. */
  guildId?: string | null;
}

export interface InteractionMetadataRecord {
  id: string;
  type: number;
  userId: string;
  name: string;
}

export interface MessageRecord {
  id: string;
  channelId: string;
  authorId: string;
  type: number;
  content: string;
  embeds: Record<string, unknown>[];
  components: unknown[];
  attachmentIds: string[];
  mentionIds: string[];
  mentionRoleIds: string[];
  nonce?: string | number;
  pinned: boolean;
  pinnedAt: number | null;
  editedAt: number | null;
  createdAt: number;
  flags: number;
  tts: boolean;
  reference?: MessageReferenceRecord;
  /** Id of the thread started from this message. */
  threadId?: string;
  webhookId?: string;
  applicationId?: string;
  interaction?: InteractionMetadataRecord;
  /** Ephemeral interaction responses are never listed in the channel. */
  ephemeral: boolean;
  /** Approximate position in a thread (threads only). */
  position?: number;
  deleted: boolean;
}

export interface CommandRecord {
  id: string;
  applicationId: string;
  guildId: string | null;
  name: string;
  description: string;
  type: number;
  options: unknown[];
  version: string;
  raw: Record<string, unknown>;
}

export interface InteractionRecord {
  id: string;
  token: string;
  applicationId: string;
  type: number;
  channelId: string;
  guildId: string;
  userId: string;
  commandName: string;
  createdAt: number;
  /** Callback type once answered, plus the body sent. */
  callback: { type: number; data: unknown; at: number } | null;
  originalMessageId: string | null;
  followUpIds: string[];
}

export class EmulatorState {
  readonly users = new Map<string, UserRecord>();
  readonly roles = new Map<string, RoleRecord>();
  readonly members = new Map<string, MemberRecord>();
  readonly channels = new Map<string, ChannelRecord>();
  readonly messages = new Map<string, MessageRecord>();
  /** channel id -> message ids in creation order (oldest first). */
  readonly channelMessages = new Map<string, string[]>();
  readonly attachments = new Map<string, AttachmentRecord>();
  readonly commands = new Map<string, CommandRecord>();
  readonly interactions = new Map<string, InteractionRecord>();
  /** `authorId:channelId:nonce` -> message created with enforce_nonce. */
  readonly nonces = new Map<string, { messageId: string; at: number }>();

  guild!: {
    id: string;
    name: string;
    ownerId: string;
    premiumTier: 0 | 1 | 2 | 3;
    createdAt: number;
    systemChannelId: string | null;
  };
  botUserId!: string;
  applicationId!: string;
  token!: string;

  user(id: string): UserRecord | undefined {
    return this.users.get(id);
  }

  liveChannel(id: string): ChannelRecord | undefined {
    const c = this.channels.get(id);
    return c && !c.deleted ? c : undefined;
  }

  /** A message of the channel that is not deleted (and, unless asked, not ephemeral). */
  liveMessage(channelId: string, id: string, includeEphemeral = false): MessageRecord | undefined {
    const m = this.messages.get(id);
    return m && !m.deleted && m.channelId === channelId && (includeEphemeral || !m.ephemeral) ? m : undefined;
  }

  isThread(c: ChannelRecord): boolean {
    return THREAD_TYPES.has(c.type);
  }

  isDm(c: ChannelRecord): boolean {
    return c.type === ChannelType.DM;
  }

  /** The server's channels: not threads, not DMs, not deleted. */
  guildChannels(): ChannelRecord[] {
    return [...this.channels.values()].filter((c) => !c.deleted && !this.isThread(c) && c.guildId !== null);
  }

  /** The DM channel between the bot and `userId`, if one was ever opened (Discord keeps one per pair). */
  dmChannelWith(userId: string): ChannelRecord | undefined {
    return [...this.channels.values()].find((c) => c.type === ChannelType.DM && !c.deleted && c.recipientIds?.includes(userId) === true);
  }

  /** Live (non-deleted, non-ephemeral) message ids of a channel, oldest first. */
  messageIds(channelId: string): string[] {
    return (this.channelMessages.get(channelId) ?? []).filter((id) => {
      const m = this.messages.get(id);
      return m !== undefined && !m.deleted && !m.ephemeral;
    });
  }

  addMessage(m: MessageRecord): void {
    this.messages.set(m.id, m);
    let list = this.channelMessages.get(m.channelId);
    if (!list) this.channelMessages.set(m.channelId, (list = []));
    list.push(m.id);
  }

  pinnedMessages(channelId: string): MessageRecord[] {
    return this.messageIds(channelId)
      .map((id) => this.messages.get(id)!)
      .filter((m) => m.pinned)
      .sort((a, b) => (b.pinnedAt ?? 0) - (a.pinnedAt ?? 0));
  }

  threadsOf(parentId: string | null): ChannelRecord[] {
    return [...this.channels.values()].filter((c) => !c.deleted && this.isThread(c) && (parentId === null || c.parentId === parentId));
  }
}

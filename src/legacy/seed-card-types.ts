/**
 * The JSON block of a seed archive card (legacy-format.md §3.2), keys as the seed wrote them.
 * Discord ids are strings here (snowflakes do not fit a JS number) and are written back as
 * bare JSON integers. Any key may be missing on a real card.
 */
export interface SeedCardMeta {
  lot?: number | null;
  archive_id?: string;
  /** Local time, `YYYY-MM-DD HH:MM:SS`. */
  timestamp?: string;
  /** `success`, `partial`, `failed`, `deleted` or anything else. */
  status?: string;
  file_count?: number | null;
  total_size_bytes?: number | null;
  uploaded_files?: string[];
  failed_files?: string[];
  message_ids?: string[];
  chunk_count?: number | null;
  files_display?: string[] | string;
  uploader?: string;
  archive_channel_id?: string | null;
  storage_channel_id?: string | null;
  /** Migrated from the pre-card era by `!migrate-legacy`. */
  legacy?: boolean;
  thread_id?: string | null;
  progress_text?: string;
  errors?: Record<string, string>;
  archive_message_id?: string;
  uploaded_files_truncated?: boolean;
  failed_files_truncated?: boolean;
  message_ids_truncated?: boolean;
  metadata_truncated?: boolean;
  /** Added by dos when it had to shorten `errors` to fit Discord's limits. */
  errors_truncated?: boolean;
  /** Keys this code does not know (or known keys with unexpected types), kept so a rewrite loses nothing. */
  extra?: Record<string, unknown>;
}

/** A parsed card always knows the message it came from. */
export type ParsedSeedCard = SeedCardMeta & { archive_message_id: string };

/** The subset of a Discord embed the seed read (discord.js embeds fit this shape). */
export interface SeedEmbedInput {
  title?: string | null;
  fields?: ReadonlyArray<{ name: string; value: string }> | null;
  footer?: { text?: string | null } | null;
}

export interface SeedCardEmbed {
  title: string;
  color: number;
  fields: Array<{ name: string; value: string; inline: boolean }>;
  footer?: { text: string };
}

export interface RenderedSeedCard {
  content: string;
  embed: SeedCardEmbed;
}

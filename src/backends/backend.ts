/**
 * The storage backend: a place for immutable packs and a few small metadata records.
 * Two implementations: `local` (a folder, the embedded default) and `discord` (attachments in
 * a server). Everything above this interface is backend-agnostic.
 *
 * Shaped for Discord: a pack is created inside an archive's scope (its thread) and is then
 * addressed only by the opaque locator the backend returned (channel/message/attachment ids
 * there, a file name here); reads are ranged because attachments support HTTP Range; the
 * keyring and archive records are separate metadata (a pinned message and archive cards).
 */
import type { SeedLogEntry } from '../legacy/history-log.js';

export interface ByteRange {
  offset: number;
  length: number;
}

export interface PackUpload {
  /** Opaque random name (see core/pack.ts). */
  name: string;
  data: Buffer;
  /** The archive the pack is uploaded for (a thread on Discord). */
  archiveId: string;
}

export interface PackStat {
  exists: boolean;
  size?: number;
}

export interface BackendLimits {
  /** Largest pack the backend accepts, already minus headroom. */
  maxPackBytes: number;
  /** How many pack uploads are worth running at once. */
  uploadConcurrency: number;
}

/**
 * What a person sees about an archive where the backend shows it (the archive card on
 * Discord): never file contents, and file names only where the user allows it.
 */
export interface ArchiveDisplay {
  name: string;
  lot: number;
  createdAt: Date;
  status: 'uploading' | 'complete' | 'partial' | 'failed' | 'deleted';
  files: number;
  bytes: number;
  storedBytes: number;
  packs: number;
  /** Top-level names in the archive, for the card's file list (empty when names are private). */
  fileNames: string[];
  /** While uploading: bytes done of total. */
  progress?: { done: number; total: number };
}

/**
 * An archive the Python seed made (legacy-format.md §3.2–3.3), as its card describes it. Only
 * cards the bot itself wrote are listed; counts are the card's (null when the card has none).
 */
export interface SeedArchiveListing {
  /** Normalised `#DDMMYY-NN`. */
  archiveId: string;
  cardMessageId: string;
  /** The thread holding the chunk attachments, or null when the card names none. */
  threadId: string | null;
  lot: number | null;
  /** The card's `timestamp` as written (seed local time `YYYY-MM-DD HH:MM:SS`), if any. */
  timestamp: string | null;
  /** Epoch ms: the card's timestamp, else the card message's creation time. */
  createdAt: number;
  /** The card's status word, lower-cased (`success`, `partial`, `failed`...). */
  status: string;
  fileCount: number | null;
  /** The seed's total_size_bytes: processed (chunk + manifest) bytes, not original sizes. */
  totalSizeBytes: number | null;
  chunkCount: number | null;
  filesDisplay: string[];
}

/** One attachment in a seed archive's thread (written by the bot), its name already validated. */
export interface SeedAttachment {
  name: string;
  size: number;
}

export interface SeedThreadListing {
  /** Distinct names, oldest message first (the seed's download order); duplicates keep the oldest. */
  attachments: SeedAttachment[];
  /** Attachments whose names could escape a folder (`..`, `/`, NUL...): never written anywhere. */
  refused: Array<{ name: string; reason: string }>;
  /** Attachments posted by someone other than the bot: ignored. */
  foreign: number;
}

export interface SeedDownloadResult {
  /** Names fetched in this call. */
  downloaded: string[];
  /** Names already present with the right size (a re-run resumes). */
  reused: string[];
  /** Names asked for that the thread does not hold (or not with the size asked). */
  missing: string[];
  bytes: number;
}

/** One local file of a seed set (a chunk or a manifest), already validated by the engine. */
export interface SeedUploadFile {
  /** Attachment name: the local base name, a single safe component Discord keeps as it is. */
  name: string;
  /** Where it is on this machine. */
  path: string;
  size: number;
}

/**
 * A seed-sliced set to post the way the seed's `!upload` did (legacy-format.md §3.2–3.6): a card,
 * its `{id} chunks` thread, the files as attachments in it.
 */
export interface SeedUploadRequest {
  /** Normalised `#DDMMYY-NN`, allocated by the engine like every archive id. */
  archiveId: string;
  lot: number;
  /** The seed's local `YYYY-MM-DD HH:MM:SS`. */
  timestamp: string;
  /** Every file of the set (chunks and manifests), in upload order. */
  files: SeedUploadFile[];
  /** Distinct original names across the manifests (null when they name none). */
  fileCount: number | null;
  /** Original names for the card's file list (the backend may hide them). */
  filesDisplay: string[];
  /** Who asked (the card's footer "Uploader: …"). */
  uploader: string;
  /**
   * Continue an upload whose card exists (`!resume`): files its thread already holds with the
   * same name and size are not posted again. Absent: a new card and thread are made.
   */
  cardMessageId?: string | null;
  /** Called once the card and its thread exist, before the first file is posted. */
  onCard?(listing: SeedArchiveListing): Promise<void> | void;
  /** Bytes of files posted so far, of all files. */
  onProgress?(done: number, total: number): void;
}

export interface SeedUploadResult {
  /** The final card as `listSeedArchives` reads it back. */
  listing: SeedArchiveListing;
  /** The card's final status: success (all there), partial (some), failed (none). */
  status: 'success' | 'partial' | 'failed';
  /** Names the thread now holds (posted now or found there already). */
  uploaded: string[];
  /** Of those, names that were there already (a resumed upload). */
  alreadyThere: string[];
  failed: Array<{ name: string; error: string }>;
}

/**
 * One pre-card archive of the seed's history log (legacy-format.md §3.7 variants 4 and 6), its
 * id known; `messageIds` are the old messages in the storage channel holding its attachments.
 */
export type LegacyArchiveEntry = Pick<SeedLogEntry, 'lot' | 'timestamp' | 'status' | 'fileCount' | 'totalSizeBytes' | 'chunkCount' | 'uploadedFiles' | 'failedFiles' | 'messageIds'> & {
  archiveId: string;
};

export interface LegacyMigrationOutcome {
  archiveId: string;
  migrated: boolean;
  /** Why not, when not migrated. */
  reason?: string;
  /** A legacy card of an earlier (interrupted) run was reused instead of posting another. */
  reusedCard: boolean;
  cardMessageId?: string;
  threadId?: string;
  /** The thread's messages holding the archive's attachments, oldest first. */
  threadMessageIds: string[];
  /** Attachments copied in this run; attachments the thread already held. */
  copied: number;
  alreadyThere: number;
  /** Attachments on old messages written by someone other than the bot: never copied. */
  foreign: number;
  /** Attachments whose names are unsafe (never copied). */
  refused: string[];
  /** Old message ids that no longer exist. */
  missingMessages: string[];
  /** The card as `listSeedArchives` reads it back (migrated only). */
  listing?: SeedArchiveListing;
}

export interface Backend {
  readonly kind: 'local' | 'discord';
  /** For messages: "local store at /home/me/.local/share/dos/store". */
  readonly description: string;

  limits(): Promise<BackendLimits>;

  /**
   * Stores a pack and returns its locator. A pack refused as too large throws a DosError whose
   * `details.maxPackBytes` says the size packs must stay under; the engine then re-packs.
   */
  putPack(pack: PackUpload): Promise<string>;
  /** Reads a whole pack or one byte range of it. Must return exactly the bytes asked for or throw. */
  readPack(locator: string, range?: ByteRange): Promise<Buffer>;
  /**
   * True when the backend keeps no reference to what readPack returns, so the caller may move
   * that memory to another thread instead of copying it (the mount's frame workers: a copy of
   * every fetched run on the thread that serves FUSE cost 0.15 s per 512 MiB read). A backend
   * that caches what it returns (the Discord CDN reader keeps whole packs) leaves it unset.
   */
  readonly readsAreFresh?: boolean;
  statPacks(locators: string[]): Promise<Map<string, PackStat>>;
  deletePacks(locators: string[]): Promise<void>;
  /** Every pack the backend holds (for collecting orphans a crash left before the index knew them). */
  listPacks?(): Promise<Array<{ locator: string; size: number; createdAt: number }>>;
  /** Removes leftovers of uploads a crash interrupted (temporary files), older than `graceMs`. */
  removePartialUploads?(graceMs: number): Promise<number>;

  readKeyring(): Promise<Buffer | null>;
  writeKeyring(data: Buffer): Promise<void>;

  /** Publishes (creates or replaces) the record of one archive, with what to show people about it. */
  putRecord(archiveId: string, data: Buffer, display: ArchiveDisplay): Promise<void>;
  /** A hint that an upload follows soon: fetch now what it will need (limits, existing cards). */
  warmUp?(): void;
  /** A hint that an upload of about `bytes` into this archive starts now (a backend may get ready for it). */
  expectUpload?(archiveId: string, bytes: number, display?: ArchiveDisplay): void;
  /** Shows upload progress where people look (the card); backends may rate-limit or ignore it. */
  showProgress?(archiveId: string, display: ArchiveDisplay): void;
  listRecords(): Promise<Array<{ archiveId: string; data: Buffer }>>;
  /** Listings read in the last few seconds (shared between callers) are read again next time. */
  forgetListings?(): void;
  deleteRecord(archiveId: string): Promise<void>;

  /** Archives the Python seed made in this backend (Discord only): bot-written cards, newest card per id. */
  listSeedArchives?(): Promise<SeedArchiveListing[]>;
  /** The attachments of a seed archive's thread (fresh from the backend, bot-written only). */
  listSeedThread?(threadId: string): Promise<SeedThreadListing>;
  /**
   * Downloads the named attachments of a seed thread into `dir` (created if needed). Each file
   * is written under a temporary name and renamed once complete with its declared size; a file
   * already there with that size is kept. `size` (when given) must match the attachment.
   */
  downloadSeedFiles?(threadId: string, dir: string, files: Array<{ name: string; size?: number | null }>, onBytes?: (bytes: number) => void): Promise<SeedDownloadResult>;
  /**
   * Deletes a seed archive as the seed's `!cleanup` did: its thread goes, its card is marked
   * `deleted` (Discord only; bot-written card and thread only).
   */
  removeSeedArchive?(cardMessageId: string, threadId: string | null): Promise<void>;
  /** Posts a seed-sliced set as a seed archive: card, `{id} chunks` thread, attachments (Discord only). */
  uploadSeedArchive?(request: SeedUploadRequest): Promise<SeedUploadResult>;
  /**
   * Moves pre-card archives into cards and `{id} legacy` threads, copying the attachments of
   * their old messages in `storageChannelId` (bot-written only). `onEntry` runs after each entry,
   * before the next starts (the engine records it), and may throw to stop the run.
   */
  migrateLegacyArchives?(storageChannelId: string, entries: LegacyArchiveEntry[], onEntry: (outcome: LegacyMigrationOutcome) => Promise<void>): Promise<LegacyMigrationOutcome[]>;

  close(): Promise<void>;
}

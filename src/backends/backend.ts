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
  /** Shows upload progress where people look (the card); backends may rate-limit or ignore it. */
  showProgress?(archiveId: string, display: ArchiveDisplay): void;
  listRecords(): Promise<Array<{ archiveId: string; data: Buffer }>>;
  deleteRecord(archiveId: string): Promise<void>;

  close(): Promise<void>;
}

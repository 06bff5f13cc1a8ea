import { DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS, MiB } from './constants.js';

/** One rate-limit bucket: `limit` requests per `windowMs`, kept per major parameter (channel/guild/webhook). */
export interface BucketLimit {
  limit: number;
  windowMs: number;
  /** Routes naming the same `shared` key share one bucket (and one X-RateLimit-Bucket hash). */
  shared?: string;
}

export interface RateLimitConfig {
  /** Global per-token limit (Discord: 50 requests/s). `null` disables it. */
  global: { limit: number; windowMs: number } | null;
  /** Bucket for every route without an entry in `routes`. */
  defaultBucket: BucketLimit;
  /** Per-route buckets, keyed by route id, e.g. `POST /channels/:channel_id/messages`. */
  routes: Record<string, BucketLimit>;
  /** Discord sends whole seconds in `Retry-After`; `fractional` sends e.g. `0.25` (faster tests). */
  retryAfterHeader: 'integer' | 'fractional';
  /** Cloudflare ban after this many 401/403/429 answers in the window (Discord: 10 000 per 10 min). `null`: count only. */
  invalidRequests: { limit: number; windowMs: number } | null;
}

export type RateLimitProfile = 'fast' | 'realistic';

export interface EmbedLimits {
  title: number;
  description: number;
  fields: number;
  fieldName: number;
  fieldValue: number;
  footerText: number;
  authorName: number;
  total: number;
}

export interface Limits {
  /** Per-attachment size limit by guild boost tier 0..3 (Discord: 10, 10, 50, 100 MiB). */
  attachmentBytesByTier: [number, number, number, number];
  maxAttachmentsPerMessage: number;
  /** Maximum request body (Discord: 25 MiB for message create). Raised automatically to fit one file of the tier's limit. */
  maxRequestBytes: number;
  contentLength: number;
  maxEmbeds: number;
  embed: EmbedLimits;
  nonceLength: number;
  /** How long `enforce_nonce` de-duplicates (Discord: "the past few minutes"). */
  nonceWindowMs: number;
  maxPinsPerChannel: number;
  refreshUrlsMax: number;
  messagesPerFetchMax: number;
  threadNameLength: number;
}

export interface PrivilegedIntents {
  messageContent: boolean;
  guildMembers: boolean;
  guildPresences: boolean;
}

export interface EmulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Rate-limit profile: `realistic` (default: message create 5/5 s per channel, others 50/s, global 50/s) or `fast`. */
  profile?: RateLimitProfile;
  /** Overrides on top of the profile. `routes` entries are merged with the profile's. */
  rateLimits?: Partial<RateLimitConfig>;
  limits?: Partial<Omit<Limits, 'embed'>> & { embed?: Partial<EmbedLimits> };
  /** Guild boost tier (0-3); the attachment size limit follows it. */
  premiumTier?: 0 | 1 | 2 | 3;
  cdn?: {
    /** Lifetime of signed attachment URLs (default 24 h). */
    urlTtlMs?: number;
    /** Serve HTTP Range requests (default true). When false, always 200 with the full body. */
    range?: boolean;
  };
  gateway?: {
    /** HELLO heartbeat_interval (default 41 250 ms). */
    heartbeatIntervalMs?: number;
    /** Events kept per session for RESUME replay (default 10 000). */
    maxReplay?: number;
  };
  /** Privileged intents enabled for the application (default: message content only). */
  privilegedIntents?: Partial<PrivilegedIntents>;
  token?: string;
  botUsername?: string;
  guildName?: string;
  archiveChannelName?: string;
  /** Create system messages like Discord (thread created, thread starter, pinned message). Default true. */
  systemMessages?: boolean;
  /** @everyone permissions (default: Discord's default set). */
  everyonePermissions?: bigint;
  /** Permissions of the bot's managed role (default: what dos needs, no Administrator). */
  botPermissions?: bigint;
  /** Key for the CDN URL HMAC (default: random per run). */
  hmacKey?: string;
  /** Initial emulator clock value (epoch ms); default: real time. */
  clockStartMs?: number;
  /** Interactions must be answered within this time (Discord: 3 s). */
  interactionCallbackWindowMs?: number;
  /** Interaction tokens (follow-ups, @original) stay valid this long (Discord: 15 min). */
  interactionTokenTtlMs?: number;
  /** Debug log sink (one line per request/gateway event). */
  log?: (line: string) => void;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  profile: RateLimitProfile;
  rateLimits: RateLimitConfig;
  limits: Limits;
  premiumTier: 0 | 1 | 2 | 3;
  cdn: { urlTtlMs: number; range: boolean };
  gateway: { heartbeatIntervalMs: number; maxReplay: number };
  privilegedIntents: PrivilegedIntents;
  token: string | undefined;
  botUsername: string;
  guildName: string;
  archiveChannelName: string;
  systemMessages: boolean;
  everyonePermissions: bigint;
  botPermissions: bigint;
  hmacKey: string | undefined;
  clockStartMs: number | undefined;
  interactionCallbackWindowMs: number;
  interactionTokenTtlMs: number;
  log: ((line: string) => void) | undefined;
}

export const MESSAGE_CREATE_ROUTE = 'POST /channels/:channel_id/messages';

export function profileRateLimits(profile: RateLimitProfile): RateLimitConfig {
  if (profile === 'fast') {
    return {
      global: { limit: 10_000, windowMs: 1000 },
      defaultBucket: { limit: 1000, windowMs: 1000 },
      routes: {},
      retryAfterHeader: 'fractional',
      invalidRequests: null,
    };
  }
  return {
    global: { limit: 50, windowMs: 1000 },
    defaultBucket: { limit: 50, windowMs: 1000 },
    routes: { [MESSAGE_CREATE_ROUTE]: { limit: 5, windowMs: 5000 } },
    retryAfterHeader: 'integer',
    invalidRequests: { limit: 10_000, windowMs: 10 * 60_000 },
  };
}

export const DEFAULT_LIMITS: Limits = {
  attachmentBytesByTier: [10 * MiB, 10 * MiB, 50 * MiB, 100 * MiB],
  maxAttachmentsPerMessage: 10,
  maxRequestBytes: 25 * MiB,
  contentLength: 2000,
  maxEmbeds: 10,
  embed: {
    title: 256,
    description: 4096,
    fields: 25,
    fieldName: 256,
    fieldValue: 1024,
    footerText: 2048,
    authorName: 256,
    total: 6000,
  },
  nonceLength: 25,
  nonceWindowMs: 5 * 60_000,
  maxPinsPerChannel: 50,
  refreshUrlsMax: 50,
  messagesPerFetchMax: 100,
  threadNameLength: 100,
};

export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const profile = options.profile ?? 'realistic';
  const base = profileRateLimits(profile);
  const rl = options.rateLimits ?? {};
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    profile,
    rateLimits: {
      global: rl.global === undefined ? base.global : rl.global,
      defaultBucket: rl.defaultBucket ?? base.defaultBucket,
      routes: { ...base.routes, ...(rl.routes ?? {}) },
      retryAfterHeader: rl.retryAfterHeader ?? base.retryAfterHeader,
      invalidRequests: rl.invalidRequests === undefined ? base.invalidRequests : rl.invalidRequests,
    },
    limits: {
      ...DEFAULT_LIMITS,
      ...(options.limits ?? {}),
      embed: { ...DEFAULT_LIMITS.embed, ...(options.limits?.embed ?? {}) },
    },
    premiumTier: options.premiumTier ?? 0,
    cdn: { urlTtlMs: options.cdn?.urlTtlMs ?? 24 * 3600_000, range: options.cdn?.range ?? true },
    gateway: {
      heartbeatIntervalMs: options.gateway?.heartbeatIntervalMs ?? 41_250,
      maxReplay: options.gateway?.maxReplay ?? 10_000,
    },
    privilegedIntents: {
      messageContent: options.privilegedIntents?.messageContent ?? true,
      guildMembers: options.privilegedIntents?.guildMembers ?? false,
      guildPresences: options.privilegedIntents?.guildPresences ?? false,
    },
    token: options.token,
    botUsername: options.botUsername ?? 'dos-bot',
    guildName: options.guildName ?? 'dos emulator',
    archiveChannelName: options.archiveChannelName ?? 'archive',
    systemMessages: options.systemMessages ?? true,
    everyonePermissions: options.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS,
    botPermissions: options.botPermissions ?? DEFAULT_BOT_PERMISSIONS,
    hmacKey: options.hmacKey,
    clockStartMs: options.clockStartMs,
    interactionCallbackWindowMs: options.interactionCallbackWindowMs ?? 3000,
    interactionTokenTtlMs: options.interactionTokenTtlMs ?? 15 * 60_000,
    log: options.log,
  };
}

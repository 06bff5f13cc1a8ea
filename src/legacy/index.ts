/**
 * Reading what the Python seed wrote (legacy-format.md): chunk sets of every manifest version,
 * archive cards and the history log. Nothing in here writes the seed's formats except the card
 * renderer, which exists so dos and the Python tool can share an archive channel.
 */
export { assembleSeedSet, type SeedAssembleOptions, type SeedAssembleReport } from './assemble.js';
export { planSeedRestore, seedOutputDir, type PlannedChunk, type PlannedFile, type PlannedManifest, type SeedRestorePlan } from './restore-plan.js';
export { discoverSeedManifests, isSeedManifestName } from './manifest-discovery.js';
export { chooseDecodeMode, parseSeedManifest, readSeedManifest } from './manifest-parse.js';
export type { SeedChunkRef, SeedDecodeMode, SeedManifest, SeedManifestFile } from './manifest-types.js';
export { deriveSeedKey } from './seed-kdf.js';
export { openSealedChunk } from './decode-per-chunk.js';
export * from './constants.js';
export { parseSeedCard, renderSeedCard } from './seed-card.js';
export type { ParsedSeedCard, RenderedSeedCard, SeedCardEmbed, SeedCardMeta, SeedEmbedInput } from './seed-card-types.js';
export { cardEmbed, cardJson, embedLength } from './seed-card-render.js';
export { DISCORD_LIMITS } from './discord-limits.js';
export { formatBytes } from '../core/format-bytes.js';
export { deriveArchiveId, parseHistoryLog, parseSeedTimestamp, readHistoryLog, type SeedLogEntry, type SeedLogEra } from './history-log.js';
export { idNumber, idString, parseLosslessJson, stringifyPythonCompact, stringifyPythonIndented, toAsciiJson } from './lossless-json.js';

export { DiscordBackend } from './discord-backend.js';
export type { DiscordBackendOptions } from './options.js';
export { PackTooLargeError } from './errors.js';
export { decodeLocator, encodeLocator, type PackLocation } from './locator.js';

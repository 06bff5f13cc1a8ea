export { DosBot, type BotOptions } from './bot.js';
export { decide, screen, REFUSALS, type AccessPolicy, type Actor, type MemberFacts } from './access.js';
export { COMMANDS } from './commands.js';
export { type BotFolders } from './folders.js';

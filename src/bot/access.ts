/**
 * Who may make the bot do what (issue #5, "Access control"). Pure: the Discord side (bot.ts)
 * gathers the facts about the author, this decides. Kept free of discord.js so every rule is
 * unit-tested without a gateway (test/bot/access.test.ts); test/bot/dm.test.ts runs the DM rules
 * end to end through the emulator.
 *
 * - Only the configured server: messages from other servers are ignored without a reply.
 * - Any channel or thread of that server (people usually keep a #commands channel beside the
 *   archive channel); replies go where the command was typed.
 * - Direct messages are refused (with a reply saying so) unless DOS_ALLOW_DMS=1; then the author
 *   is judged as the member of the configured server they are, as Discord has them now.
 * - Admin commands need Administrator or Manage Server.
 * - Every other command needs admin, or a user id in DOS_ALLOWED_USERS, or the role
 *   DOS_ALLOWED_ROLE (its id or, case-insensitively, its name). Nothing set: admins only.
 * - Bots (this one included) and webhooks are never obeyed.
 */

export interface AccessPolicy {
  guildId: string;
  allowedRole?: string;
  allowedUsers: readonly string[];
  allowDms: boolean;
}

/** The author's standing in the configured server; null when they are not a member. */
export interface MemberFacts {
  isAdmin: boolean;
  roleIds: readonly string[];
  roleNames: readonly string[];
}

export interface Actor {
  userId: string;
  isBot: boolean;
  isWebhook?: boolean;
  /** The server the message came from; null for a direct message. */
  guildId: string | null;
  member: MemberFacts | null;
}

export type Level = 'user' | 'admin';

export type Decision =
  | { allowed: true }
  /** `reply` null: say nothing (another server, another bot). */
  | { allowed: false; reply: string | null; reason: string };

export const REFUSALS = {
  admin: '⛔ Admin permissions required.',
  user: '⛔ You are not allowed to use this bot. A server admin can allow you with DOS_ALLOWED_ROLE or DOS_ALLOWED_USERS.',
  dm: '⛔ Direct messages are turned off for this bot: use the server (or ask its owner to set DOS_ALLOW_DMS=1).',
  notMember: '⛔ You are not a member of the server this bot serves.',
} as const;

/** Whether the message may reach a command at all (before its level is known). */
export function screen(actor: Omit<Actor, 'member'>, policy: AccessPolicy): Decision {
  if (actor.isBot || actor.isWebhook) return { allowed: false, reply: null, reason: 'author is a bot or webhook' };
  if (actor.guildId === null) {
    if (!policy.allowDms) return { allowed: false, reply: REFUSALS.dm, reason: 'direct messages are off' };
  } else if (actor.guildId !== policy.guildId) {
    return { allowed: false, reply: null, reason: `another server (${actor.guildId})` };
  }
  return { allowed: true };
}

/** The full decision for a command of the given level. */
export function decide(actor: Actor, level: Level, policy: AccessPolicy): Decision {
  const screened = screen(actor, policy);
  if (!screened.allowed) return screened;
  const member = actor.member;
  if (!member) return { allowed: false, reply: REFUSALS.notMember, reason: 'not a member of the server' };
  if (member.isAdmin) return { allowed: true };
  if (level === 'admin') return { allowed: false, reply: REFUSALS.admin, reason: 'admin command from a non-admin' };
  if (policy.allowedUsers.includes(actor.userId)) return { allowed: true };
  if (policy.allowedRole !== undefined && hasRole(member, policy.allowedRole)) return { allowed: true };
  return { allowed: false, reply: REFUSALS.user, reason: 'neither admin nor allowed by role or user list' };
}

function hasRole(member: MemberFacts, wanted: string): boolean {
  if (/^\d{1,20}$/.test(wanted) && member.roleIds.includes(wanted)) return true;
  const name = wanted.toLowerCase();
  return member.roleNames.some((r) => r.toLowerCase() === name);
}

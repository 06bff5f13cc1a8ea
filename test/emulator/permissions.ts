import { ALL_PERMISSIONS, ChannelType, DM_PERMISSIONS, Permissions } from './constants.js';
import type { ChannelRecord, EmulatorState } from './state.js';

/** Guild-level permissions of a user (Discord's algorithm: @everyone | roles; owner/Administrator = all). */
export function basePermissions(state: EmulatorState, userId: string): bigint {
  const guild = state.guild;
  if (guild.ownerId === userId) return ALL_PERMISSIONS;
  const everyone = state.roles.get(guild.id);
  let perms = everyone?.permissions ?? 0n;
  const member = state.members.get(userId);
  if (!member) return 0n;
  for (const roleId of member.roles) perms |= state.roles.get(roleId)?.permissions ?? 0n;
  if (perms & Permissions.Administrator) return ALL_PERMISSIONS;
  return perms;
}

/** Permissions in a channel, after overwrites (threads use their parent's overwrites; DMs: recipients only). */
export function channelPermissions(state: EmulatorState, userId: string, channel: ChannelRecord): bigint {
  if (channel.type === ChannelType.DM) return channel.recipientIds?.includes(userId) ? DM_PERMISSIONS : 0n;
  let perms = basePermissions(state, userId);
  if (perms === ALL_PERMISSIONS) return perms;
  const source = state.isThread(channel) && channel.parentId ? state.channels.get(channel.parentId) ?? channel : channel;
  const member = state.members.get(userId);
  const overwrites = source.overwrites;
  const everyone = overwrites.find((o) => o.type === 0 && o.id === state.guild.id);
  if (everyone) perms = (perms & ~everyone.deny) | everyone.allow;
  let allow = 0n;
  let deny = 0n;
  for (const o of overwrites) {
    if (o.type === 0 && o.id !== state.guild.id && member?.roles.includes(o.id)) {
      allow |= o.allow;
      deny |= o.deny;
    }
  }
  perms = (perms & ~deny) | allow;
  const own = overwrites.find((o) => o.type === 1 && o.id === userId);
  if (own) perms = (perms & ~own.deny) | own.allow;
  if (!(perms & Permissions.ViewChannel)) return 0n;
  return perms;
}

export function has(perms: bigint, flag: bigint): boolean {
  return (perms & flag) === flag;
}

import type { EmulatorContext } from './context.js';
import type { ChannelRecord } from './state.js';

/**
 * Lazy auto-archival by the emulator clock: a thread without activity for `auto_archive_duration` minutes
 * counts as archived (it drops out of GUILD_CREATE / active threads). Sending into it unarchives it.
 */
export function syncThreadArchival(ctx: EmulatorContext, c: ChannelRecord): void {
  const t = c.thread;
  if (!t || t.archived) return;
  const due = c.lastActivityAt + t.autoArchiveDuration * 60_000;
  if (ctx.clock.now() >= due) {
    t.archived = true;
    t.archiveTimestamp = due;
  }
}

/** Record activity; unarchives an archived (unlocked) thread. Returns true if it was unarchived. */
export function touchThread(ctx: EmulatorContext, c: ChannelRecord): boolean {
  const now = ctx.clock.now();
  c.lastActivityAt = now;
  if (c.thread?.archived && !c.thread.locked) {
    c.thread.archived = false;
    c.thread.archiveTimestamp = now;
    return true;
  }
  return false;
}

import { basename } from 'node:path';
import { lotOf } from '../core/archive-id.js';
import { DosError, ErrorCodes, isDosError } from '../core/errors.js';
import { formatBytes } from '../core/format-bytes.js';
import { migrateLegacyArchives, type LegacyMigrationReport } from '../store/legacy-migration.js';
import { pendingSeedUploads, type SeedUploadOutcome } from '../store/seed-upload.js';
import type { Store, ArchiveSummary } from '../store/store.js';
import type { Level } from './access.js';
import { downloadFolderOf, redactPaths, scanUploadFolder, type BotFolders } from './folders.js';
import { parseArchiveArg, parseDownloadArg, quoteArg, selectRange, TargetError, type Target } from './targets.js';
import { fit, helpText, invalidCommand, plain, type CommandHelp } from './text.js';

/** A message the bot sent and may edit (progress). */
export interface Reply {
  edit(text: string): Promise<void>;
}

/** Where a command's replies go: the channel it was typed in, or a slash command's replies. */
export interface Conversation {
  send(text: string): Promise<Reply>;
}

export interface BotServices {
  store: Store;
  folders: BotFolders;
  /** The seed's passphrase (SEED_USER_KEY, else USER_KEY): needed to reassemble seed sets and restore seed archives. */
  userKey?: string;
  /** DISCORD_DRIVE_LOG_FILE, for `!migrate-legacy`. */
  historyLog?: string;
  /** DISCORD_DRIVE_STORAGE_CHANNEL_ID (or STORAGE_CHANNEL_ID): where pre-card archives' messages are. */
  storageChannelId?: string;
  /** Progress edits at most this often (the seed: 1.2 s). */
  progressIntervalMs: number;
  log(line: string): void;
}

export interface Invocation {
  args: string[];
  /** Everything after the command name, trimmed (for `!archives <query…>`). */
  rest: string;
  conv: Conversation;
  /** The channel the command was typed in (the seed's fallback storage channel). */
  channelId?: string;
  /** The user's name, for cards ("Uploader: …"). */
  author?: string;
}

export interface CommandSpec extends CommandHelp {
  /** Long or backend-touching work runs one at a time (bot.ts queues it). */
  exclusive: boolean;
  run(inv: Invocation, svc: BotServices): Promise<void>;
}

const HISTORY_SIZE = 5;
const ARCHIVES_DEFAULT = 10;
/** A range may name at most this many archives per command. */
const MAX_DOWNLOADS = 25;

const say = (inv: Invocation, text: string) => inv.conv.send(fit(text));

/** One progress message, edited at most every `intervalMs` (and always at the end). */
export function progressEditor(reply: Reply, header: string, intervalMs: number): { update(done: number, total: number): void; finish(text: string): Promise<void> } {
  let last = Date.now();
  let pending: Promise<void> = Promise.resolve();
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < intervalMs) return;
      last = now;
      const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
      pending = pending.then(() => reply.edit(`${header}\n⏳ ${pct}% (${formatBytes(done)} / ${formatBytes(total)})`)).catch(() => {});
    },
    async finish(text) {
      await pending;
      await reply.edit(fit(text)).catch(() => {});
    },
  };
}

/** An engine error as a user sees it: its message, without the host's paths. */
export function userError(err: unknown, svc: BotServices): string {
  if (isDosError(err)) return redactPaths(err.message, svc.folders);
  return 'an unexpected error (the bot log has the details)';
}

function statusIcon(status: string): string {
  if (status === 'complete') return '✅';
  if (status === 'failed') return '⚠️';
  return '❔';
}

function timestampOf(a: ArchiveSummary): string {
  const d = new Date(a.created);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function newestFirst(archives: ArchiveSummary[]): ArchiveSummary[] {
  return [...archives].sort((a, b) => b.created.localeCompare(a.created) || lotOf(b.id) - lotOf(a.id));
}

function usage(spec: CommandHelp): string {
  return `Usage: \`${spec.usage}\` — ${spec.description}.`;
}

/** The archive named by a user, or a reply saying why not. */
function findArchive(svc: BotServices, text: string): ArchiveSummary {
  const id = parseArchiveArg(text);
  const found = svc.store.listArchives().find((a) => a.id === id);
  if (!found) throw new TargetError(`Archive ${id} not found. \`!archives\` lists them.`);
  return found;
}

// ---------------------------------------------------------------------------------------------

const help: CommandSpec = {
  name: 'help', usage: '!help', description: 'this help', level: 'user', exclusive: false,
  async run(inv) {
    await say(inv, helpText(COMMANDS));
  },
};

const status: CommandSpec = {
  name: 'status', usage: '!status', description: 'store, encryption, upload folder and last archive', level: 'user', exclusive: false,
  async run(inv, svc) {
    const s = svc.store.status();
    const scan = await scanUploadFolder(svc.folders.upload);
    const archives = newestFirst(svc.store.listArchives());
    const failed = archives.filter((a) => a.status === 'failed').length;
    const last = archives[0];
    await say(inv, [
      '📊 **Bot Status**',
      `💾 Store: ✅ Ready (${s.backend.startsWith('Discord') ? 'Discord' : 'local folder'})`,
      `🔒 Encryption: ${s.encrypted ? '✅ Enabled' : '❌ Disabled (store created with --no-encryption)'}`,
      `📤 Upload queue: ${scan.files} file(s) • ${formatBytes(scan.bytes)}${s.pendingUploads > 0 ? ` • ${s.pendingUploads} interrupted upload(s): \`!resume\`` : ''}`,
      `📚 Archives: ${archives.length} entries • ❗ Failed: ${failed}`,
      `🗂️ Last Archive: ${last ? last.id : 'none'} • Status: ${last ? last.status : 'n/a'}`,
    ].join('\n'));
  },
};

const history: CommandSpec = {
  name: 'history', usage: '!history', description: 'the five most recent archives, newest first', level: 'user', exclusive: false,
  async run(inv, svc) {
    const archives = newestFirst(svc.store.listArchives()).slice(0, HISTORY_SIZE);
    if (archives.length === 0) return void (await say(inv, '📭 No history found yet.'));
    await say(inv, ['📜 **Recent Archives**', ...archives.map((a) => `${statusIcon(a.status)} ${a.id} • ${a.files} files • ${formatBytes(a.bytes)} • ${timestampOf(a)}`)].join('\n'));
  },
};

const archivesCmd: CommandSpec = {
  name: 'archives', usage: '!archives [query]', description: 'list archives, or find them by id, name or date', level: 'user', exclusive: false,
  async run(inv, svc) {
    const query = inv.rest.toLowerCase();
    const all = newestFirst(svc.store.listArchives());
    const found = query === '' ? all.slice(0, ARCHIVES_DEFAULT)
      : all.filter((a) => [a.id, a.name, timestampOf(a)].some((field) => field.toLowerCase().includes(query)));
    if (found.length === 0) return void (await say(inv, '📭 No archives found.'));
    const more = query === '' && all.length > found.length ? [`… ${all.length - found.length} older archive(s): \`!archives <query>\` finds them`] : [];
    await say(inv, ['📚 **Archives**', ...found.map((a) => `${a.id} • ${plain(a.name, 60)} • ${formatBytes(a.bytes)} • ${a.status}`), ...more].join('\n'));
  },
};

const verify: CommandSpec = {
  name: 'verify', usage: '!verify <archive_id>', description: 'check that every pack of an archive is stored, with the right size', level: 'user', exclusive: true,
  async run(inv, svc) {
    const [arg] = inv.args;
    if (!arg) return void (await say(inv, `⚠️ Which archive? ${usage(verify)}`));
    const archive = findArchive(svc, arg);
    const result = await svc.store.verify(archive.id, false, { userKey: svc.userKey, workDir: svc.folders.work });
    if (result.ok) return void (await say(inv, `✅ Archive ${archive.id} verified. ${result.packs} ${result.packs === 1 ? 'pack' : 'packs'} present.`));
    const missing = result.problems.filter((p) => p.code === ErrorCodes.MISSING);
    const corrupt = result.problems.filter((p) => p.code !== ErrorCodes.MISSING);
    const lines: string[] = [];
    if (missing.length > 0) lines.push(`⚠️ Archive ${archive.id} missing ${missing.length} pack(s).`, ...missing.slice(0, 20).map((p) => `- ${plain(p.pack ?? redactPaths(p.message, svc.folders), 120)}`));
    if (corrupt.length > 0) lines.push(`⚠️ Archive ${archive.id} has ${corrupt.length} damaged pack(s) or record(s).`, ...corrupt.slice(0, 20).map((p) => `- ${plain(redactPaths(p.message, svc.folders), 160)}`));
    await say(inv, lines.join('\n'));
  },
};

const download: CommandSpec = {
  name: 'download', usage: '!download <start> [end]', description: 'restore archives (ids or lot numbers, a range when two) into the download folder', level: 'user', exclusive: true,
  async run(inv, svc) {
    const [first, second] = inv.args;
    if (!first) return void (await say(inv, `⚠️ Which archive? ${usage(download)}\nUse \`!help\` for command usage.`));
    let start: Target;
    let end: Target | undefined;
    try {
      start = parseDownloadArg(first);
      end = second === undefined ? undefined : parseDownloadArg(second);
    } catch (err) {
      if (err instanceof TargetError) return void (await say(inv, `⚠️ ${err.message}\n\nUse \`!help\` for command usage.`));
      throw err;
    }
    const readable = svc.store.listArchives().filter((a) => a.generation !== null);
    const targets = selectRange(readable, start, end);
    const label = `${start.text}${end ? ` to ${end.text}` : ''}`;
    if (start.kind === 'id' && !end && targets.length === 0) return void (await say(inv, `⚠️ Archive ${start.id} not found in this store (or it has no content yet). \`!archives\` lists them.`));
    if (targets.length === 0) return void (await say(inv, '⚠️ No data found for the requested range.'));
    if (targets.length > MAX_DOWNLOADS) return void (await say(inv, `⚠️ That range holds ${targets.length} archives; download at most ${MAX_DOWNLOADS} at a time.`));
    const files = targets.reduce((s, a) => s + a.files, 0);
    await say(inv, `📥 Starting download ${label} (${targets.length} archive(s), ${files} files).`);
    let failures = 0;
    for (const archive of targets) {
      const header = `📦 **Downloading Archive: ${archive.id}**\n📄 ${archive.files} files • 📦 ${formatBytes(archive.bytes)}`;
      const progress = progressEditor(await inv.conv.send(header), header, svc.progressIntervalMs);
      try {
        const dest = downloadFolderOf(svc.folders, archive.id);
        // The folder is the bot's: files that differ (an archive changed since the last download)
        // are replaced, or a Discord user could never download it again.
        const got = await svc.store.get(archive.id, dest, { force: true, userKey: svc.userKey, workDir: svc.folders.work, onProgress: progress.update });
        await progress.finish(`${header}\n✅ Archive ${archive.id} downloaded and verified into \`[Archive] ${archive.id}\`.\n📥 Restored: ${got.files - got.skipped} • ⏭️ Already there: ${got.skipped} • 📦 ${formatBytes(got.bytes)}`);
      } catch (err) {
        failures++;
        svc.log(`!download ${archive.id} failed: ${(err as Error).stack ?? String(err)}`);
        await progress.finish(`${header}\n⚠️ Archive ${archive.id} was not downloaded: ${userError(err, svc)}\n🔁 Re-run \`!download ${archive.id}\` to resume.`);
      }
    }
    await say(inv, failures === 0 ? `✅ Downloaded ${label} to the download folder.` : `⚠️ Downloaded ${label} with errors: ${failures} of ${targets.length} archive(s) failed.`);
  },
};

const upload: CommandSpec = {
  name: 'upload', usage: '!upload', description: 'archive everything in the upload folder as one new archive (a seed-sliced set as a seed archive)', level: 'user', exclusive: true,
  async run(inv, svc) {
    const scan = await scanUploadFolder(svc.folders.upload);
    const skippedLinks = scan.symlinks.length > 0 ? `\n(left out ${scan.symlinks.length} symbolic link(s): they could point outside the upload folder)` : '';
    if (scan.inputs.length === 0 || scan.files === 0) return void (await say(inv, `⚠️ No files found in the upload folder.${skippedLinks}`));
    if (scan.seedSet) {
      const set = scan.seedSet;
      if (set.others.length > 0) {
        return void (await say(inv, `⚠️ The upload folder holds a seed set (${set.manifests.length} manifest(s), ${set.chunks.length} chunk(s)) mixed with other files (${set.others.slice(0, 5).map((n) => plain(n, 40)).join(', ')}${set.others.length > 5 ? ', …' : ''}). Move one or the other out, then run \`!upload\` again.`));
      }
      return uploadSeedSet(inv, svc, set.manifests.length + set.chunks.length, scan.bytes);
    }
    const inputs = scan.inputs;
    const name = inputs.length === 1 ? basename(inputs[0]!) : `Upload ${new Date().toISOString().slice(0, 10)}`;
    const header = `📤 Uploading ${scan.files} file(s) (${formatBytes(scan.bytes)}) from the upload folder...${skippedLinks}`;
    const progress = progressEditor(await inv.conv.send(header), header, svc.progressIntervalMs);
    try {
      const result = await svc.store.put(inputs, { name, onProgress: progress.update });
      const encrypted = svc.store.status().encrypted;
      await progress.finish([
        `✅ Archive ${result.id} uploaded successfully.`,
        `🔒 Encryption: ${encrypted ? 'Enabled' : 'Disabled'}`,
        `📦 Files: ${result.files} • Size: ${formatBytes(result.bytes)} • Stored: ${formatBytes(result.storedBytes)} in ${result.attachments} attachment(s)`,
        'The upload folder was left as it is: empty it before the next `!upload` (files uploaded again are deduplicated, not stored twice).',
      ].join('\n'));
    } catch (err) {
      svc.log(`!upload failed: ${(err as Error).stack ?? String(err)}`);
      await progress.finish(`⚠️ The upload did not finish: ${userError(err, svc)}\n🔁 Use \`!resume\` to continue.`);
    }
  },
};

/**
 * A seed-sliced set (chunks + manifests) goes up as a seed archive, as the seed's `!upload` did:
 * checked first (nothing is posted for a broken set), then card, thread and attachments.
 */
async function uploadSeedSet(inv: Invocation, svc: BotServices, count: number, bytes: number): Promise<void> {
  const reply = await inv.conv.send(`🧩 The upload folder holds a seed set (${count} file(s), ${formatBytes(bytes)}): checking it${svc.userKey ? ' and that USER_KEY decrypts it' : ''}...`);
  let started: { id: string; edited: Promise<void>; progress: ReturnType<typeof progressEditor> } | null = null;
  const finish = async (text: string) => {
    if (!started) return void (await reply.edit(fit(text)).catch(() => {}));
    await started.edited;
    await started.progress.finish(text);
  };
  try {
    const outcome = await svc.store.uploadSeedSet(svc.folders.upload, {
      userKey: svc.userKey, uploader: inv.author,
      onStarted: (id) => {
        const header = `📦 Archive card created: ${id}. Uploading ${count} chunk(s) (${formatBytes(bytes)})...`;
        started = { id, edited: reply.edit(header).catch(() => {}), progress: progressEditor(reply, header, svc.progressIntervalMs) };
      },
      onProgress: (done, total) => started?.progress.update(done, total),
    });
    await finish(seedUploadText(outcome, svc));
  } catch (err) {
    svc.log(`!upload of a seed set failed: ${(err as Error).stack ?? String(err)}`);
    const id = (started as { id: string } | null)?.id;
    await finish(id
      ? `⚠️ The upload of Archive ${id} did not finish: ${userError(err, svc)}\nThe files stay in the upload folder.\n🔁 Use \`!resume ${id}\` to continue.`
      : `⚠️ The seed set was not uploaded: ${userError(err, svc)}\nNothing was posted and the upload folder was left as it is; fix the set, then run \`!upload\` again.`);
  }
}

function seedUploadText(o: SeedUploadOutcome, svc: BotServices): string {
  const key = o.keyChecked.length > 0 ? '🔑 USER_KEY decrypts this set (checked before uploading).'
    : !o.encrypted ? '🔓 The set is not encrypted.'
      : svc.userKey ? '🔒 Encrypted; its files are too large for a quick USER_KEY check.' : '⚠️ USER_KEY is not set here, so nobody checked that this set can be decrypted.';
  if (o.status === 'success') {
    return [
      `✅ Archive ${o.archiveId} uploaded successfully.`,
      `🧩 Seed archive: ${o.attachments} attachment(s) (${o.manifests} manifest(s)) • ${o.files} file(s) • Size: ${formatBytes(o.bytes)}`,
      key,
      o.removedLocal ? '🧹 The chunks and manifests were removed from the upload folder: every one is in the archive\'s thread.'
        : 'The chunks and manifests stay in the upload folder.',
    ].join('\n');
  }
  return [
    `⚠️ Archive ${o.archiveId} uploaded with errors.`,
    `✅ Uploaded: ${o.uploaded}/${o.attachments} • Size: ${formatBytes(o.bytes)}`,
    ...o.failed.slice(0, 5).map((f) => `❌ ${plain(f.name, 80)}: ${plain(redactPaths(f.error, svc.folders), 160)}`),
    'The files stay in the upload folder.',
    `🔁 Use \`!resume ${o.archiveId}\` to continue.`,
  ].join('\n');
}

const resume: CommandSpec = {
  name: 'resume', usage: '!resume [archive_id]', description: 'finish interrupted uploads without re-uploading what is stored', level: 'user', exclusive: true,
  async run(inv, svc) {
    const [arg] = inv.args;
    let only: string | undefined;
    if (arg) {
      const archive = findArchive(svc, arg);
      if (archive.generation !== null && archive.status === 'complete') return void (await say(inv, `✅ Archive ${archive.id} is complete: nothing to resume.`));
      only = archive.id;
    }
    const seeds = only ? (svc.store.archive(only).kind === 'seed' ? [only] : []) : pendingSeedUploads(svc.store.ctx);
    const pending = svc.store.status().pendingUploads;
    const reply = await inv.conv.send(`🔁 Resuming ${only ? `Archive ${only}` : 'interrupted uploads'}...`);
    const lines: string[] = [];
    if (seeds.length === 0 || !only) {
      const outcomes = await svc.store.resume(undefined, only);
      for (const o of outcomes) {
        lines.push(o.completed
          ? `✅ Archive ${o.archive} successfully completed.\n📦 Files: ${o.result!.files} • Size: ${formatBytes(o.result!.bytes)}`
          : `⚠️ Archive ${o.archive} still has failed uploads: ${redactPaths(o.error!.message, svc.folders)}\n🔁 Run \`!resume\` again after fixing issues.`);
      }
    }
    for (const id of seeds) lines.push(await resumeSeedUpload(id, inv, svc));
    if (lines.length === 0) {
      await reply.edit(only ? `⚠️ Archive ${only} has no interrupted upload this bot can finish${pending > 0 ? ' (another dos process is still uploading)' : ''}.` : '✅ No failed uploads to resume.');
      return;
    }
    await reply.edit(fit(lines.join('\n')));
  },
};

/** Continues a seed upload from the upload folder: only what its thread lacks is posted. */
async function resumeSeedUpload(id: string, inv: Invocation, svc: BotServices): Promise<string> {
  try {
    const o = await svc.store.uploadSeedSet(svc.folders.upload, { resume: id, userKey: svc.userKey, uploader: inv.author });
    if (o.status === 'success') {
      return `✅ Archive ${id} successfully completed.\n📦 Chunks: ${o.attachments} (${o.uploaded - o.alreadyThere} posted now) • Size: ${formatBytes(o.bytes)}${o.removedLocal ? '\n🧹 The chunks and manifests were removed from the upload folder.' : ''}`;
    }
    return `⚠️ Archive ${id} still has failed uploads: ${o.uploaded}/${o.attachments} in its thread (${o.failed.slice(0, 3).map((f) => plain(f.name, 60)).join(', ')}${o.failed.length > 3 ? ', …' : ''}).\n🔁 Run \`!resume\` again after fixing issues.`;
  } catch (err) {
    svc.log(`!resume ${id} failed: ${(err as Error).stack ?? String(err)}`);
    return `⚠️ Archive ${id} could not be resumed: ${userError(err, svc)}`;
  }
}

const rebuildLog: CommandSpec = {
  name: 'rebuild-log', usage: '!rebuild-log [confirm]', description: 'rebuild the local index from the archive channel (preview without confirm)', level: 'admin', exclusive: true,
  async run(inv, svc) {
    const local = svc.store.listArchives().length;
    if (inv.args[0] !== 'confirm') {
      const backend = svc.store.ctx.backend;
      const records = (await backend.listRecords()).length;
      const seed = backend.listSeedArchives ? (await backend.listSeedArchives()).length : 0;
      return void (await say(inv, `🧾 Rebuild preview: local ${local} entries, archive channel ${records + seed} entries (${records} dos, ${seed} seed).\nRun \`!rebuild-log confirm\` to rebuild the local index.`));
    }
    const r = await svc.store.sync();
    await say(inv, `✅ Rebuilt local index from archive channel (${r.archives} entries: ${r.added} added, ${r.updated} updated, ${r.removed} removed${r.rejected.length > 0 ? `, ${r.rejected.length} rejected` : ''}).`);
  },
};

const cleanup: CommandSpec = {
  name: 'cleanup', usage: '!cleanup <archive_id>', description: 'delete an archive: its card, its packs and its thread', level: 'admin', exclusive: true,
  async run(inv, svc) {
    const [arg] = inv.args;
    if (!arg) return void (await say(inv, `⚠️ Which archive? ${usage(cleanup)}`));
    const archive = findArchive(svc, arg);
    const gc = await svc.store.remove(archive.id);
    await say(inv, `🗑️ Archive ${archive.id} cleaned up (${gc.deletedPacks} pack(s), ${formatBytes(gc.freedBytes)} freed).`);
  },
};

const migrateLegacy: CommandSpec = {
  name: 'migrate-legacy', usage: '!migrate-legacy', description: 'move archives from before archive cards (seed history log) into cards and threads', level: 'admin', exclusive: true,
  async run(inv, svc) {
    if (!svc.historyLog) {
      return void (await say(inv, '⚠️ No legacy archives migrated: DISCORD_DRIVE_LOG_FILE is not set, so there is no seed history log to read pre-card archives from. Archives with cards are found by `!rebuild-log` already.'));
    }
    const storage = svc.storageChannelId ?? inv.channelId;
    if (!storage) return void (await say(inv, '⚠️ No legacy archives migrated: no storage channel (set DISCORD_DRIVE_STORAGE_CHANNEL_ID, or run the command in that channel).'));
    const reply = await inv.conv.send('🧳 Migrating pre-card archives of the seed history log...');
    let report: LegacyMigrationReport;
    try {
      report = await migrateLegacyArchives(svc.store.ctx, { logPath: svc.historyLog, storageChannelId: storage });
    } catch (err) {
      if (!isDosError(err)) svc.log(`!migrate-legacy failed: ${(err as Error).stack ?? String(err)}`);
      return void (await reply.edit(fit(`⚠️ No legacy archives migrated: ${userError(err, svc)}`)));
    }
    await reply.edit(fit(migrationText(report, svc)));
  },
};

function migrationText(r: LegacyMigrationReport, svc: BotServices): string {
  const skipped = r.skipped.slice(0, 10).map((s) => `⚠️ ${s.archiveId ?? 'an entry'}: ${plain(redactPaths(s.reason, svc.folders), 300)}`);
  const stopped = r.stopped ? [`⛔ Stopped: ${plain(redactPaths(r.stopped, svc.folders), 300)}. Run \`!migrate-legacy\` again to continue.`] : [];
  if (r.migrated.length === 0) {
    if (r.preCard === 0) {
      return `⚠️ No legacy archives migrated: none of the ${r.logEntries} entries of the seed history log is from before archive cards${r.alreadyMigrated > 0 ? ` (${r.alreadyMigrated} were migrated earlier)` : ''}.`;
    }
    return [`⚠️ No legacy archives migrated (${r.preCard} pre-card entr${r.preCard === 1 ? 'y' : 'ies'}):`, ...skipped, ...stopped].join('\n');
  }
  const lines = r.migrated.slice(0, 10).map((m) => {
    const notes = [`${m.copied} attachment(s) copied`];
    if (m.alreadyThere > 0) notes.push(`${m.alreadyThere} already in its thread`);
    if (m.foreign > 0) notes.push(`${m.foreign} posted by someone else not copied`);
    if (m.missingMessages.length > 0) notes.push(`${m.missingMessages.length} old message(s) gone`);
    if (m.refused.length > 0) notes.push(`unsafe name(s) refused: ${m.refused.slice(0, 3).map((n) => plain(n, 40)).join(', ')}`);
    return `• ${m.archiveId}: ${notes.join('; ')}`;
  });
  return [
    '✅ Legacy archives migrated to archive cards and threads.',
    `📦 Migrated: ${r.migrated.length} • ⏭️ Migrated earlier: ${r.alreadyMigrated} • ⚠️ Not migrated: ${r.skipped.length}`,
    ...lines, ...skipped, ...stopped,
    '`!download <id>` restores them; the old messages were left in place.',
  ].join('\n');
}

/** Every command, in the order `!help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [upload, download, resume, status, history, archivesCmd, verify, help, rebuildLog, migrateLegacy, cleanup];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Runs a command; argument problems and engine errors become replies, never silence. */
export async function runCommand(spec: CommandSpec, inv: Invocation, svc: BotServices): Promise<void> {
  try {
    await spec.run(inv, svc);
  } catch (err) {
    if (err instanceof TargetError) return void (await say(inv, `⚠️ ${err.message}`));
    if (!(err instanceof DosError)) svc.log(`!${spec.name} failed: ${(err as Error)?.stack ?? String(err)}`);
    const text = err instanceof DosError && err.code === ErrorCodes.NOT_FOUND ? `⚠️ ${userError(err, svc)}` : `⚠️ \`!${spec.name}\` failed: ${userError(err, svc)}`;
    await say(inv, text).catch(() => {});
  }
}

export { invalidCommand, quoteArg };
export type { Level };

import { mkdir } from 'node:fs/promises';
import {
  ApplicationCommandOptionType, ChannelType, Client, Events, GatewayIntentBits, GuildMember, Partials, PermissionFlagsBits,
  type ChatInputCommandInteraction, type Guild, type Interaction, type Message, type MessageCreateOptions,
} from 'discord.js';
import type { Store } from '../store/store.js';
import { decide, screen, type AccessPolicy, type Actor, type MemberFacts } from './access.js';
import { COMMANDS, findCommand, invalidCommand, runCommand, type BotServices, type CommandSpec, type Conversation, type Reply } from './commands.js';
import type { BotFolders } from './folders.js';
import { fit } from './text.js';

export interface BotOptions {
  store: Store;
  token: string;
  archiveChannelId: string;
  /** Default: the archive channel's server. */
  guildId?: string;
  apiBase?: string;
  cdnBase?: string;
  folders: BotFolders;
  /** The seed's passphrase (SEED_USER_KEY, else USER_KEY): for seed sets and seed archives only. */
  userKey?: string;
  historyLog?: string;
  /** DISCORD_DRIVE_STORAGE_CHANNEL_ID: pre-card archives' messages (`!migrate-legacy`). */
  storageChannelId?: string;
  allowedRole?: string;
  allowedUsers?: string[];
  allowDms?: boolean;
  /** Register `/dos` slash commands in the server (default true). */
  slashCommands?: boolean;
  /** Rebuild the index from the archive channel once at start (default true). */
  syncOnStart?: boolean;
  progressIntervalMs?: number;
  /** Most commands waiting behind a running one. */
  maxQueued?: number;
  log?: (line: string) => void;
}

const PREFIX = '!';
/** Message ids remembered to drop a dispatch delivered twice (gateway resume replays). */
const SEEN_LIMIT = 2000;

/**
 * The companion bot (issue #5): a discord.js gateway client that answers `!` commands and
 * `/dos` slash commands on one store. It never posts archive cards itself: every upload goes
 * through the store, whose Discord backend posts and updates them.
 */
export class DosBot {
  readonly client: Client;
  private readonly services: BotServices;
  private policy!: AccessPolicy;
  private guild!: Guild;
  private readonly seen = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private running: string | null = null;
  private stopping = false;
  private readonly log: (line: string) => void;

  constructor(private readonly options: BotOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`dos bot: ${line}\n`));
    this.services = {
      store: options.store, folders: options.folders, userKey: options.userKey, historyLog: options.historyLog, storageChannelId: options.storageChannelId,
      progressIntervalMs: options.progressIntervalMs ?? 1200, log: this.log,
    };
    // DMs are received even when they are off, so that their authors get the refusal (access.ts)
    // rather than silence. Bots get no CHANNEL_CREATE for DMs: discord.js builds the channel
    // from the message only with Partials.Channel.
    const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent, GatewayIntentBits.DirectMessages];
    this.client = new Client({
      intents,
      partials: [Partials.Channel],
      rest: {
        ...(options.apiBase ? { api: options.apiBase } : {}),
        ...(options.cdnBase ? { cdn: options.cdnBase } : {}),
      },
      allowedMentions: { parse: [] },
    });
  }

  /** Logs in, finds the server, registers slash commands; resolves when commands are answered. */
  async start(): Promise<void> {
    const o = this.options;
    await mkdir(o.folders.upload, { recursive: true });
    await mkdir(o.folders.download, { recursive: true });
    await mkdir(o.folders.work, { recursive: true });
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    await this.client.login(o.token);
    await ready;
    const guildId = o.guildId ?? (await this.archiveGuildId());
    this.guild = await this.client.guilds.fetch(guildId);
    this.policy = { guildId, allowedRole: o.allowedRole, allowedUsers: o.allowedUsers ?? [], allowDms: o.allowDms ?? false };
    if (o.syncOnStart ?? true) {
      try {
        await o.store.sync();
      } catch (err) {
        this.log(`could not rebuild the index from the archive channel at start: ${(err as Error).message}`);
      }
    }
    if (o.slashCommands ?? true) {
      try {
        await this.registerSlashCommands();
      } catch (err) {
        this.log(`could not register the /dos slash commands (the bot needs the applications.commands scope): ${(err as Error).message}`);
      }
    }
    this.client.on(Events.MessageCreate, (m) => void this.onMessage(m));
    this.client.on(Events.InteractionCreate, (i) => void this.onInteraction(i));
  }

  /** Stops taking commands, lets the running one finish, then disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.queue;
    await this.client.destroy();
  }

  get userTag(): string {
    return this.client.user?.tag ?? '?';
  }

  get guildName(): string {
    return this.guild?.name ?? '?';
  }

  private async archiveGuildId(): Promise<string> {
    const channel = await this.client.channels.fetch(this.options.archiveChannelId);
    if (!channel || !('guildId' in channel) || !channel.guildId) throw new Error(`the archive channel ${this.options.archiveChannelId} is not a server channel the bot can see`);
    return channel.guildId;
  }

  // --- prefix commands --------------------------------------------------------------------

  private async onMessage(message: Message): Promise<void> {
    try {
      if (this.stopping || !message.content.startsWith(PREFIX)) return;
      const parsed = /^!([a-z][a-z-]*)(?:\s+([\s\S]*))?$/i.exec(message.content.trim());
      if (!parsed) return; // "!!!", "! hi": not a command
      if (!this.firstTime(message.id)) return;
      const name = parsed[1]!.toLowerCase();
      const rest = (parsed[2] ?? '').trim();
      const spec = findCommand(name);
      const conv = channelConversation(message);
      const screened = screen(this.actorBase(message), this.policy);
      if (!screened.allowed) {
        if (screened.reply) await conv.send(screened.reply);
        return;
      }
      const actor: Actor = { ...this.actorBase(message), member: await this.memberFacts(message.member, message.author.id) };
      const decision = decide(actor, spec?.level ?? 'user', this.policy);
      if (!decision.allowed) {
        this.log(`refused !${name} from ${message.author.id}: ${decision.reason}`);
        if (decision.reply) await conv.send(decision.reply);
        return;
      }
      if (!spec) return void (await conv.send(invalidCommand(COMMANDS)));
      await this.dispatch(spec, { args: rest === '' ? [] : rest.split(/\s+/), rest, conv, channelId: message.channelId, author: message.author.username });
    } catch (err) {
      this.log(`message ${message.id}: ${(err as Error).stack ?? String(err)}`);
    }
  }

  private actorBase(message: Message): Omit<Actor, 'member'> {
    return { userId: message.author.id, isBot: message.author.bot || message.system, isWebhook: message.webhookId !== null, guildId: message.guildId };
  }

  /**
   * The author's standing in the configured server. A server message carries the member; for a
   * DM it is fetched, always from Discord: without the privileged GUILD_MEMBERS intent the bot
   * hears of no role change or departure, so a cached member could keep access it lost.
   */
  private async memberFacts(member: GuildMember | null, userId: string): Promise<MemberFacts | null> {
    let m = member && member.guild.id === this.policy.guildId ? member : null;
    if (!m) m = await this.guild.members.fetch({ user: userId, force: true }).catch(() => null);
    if (!m) return null;
    const roles = [...m.roles.cache.values()].filter((r) => r.id !== this.guild.id);
    return {
      isAdmin: m.permissions.has(PermissionFlagsBits.Administrator) || m.permissions.has(PermissionFlagsBits.ManageGuild),
      roleIds: roles.map((r) => r.id),
      roleNames: roles.map((r) => r.name),
    };
  }

  /** Each message (or interaction) is acted on once, whatever the gateway delivers again. */
  private firstTime(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value!);
    return true;
  }

  /** Quick commands run at once; the others one at a time, in order. */
  private async dispatch(spec: CommandSpec, inv: Parameters<CommandSpec['run']>[0]): Promise<void> {
    if (!spec.exclusive) return runCommand(spec, inv, this.services);
    if (this.queued >= (this.options.maxQueued ?? 5)) {
      await inv.conv.send(`⏳ Busy with \`!${this.running}\` and ${this.queued - 1} more command(s); try again later.`);
      return;
    }
    if (this.running) await inv.conv.send(`⏳ Queued behind \`!${this.running}\`.`).catch(() => {});
    this.queued++;
    const job = this.queue.then(async () => {
      this.running = spec.name;
      try {
        await runCommand(spec, inv, this.services);
      } finally {
        this.running = null;
        this.queued--;
      }
    });
    this.queue = job.catch(() => {});
    await job;
  }

  // --- slash commands ---------------------------------------------------------------------

  private async registerSlashCommands(): Promise<void> {
    const idOption = (required: boolean, name = 'id') => ({ name, description: 'archive id like #120225-07', type: ApplicationCommandOptionType.String, required });
    const options: Record<string, Array<Record<string, unknown>>> = {
      download: [{ ...idOption(true, 'start'), description: 'archive id or lot number' }, { ...idOption(false, 'end'), description: 'last archive id or lot number of a range' }],
      resume: [idOption(false)],
      archives: [{ name: 'query', description: 'words to look for in ids, names and dates', type: ApplicationCommandOptionType.String, required: false }],
      verify: [idOption(true)],
      cleanup: [idOption(true)],
      'rebuild-log': [{ name: 'confirm', description: 'really rebuild (otherwise a preview)', type: ApplicationCommandOptionType.Boolean, required: false }],
    };
    await this.client.application!.commands.set([{
      name: 'dos',
      description: 'Discord Object Store: archives in this server',
      options: COMMANDS.map((c) => ({
        name: c.name, description: c.description.slice(0, 100), type: ApplicationCommandOptionType.Subcommand, options: options[c.name] ?? [],
      })),
    }] as never, this.guild.id);
  }

  private async onInteraction(interaction: Interaction): Promise<void> {
    if (!interaction.isChatInputCommand() || interaction.commandName !== 'dos' || this.stopping) return;
    try {
      if (!this.firstTime(interaction.id)) return;
      const name = interaction.options.getSubcommand(false) ?? 'help';
      const spec = findCommand(name);
      const conv = interactionConversation(interaction);
      const base = { userId: interaction.user.id, isBot: interaction.user.bot, guildId: interaction.guildId };
      const member = interaction.member instanceof GuildMember ? interaction.member : null;
      const facts = member ? await this.memberFacts(member, interaction.user.id) : await this.memberFacts(null, interaction.user.id);
      const decision = decide({ ...base, member: facts }, spec?.level ?? 'user', this.policy);
      if (!decision.allowed) {
        if (decision.reply) await interaction.reply({ content: decision.reply, allowedMentions: { parse: [] } });
        return;
      }
      if (!spec) return void (await conv.send(invalidCommand(COMMANDS)));
      // Discord wants an answer within 3 s; a sync, a verify or a command queued behind an
      // upload takes longer. Acknowledged now ("thinking..."), the first reply replaces it.
      await interaction.deferReply();
      const args = slashArgs(interaction, name);
      await this.dispatch(spec, { args, rest: args.join(' '), conv, channelId: interaction.channelId, author: interaction.user.username });
    } catch (err) {
      this.log(`interaction ${interaction.id}: ${(err as Error).stack ?? String(err)}`);
    }
  }
}

function slashArgs(interaction: ChatInputCommandInteraction, name: string): string[] {
  const s = (key: string) => interaction.options.getString(key) ?? undefined;
  switch (name) {
    case 'download':
      return [s('start'), s('end')].filter((x): x is string => x !== undefined);
    case 'archives':
      return (s('query') ?? '').split(/\s+/).filter((x) => x !== '');
    case 'resume':
    case 'verify':
    case 'cleanup':
      return [s('id')].filter((x): x is string => x !== undefined);
    case 'rebuild-log':
      return interaction.options.getBoolean('confirm') ? ['confirm'] : [];
    default:
      return [];
  }
}

const NO_MENTIONS = { allowedMentions: { parse: [] } } as const;

/** Replies go to the channel the command was typed in. */
function channelConversation(message: Message): Conversation {
  return {
    async send(text: string): Promise<Reply> {
      const channel = message.channel;
      if (channel.type === ChannelType.GroupDM || !('send' in channel)) throw new Error('cannot reply in this channel');
      const sent = await channel.send({ content: fit(text), ...NO_MENTIONS } satisfies MessageCreateOptions);
      return { edit: async (t) => void (await sent.edit({ content: fit(t), ...NO_MENTIONS })) };
    },
  };
}

/** The first reply answers the interaction (or replaces its deferred "thinking..."); later ones are follow-ups. */
function interactionConversation(interaction: ChatInputCommandInteraction): Conversation {
  let answered = false;
  return {
    async send(text: string): Promise<Reply> {
      if (!answered) {
        answered = true;
        if (interaction.deferred) await interaction.editReply({ content: fit(text), ...NO_MENTIONS });
        else await interaction.reply({ content: fit(text), ...NO_MENTIONS });
        return { edit: async (t) => void (await interaction.editReply({ content: fit(t), ...NO_MENTIONS })) };
      }
      const sent = await interaction.followUp({ content: fit(text), ...NO_MENTIONS });
      return { edit: async (t) => void (await interaction.editReply({ content: fit(t), message: sent, ...NO_MENTIONS })) };
    },
  };
}

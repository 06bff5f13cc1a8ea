import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { constants as zc, createDeflate, type Deflate } from 'node:zlib';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { GatewayClose, GatewayOp, Intents } from './constants.js';
import type { DispatchEvent, Dispatcher, EmulatorContext } from './context.js';
import type { GatewayFaultTarget } from './faults.js';
import { applicationFlags, botUserPayload, guildCreatePayload, memberPayload } from './payloads.js';

interface BufferedEvent {
  s: number;
  t: string;
  d: unknown;
}

class Session {
  seq = 0;
  readonly buffer: BufferedEvent[] = [];
  conn: Connection | null = null;
  constructor(
    readonly id: string,
    readonly intents: number,
    readonly shard: [number, number],
  ) {}
}

class Connection {
  session: Session | null = null;
  /** Set once READY or RESUMED was sent on this connection. */
  live = false;
  deflate: Deflate | null = null;
  #chain: Promise<void> = Promise.resolve();
  constructor(
    readonly ws: WebSocket,
    readonly id: number,
    compress: boolean,
  ) {
    if (compress) this.deflate = createDeflate({ flush: zc.Z_NO_FLUSH });
  }

  send(payload: unknown): void {
    const text = JSON.stringify(payload);
    if (!this.deflate) {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
      return;
    }
    const deflate = this.deflate;
    this.#chain = this.#chain.then(
      () =>
        new Promise<void>((resolve) => {
          const chunks: Buffer[] = [];
          const onData = (c: Buffer): void => void chunks.push(c);
          deflate.on('data', onData);
          deflate.write(text);
          deflate.flush(zc.Z_SYNC_FLUSH, () => {
            deflate.off('data', onData);
            if (this.ws.readyState === WebSocket.OPEN) this.ws.send(Buffer.concat(chunks));
            resolve();
          });
        }),
    );
  }
}

const PRIVILEGED: ReadonlyArray<[number, keyof EmulatorContext['options']['privilegedIntents']]> = [
  [Intents.GuildMembers, 'guildMembers'],
  [Intents.GuildPresences, 'guildPresences'],
  [Intents.MessageContent, 'messageContent'],
];

/** The JSON gateway (v10, optional zlib-stream): sessions, dispatch with intents, RESUME replay, faults. */
export class Gateway implements Dispatcher, GatewayFaultTarget {
  readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  readonly sessions = new Map<string, Session>();
  readonly connections = new Set<Connection>();
  #skipAcks = 0;
  #nextConnId = 1;

  constructor(private readonly ctx: EmulatorContext) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/gateway' && url.pathname !== '/gateway/') {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, url.searchParams));
  }

  #onConnection(ws: WebSocket, params: URLSearchParams): void {
    const compress = params.get('compress') === 'zlib-stream';
    const conn = new Connection(ws, this.#nextConnId++, compress);
    this.connections.add(conn);
    this.ctx.stats.gateway.connections++;
    this.ctx.log(`GW #${conn.id} connect ${params.toString()}`);
    ws.on('error', () => {});
    ws.on('close', (code) => this.#onClose(conn, code));
    ws.on('message', (data, isBinary) => this.#onMessage(conn, data, isBinary));
    const v = params.get('v');
    if (v !== null && v !== '10' && v !== '9') return void ws.close(GatewayClose.InvalidAPIVersion, 'Invalid API version');
    const enc = params.get('encoding');
    if (enc !== null && enc !== 'json') return void ws.close(GatewayClose.DecodeError, 'Only json encoding is supported');
    conn.send({ op: GatewayOp.Hello, d: { heartbeat_interval: this.ctx.options.gateway.heartbeatIntervalMs, _trace: ['["dos-emulator",{"micros":0}]'] }, s: null, t: null });
  }

  #onClose(conn: Connection, code: number): void {
    this.connections.delete(conn);
    this.ctx.log(`GW #${conn.id} closed ${code}`);
    const s = conn.session;
    if (s && s.conn === conn) {
      s.conn = null;
      // A client closing with 1000/1001 ends its session (Discord semantics); anything else may RESUME.
      if (code === 1000 || code === 1001) this.sessions.delete(s.id);
    }
  }

  #onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    let payload: { op?: unknown; d?: unknown };
    try {
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      payload = JSON.parse(text) as { op?: unknown; d?: unknown };
    } catch {
      conn.ws.close(GatewayClose.DecodeError, 'Error while decoding payload.');
      return;
    }
    const op = payload.op;
    if (op === GatewayOp.Heartbeat) {
      if (this.#skipAcks > 0) {
        this.#skipAcks--;
        this.ctx.log(`GW #${conn.id} heartbeat (not acked)`);
      } else conn.send({ op: GatewayOp.HeartbeatAck, d: null, s: null, t: null });
      return;
    }
    if (op === GatewayOp.Identify) return this.#identify(conn, payload.d);
    if (op === GatewayOp.Resume) return this.#resume(conn, payload.d);
    if (!conn.session) {
      conn.ws.close(GatewayClose.NotAuthenticated, 'Not authenticated.');
      return;
    }
    if (op === GatewayOp.PresenceUpdate || op === GatewayOp.VoiceStateUpdate) return;
    if (op === GatewayOp.RequestGuildMembers) return this.#requestMembers(conn, payload.d);
    conn.ws.close(GatewayClose.UnknownOpcode, 'Unknown opcode.');
  }

  #tokenOk(token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const t = token.startsWith('Bot ') ? token.slice(4) : token;
    return t === this.ctx.state.token;
  }

  #identify(conn: Connection, d: unknown): void {
    const ctx = this.ctx;
    if (conn.session) return void conn.ws.close(GatewayClose.AlreadyAuthenticated, 'Already authenticated.');
    const data = (d ?? {}) as { token?: unknown; intents?: unknown; shard?: unknown };
    if (!this.#tokenOk(data.token)) return void conn.ws.close(GatewayClose.AuthenticationFailed, 'Authentication failed.');
    if (typeof data.intents !== 'number' || !Number.isInteger(data.intents) || data.intents < 0 || data.intents >= 1 << 27) {
      return void conn.ws.close(GatewayClose.InvalidIntents, 'Invalid intent(s).');
    }
    const intents = data.intents;
    for (const [bit, key] of PRIVILEGED) {
      if (intents & bit && !ctx.options.privilegedIntents[key]) return void conn.ws.close(GatewayClose.DisallowedIntents, 'Disallowed intent(s).');
    }
    let shard: [number, number] = [0, 1];
    if (data.shard !== undefined) {
      const sh = data.shard;
      if (!Array.isArray(sh) || sh.length !== 2 || !Number.isInteger(sh[0]) || !Number.isInteger(sh[1]) || sh[1] < 1 || sh[0] < 0 || sh[0] >= sh[1]) {
        return void conn.ws.close(GatewayClose.InvalidShard, 'Invalid shard.');
      }
      shard = [sh[0] as number, sh[1] as number];
    }
    ctx.stats.gateway.identifies++;
    const session = new Session(randomBytes(16).toString('hex'), intents, shard);
    this.sessions.set(session.id, session);
    session.conn = conn;
    conn.session = session;
    conn.live = true;
    const covers = this.#coversGuild(session);
    this.#emit(session, 'READY', {
      v: 10,
      user_settings: {},
      user: botUserPayload(ctx),
      guilds: covers ? [{ id: ctx.state.guild.id, unavailable: true }] : [],
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: ctx.gatewayUrl,
      shard,
      application: { id: ctx.state.applicationId, flags: applicationFlags(ctx) },
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['emulator'],
      auth: {},
      _trace: ['["dos-emulator",{"micros":0}]'],
    });
    if (covers && intents & Intents.Guilds) this.#emit(session, 'GUILD_CREATE', guildCreatePayload(ctx));
    ctx.log(`GW #${conn.id} identified session ${session.id} intents ${intents}`);
  }

  #resume(conn: Connection, d: unknown): void {
    const ctx = this.ctx;
    if (conn.session) return void conn.ws.close(GatewayClose.AlreadyAuthenticated, 'Already authenticated.');
    const data = (d ?? {}) as { token?: unknown; session_id?: unknown; seq?: unknown };
    if (!this.#tokenOk(data.token)) return void conn.ws.close(GatewayClose.AuthenticationFailed, 'Authentication failed.');
    const session = typeof data.session_id === 'string' ? this.sessions.get(data.session_id) : undefined;
    const seq = typeof data.seq === 'number' ? data.seq : 0;
    const oldest = session?.buffer[0]?.s ?? 1;
    if (!session || seq > session.seq || seq < oldest - 1) {
      ctx.stats.gateway.invalidSessions++;
      conn.send({ op: GatewayOp.InvalidSession, d: false, s: null, t: null });
      return;
    }
    ctx.stats.gateway.resumes++;
    if (session.conn && session.conn !== conn) {
      const old = session.conn;
      old.session = null;
      old.ws.terminate();
    }
    session.conn = conn;
    conn.session = session;
    conn.live = true;
    let replayed = 0;
    for (const ev of session.buffer) {
      if (ev.s > seq) {
        conn.send({ op: GatewayOp.Dispatch, t: ev.t, s: ev.s, d: ev.d });
        replayed++;
      }
    }
    this.#emit(session, 'RESUMED', { _trace: ['["dos-emulator",{"micros":0}]'] });
    ctx.log(`GW #${conn.id} resumed session ${session.id} from ${seq}, replayed ${replayed}`);
  }

  #requestMembers(conn: Connection, d: unknown): void {
    const ctx = this.ctx;
    const data = (d ?? {}) as { guild_id?: unknown; nonce?: unknown; user_ids?: unknown };
    if (!conn.session || data.guild_id !== ctx.state.guild.id) return;
    const all = ctx.options.privilegedIntents.guildMembers && (conn.session.intents & Intents.GuildMembers) !== 0;
    const wanted = Array.isArray(data.user_ids) ? new Set(data.user_ids.map(String)) : null;
    const members = [...ctx.state.members.values()].filter((m) => (wanted ? wanted.has(m.userId) : all || m.userId === ctx.state.botUserId));
    this.#emit(conn.session, 'GUILD_MEMBERS_CHUNK', {
      guild_id: ctx.state.guild.id,
      members: members.map((m) => memberPayload(ctx, m)),
      chunk_index: 0,
      chunk_count: 1,
      not_found: wanted ? [...wanted].filter((id) => !ctx.state.members.has(id)) : [],
      ...(data.nonce !== undefined ? { nonce: data.nonce } : {}),
    });
  }

  #coversGuild(s: Session): boolean {
    const [id, count] = s.shard;
    return Number((BigInt(this.ctx.state.guild.id) >> 22n) % BigInt(count)) === id;
  }

  /** Buffer (for RESUME) and send to the session's live connection, if any. */
  #emit(session: Session, t: string, d: unknown): void {
    const ev: BufferedEvent = { s: ++session.seq, t, d };
    session.buffer.push(ev);
    const max = this.ctx.options.gateway.maxReplay;
    if (session.buffer.length > max) session.buffer.splice(0, session.buffer.length - max);
    const conn = session.conn;
    if (conn?.live) {
      conn.send({ op: GatewayOp.Dispatch, t, s: ev.s, d });
      this.ctx.stats.gateway.dispatches++;
    }
  }

  dispatch(ev: DispatchEvent): void {
    for (const s of this.sessions.values()) {
      if (ev.intent !== null && !(s.intents & ev.intent)) continue;
      if (ev.dm ? s.shard[0] !== 0 : !this.#coversGuild(s)) continue;
      let d = ev.d;
      if (ev.content && !(s.intents & Intents.MessageContent)) {
        const { authorId, mentionIds, blanked } = ev.content;
        if (authorId !== this.ctx.state.botUserId && !mentionIds.includes(this.ctx.state.botUserId)) d = blanked;
      }
      this.#emit(s, ev.t, d);
    }
    this.ctx.log(`GW dispatch ${ev.t}`);
  }

  // ---- fault targets ----
  sendReconnect(): number {
    this.ctx.stats.gateway.reconnectsRequested++;
    for (const c of this.connections) c.send({ op: GatewayOp.Reconnect, d: null, s: null, t: null });
    return this.connections.size;
  }

  closeAll(code: number): number {
    const n = this.connections.size;
    for (const c of this.connections) c.ws.close(code, 'emulator fault');
    return n;
  }

  sendInvalidSession(resumable: boolean): number {
    this.ctx.stats.gateway.invalidSessions++;
    for (const c of this.connections) {
      if (!resumable && c.session) {
        this.sessions.delete(c.session.id);
        c.session = null;
        c.live = false;
      }
      c.send({ op: GatewayOp.InvalidSession, d: resumable, s: null, t: null });
    }
    return this.connections.size;
  }

  terminateAll(): number {
    const n = this.connections.size;
    for (const c of this.connections) c.ws.terminate();
    return n;
  }

  requestHeartbeat(): number {
    for (const c of this.connections) c.send({ op: GatewayOp.Heartbeat, d: null, s: null, t: null });
    return this.connections.size;
  }

  skipAcks(count: number): void {
    this.#skipAcks = count;
  }

  /** Number of live (identified or resumed) connections. */
  get liveConnections(): number {
    let n = 0;
    for (const c of this.connections) if (c.live) n++;
    return n;
  }

  close(): void {
    for (const c of this.connections) c.ws.terminate();
    this.connections.clear();
    this.wss.close();
  }
}

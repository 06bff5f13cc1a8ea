/**
 * Injectable, consumable faults. Each injection returns a handle with a count; every matching request uses
 * one up, so tests can check recovery after the last one.
 */

export interface RouteMatch {
  /** Route id, with or without the method: `POST /channels/:channel_id/messages` or `/channels/:channel_id/messages`. */
  route?: string;
  method?: string;
  /** Substring or RegExp tested against the request path (after `/api/v10`). */
  path?: string | RegExp;
}

export interface FaultHandle {
  readonly remaining: number;
  readonly consumed: number;
  cancel(): void;
}

type RestFaultKind = '5xx' | '429' | 'drop';
type CdnFaultKind = 'drop' | 'truncate' | 'corrupt' | 'notFound';

interface FaultBase {
  remaining: number;
  consumed: number;
}

export interface RestFault extends FaultBase {
  kind: RestFaultKind;
  match: RouteMatch;
  status: number;
  retryAfterMs: number;
  global: boolean;
  /** For drops: bytes of the response body to send before destroying the socket (default: half). */
  afterBytes: number | undefined;
}

export interface CdnFault extends FaultBase {
  kind: CdnFaultKind;
  attachmentId: string | undefined;
  /** drop: body bytes sent before the socket is destroyed (default: half). truncate: bytes kept (default: half). */
  bytes: number | undefined;
  /** corrupt: byte offset (within the served body) whose lowest bit is flipped (default: middle). */
  offset: number | undefined;
}

/** What the gateway exposes for fault injection. */
export interface GatewayFaultTarget {
  sendReconnect(): number;
  closeAll(code: number): number;
  sendInvalidSession(resumable: boolean): number;
  terminateAll(): number;
  requestHeartbeat(): number;
  skipAcks(count: number): void;
}

export interface GatewayFaults {
  /** Send op 7 RECONNECT to every connection. Returns the number of connections told. */
  reconnect(): number;
  /** Close every connection with a close code (default 4000: the client resumes). */
  close(code?: number): number;
  /** Send op 9 INVALID_SESSION (d = resumable). */
  invalidSession(resumable?: boolean): number;
  /** Destroy every TCP connection without a close frame (client sees 1006 and resumes). */
  drop(): number;
  /** Send op 1 (server-requested heartbeat). */
  requestHeartbeat(): number;
  /** Stop answering heartbeats with op 11 for the next `count` heartbeats (default: until resumeAcks()). */
  stopHeartbeatAcks(count?: number): void;
  resumeHeartbeatAcks(): void;
}

function handle(f: FaultBase, list: FaultBase[]): FaultHandle {
  return {
    get remaining() {
      return f.remaining;
    },
    get consumed() {
      return f.consumed;
    },
    cancel() {
      f.remaining = 0;
      const i = list.indexOf(f);
      if (i >= 0) list.splice(i, 1);
    },
  };
}

function matches(m: RouteMatch, method: string, routeId: string | null, path: string): boolean {
  if (m.method && m.method.toUpperCase() !== method) return false;
  if (m.route) {
    if (!routeId) return false;
    const want = m.route.includes(' ') ? m.route : `${method} ${m.route}`;
    if (want !== routeId) return false;
  }
  if (m.path !== undefined) {
    if (typeof m.path === 'string' ? !path.includes(m.path) : !m.path.test(path)) return false;
  }
  return true;
}

export class Faults {
  readonly #rest: RestFault[] = [];
  readonly #cdn: CdnFault[] = [];
  #gateway: GatewayFaultTarget | null = null;

  /** N× 5xx with a Cloudflare-like HTML body, before the request is processed. */
  serverError(opts: RouteMatch & { count?: number; status?: number } = {}): FaultHandle {
    return this.#addRest({ kind: '5xx', status: opts.status ?? 502, count: opts.count, match: opts });
  }

  /** N× forced 429 with Retry-After (a "429 storm"), before the request is processed. */
  rateLimit(opts: RouteMatch & { count?: number; retryAfterMs?: number; global?: boolean } = {}): FaultHandle {
    return this.#addRest({ kind: '429', status: 429, count: opts.count, match: opts, retryAfterMs: opts.retryAfterMs ?? 1000, global: opts.global ?? false });
  }

  /**
   * N× the request IS processed (state changes, dispatches go out), then the response is cut: status line,
   * headers and `afterBytes` of the body are sent and the socket is destroyed.
   */
  dropConnection(opts: RouteMatch & { count?: number; afterBytes?: number } = {}): FaultHandle {
    return this.#addRest({ kind: 'drop', status: 0, count: opts.count, match: opts, afterBytes: opts.afterBytes });
  }

  /** CDN: send headers and part of the body, then destroy the socket. */
  cdnDrop(opts: { attachmentId?: string; count?: number; afterBytes?: number } = {}): FaultHandle {
    return this.#addCdn('drop', opts.attachmentId, opts.count, opts.afterBytes, undefined);
  }

  /** CDN: a clean, complete-looking response whose body is cut to `bytes` (Content-Length matches the cut body). */
  cdnTruncate(opts: { attachmentId?: string; count?: number; bytes?: number } = {}): FaultHandle {
    return this.#addCdn('truncate', opts.attachmentId, opts.count, opts.bytes, undefined);
  }

  /** CDN: full-length body with one bit flipped. */
  cdnCorrupt(opts: { attachmentId?: string; count?: number; offset?: number } = {}): FaultHandle {
    return this.#addCdn('corrupt', opts.attachmentId, opts.count, undefined, opts.offset);
  }

  /** CDN: 404 "no longer available" although the URL is validly signed and not expired. */
  cdnNotFound(opts: { attachmentId?: string; url?: string; count?: number } = {}): FaultHandle {
    let id = opts.attachmentId;
    if (!id && opts.url) id = /\/attachments\/\d+\/(\d+)\//.exec(new URL(opts.url).pathname)?.[1];
    return this.#addCdn('notFound', id, opts.count, undefined, undefined);
  }

  readonly gateway: GatewayFaults = {
    reconnect: () => this.#gw().sendReconnect(),
    close: (code = 4000) => this.#gw().closeAll(code),
    invalidSession: (resumable = false) => this.#gw().sendInvalidSession(resumable),
    drop: () => this.#gw().terminateAll(),
    requestHeartbeat: () => this.#gw().requestHeartbeat(),
    stopHeartbeatAcks: (count = Number.POSITIVE_INFINITY) => this.#gw().skipAcks(count),
    resumeHeartbeatAcks: () => this.#gw().skipAcks(0),
  };

  /** Faults not yet used up. */
  get pending(): number {
    return [...this.#rest, ...this.#cdn].reduce((n, f) => n + f.remaining, 0);
  }

  clear(): void {
    this.#rest.length = 0;
    this.#cdn.length = 0;
    this.#gateway?.skipAcks(0);
  }

  /** @internal */
  attachGateway(target: GatewayFaultTarget): void {
    this.#gateway = target;
  }

  /** @internal Take one REST fault of the given kinds matching this request. */
  takeRest(kinds: readonly RestFaultKind[], method: string, routeId: string | null, path: string): RestFault | undefined {
    const f = this.#rest.find((x) => x.remaining > 0 && kinds.includes(x.kind) && matches(x.match, method, routeId, path));
    if (!f) return undefined;
    this.#consume(f, this.#rest);
    return f;
  }

  /** @internal Take one CDN fault for an attachment. */
  takeCdn(attachmentId: string): CdnFault | undefined {
    const f = this.#cdn.find((x) => x.remaining > 0 && (x.attachmentId === undefined || x.attachmentId === attachmentId));
    if (!f) return undefined;
    this.#consume(f, this.#cdn);
    return f;
  }

  #consume<T extends FaultBase>(f: T, list: T[]): void {
    f.remaining--;
    f.consumed++;
    if (f.remaining <= 0) list.splice(list.indexOf(f), 1);
  }

  #gw(): GatewayFaultTarget {
    if (!this.#gateway) throw new Error('gateway not running');
    return this.#gateway;
  }

  #addRest(o: { kind: RestFaultKind; status: number; count: number | undefined; match: RouteMatch; retryAfterMs?: number; global?: boolean; afterBytes?: number }): FaultHandle {
    const f: RestFault = {
      kind: o.kind,
      match: { route: o.match.route, method: o.match.method, path: o.match.path },
      status: o.status,
      retryAfterMs: o.retryAfterMs ?? 0,
      global: o.global ?? false,
      afterBytes: o.afterBytes,
      remaining: o.count ?? 1,
      consumed: 0,
    };
    this.#rest.push(f);
    return handle(f, this.#rest as FaultBase[]);
  }

  #addCdn(kind: CdnFaultKind, attachmentId: string | undefined, count: number | undefined, bytes: number | undefined, offset: number | undefined): FaultHandle {
    const f: CdnFault = { kind, attachmentId, bytes, offset, remaining: count ?? 1, consumed: 0 };
    this.#cdn.push(f);
    return handle(f, this.#cdn as FaultBase[]);
  }
}

/** Counters a test can inspect (and reset). */
export class Stats {
  /** REST requests per route id (e.g. `POST /channels/:channel_id/messages`); unknown routes as `METHOD <path>`. */
  readonly requestsByRoute = new Map<string, number>();
  /** REST responses per HTTP status. */
  readonly responsesByStatus = new Map<number, number>();
  /** 429 answers served, by cause. */
  readonly served429 = { bucket: 0, global: 0, forced: 0, banned: 0 };
  /** 5xx answers served by fault injection. */
  served5xx = 0;
  /** 401/403/429 answers (what Cloudflare counts towards its ban). */
  invalidRequests = 0;
  /** Bytes of attachment bodies written by the CDN, per attachment id (partial writes included). */
  readonly cdnBytesByAttachment = new Map<string, number>();
  /** CDN requests per attachment id (any status). */
  readonly cdnRequestsByAttachment = new Map<string, number>();
  /** CDN answers per HTTP status. */
  readonly cdnResponsesByStatus = new Map<number, number>();
  refreshUrlsCalls = 0;
  refreshedUrls = 0;
  /** Sockets destroyed on purpose (REST + CDN drop faults). */
  droppedConnections = 0;
  readonly gateway = { connections: 0, identifies: 0, resumes: 0, dispatches: 0, reconnectsRequested: 0, invalidSessions: 0 };

  static bump<K>(map: Map<K, number>, key: K, by = 1): void {
    map.set(key, (map.get(key) ?? 0) + by);
  }

  requests(routeId: string): number {
    return this.requestsByRoute.get(routeId) ?? 0;
  }

  get total429(): number {
    const s = this.served429;
    return s.bucket + s.global + s.forced + s.banned;
  }

  get totalRequests(): number {
    let n = 0;
    for (const v of this.requestsByRoute.values()) n += v;
    return n;
  }

  cdnBytes(attachmentId: string): number {
    return this.cdnBytesByAttachment.get(attachmentId) ?? 0;
  }

  reset(): void {
    this.requestsByRoute.clear();
    this.responsesByStatus.clear();
    Object.assign(this.served429, { bucket: 0, global: 0, forced: 0, banned: 0 });
    this.served5xx = 0;
    this.invalidRequests = 0;
    this.cdnBytesByAttachment.clear();
    this.cdnRequestsByAttachment.clear();
    this.cdnResponsesByStatus.clear();
    this.refreshUrlsCalls = 0;
    this.refreshedUrls = 0;
    this.droppedConnections = 0;
    Object.assign(this.gateway, { connections: 0, identifies: 0, resumes: 0, dispatches: 0, reconnectsRequested: 0, invalidSessions: 0 });
  }
}

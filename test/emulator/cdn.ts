import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorContext } from './context.js';
import { attachmentResource } from './payloads.js';
import { Stats } from './stats.js';

const GONE = 'This content is no longer available.';

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/** Parses a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range. Multi-range and junk → null (serve 200). */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return null;
  return { start, end };
}

function notFound(ctx: EmulatorContext, res: ServerResponse, head: boolean): void {
  Stats.bump(ctx.stats.cdnResponsesByStatus, 404);
  res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(GONE), 'Cache-Control': 'no-store' });
  res.end(head ? undefined : GONE);
}

/**
 * Serves `/attachments/:channel/:attachment/:filename` and `/media/attachments/...` with Discord-like signed
 * URLs, Range support (switchable), and CDN faults (early 404, drop, truncate, corrupt).
 */
export function handleCdn(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
  const method = (req.method ?? 'GET').toUpperCase();
  const head = method === 'HEAD';
  const m = /^\/(?:media\/)?attachments\/(\d+)\/(\d+)\/([^/]+)$/.exec(path);
  if (!m) return notFound(ctx, res, head);
  const [, channelId, attachmentId, rawName] = m as unknown as [string, string, string, string];
  Stats.bump(ctx.stats.cdnRequestsByAttachment, attachmentId);
  if (method !== 'GET' && !head) {
    Stats.bump(ctx.stats.cdnResponsesByStatus, 405);
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 });
    res.end();
    return;
  }
  const a = ctx.state.attachments.get(attachmentId);
  let filename: string;
  try {
    filename = decodeURIComponent(rawName);
  } catch {
    return notFound(ctx, res, head);
  }
  if (!a || a.deleted || a.channelId !== channelId || a.filename !== filename) return notFound(ctx, res, head);
  if (ctx.signer.verify(attachmentResource(a), query) !== 'ok') return notFound(ctx, res, head);

  const fault = ctx.faults.takeCdn(attachmentId);
  if (fault?.kind === 'notFound') return notFound(ctx, res, head);

  const size = a.size;
  const rangeOn = ctx.options.cdn.range;
  const range = rangeOn ? parseRange(req.headers['range'], size) : null;
  const headers: Record<string, string | number> = {
    'Content-Type': a.contentType,
    ETag: `"${a.etag}"`,
    'Cache-Control': 'public, max-age=31536000',
    'X-Emulator': 'dos',
  };
  if (rangeOn) headers['Accept-Ranges'] = 'bytes';
  if (range === 'unsatisfiable') {
    Stats.bump(ctx.stats.cdnResponsesByStatus, 416);
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
    res.end();
    return;
  }
  let status = 200;
  let body = a.data;
  if (range) {
    status = 206;
    body = a.data.subarray(range.start, range.end + 1);
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  }
  if (fault?.kind === 'truncate') {
    body = body.subarray(0, Math.min(fault.bytes ?? Math.floor(body.length / 2), Math.max(0, body.length - 1)));
  } else if (fault?.kind === 'corrupt' && body.length > 0) {
    body = Buffer.from(body);
    const at = Math.min(fault.offset ?? Math.floor(body.length / 2), body.length - 1);
    body[at] = body[at]! ^ 0x01;
  }
  headers['Content-Length'] = body.length;
  Stats.bump(ctx.stats.cdnResponsesByStatus, status);
  res.writeHead(status, headers);
  if (head) {
    res.end();
    return;
  }
  if (fault?.kind === 'drop') {
    ctx.stats.droppedConnections++;
    const cut = Math.min(fault.bytes ?? Math.floor(body.length / 2), Math.max(0, body.length - 1));
    Stats.bump(ctx.stats.cdnBytesByAttachment, attachmentId, cut);
    if (cut === 0) {
      res.flushHeaders();
      setImmediate(() => res.socket?.destroy());
      return;
    }
    res.write(body.subarray(0, cut), () => res.socket?.destroy());
    return;
  }
  Stats.bump(ctx.stats.cdnBytesByAttachment, attachmentId, body.length);
  res.end(body);
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleCdn } from './cdn.js';
import type { EmulatorContext } from './context.js';
import type { Gateway } from './gateway.js';
import { handleApi } from './rest.js';
import type { Router } from './router.js';

/** One HTTP server: `/api/...` (REST), `/attachments/...` + `/media/attachments/...` (CDN), `/gateway` (WebSocket). */
export function createHttpServer(ctx: EmulatorContext, router: Router, gateway: Gateway): Server {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    res.on('error', () => {});
    req.on('error', () => {});
    if (path === '/api' || path.startsWith('/api/')) {
      handleApi(ctx, router, req, res, path.slice(4), url.searchParams).catch((err: unknown) => {
        ctx.log(`REST crash: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: '500: Internal Server Error', code: 0 }));
        } else res.destroy();
      });
      return;
    }
    if (path.startsWith('/attachments/') || path.startsWith('/media/attachments/')) {
      handleCdn(ctx, req, res, path, url.searchParams);
      return;
    }
    const body = JSON.stringify({ message: '404: Not Found', code: 0 });
    res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    gateway.handleUpgrade(req, socket, head);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

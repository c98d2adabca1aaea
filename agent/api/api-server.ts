import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { vmxError } from '../core/errors.js';
import type { AgentConfig } from '../config/schema.js';
import { API } from './error-codes.js';
import type { Feed } from './feed.js';
import { handleRequest, type ApiState } from './routes.js';
import { sendError } from './http-io.js';

/** One listener for the API, /metrics, the feed and the dashboard; HTTPS when a cert and key are set. */
export async function createApiServer(config: AgentConfig, state: ApiState, feed: Feed, log: Logger): Promise<Server> {
  const handler = (req: Parameters<typeof handleRequest>[1], res: Parameters<typeof handleRequest>[2]) => {
    accessLog(req, res, log);
    handleRequest(state, req, res).catch((err) => {
      log.error({ err: (err as Error).message }, 'request handler failed');
      // Never leave a connection open without an answer.
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    });
  };
  const { tls_cert: cert, tls_key: key } = config.listen;
  let server: Server;
  if (cert || key) {
    if (!cert || !key) throw vmxError(API.TLS_FILES, 'listen.tls_cert and listen.tls_key must be set together');
    const [certPem, keyPem] = await Promise.all([readPem(cert), readPem(key)]);
    try {
      server = createHttps({ cert: certPem, key: keyPem }, handler) as unknown as Server;
    } catch (err) {
      throw vmxError(API.TLS_FILES, `the certificate and key do not form a valid pair: ${(err as Error).message}`, { file: cert });
    }
  } else server = createHttp(handler);
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/v1/feed') return socket.destroy();
    feed.upgrade(req, socket, head);
  });
  return server;
}

/**
 * One line per request once it is answered: method, path (never the query or headers, where a token
 * could travel), status, duration, peer. A refused token gets its own warning line.
 */
function accessLog(req: IncomingMessage, res: ServerResponse, log: Logger): void {
  const t0 = performance.now();
  res.once('finish', () => {
    const line = {
      method: req.method,
      path: new URL(req.url ?? '/', 'http://localhost').pathname,
      status: res.statusCode,
      ms: Number((performance.now() - t0).toFixed(1)),
      remote: req.socket.remoteAddress,
    };
    log.info(line, 'request');
    if (res.statusCode === 401) log.warn(line, 'unauthorized request: missing or wrong bearer token');
  });
}

async function readPem(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw vmxError(API.TLS_FILES, `cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { file });
  }
}

export function listen(server: Server, host: string, port: number): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : { host, port });
    });
  });
}

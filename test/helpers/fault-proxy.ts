import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A fault-injecting HTTP proxy on loopback, placed between vmxfer and a store (RGW): it forwards
 * every request unchanged (Host header included, so SigV4 signatures stay valid) unless a fault
 * is due, and logs every request with the fault it got and the status the client saw.
 */
export type ProxyFault =
  /** Answer with an S3 error document (or `body` of `contentType`: an EC2 or ECS error) without forwarding (500 InternalError, 503 SlowDown). */
  | { kind: 'status'; status: number; code: string; body?: string; contentType?: string }
  /** Read part of the request body, then destroy the connection (a reset mid-body). */
  | { kind: 'reset' }
  /** Hold the request this long, then forward it. */
  | { kind: 'stall'; ms: number }
  /** Forward with one byte of the body inverted (corruption in transit). */
  | { kind: 'flip' }
  /** Forward, let the store answer, then drop the connection before the answer reaches the client. */
  | { kind: 'drop-answer' };

export interface ProxyLogEntry {
  method: string;
  url: string;
  partNumber: number | undefined;
  fault: ProxyFault['kind'] | undefined;
  status: number | undefined;
}

/** Decides the fault of each request; return undefined to forward it as is. */
export type FaultPlan = (req: { method: string; url: string; partNumber: number | undefined; seq: number }) => ProxyFault | undefined;

export interface FaultProxy {
  endpoint: string;
  log: ProxyLogEntry[];
  setPlan(plan: FaultPlan | undefined): void;
  /** Request body bytes as they arrived here, with performance.now() of their arrival (a pacing oracle). */
  received: Array<{ t: number; bytes: number }>;
  /** UploadPart requests per part number that the store answered 200 (or every attempt when `all`). */
  partPuts(all?: boolean): Map<number, number>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const log: ProxyLogEntry[] = [];
  const received: Array<{ t: number; bytes: number }> = [];
  const arrived = (bytes: number) => received.push({ t: performance.now(), bytes });
  let plan: FaultPlan | undefined;
  let seq = 0;
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const n = new URL(url, 'http://x').searchParams.get('partNumber');
    const entry: ProxyLogEntry = { method: req.method ?? 'GET', url, partNumber: n === null ? undefined : Number(n), fault: undefined, status: undefined };
    log.push(entry);
    const fault = plan?.({ method: entry.method, url, partNumber: entry.partNumber, seq: seq++ });
    entry.fault = fault?.kind;
    handle(req, res, fault, entry).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse, fault: ProxyFault | undefined, entry: ProxyLogEntry): Promise<void> {
    if (fault?.kind === 'status') return answerError(req, res, fault, entry);
    if (fault?.kind === 'reset') return resetMidBody(req, entry, arrived);
    // Unref'd: a stalled request whose client is gone (killed, cancelled) does not keep the test process alive.
    if (fault?.kind === 'stall') await sleep(fault.ms, undefined, { ref: false });
    const body = await readAll(req, arrived);
    if (fault?.kind === 'flip' && body.length > 0) body[body.length >> 1] ^= 0xff;
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        entry.status = upRes.statusCode;
        if (fault?.kind === 'drop-answer') {
          upRes.resume();
          upRes.on('end', () => res.socket?.destroy());
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    up.end(body);
  }

  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    received,
    setPlan: (p) => {
      plan = p;
    },
    partPuts(all = false) {
      const m = new Map<number, number>();
      for (const e of log) {
        if (e.method !== 'PUT' || e.partNumber === undefined || (!all && e.status !== 200)) continue;
        m.set(e.partNumber, (m.get(e.partNumber) ?? 0) + 1);
      }
      return m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readAll(req: IncomingMessage, arrived?: (bytes: number) => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) {
    arrived?.((c as Buffer).length);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function answerError(req: IncomingMessage, res: ServerResponse, fault: { status: number; code: string; body?: string; contentType?: string }, entry: ProxyLogEntry): Promise<void> {
  await readAll(req);
  const xml = fault.body ?? `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected by the fault proxy</Message><RequestId>fault-proxy</RequestId></Error>`;
  entry.status = fault.status;
  res.writeHead(fault.status, { 'Content-Type': fault.contentType ?? 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}

/** Takes the first body chunk (or nothing, for bodiless requests) and drops the connection. */
async function resetMidBody(req: IncomingMessage, entry: ProxyLogEntry, arrived: (bytes: number) => void): Promise<void> {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody) await new Promise<void>((resolve) => req.once('data', (c: Buffer) => {
      arrived(c.length);
      resolve();
    }));
  entry.status = 0;
  req.socket.destroy();
}

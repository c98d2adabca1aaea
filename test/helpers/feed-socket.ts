import WebSocket from 'ws';
import type { TestDaemon } from './daemon.js';

/** A client of the daemon's /v1/feed: authenticated, every message parsed into `got`. */
export async function feed(d: TestDaemon): Promise<{ ws: WebSocket; got: any[] }> {
  const ws = new WebSocket(d.url.replace('http', 'ws') + '/v1/feed');
  const got: any[] = [];
  ws.on('message', (data) => got.push(JSON.parse(String(data))));
  // The daemon stopping may reset the socket before the close handshake ends; that is not a test failure.
  ws.on('error', () => undefined);
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'auth', token: d.token }));
  return { ws, got };
}

export async function closeFeed(ws: WebSocket): Promise<void> {
  const closed = new Promise((r) => ws.once('close', r));
  ws.close();
  await closed;
}

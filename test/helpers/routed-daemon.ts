import type { Page, Route, WebSocketRoute } from 'playwright-core';
import type { FeedMessage, Job } from '../../agent/dashboard/client/api-types.js';
import { dashboardAssets } from '../../agent/dashboard/serve-dashboard.js';

/** The origin the page is loaded from; nothing listens there: every request is answered by routes. */
export const ROUTED_ORIGIN = 'http://vmxfer-dashboard.test';

export interface RoutedDaemon {
  /** Tokens the page sent as its feed's first message, in order. */
  readonly authMessages: unknown[];
  /** Bodies the page POSTed to /v1/jobs. */
  readonly submitted: unknown[];
  send(message: FeedMessage): void;
  /** Closes the page's feed socket from the "server" side (as a daemon restart does). */
  dropFeed(): void;
  /** While true, new feed connections are refused (closed at once), as when the daemon is down. */
  refuseFeed: boolean;
}

export interface RoutedDaemonOptions {
  token: string;
  snapshot: Job[];
  /** GET /v1/jobs/:id answers (with parts and throughput). */
  details?: Map<string, Job>;
  /** POST /v1/jobs answer; default 201 with a queued job. */
  submit?: (body: unknown) => { status: number; json: unknown };
  /** POST /v1/jobs/:id/cancel answer; default 404. */
  cancel?: (id: string) => { status: number; json: unknown };
  /** Awaited before an API request is answered: a test holds a reply back while the feed moves on. */
  beforeReply?: (method: string, path: string) => Promise<void>;
}

/**
 * Serves the built dashboard (dashboardAssets(), exactly what the daemon serves) and answers the API
 * and the WebSocket feed in-process with contract-shaped data (docs/api.md), so page-rendering tests
 * can use volumes no local daemon produces. End-to-end behaviour is tested against the real daemon.
 */
export async function routeDaemon(page: Page, opts: RoutedDaemonOptions): Promise<RoutedDaemon> {
  const assets = dashboardAssets();
  let socket: WebSocketRoute | null = null;
  const daemon: RoutedDaemon = {
    authMessages: [],
    submitted: [],
    refuseFeed: false,
    send: (message) => socket?.send(JSON.stringify(message)),
    dropFeed: () => void socket?.close({ code: 1012, reason: 'restarting' }),
  };
  await page.route(`${ROUTED_ORIGIN}/**`, (route) => answerHttp(route, assets, opts, daemon));
  await page.routeWebSocket(`${ROUTED_ORIGIN.replace('http', 'ws')}/v1/feed`, (ws) => {
    if (daemon.refuseFeed) return void ws.close({ code: 1011, reason: 'down' });
    socket = ws;
    ws.onMessage((text) => {
      const message = JSON.parse(String(text));
      daemon.authMessages.push(message);
      if (message.type !== 'auth' || message.token !== opts.token) return void ws.close({ code: 4401, reason: 'unauthorized' });
      ws.send(JSON.stringify({ type: 'snapshot', jobs: opts.snapshot }));
    });
  });
  return daemon;
}

async function answerHttp(route: Route, assets: ReturnType<typeof dashboardAssets>, opts: RoutedDaemonOptions, daemon: RoutedDaemon): Promise<void> {
  const request = route.request();
  const path = new URL(request.url()).pathname;
  const asset = assets.get(path);
  if (asset) return route.fulfill({ status: 200, contentType: asset.type, body: asset.body });
  if (request.headers()['authorization'] !== `Bearer ${opts.token}`) return json(route, 401, { error: { code: 'API_UNAUTHORIZED', category: 'usage', message: 'missing or wrong bearer token' } });
  await opts.beforeReply?.(request.method(), path);
  const cancel = /^\/v1\/jobs\/([^/]+)\/cancel$/.exec(path);
  if (cancel && opts.cancel && request.method() === 'POST') {
    const answer = opts.cancel(decodeURIComponent(cancel[1]!));
    return json(route, answer.status, answer.json);
  }
  const one = /^\/v1\/jobs\/([^/]+)$/.exec(path);
  if (one && request.method() === 'GET') {
    const job = opts.details?.get(decodeURIComponent(one[1]!));
    return job ? json(route, 200, { job }) : json(route, 404, { error: { code: 'API_NOT_FOUND', category: 'usage', message: 'no such job' } });
  }
  if (path === '/v1/jobs' && request.method() === 'POST') {
    const body = request.postDataJSON();
    daemon.submitted.push(body);
    const answer = opts.submit?.(body) ?? { status: 201, json: { job: { ...opts.snapshot[0], id: 'j-submitted', state: 'queued' } } };
    return json(route, answer.status, answer.json);
  }
  return json(route, 404, { error: { code: 'API_NOT_FOUND', category: 'usage', message: `no route ${path}` } });
}

function json(route: Route, status: number, body: unknown): Promise<void> {
  return route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { vmxError } from '../core/errors.js';
import type { JobService } from '../jobs/job-service.js';
import type { JobViews } from '../jobs/job-views.js';
import { JOB_STATES, type JobState } from '../jobs/job-types.js';
import type { AgentMetrics } from '../metrics/agent-metrics.js';
import { bearerMatches } from './auth.js';
import { API } from './error-codes.js';
import { fieldError } from '../core/field-error.js';
import { asApi } from './job-errors.js';
import { readJsonBody, sendError, sendJson } from './http-io.js';
import { dashboardAssets } from '../dashboard/serve-dashboard.js';
import { parseSubmitBody } from './submit-body.js';

/** What the request handler reads on every request (the token and roots change on SIGHUP). */
export interface ApiState {
  service: JobService;
  /** Jobs as the store holds them, with the live progress of those this daemon runs. */
  views: JobViews;
  metrics: AgentMetrics;
  token(): string;
  /** The read-only token that opens GET /metrics and nothing else, when one is configured. */
  metricsToken(): string | undefined;
  sourceRoots(): readonly string[];
  outputRoots(): readonly string[];
  phase(): 'starting' | 'ready' | 'stopping';
  /** Whether the job store answers now (a shared store's server may be away); absent: always. */
  storeReachable?: (() => boolean) | undefined;
}

/** docs/api.md, one handler per endpoint; every path but health, readiness and the dashboard needs the token. */
export async function handleRequest(state: ApiState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  try {
    // Awaited: a refused method must land in this catch and be answered, not escape as a rejection.
    if (path === '/healthz') return await only(req, 'GET', () => sendJson(res, 200, { status: 'ok' }));
    if (path === '/readyz') return await only(req, 'GET', () => readyz(state, res));
    if (path === '/' || path.startsWith('/assets/')) return await staticAsset(req, res, path);
    const metricsToken = state.metricsToken();
    if (path === '/metrics' && metricsToken !== undefined && bearerMatches(req.headers.authorization, metricsToken)) {
      return await only(req, 'GET', async () => metrics(state, res));
    }
    if (!bearerMatches(req.headers.authorization, state.token())) {
      throw vmxError(API.UNAUTHORIZED, 'a valid bearer token is required (Authorization: Bearer <token>)');
    }
    if (path === '/metrics') return await only(req, 'GET', async () => metrics(state, res));
    if (path === '/v1/jobs') return await jobs(state, req, res, url);
    const m = /^\/v1\/jobs\/([^/]+)(\/cancel)?$/.exec(path);
    if (m) return await oneJob(state, req, res, jobIdOf(m[1]!), Boolean(m[2]));
    const cut = /^\/v1\/jobs\/([^/]+)\/cutover$/.exec(path);
    if (cut) return await only(req, 'POST', async () => sendJson(res, 202, { job: await asApi(() => state.service.cutover(jobIdOf(cut[1]!))) }));
    throw vmxError(API.NOT_FOUND, `no endpoint ${path}`);
  } catch (err) {
    if ((err as { code?: string }).code === API.BODY_TOO_LARGE.code) res.setHeader('connection', 'close');
    const allow = (err as { allow?: unknown }).allow;
    if (typeof allow === 'string') res.setHeader('allow', allow);
    sendError(res, err);
  }
}

async function only(req: IncomingMessage, method: string, fn: () => unknown): Promise<void> {
  if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) throw notAllowed(req, method === 'GET' ? ['GET', 'HEAD'] : [method]);
  await fn();
}

/** 405 with the methods the endpoint takes, for the `Allow` header (RFC 9110 §15.5.6). */
function notAllowed(req: IncomingMessage, methods: string[]): Error {
  return Object.assign(vmxError(API.METHOD_NOT_ALLOWED, `${req.method} is not allowed here; use ${methods.join(' or ')}`), { allow: methods.join(', ') });
}

/** The job id of a path segment; a malformed percent-encoding is the client's mistake (400), not ours. */
function jobIdOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw fieldError(API.BAD_REQUEST, 'id', `"${segment}" is not a valid percent-encoded job id`);
  }
}

function readyz(state: ApiState, res: ServerResponse): void {
  const phase = state.phase();
  if (phase !== 'ready') sendJson(res, 503, { status: phase });
  else if (state.storeReachable?.() === false) sendJson(res, 503, { status: 'store-unreachable' });
  else sendJson(res, 200, { status: 'ready' });
}

async function staticAsset(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  await only(req, 'GET', async () => {
    // Only the files of the built dashboard are served, looked up by exact path: nothing else on disk is reachable.
    const asset = dashboardAssets().get(path);
    if (!asset) throw vmxError(API.NOT_FOUND, `no asset ${path}`);
    res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'x-content-type-options': 'nosniff' });
    res.end(asset.body);
  });
}

async function metrics(state: ApiState, res: ServerResponse): Promise<void> {
  const text = await state.metrics.text();
  res.writeHead(200, { 'content-type': state.metrics.contentType, 'cache-control': 'no-store' });
  res.end(text);
}

async function jobs(state: ApiState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method === 'POST') {
    if (state.phase() !== 'ready' || !state.service.isAccepting) throw vmxError(API.UNAVAILABLE, 'the daemon is not taking jobs now');
    const spec = await parseSubmitBody(await readJsonBody(req), { source: state.sourceRoots(), output: state.outputRoots() });
    return sendJson(res, 201, { job: await asApi(() => state.service.submit(spec)) });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') throw notAllowed(req, ['GET', 'HEAD', 'POST']);
  sendJson(res, 200, { jobs: await state.views.list(stateFilter(url)) });
}

/** `?state=S`, repeatable or comma-separated. */
function stateFilter(url: URL): ReadonlySet<JobState> | undefined {
  const states = url.searchParams.getAll('state').flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (states.length === 0) return undefined;
  for (const s of states) {
    if (!(JOB_STATES as readonly string[]).includes(s)) throw fieldError(API.BAD_REQUEST, 'state', `"${s}" is not a job state (${JOB_STATES.join(', ')})`);
  }
  return new Set(states as JobState[]);
}

async function oneJob(state: ApiState, req: IncomingMessage, res: ServerResponse, id: string, cancel: boolean): Promise<void> {
  if (cancel) return only(req, 'POST', async () => sendJson(res, 202, { job: await asApi(() => state.service.cancel(id)) }));
  await only(req, 'GET', async () => {
    const job = await state.views.get(id);
    if (!job) throw vmxError(API.NOT_FOUND, `no job ${id}`);
    sendJson(res, 200, { job });
  });
}

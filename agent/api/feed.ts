import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { JobViews } from '../jobs/job-views.js';
import type { AgentMetrics } from '../metrics/agent-metrics.js';
import { tokenMatches } from './auth.js';
import { FeedClient, type FeedMessage } from './feed-client.js';
import { HEARTBEAT_MS, type AgentDirectory, type AgentStatus } from '../fleet/agent-directory.js';

const AUTH_TIMEOUT_MS = 5000;
const FLUSH_MS = 250;
/** The first message is `{"type":"auth","token":"..."}`; nothing a client sends is larger. */
const MAX_CLIENT_MESSAGE = 4096;

/**
 * `/v1/feed` (docs/api.md): first-message auth (4401 otherwise), a snapshot, then job, progress and
 * parts events from the JobViews (the store's changes and the live progress, which already limits
 * progress and parts to 4 per second per job), and the fleet's agents after the snapshot and whenever
 * the directory, read once per heartbeat period, says something new.
 */
export class Feed {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE });
  private readonly clients = new Set<FeedClient>();
  /** What happened while a new client's snapshot was read, per client. */
  private readonly waiting = new Set<FeedMessage[]>();
  private readonly timer: NodeJS.Timeout;
  private readonly agentsTimer: NodeJS.Timeout;
  /** The agents list last sent, as JSON: an unchanged list is not sent again. */
  private agentsSent = '';

  constructor(
    private readonly views: JobViews,
    private readonly token: () => string,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    private readonly agents: AgentDirectory,
  ) {
    views.on('job', (job) => this.broadcast({ type: 'job', job }));
    views.on('progress', (id, progress) => this.broadcast({ type: 'progress', id, progress }));
    views.on('parts', (id, parts) => this.broadcast({ type: 'parts', id, parts }));
    this.timer = setInterval(() => this.clients.forEach((c) => c.flush()), FLUSH_MS);
    this.timer.unref();
    this.agentsTimer = setInterval(() => void this.agentsChanged(), HEARTBEAT_MS);
    this.agentsTimer.unref();
  }

  private async agentsChanged(): Promise<void> {
    if (this.clients.size === 0) return;
    const agents = await this.readAgents();
    const text = JSON.stringify(agents);
    if (!agents || text === this.agentsSent) return;
    this.agentsSent = text;
    this.broadcast({ type: 'agents', agents });
  }

  /** The directory's list; undefined (and a log line) when it cannot be read now. */
  private readAgents(): Promise<AgentStatus[] | undefined> {
    return this.agents.list().catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'feed: the agents directory cannot be read now');
      return undefined;
    });
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.awaitAuth(ws));
  }

  private awaitAuth(ws: WebSocket): void {
    const timeout = setTimeout(() => ws.close(4401, 'no auth message'), AUTH_TIMEOUT_MS);
    ws.once('message', (data) => {
      clearTimeout(timeout);
      if (!this.authorised(data)) {
        ws.close(4401, 'unauthorized');
        return;
      }
      const client = new FeedClient(ws, () => this.metrics.feedCoalesced.inc(), () => {
        this.metrics.feedDropped.inc();
        this.log.warn('feed client dropped: more than 8 MiB unsent');
      });
      ws.on('close', () => {
        client.closed = true;
        this.clients.delete(client);
      });
      ws.on('message', () => undefined);
      this.welcome(client);
    });
    ws.on('error', () => ws.terminate());
  }

  /** The snapshot first; what happens while the store is read follows it, in order. */
  private welcome(client: FeedClient): void {
    const early: FeedMessage[] = [];
    this.waiting.add(early);
    void this.views.list().then(
      async (jobs) => {
        client.offer({ type: 'snapshot', jobs });
        const agents = await this.readAgents();
        if (agents) client.offer({ type: 'agents', agents });
      },
      (err) => this.log.error({ err: (err as Error).message }, 'feed snapshot failed'),
    ).finally(() => {
      this.waiting.delete(early);
      if (client.closed) return;
      early.forEach((m) => client.offer(m));
      this.clients.add(client);
    });
  }

  private authorised(data: unknown): boolean {
    try {
      const msg = JSON.parse(String(data)) as { type?: unknown; token?: unknown };
      return msg.type === 'auth' && typeof msg.token === 'string' && tokenMatches(msg.token, this.token());
    } catch {
      return false;
    }
  }

  private broadcast(msg: FeedMessage): void {
    for (const c of this.clients) c.offer(msg);
    for (const w of this.waiting) w.push(msg);
  }

  stats(): { clients: number; maxBufferedBytes: number } {
    let max = 0;
    for (const c of this.clients) max = Math.max(max, c.buffered);
    return { clients: this.clients.size, maxBufferedBytes: max };
  }

  close(): void {
    clearInterval(this.timer);
    clearInterval(this.agentsTimer);
    for (const c of this.clients) c.ws.close(1001, 'daemon stopping');
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}

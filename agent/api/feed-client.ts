import type { WebSocket } from 'ws';
import type { JobProgress, JobView, PartState, PartView } from '../jobs/job-types.js';
import type { AgentStatus } from '../fleet/agent-directory.js';

/** docs/api.md: past 1 MiB unsent a client gets coalesced updates; past 8 MiB it is closed (4408). */
export const COALESCE_BYTES = 1024 * 1024;
export const DROP_BYTES = 8 * 1024 * 1024;

export type FeedMessage =
  | { type: 'snapshot'; jobs: JobView[] }
  | { type: 'job'; job: JobView }
  | { type: 'progress'; id: string; progress: JobProgress }
  | { type: 'parts'; id: string; parts: PartView[] }
  | { type: 'agents'; agents: AgentStatus[] };

/**
 * One authenticated feed connection. While the socket drains, messages go straight out; while it
 * holds more than COALESCE_BYTES, only the latest job state, progress and part states per job are
 * kept (bounded by the number of jobs, not by time), and sent once the socket has drained.
 */
export class FeedClient {
  private readonly jobs = new Map<string, JobView>();
  private readonly progress = new Map<string, JobProgress>();
  private readonly parts = new Map<string, Map<number, PartState>>();
  /** The latest agents list: each one replaces the last, so only that one is kept. */
  private agents: AgentStatus[] | undefined;
  closed = false;

  constructor(
    readonly ws: WebSocket,
    private readonly onCoalesce: () => void,
    private readonly onDrop: () => void,
  ) {}

  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  offer(msg: FeedMessage): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > DROP_BYTES) return this.drop();
    if (this.ws.bufferedAmount > COALESCE_BYTES || this.pending()) {
      this.keep(msg);
      this.onCoalesce();
      return;
    }
    this.ws.send(JSON.stringify(msg));
  }

  /** Called periodically: sends what was kept once the socket has drained below the threshold. */
  flush(): void {
    if (this.closed || !this.pending()) return;
    if (this.ws.bufferedAmount > DROP_BYTES) return this.drop();
    if (this.ws.bufferedAmount > COALESCE_BYTES) return;
    for (const job of this.jobs.values()) this.ws.send(JSON.stringify({ type: 'job', job }));
    for (const [id, m] of this.parts) this.ws.send(JSON.stringify({ type: 'parts', id, parts: [...m].map(([n, state]) => ({ n, state })) }));
    for (const [id, progress] of this.progress) this.ws.send(JSON.stringify({ type: 'progress', id, progress }));
    if (this.agents) this.ws.send(JSON.stringify({ type: 'agents', agents: this.agents }));
    this.agents = undefined;
    this.jobs.clear();
    this.parts.clear();
    this.progress.clear();
  }

  private pending(): boolean {
    return this.jobs.size + this.progress.size + this.parts.size > 0 || this.agents !== undefined;
  }

  private keep(msg: FeedMessage): void {
    if (msg.type === 'job') this.jobs.set(msg.job.id, msg.job);
    else if (msg.type === 'progress') this.progress.set(msg.id, msg.progress);
    else if (msg.type === 'agents') this.agents = msg.agents;
    else if (msg.type === 'parts') {
      const m = this.parts.get(msg.id) ?? new Map<number, PartState>();
      for (const p of msg.parts) m.set(p.n, p.state);
      this.parts.set(msg.id, m);
    }
  }

  private drop(): void {
    this.closed = true;
    this.jobs.clear();
    this.progress.clear();
    this.parts.clear();
    this.agents = undefined;
    this.onDrop();
    this.ws.close(4408, 'client too slow');
    // A client that reads nothing never completes the close handshake.
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }
}

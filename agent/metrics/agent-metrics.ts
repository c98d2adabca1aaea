import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Direction = 'upload' | 'download';

/** Live values the gauges read at scrape time. */
export interface GaugeSources {
  /** Whether this agent exports the fleet-wide gauges now (one agent of a fleet does; an agent alone always). */
  exportsFleet(): boolean;
  jobsByState(): Record<string, number>;
  remainingBytes(): number;
  pool(): { utilisation: number; queueDepth: number };
  feed(): { clients: number; maxBufferedBytes: number };
  /** Cloud tasks of unfinished jobs by kind and the cloud's last reported state. */
  cloudTasks(): Array<{ kind: string; state: string; count: number }>;
}

const NONE: GaugeSources = {
  exportsFleet: () => true,
  jobsByState: () => ({}),
  remainingBytes: () => 0,
  pool: () => ({ utilisation: 0, queueDepth: 0 }),
  feed: () => ({ clients: 0, maxBufferedBytes: 0 }),
  cloudTasks: () => [],
};

// Part latency from a fraction of a second (small parts on loopback) to minutes (5 GiB parts on a slow link).
const LINT_BREAKING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const PART_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const CHECKPOINT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * Every metric the daemon exposes on /metrics, on a registry of its own. Names follow the
 * Prometheus conventions (base units, `_total` counters, `_seconds`/`_bytes`/`_ratio` suffixes);
 * labels never carry job ids, paths, keys or credentials, so cardinality stays fixed.
 * Issue #15 point 5: what one agent measures carries `agent` (its name); the gauges of the whole
 * store (jobs by state, cloud tasks) are the fleet's, without `agent`, and only one agent exports them.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  /** Gauges of the whole job store: the same on every agent of a fleet, so exported by one. */
  private readonly fleet = new Registry();
  private sources: GaugeSources = NONE;

  readonly readBytes = new Counter({ name: 'vmxfer_read_bytes_total', help: 'Bytes read from job sources (virtual disk bytes for uploads, object bytes for downloads).', labelNames: ['direction', 'store'], registers: [this.registry] });
  readonly writtenBytes = new Counter({ name: 'vmxfer_written_bytes_total', help: 'Bytes written to job destinations (confirmed parts for uploads, file bytes for downloads).', labelNames: ['direction', 'store'], registers: [this.registry] });
  readonly transferredBytes = new Counter({ name: 'vmxfer_transferred_bytes_total', help: 'Bytes sent to or received from object stores, retries included.', labelNames: ['direction', 'store'], registers: [this.registry] });
  readonly parts = new Counter({ name: 'vmxfer_parts_total', help: 'Upload parts by result: sent, skipped (already confirmed at resume) or failed.', labelNames: ['result'], registers: [this.registry] });
  readonly retries = new Counter({ name: 'vmxfer_retries_total', help: 'Store requests retried, by reason (error code).', labelNames: ['reason'], registers: [this.registry] });
  readonly partSeconds = new Histogram({ name: 'vmxfer_part_duration_seconds', help: 'Time to send one upload part or fetch one download range, retries included.', labelNames: ['direction', 'store'], buckets: PART_BUCKETS, registers: [this.registry] });
  readonly checkpointWrites = new Counter({ name: 'vmxfer_checkpoint_writes_total', help: 'Durable checkpoint and job-record writes.', labelNames: ['kind'], registers: [this.registry] });
  readonly checkpointSeconds = new Histogram({ name: 'vmxfer_checkpoint_write_duration_seconds', help: 'Time of one durable checkpoint or job-record write (write, fsync, rename, directory fsync).', labelNames: ['kind'], buckets: CHECKPOINT_BUCKETS, registers: [this.registry] });
  readonly feedCoalesced = new Counter({ name: 'vmxfer_feed_coalesced_messages_total', help: 'Feed messages folded into a later one because the client read too slowly.', registers: [this.registry] });
  readonly cloudTaskUpdates = new Counter({ name: 'vmxfer_cloud_task_updates_total', help: 'Cloud task status changes observed (import, export), by task kind and the cloud\'s state word.', labelNames: ['kind', 'state'], registers: [this.registry] });
  readonly feedDropped = new Counter({ name: 'vmxfer_feed_dropped_clients_total', help: 'Feed clients closed because their unsent data passed the limit.', registers: [this.registry] });

  constructor(readonly agent: string) {
    this.registry.setDefaultLabels({ agent });
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these three gauges with a `_total` suffix, which the exposition conventions
    // (and `promtool check metrics`) reserve for counters; the handle counts are not worth a lint error.
    for (const name of LINT_BREAKING_DEFAULTS) this.registry.removeSingleMetric(name);
    const self = this;
    new Gauge({
      name: 'vmxfer_jobs', help: 'Jobs in the store by state (the whole fleet\'s on a shared store).', labelNames: ['state'], registers: [this.fleet],
      collect() {
        this.reset();
        for (const [state, n] of Object.entries(self.sources.jobsByState())) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'vmxfer_cloud_tasks', help: 'Cloud tasks of unfinished jobs by kind and last reported state (the whole fleet\'s on a shared store).', labelNames: ['kind', 'state'], registers: [this.fleet],
      collect() {
        this.reset();
        for (const t of self.sources.cloudTasks()) this.set({ kind: t.kind, state: t.state }, t.count);
      },
    });
    this.gauge('vmxfer_remaining_bytes', 'Virtual bytes the active jobs still have to read.', () => this.sources.remainingBytes());
    this.gauge('vmxfer_worker_pool_utilization_ratio', 'Fraction of worker-thread time spent on conversion tasks since start.', () => this.sources.pool().utilisation);
    this.gauge('vmxfer_worker_pool_queued_tasks', 'Conversion tasks waiting for or running on a worker thread.', () => this.sources.pool().queueDepth);
    this.gauge('vmxfer_feed_clients', 'Authenticated WebSocket feed clients.', () => this.sources.feed().clients);
    this.gauge('vmxfer_feed_max_buffered_bytes', 'Largest amount of unsent feed data held for one client.', () => this.sources.feed().maxBufferedBytes);
  }

  private gauge(name: string, help: string, read: () => number): void {
    new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
  }

  setSources(sources: GaugeSources): void {
    this.sources = sources;
  }

  /** A checkpoint store's onSave hook for one kind of record. */
  onCheckpointSave(kind: 'upload' | 'download' | 'job'): (seconds: number) => void {
    return (seconds) => {
      this.checkpointWrites.inc({ kind });
      this.checkpointSeconds.observe({ kind }, seconds);
    };
  }

  async text(): Promise<string> {
    const own = await this.registry.metrics();
    return this.sources.exportsFleet() ? own + (await this.fleet.metrics()) : own;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

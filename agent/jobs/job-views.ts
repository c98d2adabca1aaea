import { EventEmitter } from 'node:events';
import type { JobStore } from './job-store.js';
import type { LiveProgress, LiveProgressEvents } from './live-progress.js';
import { jobView } from './job-view.js';
import { TERMINAL_STATES, type JobRecord, type JobState, type JobView } from './job-types.js';

export interface JobViewEvents extends LiveProgressEvents {
  job: [JobView];
}

/**
 * docs/api.md Job as the API and the feed show it: the store's record with the live progress of a
 * job this process runs laid over it. `job` events follow the store's changes, `progress` and
 * `parts` the live progress.
 */
export class JobViews extends EventEmitter<JobViewEvents> {
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: JobStore,
    private readonly live: LiveProgress,
  ) {
    super();
    this.unsubscribe = store.subscribe((c) => {
      if (c.type === 'put') this.emit('job', this.view(c.record));
    });
    live.on('progress', (id, progress) => this.emit('progress', id, progress));
    live.on('parts', (id, parts) => this.emit('parts', id, parts));
  }

  async list(states?: ReadonlySet<JobState>): Promise<JobView[]> {
    return (await this.store.list(states)).map((r) => this.view(r));
  }

  /** One job with its parts and throughput history. */
  async get(id: string): Promise<JobView | undefined> {
    const rec = await this.store.get(id);
    return rec && this.view(rec, true);
  }

  close(): void {
    this.unsubscribe();
  }

  private view(rec: JobRecord, detail = false): JobView {
    const progress = TERMINAL_STATES.has(rec.state) ? undefined : this.live.progress(rec.id);
    return jobView(progress ? { ...rec, progress } : rec, detail ? this.live.detail(rec.id) : undefined);
  }
}

import type { JobStore } from './job-store.js';
import { TERMINAL_STATES, type JobRecord } from './job-types.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';

type Entry = Pick<JobRecord, 'state'> & { cloudTask: CloudTaskStatus | null };

/** Jobs by state and the cloud tasks of unfinished ones, kept from the store's changes for /metrics. */
export class JobTally {
  private readonly jobs = new Map<string, Entry>();

  static async follow(store: JobStore): Promise<JobTally> {
    const tally = new JobTally();
    store.subscribe((c) => (c.type === 'put' ? tally.put(c.record) : c.type === 'removed' && tally.jobs.delete(c.id)));
    for (const r of await store.list()) tally.put(r);
    return tally;
  }

  private put(r: JobRecord): void {
    this.jobs.set(r.id, { state: r.state, cloudTask: r.cloudTask ?? null });
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const j of this.jobs.values()) out[j.state] = (out[j.state] ?? 0) + 1;
    return out;
  }

  cloudTasks(): Array<{ kind: string; state: string; count: number }> {
    const counts = new Map<string, { kind: string; state: string; count: number }>();
    for (const { cloudTask: t, state } of this.jobs.values()) {
      if (!t || TERMINAL_STATES.has(state)) continue;
      const k = `${t.kind}\u0000${t.state}`;
      const c = counts.get(k) ?? { kind: t.kind, state: t.state, count: 0 };
      c.count++;
      counts.set(k, c);
    }
    return [...counts.values()];
  }
}

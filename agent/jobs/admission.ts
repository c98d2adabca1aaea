import type { AdmissionLimits } from './job-store.js';
import { TERMINAL_STATES, type JobRecord } from './job-types.js';

/** Higher priority first; the input order (oldest first) within one priority. */
export function byPriority(records: readonly JobRecord[]): JobRecord[] {
  return records.map((r, i) => ({ r, i })).sort((a, b) => (b.r.priority ?? 0) - (a.r.priority ?? 0) || a.i - b.i).map((x) => x.r);
}

/** Whether `agent` may run the job: jobs with an affinity go to that agent only. */
export function mayRun(r: JobRecord, agent: string | undefined): boolean {
  return r.affinity === null || r.affinity === undefined || r.affinity === agent;
}

/** Running counts of a fleet: per destination key (every agent's jobs) and per agent name. */
export class RunningCounts {
  private readonly perKey = new Map<string, number>();
  private readonly perAgent = new Map<string, number>();

  constructor(records: readonly JobRecord[]) {
    for (const r of records) if (r.owner !== null && !TERMINAL_STATES.has(r.state)) this.add(r.destinationKey, r.agent ?? null);
  }

  /** Whether one more job of `key` may start for `agent` under `limits`. */
  allows(key: string, limits: AdmissionLimits): boolean {
    return (this.perAgent.get(limits.agent ?? '') ?? 0) < limits.global && (this.perKey.get(key) ?? 0) < limits.perDestination;
  }

  add(key: string, agent: string | null): void {
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    this.perAgent.set(agent ?? '', (this.perAgent.get(agent ?? '') ?? 0) + 1);
  }
}

/**
 * Which queued jobs a claim of `limits` may start, best first (priority, then FIFO): `global` is the
 * claiming agent's own slots (jobs running under its name; one daemon's store holds only its own, and a
 * fleet's cap is the fleet semaphore's, docs/fleet.md) and `perDestination` counts every agent's jobs
 * of a key. A job blocked by its destination or held for another agent does not block jobs behind it.
 * `records` is every record, oldest first.
 */
export function admit(records: readonly JobRecord[], limits: AdmissionLimits): JobRecord[] {
  const counts = new RunningCounts(records);
  const out: JobRecord[] = [];
  for (const r of byPriority(records)) {
    if (r.state !== 'queued' || r.owner !== null || !mayRun(r, limits.agent)) continue;
    if (!counts.allows(r.destinationKey, limits)) continue;
    counts.add(r.destinationKey, limits.agent ?? null);
    out.push(r);
  }
  return out;
}

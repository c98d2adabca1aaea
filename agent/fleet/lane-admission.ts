import { byPriority, mayRun } from '../jobs/admission.js';
import type { AdmissionLimits } from '../jobs/job-store.js';
import { TERMINAL_STATES, type JobRecord } from '../jobs/job-types.js';

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
 * The queued jobs a claim of `limits` may try, best first: AdmissionLimits read for a fleet, where
 * `global` is the claiming agent's own slots (jobs running under its name; the fleet-wide cap is
 * the fleet semaphore's, docs/fleet.md) and `perDestination` counts every agent's jobs of a key.
 */
export function candidates(records: readonly JobRecord[], limits: AdmissionLimits): JobRecord[] {
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

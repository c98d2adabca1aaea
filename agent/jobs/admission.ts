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

/**
 * Which queued jobs may start now: at most `global` claimed jobs in all and `perDestination` per
 * destination key. Priority first, then FIFO within those limits: a job blocked by its destination
 * or held for another agent does not block jobs behind it. `records` is every record, oldest first.
 */
export function admit(records: readonly JobRecord[], limits: AdmissionLimits): JobRecord[] {
  const running = records.filter((r) => r.owner !== null && !TERMINAL_STATES.has(r.state));
  const perKey = new Map<string, number>();
  for (const r of running) perKey.set(r.destinationKey, (perKey.get(r.destinationKey) ?? 0) + 1);
  let total = running.length;
  const out: JobRecord[] = [];
  for (const r of byPriority(records)) {
    if (total >= limits.global) break;
    if (r.state !== 'queued' || r.owner !== null || !mayRun(r, limits.agent)) continue;
    const n = perKey.get(r.destinationKey) ?? 0;
    if (n >= limits.perDestination) continue;
    perKey.set(r.destinationKey, n + 1);
    total++;
    out.push(r);
  }
  return out;
}

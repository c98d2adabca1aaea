import type { AdmissionLimits } from './job-store.js';
import { TERMINAL_STATES, type JobRecord } from './job-types.js';

/**
 * Which queued jobs may start now: at most `global` claimed jobs in all and `perDestination` per
 * destination key. FIFO within those limits: a job blocked by its destination does not block jobs
 * for other destinations behind it. `records` is every record, oldest first.
 */
export function admit(records: readonly JobRecord[], limits: AdmissionLimits): JobRecord[] {
  const running = records.filter((r) => r.owner !== null && !TERMINAL_STATES.has(r.state));
  const perKey = new Map<string, number>();
  for (const r of running) perKey.set(r.destinationKey, (perKey.get(r.destinationKey) ?? 0) + 1);
  let total = running.length;
  const out: JobRecord[] = [];
  for (const r of records) {
    if (total >= limits.global) break;
    if (r.state !== 'queued' || r.owner !== null) continue;
    const n = perKey.get(r.destinationKey) ?? 0;
    if (n >= limits.perDestination) continue;
    perKey.set(r.destinationKey, n + 1);
    total++;
    out.push(r);
  }
  return out;
}

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AgentConfig } from '../../agent/config/schema.js';
import { FileJobStore } from '../../agent/jobs/file-job-store.js';
import { JobService } from '../../agent/jobs/job-service.js';
import { LiveProgress } from '../../agent/jobs/live-progress.js';
import { AgentMetrics } from '../../agent/metrics/agent-metrics.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import type { FleetSemaphore } from '../../agent/fleet/fleet-semaphore.js';
import type { RunContext } from '../../agent/jobs/run-context.js';
import type { JobRecord, JobRequest } from '../../agent/jobs/job-types.js';
import { maxOverlap } from './fleet-semaphore-conformance.js';

/** One agent of test (c): its own job service and file job store under `stateDir`, on the given semaphore. */
export interface FleetAgent {
  service: JobService;
  store: FileJobStore;
  logs: string[];
}

export async function fleetAgent(name: string, config: AgentConfig, semaphore: FleetSemaphore): Promise<FleetAgent> {
  await mkdir(config.state_dir, { recursive: true });
  const ctx: RunContext = { config, checkpoints: new FileCheckpointStore<UploadCheckpoint>(join(config.state_dir, 'checkpoints'), isUploadCheckpoint), metrics: new AgentMetrics(name), bandwidth: undefined, semaphore };
  const store = await FileJobStore.open(join(config.state_dir, 'jobs'));
  const logs: string[] = [];
  const service = new JobService(store, new LiveProgress(), ctx, pino({ level: 'info' }, { write: (l: string) => void logs.push(l) }), undefined, `agent-${name}`);
  await service.start();
  return { service, store, logs };
}

async function finished(store: FileJobStore, id: string): Promise<JobRecord> {
  for (;;) {
    const rec = await store.get(id);
    if (rec && ['completed', 'failed', 'cancelled'].includes(rec.state)) return rec;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Submits the jobs round-robin over the agents and waits for each one's end. */
export async function runJobs(agents: FleetAgent[], jobs: JobRequest[]): Promise<JobRecord[]> {
  const submitted = await Promise.all(jobs.map(async (job, i) => {
    const a = agents[i % agents.length]!;
    return { id: (await a.service.submit(job)).id, store: a.store };
  }));
  return Promise.all(submitted.map((s) => finished(s.store, s.id)));
}

/** The most tasks running at once by the fake's own clock (start: the creating call; end: the answer reporting the end). */
export function mostAtOnce(entries: ReadonlyArray<{ start: number; end?: number | undefined }>): number {
  return maxOverlap(entries.map((e) => ({ start: e.start, end: e.end ?? Number.POSITIVE_INFINITY })));
}

/** Log lines of a task that waited for its slot (cloudTask Queued). */
export function queuedLines(agents: FleetAgent[]): unknown[] {
  return agents.flatMap((a) => a.logs).map((l) => JSON.parse(l) as { msg: string; state?: string }).filter((l) => l.msg === 'cloud task' && l.state === 'Queued');
}

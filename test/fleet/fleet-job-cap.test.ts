import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULTS } from '../../agent/config/schema.js';
import { FileJobStore } from '../../agent/jobs/file-job-store.js';
import { JobService, type JobRunner } from '../../agent/jobs/job-service.js';
import { LiveProgress } from '../../agent/jobs/live-progress.js';
import type { RunContext } from '../../agent/jobs/run-context.js';
import type { JobRecord, JobRequest, JobResult } from '../../agent/jobs/job-types.js';
import type { FleetSemaphore } from '../../agent/fleet/fleet-semaphore.js';
import { LocalFleetSemaphore } from '../../agent/fleet/fleet-semaphore-local.js';
import { RedisFleetSemaphore } from '../../agent/fleet/fleet-semaphore-redis.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { maxOverlap, type Hold } from './fleet-semaphore-conformance.js';

const RESULT: JobResult = { etag: '"e"', objectSize: 3, sourceSha256: null, outputSha256: null, seconds: 0 };
const CAP = 2;

interface Agent {
  service: JobService;
  store: FileJobStore;
  logs: string[];
  dir: string;
}

/** An agent whose runs take about 120 ms (or until cancelled) and record when they ran. */
async function agent(semaphore: FleetSemaphore, ran: Hold[], runIds: string[]): Promise<Agent> {
  const dir = await mkdtemp(join(tmpdir(), 'vmxfer-fleetcap-'));
  const store = await FileJobStore.open(dir);
  const logs: string[] = [];
  const ctx = { config: { ...DEFAULTS, jobs: { ...DEFAULTS.jobs, max_concurrent: 10, per_destination: 10 }, fleet: { ...DEFAULTS.fleet, max_concurrent: CAP } }, semaphore } as RunContext;
  const run: JobRunner['run'] = async (job, _ctx, r) => {
    runIds.push(job.id);
    const start = Date.now();
    r.onValidated();
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, 120);
      r.signal.addEventListener('abort', () => (clearTimeout(t), reject(r.signal.reason)), { once: true });
    });
    ran.push({ start, end: Date.now() });
    return RESULT;
  };
  const runner: JobRunner = { run, cleanup: async () => undefined, cancelCloudTask: async () => undefined };
  const service = new JobService(store, new LiveProgress(), ctx, pino({ level: 'info' }, { write: (l: string) => void logs.push(l) }), runner);
  await service.start();
  return { service, store, logs, dir };
}

const job = (i: number): JobRequest => ({ kind: 'upload', source: `/images/d${i}.vmdk`, destination: `s3://b${i}/d.vmdk`, format: 'vmdk', options: {} });

async function ended(store: FileJobStore, id: string): Promise<JobRecord> {
  for (;;) {
    const rec = await store.get(id);
    if (rec && ['completed', 'failed', 'cancelled'].includes(rec.state)) return rec;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function wave(agents: Agent[], ran: Hold[]): Promise<void> {
  const ids = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
    const a = agents[i % agents.length]!;
    return { a, id: (await a.service.submit(job(i))).id };
  }));
  const recs = await Promise.all(ids.map(({ a, id }) => ended(a.store, id)));
  assert.deepEqual(recs.map((r) => r.state), Array(6).fill('completed'));
  assert.equal(ran.length, 6);
  const max = maxOverlap(ran);
  assert.ok(max <= CAP, `${max} jobs ran at once; fleet.max_concurrent is ${CAP}`);
  assert.equal(max, CAP, 'the cap is used');
  assert.ok(agents.some((a) => a.logs.some((l) => l.includes('waiting for a fleet-wide job slot'))), 'a waiting job says so in the log');
}

async function close(agents: Agent[]): Promise<void> {
  for (const a of agents) {
    await a.service.shutdown(1000);
    await rm(a.dir, { recursive: true, force: true });
  }
}

test('fleet.max_concurrent, one agent with the in-process semaphore: 6 jobs, jobs.max_concurrent 10, never more than 2 run', async () => {
  const ran: Hold[] = [];
  const agents = [await agent(new LocalFleetSemaphore(), ran, [])];
  try {
    await wave(agents, ran);
  } finally {
    await close(agents);
  }
});

test('fleet.max_concurrent across two agents sharing the Redis semaphore: never more than 2 run in all; a job cancelled while it waits never runs', async () => {
  const redis = await ensureRedis();
  const prefix = redisPrefix('job-cap');
  const sems = [RedisFleetSemaphore.open(redis.url, { prefix, leaseMs: 5000 }), RedisFleetSemaphore.open(redis.url, { prefix, leaseMs: 5000 })];
  const ran: Hold[] = [];
  const runIds: string[] = [];
  const agents = [await agent(sems[0]!, ran, runIds), await agent(sems[1]!, ran, runIds)];
  try {
    await wave(agents, ran);
    // Two long holders fill the cap; a third job waits, and its cancel ends the wait.
    const held = await Promise.all([sems[0]!.acquire('fleet:jobs', CAP, 'other'), sems[1]!.acquire('fleet:jobs', CAP, 'other')]);
    const waiting = await agents[1]!.service.submit(job(9));
    await new Promise((r) => setTimeout(r, 200));
    await agents[1]!.service.cancel(waiting.id);
    const rec = await ended(agents[1]!.store, waiting.id);
    assert.equal(rec.state, 'cancelled');
    assert.ok(!runIds.includes(waiting.id), 'the cancelled job never ran');
    await Promise.all(held.map((h) => h.release()));
    assert.deepEqual(await sems[0]!.holders('fleet:jobs'), [], 'no slot left taken');
  } finally {
    await close(agents);
    await Promise.all(sems.map((s) => s.close()));
  }
});

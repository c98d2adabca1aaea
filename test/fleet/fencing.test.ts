import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { DEFAULTS } from '../../agent/config/schema.js';
import { RedisJobStore } from '../../agent/fleet/redis-job-store.js';
import { openRedis } from '../../agent/fleet/redis-connection.js';
import { JobService, type JobRunner } from '../../agent/jobs/job-service.js';
import { LiveProgress } from '../../agent/jobs/live-progress.js';
import type { RunContext } from '../../agent/jobs/run-context.js';
import type { JobChange } from '../../agent/jobs/job-store.js';
import type { JobRecord, JobResult } from '../../agent/jobs/job-types.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { tcpPartition } from '../helpers/tcp-partition.js';

const RESULT: JobResult = { etag: '"e"', objectSize: 3, sourceSha256: null, outputSha256: null, seconds: 0 };
const LEASE_MS = 2000;

async function until<T>(what: string, read: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await read();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function agent(store: RedisJobStore, name: string, run: JobRunner['run']) {
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const ctx = { config: { ...DEFAULTS, jobs: { ...DEFAULTS.jobs, max_concurrent: 2 } }, agentName: name } as RunContext;
  const service = new JobService(store, new LiveProgress(), ctx, log, { run, cleanup: async () => undefined, cancelCloudTask: async () => undefined }, `${name}-runner`);
  return { service, logs };
}

test('fencing (real Redis, BullMQ): agent A cut off past its lease loses its job to B; back, A completes nothing and writes nothing', async () => {
  const { url, port } = await ensureRedis();
  const prefix = redisPrefix('fencing');
  const partition = await tcpPartition(port);
  const storeA = await RedisJobStore.open({ url: `redis://127.0.0.1:${partition.port}`, prefix, leaseMs: LEASE_MS });
  const storeB = await RedisJobStore.open({ url, prefix, leaseMs: LEASE_MS });
  const effects: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let startedA!: () => void;
  const runningA = new Promise<void>((r) => (startedA = r));
  // A's run: checks, then (after the test lets it) the lease check that precedes CompleteMultipartUpload.
  const a = agent(storeA, 'agent-a', async (_job, _ctx, run) => {
    run.onValidated();
    startedA();
    await gate;
    await run.fence();
    effects.push('A completed the upload');
    return RESULT;
  });
  const b = agent(storeB, 'agent-b', async (_job, _ctx, run) => {
    run.onValidated();
    await run.fence();
    effects.push('B completed the upload');
    return RESULT;
  });
  const seen: JobRecord[] = [];
  const stop = storeB.subscribe((c: JobChange) => void (c.type === 'put' && seen.push(c.record)));
  try {
    await a.service.start();
    const job = await a.service.submit({ kind: 'upload', source: '/images/d.vmdk', destination: 's3://bucket/d.vmdk', format: 'vmdk', options: {} });
    await runningA;
    await until('A active', async () => ((await storeB.get(job.id))?.state === 'active' ? true : undefined));
    await b.service.start();
    partition.cut();
    const done = await until('B completed the job', async () => {
      const r = await storeB.get(job.id);
      return r?.state === 'completed' ? r : undefined;
    });
    assert.equal(done.agent, 'agent-b');
    partition.heal();
    release();
    await until('A stopped', async () => (a.logs.some((l) => l.includes('taken over by another runner')) ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(effects, ['B completed the upload'], 'A never passed its fence');
    const after = await storeB.get(job.id);
    assert.equal(after?.version, done.version, 'A wrote nothing after the takeover');
    assert.equal(after?.state, 'completed');
    const takeover = seen.findIndex((r) => r.owner === 'agent-b-runner');
    assert.ok(takeover > 0, 'B claimed the job');
    assert.deepEqual(seen.slice(takeover).filter((r) => r.owner === 'agent-a-runner'), [], 'no record of A after B took over');
    assert.ok(a.logs.some((l) => l.includes('"code":"JOB_FENCED"') || l.includes('another runner has it now')), 'A was fenced');
  } finally {
    partition.heal();
    release();
    stop();
    await Promise.all([a.service.shutdown(2000), b.service.shutdown(2000)]);
    await Promise.all([storeA.close(), storeB.close()]);
    await partition.close();
    const conn = openRedis(url, 'engine');
    const keys = await conn.keys(`${prefix}:*`);
    if (keys.length) await conn.del(...keys);
    conn.disconnect();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { RedisJobStore } from '../../agent/fleet/redis-job-store.js';
import { openRedis } from '../../agent/fleet/redis-connection.js';
import type { JobStore } from '../../agent/jobs/job-store.js';
import { TERMINAL_STATES } from '../../agent/jobs/job-types.js';
import { jobStoreConformance } from '../jobs/job-store-conformance.js';
import { newRecord } from '../jobs/job-record-fixture.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A short lease, so that the crash tests wait seconds for the engine to see a lapsed lock, not a minute. */
const TEST_LEASE_MS = 1600;

/**
 * Waits until no running record of `store` has an engine job still active under a dead lock: a lease
 * store hands a crashed owner's jobs back only when its lease ran out (FileJobStore: at once).
 */
async function leaseLapsed(store: JobStore): Promise<void> {
  const until = Date.now() + TEST_LEASE_MS * 4;
  await new Promise((r) => setTimeout(r, TEST_LEASE_MS));
  for (;;) {
    const records = (await store.list()).filter((r) => r.owner !== null && !TERMINAL_STATES.has(r.state));
    const probe = (await Promise.all(records.map((r) => (store as RedisJobStore).engineState(r)))).every((s) => s !== 'active');
    if (probe || Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function dropKeys(conn: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await conn.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await conn.del(...keys);
  } while (cursor !== '0');
}

jobStoreConformance('RedisJobStore (real Redis, BullMQ)', async () => {
  const { url } = await ensureRedis();
  const prefix = redisPrefix('jobstore');
  const open = () => RedisJobStore.open({ url, prefix, leaseMs: TEST_LEASE_MS });
  const first = await open();
  const stores = [first];
  return {
    store: first,
    reopenAfterCrash: async () => {
      // The owner dies without a word: its connections drop, its locks stay until the lease runs out.
      for (const s of stores) await s.abandon();
      const s = await open();
      stores.push(s);
      await leaseLapsed(s);
      return s;
    },
    spawnWriter: () => spawn(process.execPath, [join(here, 'redis-job-store-writer.js'), url, prefix], { stdio: ['ignore', 'pipe', 'inherit'] }),
    dispose: async () => {
      await Promise.all(stores.map((s) => s.close()));
      const conn = openRedis(url, 'engine');
      await dropKeys(conn, prefix);
      conn.disconnect();
    },
  };
});

/** Two agents' stores on one prefix, and their removal. */
async function fleetOfTwo(label: string) {
  const { url } = await ensureRedis();
  const prefix = redisPrefix(label);
  const a = await RedisJobStore.open({ url, prefix, leaseMs: TEST_LEASE_MS });
  const b = await RedisJobStore.open({ url, prefix, leaseMs: TEST_LEASE_MS });
  return {
    a, b,
    dispose: async () => {
      await Promise.all([a.close(), b.close()]);
      const conn = openRedis(url, 'engine');
      await dropKeys(conn, prefix);
      conn.disconnect();
    },
  };
}

test('RedisJobStore: an agent that stops hands its running jobs to the fleet at once (no lease to wait out); another agent claims them', async () => {
  const f = await fleetOfTwo('handover');
  try {
    const jobs = [await f.a.create(newRecord()), await f.a.create(newRecord({ destinationKey: 's3://other@x' }))];
    assert.equal((await f.a.claim('runner-a', { global: 5, perDestination: 5, agent: 'agent-a' })).length, 2);
    const t0 = Date.now();
    await f.a.close();
    const got = await f.b.claim('runner-b', { global: 5, perDestination: 5, agent: 'agent-b' });
    assert.deepEqual(got.map((r) => r.id).sort(), jobs.map((r) => r.id).sort());
    assert.ok(Date.now() - t0 < TEST_LEASE_MS, 'handed over before any lease could run out');
    assert.ok(got.every((r) => r.owner === 'runner-b' && r.agent === 'agent-b'));
  } finally {
    await f.dispose();
  }
});

test("RedisJobStore: a dead agent's lease lapses in the engine; another agent hears 'orphaned' within the lease, recovers and claims the job", async () => {
  const f = await fleetOfTwo('lapse');
  try {
    const job = await f.a.create(newRecord());
    await f.a.claim('runner-a', { global: 5, perDestination: 5, agent: 'agent-a' });
    const heard = new Promise<number>((resolve, reject) => {
      f.b.subscribe((c) => c.type === 'orphaned' && c.id === job.id && resolve(Date.now()));
      setTimeout(() => reject(new Error('no agent heard of the lapsed lease')), TEST_LEASE_MS * 4).unref();
    });
    const t0 = Date.now();
    await f.a.abandon();
    const after = (await heard) - t0;
    assert.ok(after <= TEST_LEASE_MS * 1.5, `heard after ${after} ms, lease ${TEST_LEASE_MS} ms`);
    assert.deepEqual(await f.b.recover(), [{ id: job.id, was: 'validating' }]);
    const [got] = await f.b.claim('runner-b', { global: 5, perDestination: 5, agent: 'agent-b' });
    assert.equal(got?.id, job.id);
    assert.equal(got?.version, 4, 'created, claimed by A, put back, claimed by B: the version a fenced A would have to match moved on');
  } finally {
    await f.dispose();
  }
});

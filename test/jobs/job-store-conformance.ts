import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { JobChange, JobStore } from '../../agent/jobs/job-store.js';
import { TERMINAL_STATES, type JobRecord } from '../../agent/jobs/job-types.js';
import { isJobId } from '../../agent/jobs/job-id.js';
import { newRecord } from './job-record-fixture.js';

/** One store under test over a backing of its own. */
export interface StoreUnderTest {
  store: JobStore;
  /**
   * Another store over the same backing, as a runner opens it after the runner that used `store`
   * died without a word (kill -9, a lost node): whatever `store` owned has no live owner any more.
   */
  reopenAfterCrash(): Promise<JobStore>;
  /** A process writing to the same backing that prints `<id> <version>` after each write resolves. */
  spawnWriter(): ChildProcess;
  dispose(): Promise<void>;
}

const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;

/** Running (claimed, not finished) jobs per destination key, and in all. */
function running(records: JobRecord[]): { total: number; perKey: Map<string, number> } {
  const perKey = new Map<string, number>();
  const live = records.filter((r) => r.owner !== null && !TERMINAL_STATES.has(r.state));
  for (const r of live) perKey.set(r.destinationKey, (perKey.get(r.destinationKey) ?? 0) + 1);
  return { total: live.length, perKey };
}

async function createMany(store: JobStore, n: number, keys: string[]): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  for (let i = 0; i < n; i++) out.push(await store.create(newRecord({ destinationKey: keys[i % keys.length]! })));
  return out;
}

/** The JobStore contract (agent/jobs/job-store.ts); every implementation runs it. */
export function jobStoreConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  const withStore = (title: string, fn: (s: StoreUnderTest) => Promise<void>) =>
    test(`JobStore conformance (${name}): ${title}`, async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.dispose();
      }
    });

  withStore('a created record reads back at version 1 without owner; list is oldest first and filters by state; a taken id is refused', async ({ store }) => {
    const [a, b, c] = await createMany(store, 3, ['k']);
    const got = await store.get(b!.id);
    assert.equal(got?.version, 1);
    assert.equal(got?.owner, null);
    assert.ok(isJobId(got!.id));
    assert.deepEqual(got, b);
    assert.deepEqual((await store.list()).map((r) => r.id), [a!.id, b!.id, c!.id]);
    await store.update(c!.id, 1, { ...c!, state: 'failed' });
    assert.deepEqual((await store.list(new Set(['failed']))).map((r) => r.id), [c!.id]);
    await assert.rejects(store.create(newRecord({ id: a!.id })), code('JOB_DUPLICATE_ID'));
    assert.equal(await store.get('0190a6b0-0000-7000-8000-000000000000'), undefined);
  });

  withStore('two competing claimers never get the same job (8 claimers, 40 concurrent claims, 60 jobs)', async ({ store }) => {
    const jobs = await createMany(store, 60, ['a', 'b', 'c', 'd']);
    const owners = Array.from({ length: 8 }, (_, i) => `runner-${i}`);
    const rounds = await Promise.all(owners.flatMap((o) => Array.from({ length: 5 }, () => store.claim(o, { global: 1000, perDestination: 1000 }).then((rs) => rs.map((r) => [o, r] as const)))));
    const claimed = rounds.flat();
    assert.equal(new Set(claimed.map(([, r]) => r.id)).size, claimed.length, 'no job claimed twice');
    assert.equal(claimed.length, jobs.length, 'every queued job claimed once');
    for (const [owner, r] of claimed) {
      assert.equal(r.state, 'validating');
      assert.equal((await store.get(r.id))?.owner, owner);
    }
    assert.deepEqual(await Promise.all(owners.map((o) => store.claim(o, { global: 1000, perDestination: 1000 }))), owners.map(() => []));
  });

  withStore('admission limits hold under concurrent claims, global and per destination, as jobs finish', async ({ store }) => {
    await createMany(store, 30, ['a', 'b', 'c']);
    const limits = { global: 5, perDestination: 2 };
    for (let round = 0; round < 6; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.claim(`runner-${i}`, limits)));
      const { total, perKey } = running(await store.list());
      assert.ok(total <= limits.global, `round ${round}: ${total} running, global limit ${limits.global}`);
      for (const [k, n] of perKey) assert.ok(n <= limits.perDestination, `round ${round}: ${n} running for ${k}`);
      assert.equal(total, 5, `round ${round}: the limits are used, not only respected`);
      const [first] = (await store.list()).filter((r) => r.owner !== null && !TERMINAL_STATES.has(r.state));
      await store.update(first!.id, first!.version, { ...first!, state: 'completed', owner: null });
    }
  });

  withStore('claims take higher priority first, oldest first within one priority, and set the claiming agent', async ({ store }) => {
    const low = await store.create(newRecord({ priority: -5 }));
    const plain = await store.create(newRecord());
    const high = await store.create(newRecord({ priority: 10 }));
    const plain2 = await store.create(newRecord({ priority: 0 }));
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [r] = await store.claim(`runner-${i}`, { global: i + 1, perDestination: 10, agent: 'agent-a' });
      assert.equal(r?.agent, 'agent-a');
      assert.equal((await store.get(r!.id))?.agent, 'agent-a');
      order.push(r!.id);
    }
    assert.deepEqual(order, [high.id, plain.id, plain2.id, low.id]);
  });

  withStore("a job with an affinity is claimed by that agent only, and does not hold back the jobs behind it", async ({ store }) => {
    const pinned = await store.create(newRecord({ affinity: 'agent-c' }));
    const free = await store.create(newRecord());
    assert.deepEqual((await store.claim('runner-a', { global: 10, perDestination: 10, agent: 'agent-a' })).map((r) => r.id), [free.id]);
    assert.deepEqual(await store.claim('runner-b', { global: 10, perDestination: 10 }), [], 'a claimer without a name takes no pinned job');
    const [got] = await store.claim('runner-c', { global: 10, perDestination: 10, agent: 'agent-c' });
    assert.equal(got?.id, pinned.id);
    assert.equal(got?.agent, 'agent-c');
  });

  withStore('a compare-and-set conflict is detected: a stale writer gets JOB_CONFLICT, of two racing writers one wins', async ({ store }) => {
    const rec = await store.create(newRecord());
    const v2 = await store.update(rec.id, 1, { ...rec, attempts: 1 });
    assert.equal(v2.version, 2);
    await assert.rejects(store.update(rec.id, 1, { ...rec, attempts: 99 }), (err: unknown) => code('JOB_CONFLICT')(err) && (err as Error).name === 'RemoteError');
    assert.equal((await store.get(rec.id))?.attempts, 1, 'the refused write left nothing');
    const race = await Promise.allSettled([2, 2, 2].map((v, i) => store.update(rec.id, v, { ...rec, attempts: 10 + i })));
    assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1);
    assert.ok(race.filter((r) => r.status === 'rejected').every((r) => code('JOB_CONFLICT')((r as PromiseRejectedResult).reason)));
    assert.equal((await store.get(rec.id))?.version, 3);
    await assert.rejects(store.update('0190a6b0-0000-7000-8000-000000000000', 1, rec), code('JOB_NOT_FOUND'));
  });

  withStore('a cancel request reaches the owner: a change naming it, and JOB_CONFLICT on its next write', async ({ store }) => {
    await store.create(newRecord());
    const [mine] = await store.claim('owner-a', { global: 10, perDestination: 10 });
    const seen: JobChange[] = [];
    const stop = store.subscribe((c) => seen.push(c));
    const requested = await store.requestCancel(mine!.id);
    stop();
    assert.equal(requested.state, 'cancelling');
    assert.equal(requested.owner, 'owner-a', 'the job stays with its owner, which finishes the cancel');
    assert.ok(seen.some((c) => c.type === 'put' && c.record.id === mine!.id && c.record.state === 'cancelling' && c.record.owner === 'owner-a'));
    await assert.rejects(store.update(mine!.id, mine!.version, { ...mine!, state: 'active' }), code('JOB_CONFLICT'));
    const again = await store.requestCancel(mine!.id);
    assert.equal(again.version, requested.version, 'asking twice changes nothing');
    const queued = await store.create(newRecord());
    assert.equal((await store.requestCancel(queued.id)).owner, null, 'a queued job has nobody to tell');
    assert.deepEqual(await store.claim('owner-b', { global: 10, perDestination: 10 }), [], 'a cancelling job is not claimed');
    const done = await store.create(newRecord({ state: 'completed' }));
    await assert.rejects(store.requestCancel(done.id), code('JOB_NOT_CANCELLABLE'));
    await assert.rejects(store.requestCancel('0190a6b0-0000-7000-8000-000000000000'), code('JOB_NOT_FOUND'));
  });

  withStore("a crashed owner's jobs become claimable again; its cancels lose their owner", async (s) => {
    const [a, b, c] = await createMany(s.store, 3, ['k']);
    await s.store.claim('dead-runner', { global: 10, perDestination: 10 });
    const active = (await s.store.get(b!.id))!;
    await s.store.update(b!.id, active.version, { ...active, state: 'active', phase: 'uploading' });
    await s.store.requestCancel(c!.id);
    const store = await s.reopenAfterCrash();
    assert.deepEqual(await store.claim('new-runner', { global: 10, perDestination: 10 }), [], 'not before recovery');
    const recovered = await store.recover();
    assert.deepEqual(recovered.map((r) => [r.id, r.was]).sort(), [[a!.id, 'validating'], [b!.id, 'active'], [c!.id, 'cancelling']].sort());
    assert.deepEqual({ ...(await store.get(b!.id))!, version: 0 }, { ...(await store.get(b!.id))!, version: 0, state: 'queued', owner: null, phase: null });
    assert.deepEqual((await store.claim('new-runner', { global: 10, perDestination: 10 })).map((r) => r.id).sort(), [a!.id, b!.id].sort());
    const cancelling = (await store.get(c!.id))!;
    assert.equal(cancelling.state, 'cancelling');
    assert.equal(cancelling.owner, null);
    assert.deepEqual(await store.recover(), [], 'the new runner is alive: nothing of it is recovered');
  });

  withStore('records survive kill -9 of the writing process: every write it reported is there', async (s) => {
    const child = s.spawnWriter();
    const last = new Map<string, number>();
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (c) => reject(new Error(`the writer exited on its own (${c})`)));
      lines.on('line', (line) => {
        const [id, v] = line.split(' ');
        last.set(id!, Number(v));
        if (last.size >= 25) resolve();
      });
    });
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const store = await s.reopenAfterCrash();
    for (const [id, v] of last) {
      const rec = await store.get(id);
      assert.ok(rec, `job ${id} is there`);
      assert.ok(rec.version >= v, `job ${id} at version ${rec.version}, the writer reported ${v}`);
    }
    const all = await store.list();
    assert.ok(all.length >= last.size && all.length <= last.size + 1, `${all.length} records for ${last.size} reported creates (at most one unreported)`);
  });

  withStore('the change stream carries every write and removal in order, until unsubscribed', async ({ store }) => {
    const seen: string[] = [];
    const stop = store.subscribe((c) => seen.push(c.type === 'put' ? `put ${c.record.version} ${c.record.state}` : 'removed'));
    const rec = await store.create(newRecord());
    const v2 = await store.update(rec.id, 1, { ...rec, state: 'failed', finishedAt: new Date().toISOString() });
    await store.remove(rec.id);
    stop();
    await store.create(newRecord());
    assert.deepEqual(seen, ['put 1 queued', `put ${v2.version} failed`, 'removed']);
  });

  withStore('remove takes a record out for good; removing an unknown id is no error', async (s) => {
    const [a, b] = await createMany(s.store, 2, ['k']);
    await s.store.remove(a!.id);
    await s.store.remove(a!.id);
    assert.equal(await s.store.get(a!.id), undefined);
    assert.deepEqual((await s.store.list()).map((r) => r.id), [b!.id]);
    const store = await s.reopenAfterCrash();
    assert.deepEqual((await store.list()).map((r) => r.id), [b!.id], 'the removal is durable');
  });
}

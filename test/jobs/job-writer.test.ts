import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FileJobStore } from '../../agent/jobs/file-job-store.js';
import { JobWriter } from '../../agent/jobs/job-writer.js';
import type { JobRecord } from '../../agent/jobs/job-types.js';
import { newRecord } from './job-record-fixture.js';

test('JobWriter: a write that meets a cancel request (JOB_CONFLICT) hands the request to the owner and lands on the stored version', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmxfer-jobwriter-'));
  const store = await FileJobStore.open(dir);
  try {
    await store.create(newRecord());
    const [rec] = await store.claim('owner', { global: 1, perDestination: 1 });
    // A cancel the owner has not heard of yet (a shared store's change arrives late): its version is stale.
    await store.requestCancel(rec!.id);
    const told: JobRecord[] = [];
    const errors: string[] = [];
    const writer = new JobWriter(store, (stored) => {
      told.push(stored);
      rec!.state = 'cancelling';
    }, pino({ level: 'error' }, { write: (l: string) => void errors.push(l) }));
    rec!.state = 'active';
    await writer.write(rec!);
    assert.deepEqual(told.map((r) => r.state), ['cancelling']);
    assert.deepEqual(errors, []);
    const stored = (await store.get(rec!.id))!;
    assert.equal(stored.state, 'cancelling', 'the cancel is not written over');
    assert.equal(stored.version, rec!.version);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('JobWriter: a job taken over by another owner (version and owner moved on) is fenced: JOB_FENCED, nothing written, ever', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmxfer-jobwriter-'));
  const store = await FileJobStore.open(dir);
  try {
    await store.create(newRecord());
    const [rec] = await store.claim('owner-a', { global: 1, perDestination: 1 });
    const fenced: string[] = [];
    const writer = new JobWriter(store, () => undefined, pino({ level: 'silent' }), 'owner-a', (id) => fenced.push(id));
    writer.own(rec!.id);
    rec!.state = 'active';
    await writer.touch(rec!);
    // Owner A's lease ran out: the store put the job back and owner B claimed it (both moved the version on).
    const taken = (await store.get(rec!.id))!;
    const b = await store.update(taken.id, taken.version, { ...taken, owner: 'owner-b', agent: 'agent-b' });
    await assert.rejects(writer.touch(rec!), (e: { code?: string }) => e.code === 'JOB_FENCED');
    assert.deepEqual(fenced, [rec!.id]);
    rec!.state = 'completed';
    await writer.write(rec!);
    assert.deepEqual(await store.get(rec!.id), b, "owner B's record stands: A wrote nothing");
    assert.equal(writer.isFenced(rec!.id), true);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

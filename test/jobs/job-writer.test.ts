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

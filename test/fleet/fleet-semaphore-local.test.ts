import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalFleetSemaphore } from '../../agent/fleet/fleet-semaphore-local.js';
import { semaphoreConformance } from './fleet-semaphore-conformance.js';

// One agent: every "open" is the same process-wide semaphore, as the daemon's jobs share it.
const shared = new LocalFleetSemaphore();
semaphoreConformance({ name: 'in-process', open: async () => Object.assign(Object.create(shared) as LocalFleetSemaphore, { close: async () => undefined }) });

test('in-process semaphore: waiters are admitted in arrival order', async () => {
  const sem = new LocalFleetSemaphore();
  const first = await sem.acquire('k', 1, 'a');
  const order: string[] = [];
  const waits = ['b', 'c', 'd'].map((h) => sem.acquire('k', 1, h).then(async (l) => {
    order.push(h);
    await l.release();
  }));
  assert.equal(sem.waiting('k'), 3);
  await first.release();
  await Promise.all(waits);
  assert.deepEqual(order, ['b', 'c', 'd']);
});

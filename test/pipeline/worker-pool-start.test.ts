import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../agent/pipeline/worker-pool.js';

const piscinaOf = (pool: WorkerPool) => (pool as unknown as { piscinaPool?: unknown }).piscinaPool;

test('the worker pool starts its threads with the first task: a run with nothing to encode starts none, so none is torn down while loading', async () => {
  const idle = new WorkerPool(2);
  assert.equal(piscinaOf(idle), undefined, 'no threads before a task');
  await idle.destroy();
  assert.equal(piscinaOf(idle), undefined, 'destroying an unused pool starts nothing');

  const used = new WorkerPool(1);
  const memory = new SharedArrayBuffer(4096);
  new Uint8Array(memory).fill(1);
  const sum = await used.run<number>({ task: 'byte-sum', memory, byteOffset: 0, length: 4096 });
  assert.equal(sum, 4096, 'the task ran on a worker');
  assert.ok(piscinaOf(used), 'the first task started the threads');
  await used.destroy();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHUNK_WORKER_ENTRY, WorkerPool } from '../../agent/pipeline/worker-pool.js';

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

test('each thread loads a CommonJS entry, so Piscina never links an ES module synchronously through require() (the Node 20 IsGraphAsync abort)', async () => {
  const entry = fileURLToPath(CHUNK_WORKER_ENTRY);
  // Without require(esm), require() of an ES module throws ERR_REQUIRE_ESM: the entry must load anyway.
  const script = `require(${JSON.stringify(entry)}); console.log(typeof require(${JSON.stringify(entry)}))`;
  const r = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'function', 'the entry exports the task runner');

  const pool = new WorkerPool(2);
  const memory = new SharedArrayBuffer(4096);
  new Uint8Array(memory).fill(2);
  const sums = await Promise.all([0, 1, 2, 3].map(() => pool.run<number>({ task: 'byte-sum', memory, byteOffset: 0, length: 4096 })));
  assert.deepEqual(sums, [8192, 8192, 8192, 8192], 'tasks run through the entry on both threads');
  await pool.destroy();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler } from '../../agent/jobs/scheduler.js';
import { canMove } from '../../agent/jobs/job-state-machine.js';
import { PartBoard } from '../../agent/jobs/part-board.js';
import { ThroughputHistory, HISTORY_SAMPLES } from '../../agent/jobs/throughput-history.js';
import { destinationKey } from '../../agent/jobs/run-context.js';
import { DEFAULTS } from '../../agent/config/schema.js';

test('the scheduler holds the global and per-destination limits and skips a blocked destination', () => {
  const s = new Scheduler({ global: 3, perDestination: 2 });
  const jobs = ['a1', 'a2', 'a3', 'b1', 'b2', 'c1'].map((id) => ({ id, destinationKey: id[0]! }));
  jobs.forEach((j) => s.enqueue(j));
  assert.deepEqual(s.takeRunnable().map((j) => j.id), ['a1', 'a2', 'b1']);
  assert.deepEqual(s.takeRunnable(), []);
  s.release('a1');
  assert.deepEqual(s.takeRunnable().map((j) => j.id), ['a3'], 'first in line once bucket a has a free slot');
  s.release('a2');
  s.release('a3');
  assert.deepEqual(s.takeRunnable().map((j) => j.id), ['b2', 'c1']);
  assert.equal(s.activeCount, 3);
  assert.equal(s.remove('zz'), false);
  s.setLimits({ global: 1, perDestination: 1 });
  s.enqueue({ id: 'd1', destinationKey: 'd' });
  assert.deepEqual(s.takeRunnable(), [], 'lowered limits apply to waiting jobs');
});

test('the state machine allows the documented moves only', () => {
  assert.ok(canMove('queued', 'validating') && canMove('validating', 'active') && canMove('active', 'completed'));
  assert.ok(canMove('active', 'cancelling') && canMove('cancelling', 'cancelled') && canMove('active', 'queued'));
  assert.ok(!canMove('completed', 'active') && !canMove('cancelling', 'active') && !canMove('queued', 'completed') && !canMove('failed', 'queued'));
});

test('the part board marks gaps pending, reports each change once and ignores impossible part numbers', () => {
  const b = new PartBoard();
  b.set(3, 'in-flight', 5);
  assert.deepEqual(b.takeChanges(), [{ n: 1, state: 'pending' }, { n: 2, state: 'pending' }, { n: 3, state: 'in-flight' }]);
  b.set(3, 'done');
  b.set(1, 'skipped');
  b.set(0, 'done');
  b.set(10_001, 'done');
  assert.deepEqual(b.takeChanges(), [{ n: 1, state: 'skipped' }, { n: 3, state: 'done' }]);
  assert.deepEqual(b.takeChanges(), []);
  assert.equal(b.count('done') + b.count('skipped'), 2);
  assert.equal(b.partSize, 5);
});

test('throughput history keeps one rate per sample and at most ten minutes of them', () => {
  const h = new ThroughputHistory();
  for (let i = 0; i <= HISTORY_SAMPLES + 10; i++) h.sample(i * 2_000_000, 1_000_000 + i * 2000);
  const list = h.list();
  assert.equal(list.length, HISTORY_SAMPLES);
  assert.ok(list.every(([, rate]) => rate === 1_000_000));
  assert.equal(list[list.length - 1]![0], Math.floor((1_000_000 + (HISTORY_SAMPLES + 10) * 2000) / 1000));
});

test('destination keys group jobs by store, bucket and region', () => {
  assert.equal(destinationKey('upload', '/a', 's3://b1/k', DEFAULTS), 's3://b1@default');
  assert.equal(destinationKey('download', 'oss://b2/k', '/x', { ...DEFAULTS, stores: { ...DEFAULTS.stores, oss_region: 'oss-cn-hangzhou' } }), 'oss://b2@oss-cn-hangzhou');
  assert.equal(destinationKey('convert', '/a', 'file:///tmp/x', DEFAULTS), 'file://');
});

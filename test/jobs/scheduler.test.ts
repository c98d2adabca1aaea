import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admit } from '../../agent/jobs/admission.js';
import type { JobRecord, JobState } from '../../agent/jobs/job-types.js';
import { canMove } from '../../agent/jobs/job-state-machine.js';
import { PartBoard } from '../../agent/jobs/part-board.js';
import { ThroughputHistory, HISTORY_SAMPLES } from '../../agent/jobs/throughput-history.js';
import { destinationKey } from '../../agent/jobs/run-context.js';
import { DEFAULTS } from '../../agent/config/schema.js';

/** A record as admission sees it: id, destination key, state and owner; created in id order. */
function rec(id: string, state: JobState = 'queued', owner: string | null = null): JobRecord {
  return { id, destinationKey: id[0]!, state, owner, createdAt: id } as JobRecord;
}

test('admission holds the global and per-destination limits and skips a blocked destination', () => {
  const limits = { global: 3, perDestination: 2 };
  const jobs = ['a1', 'a2', 'a3', 'b1', 'b2', 'c1'].map((id) => rec(id));
  assert.deepEqual(admit(jobs, limits).map((j) => j.id), ['a1', 'a2', 'b1']);
  const running = jobs.map((j) => (['a1', 'a2', 'b1'].includes(j.id) ? { ...j, state: 'active' as const, owner: 'r' } : j));
  assert.deepEqual(admit(running, limits), []);
  running[0] = { ...running[0]!, state: 'completed', owner: null };
  assert.deepEqual(admit(running, limits).map((j) => j.id), ['a3'], 'first in line once bucket a has a free slot');
  running[1] = { ...running[1]!, state: 'failed', owner: null };
  assert.deepEqual(admit(running, limits).map((j) => j.id), ['a3', 'b2'], 'two free slots with b1 still running');
  assert.deepEqual(admit([rec('d1'), rec('e1', 'active', 'r')], { global: 1, perDestination: 1 }), [], 'lowered limits apply to waiting jobs');
  assert.deepEqual(admit([rec('f1', 'cancelling', 'r'), rec('f2')], { global: 5, perDestination: 1 }), [], 'a cancelling job that still runs holds its slot');
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollTask, type PolledState } from '../../agent/cloud/poll-task.js';
import { shareBatches } from '../../agent/cloud/tasks/share-step.js';
import { callCloud } from '../../agent/cloud/cloud-retry.js';
import { cloudCodeOf, toCloudError } from '../../agent/cloud/cloud-error.js';
import { isVmxferError } from '../../agent/core/errors.js';

function codeOf(err: unknown): string {
  assert.ok(isVmxferError(err), String(err));
  return err.code;
}

test('poll: a task that never ends is CLOUD_TASK_TIMEOUT; repeated identical states are reported once', async () => {
  const seen: string[] = [];
  const describe = async (): Promise<PolledState<null>> => ({ status: { kind: 'aws-image', id: 'import-ami-1', state: 'active', message: 'pending' }, verdict: 'running', raw: null });
  await assert.rejects(pollTask(describe, { initialIntervalMs: 1, maxIntervalMs: 2, factor: 2, timeoutMs: 30 }, { onStatus: (s) => seen.push(s.state) }), (e) => codeOf(e) === 'CLOUD_TASK_TIMEOUT');
  assert.deepEqual(seen, ['active']);
});

test('share batches: 23 → 10, 10, 3; 10 → one batch', () => {
  const ids = Array.from({ length: 23 }, (_, i) => `a${i}`);
  assert.deepEqual(shareBatches(ids).map((b) => b.length), [10, 10, 3]);
  assert.deepEqual(shareBatches(ids.slice(0, 10)).map((b) => b.length), [10]);
});

test('SDK errors become typed: AWS names, Tea codes, throttling retryable, plain errors untouched', async () => {
  const aws = Object.assign(new Error('limit'), { name: 'RequestLimitExceeded', $metadata: { requestId: 'r-1' } });
  const tea = Object.assign(new Error('code: 400, denied'), { code: 'InvalidImageName.Malformed', data: { Message: 'The specified Image name is wrongly formed.', RequestId: 'r-2' } });
  assert.equal(cloudCodeOf(aws), 'RequestLimitExceeded');
  assert.equal(cloudCodeOf(tea), 'InvalidImageName.Malformed');
  const a = toCloudError('aws', 'ImportImage', aws);
  assert.ok(isVmxferError(a) && a.retryable && a.message.includes('(request id r-1)'));
  const t = toCloudError('alibaba', 'ImportImage', tea);
  assert.ok(isVmxferError(t) && !t.retryable && t.message.includes('The specified Image name is wrongly formed.'));
  const plain = new Error('boom');
  assert.equal(toCloudError('aws', 'X', plain), plain);
  let calls = 0;
  await assert.rejects(callCloud('alibaba', 'ImportImage', async () => {
    calls++;
    throw tea;
  }, { attempts: 5, baseDelayMs: 1, maxDelayMs: 1 }), (e) => codeOf(e) === 'CLOUD_API_ERROR');
  assert.equal(calls, 1, 'a permanent error is not retried');
});

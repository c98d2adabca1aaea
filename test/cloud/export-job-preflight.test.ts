import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { readyExportBucket, startExportDaemon, type ExportDaemon } from '../helpers/export-daemon.js';
import type { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { EXPORT_SCRIPT, type TaskStep } from '../helpers/ec2-query-fake/fake-state.js';
import { awsClients } from '../../agent/cloud/aws/aws-clients.js';
import { dryRunImageExport } from '../../agent/cloud/aws/aws-export.js';
import { isVmxferError } from '../../agent/core/errors.js';

let ec2: Ec2QueryFake;
let d: TestDaemon;
let world: ExportDaemon;

before(async () => {
  world = await startExportDaemon('AKIDFAKEEXPPRE');
  ({ ec2, d } = world);
  ec2.world.exportBytes = randomBytes(50_000);
  ec2.buckets.set('enforced', { ownership: 'BucketOwnerEnforced', grants: [] });
});
after(() => world?.close());

const image = (extra: Record<string, unknown> = {}) => ({ cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket: 'exp', prefix: 'p/', ...extra });

async function exportJob(exp: Record<string, unknown>): Promise<any> {
  const r = await d.api('POST', '/v1/jobs', { kind: 'export', destination: join(d.stateDir, `${randomBytes(4).toString('hex')}.vmdk`), export: exp });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
}

/** ExportImage / CreateInstanceExportTask calls since `from`, as "dry" / "real". */
function exportCalls(from: number, action = 'ExportImage'): string[] {
  return ec2.calls.slice(from).filter((c) => c.action === action).map((c) => (c.params.DryRun === 'true' ? 'dry' : 'real'));
}

test('an API export job into a BucketOwnerEnforced bucket fails at validation with AccessControlListNotSupported before ExportImage reaches the EC2 Query API protocol fake; export.preflight false skips the check', async () => {
  for (const exp of [image({ bucket: 'enforced' }), { cloud: 'aws', instanceId: 'i-0123456789abcdef0', format: 'vmdk', targetEnvironment: 'vmware', bucket: 'enforced' }]) {
    const from = ec2.calls.length;
    const job = await exportJob(exp);
    assert.equal(job.state, 'failed');
    assert.equal(job.error.code, 'CLOUD_PREFLIGHT_FAILED');
    assert.match(job.error.message, /no export task was created/);
    assert.match(job.error.message, /ERROR \[AccessControlListNotSupported\] bucket enforced has Object Ownership BucketOwnerEnforced/);
    assert.equal(job.cloudTask, null);
    assert.deepEqual([...exportCalls(from), ...exportCalls(from, 'CreateInstanceExportTask')], []);
    assert.ok(ec2.calls.slice(from).some((c) => /^GET \/enforced\/?\?ownershipControls/.test(c.action)), 'the bucket was checked');
  }
  const from = ec2.calls.length;
  const skipped = await exportJob(image({ bucket: 'enforced', preflight: false }));
  assert.equal(skipped.state, 'completed', JSON.stringify(skipped.error));
  assert.equal(ec2.calls.slice(from).filter((c) => /^GET \/enforced\/?\?/.test(c.action)).length, 0);
  assert.deepEqual(exportCalls(from), ['dry', 'real']);
});

test('an API image export job runs ExportImage with DryRun first by default; export.dryRun false sends the real call only; instance exports refuse export.dryRun, and it must be a boolean', async () => {
  let from = ec2.calls.length;
  const job = await exportJob(image());
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.deepEqual(exportCalls(from), ['dry', 'real']);
  assert.equal(ec2.calls.slice(from).filter((c) => c.action === 'GetRole').length, 1, 'the vmimport role was checked too');
  from = ec2.calls.length;
  const noDry = await exportJob(image({ dryRun: false }));
  assert.equal(noDry.state, 'completed', JSON.stringify(noDry.error));
  assert.deepEqual(exportCalls(from), ['real']);
  for (const exp of [{ cloud: 'aws', instanceId: 'i-0123456789abcdef0', format: 'vmdk', targetEnvironment: 'vmware', bucket: 'exp', dryRun: true }, { cloud: 'ecs', imageId: 'm-abc', format: 'qcow2', bucket: 'b', prefix: 'p1', dryRun: 'no' }, image({ preflight: 'no' })]) {
    const r = await d.api('POST', '/v1/jobs', { kind: 'export', destination: join(d.stateDir, 'never.vmdk'), export: exp });
    assert.equal(r.status, 400, JSON.stringify(exp));
    assert.equal(r.json.error.field, 'dryRun' in exp ? 'export.dryRun' : 'export.preflight');
  }
});

test('ExportImage DryRun on the fake is checked like the real call: an unknown AMI, a missing bucket or a caller without ec2:ExportImage is refused with its own code and no task is created', async () => {
  const clients = awsClients({ region: 'eu-west-1', endpoint: ec2.url, credentials: { accessKeyId: 'AKIDFAKEDRY', secretAccessKey: 'fake' }, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  const p = { imageId: 'ami-0123456789abcdef0', format: 'vmdk' as const, bucket: 'exp', prefix: 'p/' };
  const tasks = ec2.world.tasks.size;
  await dryRunImageExport(clients, p);
  const refusals: Array<[typeof p, string]> = [[{ ...p, imageId: 'ami-00000000000000000' }, 'InvalidAMIID.NotFound'], [{ ...p, imageId: 'ami-xyz' }, 'InvalidAMIID.Malformed'], [{ ...p, bucket: 'nope' }, 'InvalidParameter']];
  for (const [bad, code] of refusals) {
    await assert.rejects(dryRunImageExport(clients, bad), (err) => isVmxferError(err) && err.message.includes(`: ${code}:`));
  }
  ec2.denied.add('ec2:ExportImage');
  try {
    await assert.rejects(dryRunImageExport(clients, p), (err) => isVmxferError(err) && err.message.includes(': UnauthorizedOperation:'));
  } finally {
    ec2.denied.delete('ec2:ExportImage');
  }
  assert.equal(ec2.world.tasks.size, tasks, 'a DryRun creates no task');
});

test('a job restarted mid-export follows its task without checking the bucket again', async () => {
  // The task stays active until the test moves it on (the fake repeats a script's last step).
  const stuck: TaskStep[] = [{ status: 'active', message: 'exporting', progress: '10' }];
  ec2.world.scripts.export = stuck;
  try {
    const r = await d.api('POST', '/v1/jobs', { kind: 'export', destination: join(d.stateDir, 'restart.vmdk'), export: image() });
    const running = await waitForJob(d, r.json.job.id, (j) => j.cloudTask?.state === 'active' || ['completed', 'failed'].includes(j.state));
    assert.equal(running.phase, 'exporting', JSON.stringify(running.error));
    ec2.buckets.set('exp', { ownership: 'BucketOwnerEnforced', grants: [] });
    const from = ec2.calls.length;
    await d.restart();
    const task = ec2.world.tasks.get(running.cloudTask.id)!;
    task.script = [{ status: 'completed', message: '' }];
    task.step = 0;
    const done = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.equal(done.result.export.taskId, running.cloudTask.id);
    assert.equal(ec2.calls.slice(from).filter((c) => /^GET \/exp\/?\?/.test(c.action)).length, 0, 'no bucket check after the restart');
    assert.deepEqual(exportCalls(from), []);
  } finally {
    ec2.world.scripts.export = EXPORT_SCRIPT;
    readyExportBucket(ec2);
  }
});

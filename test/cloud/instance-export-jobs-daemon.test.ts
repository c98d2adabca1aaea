import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closeFeed, feed } from '../helpers/feed-socket.js';
import { waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { startRgwExportDaemon, type RgwExportDaemon } from '../helpers/export-daemon.js';
import type { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { EXPORT_SCRIPT } from '../helpers/ec2-query-fake/fake-state.js';

/** AWS instance exports (CreateInstanceExportTask) as API jobs, against the EC2 Query API protocol fake. */
let ec2: Ec2QueryFake;
let d: TestDaemon;
let bucket: string;

let world: RgwExportDaemon;

before(async () => {
  world = await startRgwExportDaemon('instance-export');
  ({ ec2, d } = world);
  bucket = world.bucket.name;
});
after(() => world?.close());

const INSTANCE = 'i-0123456789abcdef0';
const STUCK = [{ status: 'active', message: 'exporting', progress: '50' }];

const instanceBody = (destination: string, extra: Record<string, unknown> = {}) => ({
  kind: 'export',
  destination,
  export: { cloud: 'aws', instanceId: INSTANCE, format: 'vhd', targetEnvironment: 'microsoft', bucket, prefix: 'vms/', preflight: false, ...extra },
});

function stateOf(j: any): string {
  return `${j.state}${j.phase ? `/${j.phase}` : ''}`;
}

test('POST /v1/jobs with an instance export refuses bad fields with a 400 naming them and creates no job', async () => {
  const dst = join(d.stateDir, 'bad.ova');
  const image = { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket: 'exp' };
  const cases: Array<[unknown, string]> = [
    [instanceBody(dst, { instanceId: 'i-123' }), 'export.instanceId'],
    [instanceBody(dst, { instanceId: 'i-0123456789abcdef' }), 'export.instanceId'], // 16 hex digits: neither 8 nor 17
    [instanceBody(dst, { instanceId: 'ami-0123456789abcdef0' }), 'export.instanceId'],
    [instanceBody(dst, { imageId: 'ami-0123456789abcdef0' }), 'export.instanceId'],
    [instanceBody(dst, { cloud: 'ecs', format: 'vhd', prefix: 'vms' }), 'export.instanceId'],
    [instanceBody(dst, { targetEnvironment: undefined }), 'export.targetEnvironment'],
    [instanceBody(dst, { targetEnvironment: 'kvm' }), 'export.targetEnvironment'],
    [instanceBody(dst, { format: 'ova' }), 'export.format'],
    [instanceBody(dst, { format: 'VHD' }), 'export.format'],
    [instanceBody(dst, { roleName: 'vmimport' }), 'export.roleName'],
    [instanceBody(dst, { bucket: undefined }), 'export.bucket'],
    [{ kind: 'export', destination: dst, export: { ...image, targetEnvironment: 'vmware' } }, 'export.targetEnvironment'],
    [{ kind: 'export', destination: dst, export: { cloud: 'aws', format: 'vmdk', bucket: 'exp' } }, 'export.imageId'],
  ];
  const before = (await d.api('GET', '/v1/jobs')).json.jobs.length;
  for (const [body, field] of cases) {
    const r = await d.api('POST', '/v1/jobs', JSON.parse(JSON.stringify(body)));
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error.code, 'API_BAD_REQUEST');
    assert.equal(r.json.error.field, field, `${JSON.stringify(body)}: ${r.text}`);
  }
  assert.equal((await d.api('GET', '/v1/jobs')).json.jobs.length, before);
  assert.equal(ec2.callsOf('CreateInstanceExportTask').length, 0);
});

test('an instance export API job: CreateInstanceExportTask on the EC2 Query API protocol fake, the OVA downloaded from RGW, active/exporting → active/downloading → completed, the file equals the OVA', async () => {
  ec2.world.exportBytes = randomBytes(700_000);
  const { ws, got } = await feed(d);
  try {
    const dst = join(d.stateDir, 'web01.ova');
    const r = await d.api('POST', '/v1/jobs', instanceBody(dst));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.job.kind, 'export');
    assert.equal(r.json.job.source, `aws:${INSTANCE}`);
    assert.deepEqual(r.json.job.export, { cloud: 'aws', instanceId: INSTANCE, format: 'vhd', targetEnvironment: 'microsoft', bucket, prefix: 'vms/', preflight: false });
    const id = r.json.job.id;
    const job = await waitForJob(d, id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
    assert.equal(job.state, 'completed', JSON.stringify(job.error));

    const call = ec2.callsOf('CreateInstanceExportTask').at(-1)!;
    // The EC2 Query API names the ExportToS3Task structure ExportToS3 on the wire.
    assert.equal(call.params.InstanceId, INSTANCE);
    assert.equal(call.params.TargetEnvironment, 'microsoft');
    assert.equal(call.params['ExportToS3.ContainerFormat'], 'ova');
    assert.equal(call.params['ExportToS3.DiskImageFormat'], 'VHD');
    assert.equal(call.params['ExportToS3.S3Bucket'], bucket);
    assert.equal(call.params['ExportToS3.S3Prefix'], 'vms/');
    assert.equal(call.params.RoleName, undefined, 'CreateInstanceExportTask takes no role');
    assert.equal(ec2.callsOf('ExportImage').length, 0, 'an instance export is not an image export');

    assert.equal(job.cloudTask.kind, 'aws-export-instance');
    assert.match(job.cloudTask.id, /^export-i-[0-9a-f]{17}$/);
    assert.equal(job.cloudTask.state, 'completed');
    assert.equal(job.result.export.taskId, job.cloudTask.id);
    assert.equal(job.result.export.bucket, bucket);
    assert.deepEqual(ec2.calls.filter((c) => c.service === 's3'), [], 'the OVA came from RGW, not the fake');
    assert.equal(job.result.export.key, `vms/${job.cloudTask.id}.ova`);
    assert.equal(job.result.objectSize, 700_000);
    assert.ok((await readFile(dst)).equals(ec2.world.exportBytes));
    assert.equal(job.exportTask, undefined, 'internal fields stay out of the API');

    await new Promise((res) => setTimeout(res, 300));
    const mine = got.filter((m) => m.type === 'job' && m.job.id === id).map((m) => m.job);
    const phases = mine.map(stateOf).filter((s) => ['active/exporting', 'active/downloading', 'completed'].includes(s)).filter((s, i, a) => s !== a[i - 1]);
    assert.deepEqual(phases, ['active/exporting', 'active/downloading', 'completed']);
    const states = mine.filter((j) => j.cloudTask).map((j) => `${j.cloudTask.state}:${j.cloudTask.message}`).filter((s, i, a) => s !== a[i - 1]);
    assert.deepEqual(states, ['active:validating', 'active:exporting', 'completed:']);

    const metrics = (await d.api('GET', '/metrics')).text;
    assert.match(metrics, /^vmxfer_cloud_task_updates_total\{kind="aws-export-instance",state="active",agent="[^"]+"\} 2$/m);
    assert.match(metrics, /^vmxfer_cloud_task_updates_total\{kind="aws-export-instance",state="completed",agent="[^"]+"\} 1$/m);
  } finally {
    await closeFeed(ws);
  }
});

test('cancelling an instance export API job mid-task sends CancelExportTask to the EC2 Query API protocol fake, ends cancelled and leaves no file', async () => {
  ec2.world.scripts.export = STUCK;
  try {
    const dst = join(d.stateDir, 'cancelled.ova');
    const r = await d.api('POST', '/v1/jobs', instanceBody(dst, { format: 'vmdk', targetEnvironment: 'vmware' }));
    assert.equal(r.status, 201, r.text);
    const id = r.json.job.id;
    const running = await waitForJob(d, id, (j) => j.cloudTask?.state === 'active' || ['completed', 'failed'].includes(j.state));
    assert.equal(running.phase, 'exporting', JSON.stringify(running.error));
    assert.equal(running.cloudTask.kind, 'aws-export-instance');
    const cancels = ec2.callsOf('CancelExportTask').length;
    assert.equal((await d.api('POST', `/v1/jobs/${id}/cancel`)).status, 202);
    const done = await waitForJob(d, id, (j) => ['cancelled', 'completed', 'failed'].includes(j.state));
    assert.equal(done.state, 'cancelled');
    assert.equal(ec2.callsOf('CancelExportTask').length, cancels + 1);
    assert.equal(ec2.callsOf('CancelExportTask').at(-1)?.params.ExportTaskId, running.cloudTask.id);
    assert.equal(ec2.world.tasks.get(running.cloudTask.id)?.cancelled, 'Canceled by user');
    assert.equal(ec2.world.tasks.get(running.cloudTask.id)?.kind, 'export-instance');
    await assert.rejects(readFile(dst), { code: 'ENOENT' });
  } finally {
    ec2.world.scripts.export = EXPORT_SCRIPT;
  }
});

test('a daemon restarted mid-instance-export follows the same task on the EC2 Query API protocol fake: no second CreateInstanceExportTask, no cancel', async () => {
  ec2.world.scripts.export = STUCK;
  ec2.world.exportBytes = randomBytes(300_000);
  try {
    const dst = join(d.stateDir, 'restarted.ova');
    const r = await d.api('POST', '/v1/jobs', JSON.parse(JSON.stringify(instanceBody(dst, { format: 'raw', targetEnvironment: 'citrix', prefix: undefined }))));
    assert.equal(r.status, 201, r.text);
    const id = r.json.job.id;
    const running = await waitForJob(d, id, (j) => j.cloudTask?.state === 'active' || ['completed', 'failed'].includes(j.state));
    assert.equal(running.phase, 'exporting', JSON.stringify(running.error));
    const taskId = running.cloudTask.id;
    const creates = ec2.callsOf('CreateInstanceExportTask').length;
    await d.restart();
    // The cloud finishes the export while the daemon is back.
    const task = ec2.world.tasks.get(taskId)!;
    task.script = [{ status: 'completed', message: '' }];
    task.step = 0;
    const done = await waitForJob(d, id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.equal(done.cloudTask.id, taskId);
    assert.equal(done.result.export.taskId, taskId);
    assert.equal(done.result.export.key, `${taskId}.ova`);
    assert.equal(ec2.callsOf('CreateInstanceExportTask').length, creates, 'no second export');
    assert.equal(task.cancelled, undefined, 'the stop did not cancel the task');
    assert.equal(done.attempts, 2);
    assert.ok((await readFile(dst)).equals(ec2.world.exportBytes));
  } finally {
    ec2.world.scripts.export = EXPORT_SCRIPT;
  }
});

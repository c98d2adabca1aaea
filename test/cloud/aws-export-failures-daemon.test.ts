import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForJob } from '../helpers/daemon.js';
import { startRgwExportDaemon, type RgwExportDaemon } from '../helpers/export-daemon.js';
import { EXPORT_SCRIPT, type TaskStep } from '../helpers/ec2-query-fake/fake-state.js';

/**
 * AWS export tasks that end without an object (ExportImage Status deleting/deleted; CreateInstanceExportTask
 * State cancelling/cancelled, EC2 API reference ExportTask.State) fail the export API job, against the EC2
 * Query API protocol fake with RGW as the export bucket.
 */
let world: RgwExportDaemon;

before(async () => {
  world = await startRgwExportDaemon('export-failures');
});
after(() => world?.close());

async function failedExport(script: TaskStep[], exportFields: Record<string, unknown>, destination: string): Promise<any> {
  world.ec2.world.scripts.export = script;
  try {
    const r = await world.d.api('POST', '/v1/jobs', { kind: 'export', destination, export: { cloud: 'aws', bucket: world.bucket.name, prefix: 'p/', preflight: false, ...exportFields } });
    assert.equal(r.status, 201, r.text);
    return await waitForJob(world.d, r.json.job.id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
  } finally {
    world.ec2.world.scripts.export = EXPORT_SCRIPT;
  }
}

async function updates(kind: string, state: string): Promise<number> {
  const m = new RegExp(`^vmxfer_cloud_task_updates_total\\{kind="${kind}",state="${state}",agent="[^"]+"\\} (\\d+)$`, 'm').exec((await world.d.api('GET', '/metrics')).text);
  return Number(m?.[1] ?? 0);
}

test('an ExportImage task that ends deleted with a StatusMessage fails the export job with CLOUD_TASK_FAILED naming it; no download, no file', async () => {
  const reason = 'ClientError: The image export failed: the volume is larger than 1 TiB';
  const dst = join(world.d.stateDir, 'deleted.vmdk');
  const job = await failedExport([{ status: 'active', message: 'validating', progress: '0' }, { status: 'deleted', message: reason }], { imageId: 'ami-0123456789abcdef0', format: 'vmdk' }, dst);
  assert.equal(job.state, 'failed');
  assert.equal(job.error.code, 'CLOUD_TASK_FAILED');
  assert.ok(job.error.message.includes(`ended in state "deleted": ${reason}`), job.error.message);
  assert.deepEqual([job.cloudTask.kind, job.cloudTask.state, job.cloudTask.message], ['aws-export-image', 'deleted', reason]);
  assert.equal(job.result, null);
  assert.equal(await updates('aws-export-image', 'deleted'), 1);
  await assert.rejects(readFile(dst), { code: 'ENOENT' });
});

test('an ExportImage task in deleting fails the job at once with its StatusMessage', async () => {
  const reason = 'ServerError: internal failure';
  const job = await failedExport([{ status: 'deleting', message: reason }, { status: 'deleted', message: reason }], { imageId: 'ami-0123456789abcdef0', format: 'raw' }, join(world.d.stateDir, 'deleting.raw'));
  assert.equal(job.error.code, 'CLOUD_TASK_FAILED');
  assert.deepEqual([job.cloudTask.state, job.cloudTask.message], ['deleting', reason]);
});

test('a CreateInstanceExportTask task that the cloud cancels (cancelling, then cancelled) fails the instance export job with CLOUD_TASK_FAILED', async () => {
  const reason = 'Canceled by the account owner';
  const dst = join(world.d.stateDir, 'cancelled.ova');
  // The fake reports an instance export's deleting/deleted steps as the ExportTask states cancelling/cancelled.
  const job = await failedExport([{ status: 'active', message: 'exporting' }, { status: 'deleted', message: reason }], { instanceId: 'i-0123456789abcdef0', format: 'vmdk', targetEnvironment: 'vmware' }, dst);
  assert.equal(job.state, 'failed');
  assert.equal(job.error.code, 'CLOUD_TASK_FAILED');
  assert.ok(job.error.message.includes(`ended in state "cancelled": ${reason}`), job.error.message);
  assert.deepEqual([job.cloudTask.kind, job.cloudTask.state], ['aws-export-instance', 'cancelled']);
  assert.equal(world.ec2.callsOf('CancelExportTask').length, 0, 'vmxfer cancelled nothing: the cloud did');
  await assert.rejects(readFile(dst), { code: 'ENOENT' });
  const cancelling = await failedExport([{ status: 'deleting', message: reason }], { instanceId: 'i-0123456789abcdef0', format: 'vmdk', targetEnvironment: 'vmware' }, join(world.d.stateDir, 'cancelling.ova'));
  assert.deepEqual([cancelling.error.code, cancelling.cloudTask.state], ['CLOUD_TASK_FAILED', 'cancelling']);
});

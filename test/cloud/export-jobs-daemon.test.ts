import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { startRgwExportDaemon, type RgwExportDaemon } from '../helpers/export-daemon.js';
import type { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { EXPORT_SCRIPT } from '../helpers/ec2-query-fake/fake-state.js';

let ec2: Ec2QueryFake;
let d: TestDaemon;
let bucket: string;

let world: RgwExportDaemon;

before(async () => {
  world = await startRgwExportDaemon('export-jobs');
  ({ ec2, d } = world);
  bucket = world.bucket.name;
});
after(() => world?.close());

const exportBody = (destination: string, extra: Record<string, unknown> = {}) => ({
  kind: 'export',
  destination,
  export: { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket, prefix: 'p/', preflight: false, ...extra },
});

test('POST /v1/jobs with kind "export" refuses bad fields with a 400 naming them', async () => {
  const cases: Array<[unknown, string]> = [
    [{ ...exportBody(join(d.stateDir, 'a.vmdk')), source: '/x' }, 'source'],
    [{ kind: 'import', destination: join(d.stateDir, 'a.vmdk') }, 'kind'],
    [{ kind: 'export', destination: join(d.stateDir, 'a.vmdk') }, 'export'],
    [exportBody(join(d.stateDir, 'a.vmdk'), { format: 'qcow2' }), 'export.format'],
    [exportBody(join(d.stateDir, 'a.vmdk'), { imageId: 'm-123' }), 'export.imageId'],
    [exportBody(join(d.stateDir, 'a.vmdk'), { cloud: 'ecs', imageId: 'm-abc', format: 'qcow2', prefix: 'p/' }), 'export.prefix'],
    [exportBody('/etc/a.vmdk'), 'destination'],
  ];
  for (const [body, field] of cases) {
    const r = await d.api('POST', '/v1/jobs', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error.field, field, `${JSON.stringify(body)}: ${r.text}`);
  }
});

test('an export API job: ExportImage on the EC2 Query API protocol fake, the object downloaded from RGW, active/exporting → active/downloading → completed, the file equals the exported object', async () => {
  ec2.world.exportBytes = randomBytes(700_000);
  const dst = join(d.stateDir, 'web01.vmdk');
  const r = await d.api('POST', '/v1/jobs', exportBody(dst));
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.job.kind, 'export');
  assert.equal(r.json.job.source, 'aws:ami-0123456789abcdef0');
  const seen: string[] = [];
  const job = await waitForJob(d, r.json.job.id, (j) => {
    const s = `${j.state}${j.phase ? `/${j.phase}` : ''}`;
    if (seen.at(-1) !== s) seen.push(s);
    return ['completed', 'failed'].includes(j.state);
  });
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.ok(seen.includes('active/exporting'), seen.join(' '));
  assert.equal(seen.at(-1), 'completed');
  assert.equal(job.cloudTask.kind, 'aws-export-image');
  assert.equal(job.cloudTask.state, 'completed');
  assert.match(job.result.export.key, /^p\/export-ami-[0-9a-f]{17}\.vmdk$/);
  assert.equal(job.result.objectSize, 700_000);
  assert.ok((await readFile(dst)).equals(ec2.world.exportBytes));
  const call = ec2.callsOf('ExportImage').at(-1)!;
  assert.equal(call.params.ImageId, 'ami-0123456789abcdef0');
  assert.equal(call.params.DiskImageFormat, 'VMDK');
  assert.equal(call.params['S3ExportLocation.S3Bucket'], bucket);
  assert.deepEqual(ec2.calls.filter((c) => c.service === 's3'), [], 'the download went to RGW, not the fake');
  assert.match((await d.api('GET', '/metrics')).text, /^vmxfer_cloud_task_updates_total\{kind="aws-export-image",state="completed",agent="[^"]+"\} 1$/m);
});

test('cancelling an export API job mid-export sends CancelExportTask to the fake and leaves no file', async () => {
  ec2.world.scripts.export = [{ status: 'active', message: 'exporting', progress: '50' }];
  try {
    const dst = join(d.stateDir, 'cancelled.vmdk');
    const r = await d.api('POST', '/v1/jobs', exportBody(dst));
    const id = r.json.job.id;
    const running = await waitForJob(d, id, (j) => j.cloudTask?.state === 'active' || ['completed', 'failed'].includes(j.state));
    assert.equal(running.phase, 'exporting', JSON.stringify(running.error));
    assert.equal((await d.api('POST', `/v1/jobs/${id}/cancel`)).status, 202);
    const done = await waitForJob(d, id, (j) => ['cancelled', 'completed', 'failed'].includes(j.state));
    assert.equal(done.state, 'cancelled');
    assert.equal(ec2.callsOf('CancelExportTask').at(-1)?.params.ExportTaskId, running.cloudTask.id);
    await assert.rejects(readFile(dst), { code: 'ENOENT' });
  } finally {
    ec2.world.scripts.export = EXPORT_SCRIPT;
  }
});

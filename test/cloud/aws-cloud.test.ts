import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ec2QueryFake, VMIMPORT_TRUST } from '../helpers/ec2-query-fake/server.js';
import { Ec2Error } from '../helpers/ec2-query-fake/ec2-actions.js';
import { tempDir } from '../helpers/tmp.js';
import { readyExportBucket } from '../helpers/export-daemon.js';
import { runImportStep } from '../../agent/cloud/tasks/import-step.js';
import { runExport } from '../helpers/export-run.js';
import { copyAwsImage } from '../../agent/cloud/tasks/copy-step.js';
import { shareAwsImage } from '../../agent/cloud/tasks/share-step.js';
import { awsClients, type AwsConnection } from '../../agent/cloud/aws/aws-clients.js';
import { awsExportPreflight, awsImportRolePreflight } from '../../agent/cloud/preflight/aws-remote-preflight.js';
import { exportCanonicalAccount } from '../../agent/cloud/preflight/canonical-accounts.js';
import type { CloudTaskStatus } from '../../agent/cloud/task-events.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../agent/transfer/download-checkpoint.js';

/** The export download's checkpoints (agent/transfer/download.ts), kept apart from the files the tests read. */
const checkpoints = (dir: string) => new FileCheckpointStore<DownloadCheckpoint>(join(dir, '.checkpoints'), isDownloadCheckpoint);

let fake: Ec2QueryFake;
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };
const RETRY = { attempts: 5, baseDelayMs: 1, maxDelayMs: 4 };

function connection(region = 'eu-west-1'): AwsConnection {
  return { region, endpoint: fake.url, credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake-secret' }, retry: RETRY };
}

function recorder() {
  const seen: CloudTaskStatus[] = [];
  return { seen, callbacks: { onStatus: (s: CloudTaskStatus) => seen.push(s) } };
}

async function rejectsWith(p: Promise<unknown>, code: string, cloudCode?: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(isVmxferError(err), `expected a VmxferError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (cloudCode) assert.match(err.message, new RegExp(cloudCode.replace('.', '\\.')));
    return err;
  }
  assert.fail(`expected ${code}`);
}

before(async () => {
  fake = await Ec2QueryFake.start();
  readyExportBucket(fake);
});
after(() => fake.close());

test('ImportImage against an EC2 Query API protocol fake: one disk container per disk, DryRun first, every state reported in order', async () => {
  const { seen, callbacks } = recorder();
  const disks = [0, 1, 2].map((i) => ({ bucket: 'up', key: `web01/disk${i}.vmdk`, format: 'VMDK' }));
  const before = fake.calls.length;
  const r = await runImportStep({ cloud: 'aws', connection: connection(), import: { target: 'aws-image', disks, bootMode: 'uefi', tags: { team: 'ops' } }, poll: POLL, dryRunFirst: true }, callbacks);
  assert.deepEqual(seen.map((s) => s.state), ['active', 'validating', 'validated', 'converting', 'updating', 'completed']);
  assert.deepEqual(seen.map((s) => s.progress), [2, 10, 20, 40, 80, undefined]);
  assert.match(r.resourceIds[0]!, /^ami-[0-9a-f]{17}$/);
  const calls = fake.calls.slice(before);
  const [dry, real] = calls.filter((c) => c.action === 'ImportImage');
  assert.equal(dry!.params.DryRun, 'true');
  assert.equal(real!.params.DryRun, 'false');
  for (let i = 0; i < 3; i++) assert.equal(real!.params[`DiskContainer.${i + 1}.UserBucket.S3Key`], `web01/disk${i}.vmdk`);
  assert.equal(real!.params.RoleName, 'vmimport');
  assert.equal(real!.params.BootMode, 'uefi');
  assert.equal(real!.params['TagSpecification.1.ResourceType'], 'import-image-task');
  assert.equal(real!.region, 'eu-west-1');
});

test('ImportSnapshot against an EC2 Query API protocol fake: one task per disk, snapshot ids returned', async () => {
  const { seen, callbacks } = recorder();
  const disks = [{ bucket: 'up', key: 'a.vhd', format: 'VHD' }, { bucket: 'up', key: 'b.raw', format: 'RAW' }];
  const r = await runImportStep({ cloud: 'aws', connection: connection(), import: { target: 'aws-snapshot', disks, encrypted: true, kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/k' }, poll: POLL }, callbacks);
  assert.equal(r.taskIds.length, 2);
  assert.ok(r.resourceIds.every((id) => /^snap-/.test(id)));
  assert.deepEqual(seen.filter((s) => s.id === r.taskIds[0]).map((s) => `${s.state}:${s.message}`), ['active:pending', 'active:downloading/converting', 'completed:']);
  const sent = fake.callsOf('ImportSnapshot').slice(-2);
  assert.deepEqual(sent.map((c) => c.params['DiskContainer.Format']), ['VHD', 'RAW']);
  assert.equal(sent[0]!.params.Encrypted, 'true');
});

test('throttling (RequestLimitExceeded) from the EC2 Query API protocol fake is retried with backoff; the same ClientToken is sent each time', async () => {
  fake.throttle.set('ImportImage', 3);
  fake.throttle.set('DescribeImportImageTasks', 2);
  const retries: string[] = [];
  const r = await runImportStep({ cloud: 'aws', connection: connection(), import: { target: 'aws-image', disks: [{ bucket: 'up', key: 'x.vhd', format: 'VHD' }] }, poll: POLL }, { onRetry: (code) => retries.push(code) });
  assert.equal(retries.filter((c) => c === 'RequestLimitExceeded').length, 5);
  const tokens = new Set(fake.callsOf('ImportImage').slice(-4).map((c) => c.params.ClientToken));
  assert.equal(tokens.size, 1, 'a retried ImportImage reuses its ClientToken');
  assert.match(r.resourceIds[0]!, /^ami-/);
});

test('throttling that outlasts the retry budget is CLOUD_THROTTLED', async () => {
  fake.throttle.set('DescribeExportImageTasks', 50);
  const { dir, cleanup } = await tempDir();
  try {
    const err = await rejectsWith(runExport({ aws: connection() }, { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket: 'exp', prefix: 'p/' }, { destination: join(dir, 'x.vmdk'), poll: POLL, checkpoints: checkpoints(dir) }), 'CLOUD_THROTTLED', 'RequestLimitExceeded');
    assert.match(err.message, /after 5 attempts/);
  } finally {
    fake.throttle.delete('DescribeExportImageTasks');
    await cleanup();
  }
});

test('documented EC2 error codes surface typed: a missing role is InvalidParameter, an injected InvalidParameterValue keeps its code', async () => {
  fake.world.roles.delete('vmimport');
  try {
    const err = await rejectsWith(runImportStep({ cloud: 'aws', connection: connection(), import: { target: 'aws-image', disks: [{ bucket: 'up', key: 'x', format: 'RAW' }] }, poll: POLL }), 'CLOUD_API_ERROR', 'InvalidParameter');
    assert.match(err.message, /aws ImportImage failed: InvalidParameter: The service role vmimport/);
    assert.match(err.message, /request id [0-9a-f-]{36}/);
  } finally {
    fake.world.roles.set('vmimport', VMIMPORT_TRUST);
  }
  fake.failNext.set('ImportSnapshot', new Ec2Error(400, 'InvalidParameterValue', 'Value (s3://nope) for parameter url is invalid.'));
  await rejectsWith(runImportStep({ cloud: 'aws', connection: connection(), import: { target: 'aws-snapshot', disks: [{ bucket: 'up', key: 'x', format: 'RAW' }] }, poll: POLL }), 'CLOUD_API_ERROR', 'InvalidParameterValue');
});

test('a task the cloud deletes (ClientError) fails with CLOUD_TASK_FAILED and its status message', async () => {
  const saved = fake.world.scripts.importImage;
  fake.world.scripts.importImage = [{ status: 'active', message: 'pending' }, { status: 'deleting', message: 'ClientError: Disk validation failed [Unsupported VMDK File Format]' }, { status: 'deleted', message: 'ClientError: Disk validation failed [Unsupported VMDK File Format]' }];
  try {
    const err = await rejectsWith(runImportStep({ cloud: 'aws', connection: connection(), import: { target: 'aws-image', disks: [{ bucket: 'up', key: 'x', format: 'VMDK' }] }, poll: POLL }), 'CLOUD_TASK_FAILED');
    assert.match(err.message, /deleting.*Unsupported VMDK File Format/);
  } finally {
    fake.world.scripts.importImage = saved;
  }
});

test('the parameter rules refuse KmsKeyId without Encrypted before any ImportImage reaches the EC2 Query API protocol fake', async () => {
  const before = fake.callsOf('ImportImage').length;
  const err = await rejectsWith(runImportStep({ cloud: 'aws', connection: connection(), import: { target: 'aws-image', disks: [{ bucket: 'up', key: 'x', format: 'RAW' }], kmsKeyId: 'k' }, poll: POLL }), 'CLOUD_PREFLIGHT_FAILED', 'InvalidParameterDependency');
  assert.match(err.message, /Add --encrypted/);
  assert.equal(fake.callsOf('ImportImage').length, before);
});

test('cancelling the job mid-import calls CancelImportTask on the EC2 Query API protocol fake', async () => {
  const saved = fake.world.scripts.importImage;
  fake.world.scripts.importImage = [{ status: 'active', message: 'pending' }, { status: 'converting', message: 'converting', progress: '30' }];
  const ac = new AbortController();
  const seen: CloudTaskStatus[] = [];
  try {
    const run = runImportStep({ cloud: 'aws', connection: connection(), import: { target: 'aws-image', disks: [{ bucket: 'up', key: 'x', format: 'RAW' }] }, poll: POLL }, {
      onStatus: (s) => {
        seen.push(s);
        if (s.state === 'converting') ac.abort();
      },
    }, ac.signal);
    await rejectsWith(run, 'VMX_ABORTED');
  } finally {
    fake.world.scripts.importImage = saved;
  }
  const cancel = fake.callsOf('CancelImportTask').at(-1)!;
  assert.equal(cancel.params.ImportTaskId, seen[0]!.id);
  assert.equal(cancel.params.CancelReason, 'vmxfer job cancelled');
  assert.deepEqual(seen.map((s) => s.state), ['active', 'converting', 'cancelling']);
});

test('ExportImage against an EC2 Query API protocol fake, then a ranged download of P + export-ami-….vmdk equal to the exported bytes', async () => {
  fake.world.exportBytes = randomBytes(300_000);
  const { dir, cleanup } = await tempDir();
  try {
    const { seen, callbacks } = recorder();
    const dst = join(dir, 'web01.vmdk');
    const r = await runExport({ aws: connection() }, { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket: 'exp', prefix: 'exports/' }, { destination: dst, poll: POLL, partSize: 64 * 1024, checkpoints: checkpoints(dir) }, callbacks);
    assert.match(r.key, /^exports\/export-ami-[0-9a-f]{17}\.vmdk$/);
    assert.equal(r.key, `exports/${r.taskId}.vmdk`);
    assert.deepEqual(seen.map((s) => s.progress), [0, 50, undefined]);
    const got = await readFile(dst);
    assert.ok(got.equals(fake.world.exportBytes));
    assert.equal(r.objectSize, 300_000);
    assert.equal(r.verified, 'md5', 'a single-part ETag is the MD5 of the object');
    const ranges = fake.calls.filter((c) => c.action.startsWith('GET /exp/exports/'));
    assert.equal(ranges.length, 5, '300 000 bytes in 64 KiB parts');
    const req = fake.callsOf('ExportImage').at(-1)!;
    assert.equal(req.params.DiskImageFormat, 'VMDK');
    assert.equal(req.params['S3ExportLocation.S3Prefix'], 'exports/');
  } finally {
    await cleanup();
  }
});

test('CreateInstanceExportTask (ova container) against an EC2 Query API protocol fake, then the OVA is downloaded', async () => {
  fake.world.exportBytes = randomBytes(70_000);
  const { dir, cleanup } = await tempDir();
  try {
    const { seen, callbacks } = recorder();
    const r = await runExport({ aws: connection() }, { cloud: 'aws', instanceId: 'i-0abc', format: 'vmdk', targetEnvironment: 'vmware', bucket: 'exp', prefix: 'vms/' }, { destination: join(dir, 'i.ova'), poll: POLL, checkpoints: checkpoints(dir) }, callbacks);
    assert.equal(r.key, `vms/${r.taskId}.ova`);
    assert.ok((await readFile(join(dir, 'i.ova'))).equals(fake.world.exportBytes));
    assert.deepEqual(seen.map((s) => `${s.state}:${s.message}`), ['active:validating', 'active:exporting', 'completed:']);
    const req = fake.callsOf('CreateInstanceExportTask').at(-1)!;
    assert.equal(req.params.TargetEnvironment, 'vmware');
    assert.ok(Object.entries(req.params).some(([k, v]) => k.endsWith('ContainerFormat') && v === 'ova'));
  } finally {
    await cleanup();
  }
});

test('cancelling an image export mid-task calls CancelExportTask and leaves no file', async () => {
  const saved = fake.world.scripts.export;
  fake.world.scripts.export = [{ status: 'active', message: 'exporting', progress: '10' }, { status: 'active', message: 'exporting', progress: '20' }];
  const { dir, cleanup } = await tempDir();
  const ac = new AbortController();
  try {
    const run = runExport({ aws: connection() }, { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'raw', bucket: 'exp', prefix: '' }, { destination: join(dir, 'x.raw'), poll: POLL, checkpoints: checkpoints(dir) }, { onStatus: (s) => s.progress === 20 && ac.abort() }, ac.signal);
    await rejectsWith(run, 'VMX_ABORTED');
    const id = fake.callsOf('CancelExportTask').at(-1)!.params.ExportTaskId!;
    assert.match(id, /^export-ami-/);
    await assert.rejects(readFile(join(dir, 'x.raw')));
  } finally {
    fake.world.scripts.export = saved;
    await cleanup();
  }
});

test('CopyImage against an EC2 Query API protocol fake: called in the destination region, a throttled retry reuses the ClientToken and creates one AMI', async () => {
  fake.world.images.set('ami-src', { region: 'eu-west-1', encrypted: false });
  fake.throttle.set('CopyImage', 2);
  const { seen, callbacks } = recorder();
  const r = await copyAwsImage(connection(), { sourceImageId: 'ami-src', sourceRegion: 'eu-west-1', destinationRegion: 'us-east-1', name: 'web01', poll: POLL }, callbacks);
  const copies = fake.callsOf('CopyImage').slice(-3);
  assert.equal(new Set(copies.map((c) => c.params.ClientToken)).size, 1);
  assert.equal(copies[0]!.params.ClientToken, r.clientToken);
  assert.ok(copies.every((c) => c.region === 'us-east-1'));
  assert.equal(fake.world.tokens.get(r.clientToken), r.imageId, 'one AMI for the token');
  assert.deepEqual(seen.map((s) => s.state), ['pending', 'available']);
  await rejectsWith(copyAwsImage(connection(), { sourceImageId: 'ami-src', sourceRegion: 'eu-west-1', destinationRegion: 'us-east-1', name: 'x', kmsKeyId: 'k', poll: POLL }), 'CLOUD_COPY_RULE', 'InvalidParameterDependency');
});

test('EC2 launch permissions via ModifyImageAttribute, one outcome per account', async () => {
  fake.world.images.set('ami-share', { region: 'eu-west-1', encrypted: false });
  const ok = await shareAwsImage(connection(), 'ami-share', ['111122223333', '444455556666', '111122223333']);
  assert.deepEqual(ok, [{ account: '111122223333', shared: true }, { account: '444455556666', shared: true }]);
  assert.deepEqual(fake.world.launchPermissions.get('ami-share'), ['111122223333', '444455556666']);
  const bad = await shareAwsImage(connection(), 'ami-share', ['777788889999', 'not-an-id']);
  assert.deepEqual(bad.map((o) => [o.account, o.shared, o.cloudCode]), [['777788889999', false, 'InvalidUserID.Malformed'], ['not-an-id', false, 'InvalidUserID.Malformed']]);
});

test('preflight against the IAM and S3 parts of the fake: vmimport role and export bucket readiness', async () => {
  const clients = awsClients(connection());
  const req = { target: 'aws-image' as const, image: { disks: [] }, convertAllowed: true };
  assert.deepEqual(await awsImportRolePreflight(req, clients), []);
  const missing = await awsImportRolePreflight({ ...req, aws: { roleName: 'nope' } }, clients);
  assert.deepEqual(missing.map((f) => f.cloudCode), ['NoSuchEntity']);
  fake.world.roles.set('wrongtrust', JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }));
  assert.deepEqual((await awsImportRolePreflight({ ...req, aws: { roleName: 'wrongtrust' } }, clients)).map((f) => f.rule), ['role-trust']);

  const account = exportCanonicalAccount('eu-west-1')!;
  fake.buckets.set('good', { ownership: 'ObjectWriter', grants: [{ id: account, permission: 'WRITE' }, { id: account, permission: 'READ_ACP' }] });
  fake.buckets.set('noacl', { grants: [] });
  fake.buckets.set('enforced', { ownership: 'BucketOwnerEnforced', grants: [], sseAlgorithm: 'aws:kms' });
  assert.deepEqual(await awsExportPreflight(clients, 'good'), []);
  assert.deepEqual((await awsExportPreflight(clients, 'noacl')).map((f) => f.rule), ['s3-export-grant', 's3-export-grant']);
  assert.deepEqual((await awsExportPreflight(clients, 'enforced')).map((f) => f.cloudCode), ['AccessControlListNotSupported', 'AccessDenied', 'AccessDenied', 'AccessDenied']);
  await rejectsWith(awsExportPreflight(clients, 'missing-bucket'), 'CLOUD_API_ERROR', 'NoSuchBucket');
  // An image export needs its role; an instance export (CreateInstanceExportTask) takes none.
  assert.deepEqual((await awsExportPreflight(clients, 'good', 'nope')).map((f) => f.cloudCode), ['NoSuchEntity']);
  assert.deepEqual(await awsExportPreflight(clients, 'good', null), []);
  assert.deepEqual((await awsExportPreflight(clients, 'noacl', null)).map((f) => f.rule), ['s3-export-grant', 's3-export-grant']);
  // A caller who may not read the bucket's ACL gets a warning that the bucket is unverified, not a refusal.
  fake.denied.add('s3:GetBucketAcl');
  try {
    assert.deepEqual((await awsExportPreflight(clients, 'good', null)).map((f) => `${f.severity} ${f.rule} ${f.cloudCode}`), ['warning bucket-unverified AccessDenied']);
  } finally {
    fake.denied.delete('s3:GetBucketAcl');
  }
});

test('the EC2 Query API protocol fake refuses a request without a SigV4 Authorization header (AuthFailure)', async () => {
  const res = await fetch(fake.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=DescribeImages&Version=2016-11-15' });
  assert.equal(res.status, 401);
  assert.match(await res.text(), /<Code>AuthFailure<\/Code>/);
  await rejectsWith(runImportStep({ cloud: 'aws', connection: { ...connection(), credentials: { accessKeyId: '', secretAccessKey: '' } }, import: { target: 'aws-image', disks: [{ bucket: 'b', key: 'k', format: 'RAW' }] }, poll: POLL }), 'CLOUD_API_ERROR', 'AuthFailure');
});

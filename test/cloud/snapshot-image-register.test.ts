import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { runImportStep } from '../../agent/cloud/tasks/import-step.js';
import { awsClients, type AwsConnection } from '../../agent/cloud/aws/aws-clients.js';
import { startSnapshotImage } from '../../agent/cloud/aws/aws-import.js';
import { isVmxferError } from '../../agent/core/errors.js';
import type { CloudTaskStatus } from '../../agent/cloud/task-events.js';

let fake: Ec2QueryFake;
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };
const DISKS = [{ bucket: 'up', key: 'web01/boot.vmdk', format: 'VMDK' }, { bucket: 'up', key: 'web01/data.vmdk', format: 'VMDK' }];

function connection(): AwsConnection {
  return { region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake-secret' }, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } };
}

before(async () => {
  fake = await Ec2QueryFake.start();
});
after(() => fake.close());

test('aws-snapshot with boot mode uefi and platform Linux, 2 disks, against the EC2 Query API protocol fake: two ImportSnapshot tasks, then one ImportImage of both snapshots in disk order (DryRun first) and its AMI', async () => {
  const seen: CloudTaskStatus[] = [];
  const r = await runImportStep(
    { cloud: 'aws', connection: connection(), poll: POLL, dryRunFirst: true, import: { target: 'aws-snapshot', disks: DISKS, bootMode: 'uefi', platform: 'Linux', licenseType: 'BYOL', architecture: 'x86_64', description: 'web01', tags: { team: 'ops' }, clientToken: 'tok-reg-1' } },
    { onStatus: (s) => void seen.push(s) },
  );
  const snaps = fake.callsOf('ImportSnapshot').filter((c) => c.params.DryRun !== 'true');
  assert.deepEqual(snaps.map((c) => c.params['DiskContainer.UserBucket.S3Key']), ['web01/boot.vmdk', 'web01/data.vmdk']);
  assert.equal(r.resourceIds.length, 2);
  const images = fake.callsOf('ImportImage');
  assert.deepEqual(images.map((c) => c.params.DryRun), ['true', 'false'], 'one DryRun, then one ImportImage');
  const p = images[1]!.params;
  assert.deepEqual([p['DiskContainer.1.SnapshotId'], p['DiskContainer.2.SnapshotId']], r.resourceIds, 'the boot disk first');
  assert.equal(p['DiskContainer.1.Format'], undefined, 'snapshot containers carry no S3 object');
  assert.equal(p.BootMode, 'uefi');
  assert.equal(p.Platform, 'Linux');
  assert.equal(p.LicenseType, 'BYOL');
  assert.equal(p.Architecture, 'x86_64');
  assert.equal(p.Description, 'web01');
  assert.equal(p.RoleName, 'vmimport');
  assert.equal(p.ClientToken, 'tok-reg-1-ami');
  assert.equal(p['TagSpecification.1.ResourceType'], 'import-image-task');
  const task = [...fake.world.tasks.values()].find((t) => t.kind === 'import-image')!;
  assert.equal(r.imageTaskId, task.id);
  assert.equal(r.imageId, task.resultId);
  assert.match(r.imageId!, /^ami-/);
  assert.deepEqual(r.final.map((s) => [s.kind, s.state]), [['aws-snapshot', 'completed'], ['aws-snapshot', 'completed'], ['aws-image', 'completed']]);
  assert.ok(seen.some((s) => s.kind === 'aws-image' && s.state === 'converting'), 'the ImportImage task states reach the callbacks');
});

test('aws-snapshot without boot mode or platform makes no AMI (the EC2 Query API protocol fake sees no ImportImage)', async () => {
  const before = fake.callsOf('ImportImage').length;
  const r = await runImportStep({ cloud: 'aws', connection: connection(), poll: POLL, import: { target: 'aws-snapshot', disks: DISKS.slice(0, 1) } });
  assert.equal(r.imageId, undefined);
  assert.equal(fake.callsOf('ImportImage').length, before);
});

test('aws-snapshot with --boot-mode uefi and no --platform is refused as MissingParameter before the EC2 Query API protocol fake sees a call', async () => {
  const before = fake.calls.length;
  await assert.rejects(
    runImportStep({ cloud: 'aws', connection: connection(), poll: POLL, import: { target: 'aws-snapshot', disks: DISKS, bootMode: 'uefi' } }),
    (err: unknown) => isVmxferError(err) && err.code === 'CLOUD_PREFLIGHT_FAILED' && /\[MissingParameter\]/.test(err.message) && err.message.includes('--platform'),
  );
  assert.equal(fake.calls.length, before);
});

test('the EC2 Query API protocol fake refuses ImportImage of an unknown snapshot (InvalidSnapshot.NotFound) and of UEFI snapshots without Platform (MissingParameter)', async () => {
  const clients = awsClients(connection());
  const p = { target: 'aws-snapshot' as const, disks: DISKS, bootMode: 'uefi', platform: 'Linux' };
  await assert.rejects(startSnapshotImage(clients, p, ['snap-0123456789abcdef0'], false), /InvalidSnapshot\.NotFound/);
  const snap = [...fake.world.snapshots][0]!;
  await assert.rejects(startSnapshotImage(clients, { ...p, platform: undefined }, [snap], false), /MissingParameter/);
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { importOptions } from '../../agent/cli/import-flags.js';
import { planUploadImport } from '../../agent/cloud/upload-import/upload-preflight.js';
import { parseImportBody } from '../../agent/api/import-body.js';
import { importStepParams } from '../../agent/cloud/upload-import/import-step-params.js';
import { runImportStep } from '../../agent/cloud/tasks/import-step.js';
import { isVmxferError } from '../../agent/core/errors.js';

const GiB = 1024 ** 3;
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };
const uploaded = { bucket: 'upl', key: 'web01/boot.vmdk', format: 'VMDK', virtualSize: 20 * GiB };

let fake: Ec2QueryFake;
before(async () => {
  fake = await Ec2QueryFake.start();
});
after(() => fake.close());

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err) => isVmxferError(err) && err.code === 'VMX_USAGE' && pattern.test(err.message));
}

test('--import-disk FORMAT=URL: each disk parsed with its API format word; wrong store, format, shape and the 21-volume limit refused', () => {
  const o = importOptions({ import: 'aws-image', 'import-disk': ['vmdk=s3://upl/web01/data1.vmdk', 'RAW=s3://upl/web01/data2.raw'] }, 'usage')!;
  assert.deepEqual(o.extraDisks, [
    { bucket: 'upl', key: 'web01/data1.vmdk', format: 'VMDK' },
    { bucket: 'upl', key: 'web01/data2.raw', format: 'RAW' },
  ]);
  const ecs = importOptions({ import: 'ecs-image', 'image-name': 'web01', 'import-disk': ['qcow2=oss://upl/data.qcow2'] }, 'usage')!;
  assert.deepEqual(ecs.extraDisks, [{ bucket: 'upl', key: 'data.qcow2', format: 'qcow2' }]);
  usageError(() => importOptions({ import: 'aws-image', 'import-disk': ['vmdk=oss://upl/x.vmdk'] }, 'u'), /reads disks from s3:\/\//);
  usageError(() => importOptions({ import: 'aws-image', 'import-disk': ['qcow2=s3://upl/x.qcow2'] }, 'u'), /format "qcow2" is not one aws-image takes/);
  usageError(() => importOptions({ import: 'aws-image', 'import-disk': ['s3://upl/x.vmdk'] }, 'u'), /takes FORMAT=URL/);
  usageError(() => importOptions({ import: 'aws-image', 'import-disk': ['vmdk=s3://upl/'] }, 'u'), /names a bucket but no object/);
  const many = Array.from({ length: 21 }, (_, i) => `vmdk=s3://upl/d${i}.vmdk`);
  usageError(() => importOptions({ import: 'aws-image', 'import-disk': many }, 'u'), /at most 21 volumes, here 22.*aws-snapshot/);
  usageError(() => importOptions({ 'import-disk': ['vmdk=s3://upl/x.vmdk'] }, 'u'), /--import-disk needs --import/);
});

test('API import.extraDisks: parsed like the flag; a bad entry is a 400 naming its index and field', () => {
  const o = parseImportBody({ target: 'aws-snapshot', extraDisks: [{ format: 'vhdx', url: 's3://upl/d1.vhdx' }] }, 's3://upl/boot.vmdk');
  assert.deepEqual(o.extraDisks, [{ bucket: 'upl', key: 'd1.vhdx', format: 'VHDX' }]);
  const field = (body: unknown) => {
    try {
      parseImportBody(body, 's3://upl/boot.vmdk');
    } catch (err) {
      return (err as { field?: string }).field ?? (err as Error).message;
    }
    return 'accepted';
  };
  assert.equal(field({ target: 'aws-image', extraDisks: [] }), 'import.extraDisks');
  assert.equal(field({ target: 'aws-image', extraDisks: [{ format: 'vmdk', url: 's3://upl/a' }, { format: 'vmdk' }] }), 'import.extraDisks[1].url');
  assert.equal(field({ target: 'aws-image', extraDisks: [{ format: 'vdi', url: 's3://upl/a.vdi' }] }), 'import.extraDisks[0]');
  assert.equal(field({ target: 'aws-image', extraDisks: Array.from({ length: 21 }, () => ({ format: 'vmdk', url: 's3://upl/a' })) }), 'import.extraDisks');
  // The 21-volume limit is ImportImage's: ImportSnapshot takes one task per disk.
  assert.equal(field({ target: 'aws-snapshot', extraDisks: Array.from({ length: 24 }, () => ({ format: 'vmdk', url: 's3://upl/a' })) }), 'accepted');
  assert.equal(field({ target: 'aws-snapshot', extraDisks: Array.from({ length: 65 }, () => ({ format: 'vmdk', url: 's3://upl/a' })) }), 'import.extraDisks');
});

test('the 21-volume rule counts an OVA\'s own disks and the disks named beside it', () => {
  const disk = (i: number) => ({ path: `vm.ova#disk${i}`, format: 'vmdk', subformat: 'streamOptimized', virtualSize: 1 << 30 });
  const ova = { container: 'ova' as const, disks: Array.from({ length: 15 }, (_, i) => disk(i + 1)) };
  const extraDisks = Array.from({ length: 10 }, (_, i) => ({ bucket: 'upl', key: `d${i}.vmdk`, format: 'VMDK' }));
  const found = planUploadImport({ target: 'aws-image', extraDisks }, ova, 'original').findings.filter((f) => f.rule === 'aws-volume-count');
  assert.equal(found.length, 1);
  assert.match(found[0]!.message, /^25 volumes; ImportImage takes at most 21/);
  assert.match(found[0]!.hint, /ImportSnapshot/);
  assert.deepEqual(planUploadImport({ target: 'aws-image', extraDisks: extraDisks.slice(0, 6) }, ova, 'original').findings, []);
  // aws-snapshot makes one task per disk; registering the snapshots as an AMI goes through ImportImage and its limit.
  const raw = { disks: [{ path: 'boot.raw', format: 'raw', virtualSize: 1 << 30 }] };
  const many = Array.from({ length: 21 }, (_, i) => ({ bucket: 'upl', key: `s${i}.raw`, format: 'RAW' }));
  assert.deepEqual(planUploadImport({ target: 'aws-snapshot', extraDisks: many }, raw, 'original').findings, []);
  const register = planUploadImport({ target: 'aws-snapshot', extraDisks: many, bootMode: 'uefi', platform: 'Linux' }, raw, 'original').findings;
  assert.deepEqual(register.map((f) => f.rule), ['aws-volume-count']);
});

test('the step lists the uploaded disk first, then the extra ones; ECS leaves their DiskImageSize to the object', () => {
  const extra = [{ bucket: 'upl', key: 'web01/data1.vmdk', format: 'VMDK' }];
  const aws = importStepParams({ target: 'aws-image', extraDisks: extra }, uploaded, { aws: { region: 'eu-west-1' } }, POLL);
  assert.equal(aws.cloud, 'aws');
  assert.deepEqual(aws.import.disks, [{ bucket: 'upl', key: 'web01/boot.vmdk', format: 'VMDK' }, ...extra]);
  const ecs = importStepParams({ target: 'ecs-image', imageName: 'web01', extraDisks: [{ bucket: 'upl', key: 'd.raw', format: 'RAW' }] }, { ...uploaded, format: 'VMDK' }, { ecs: { region: 'cn-hangzhou' } as never }, POLL);
  assert.equal(ecs.cloud, 'ecs');
  assert.deepEqual(ecs.import.disks, [
    { ossBucket: 'upl', ossObject: 'web01/boot.vmdk', format: 'VMDK', sizeGiB: 20 },
    { ossBucket: 'upl', ossObject: 'd.raw', format: 'RAW' },
  ]);
});

test('a multi-disk VM against the EC2 Query API protocol fake: ImportImage gets one DiskContainer per disk, ImportSnapshot one task per disk', async () => {
  const options = importOptions({ import: 'aws-image', 'import-disk': ['vmdk=s3://upl/web01/data1.vmdk', 'raw=s3://upl/web01/data2.raw'] }, 'usage')!;
  const connection = { region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake' }, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } };
  let from = fake.calls.length;
  await runImportStep(importStepParams(options, uploaded, { aws: connection }, POLL));
  const image = fake.calls.slice(from).find((c) => c.action === 'ImportImage')!;
  assert.deepEqual(
    [1, 2, 3].map((i) => `${image.params[`DiskContainer.${i}.Format`]} ${image.params[`DiskContainer.${i}.UserBucket.S3Key`]}`),
    ['VMDK web01/boot.vmdk', 'VMDK web01/data1.vmdk', 'RAW web01/data2.raw'],
  );
  assert.equal(image.params['DiskContainer.4.Format'], undefined);
  from = fake.calls.length;
  const snaps = await runImportStep(importStepParams({ ...options, target: 'aws-snapshot' }, uploaded, { aws: connection }, POLL));
  assert.equal(snaps.resourceIds.length, 3);
  assert.deepEqual(fake.calls.slice(from).filter((c) => c.action === 'ImportSnapshot' && c.params.DryRun === 'false').map((c) => c.params['DiskContainer.UserBucket.S3Key']), ['web01/boot.vmdk', 'web01/data1.vmdk', 'web01/data2.raw']);
});

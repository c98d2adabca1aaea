import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { exportCanonicalAccount } from '../../agent/cloud/preflight/canonical-accounts.js';

let ec2: Ec2QueryFake;
let ecs: EcsRpcFake;
let dir: string;
let cleanup: () => Promise<void>;
let raw: string;

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIDFAKECLI', AWS_SECRET_ACCESS_KEY: 'fake', AWS_REGION: 'eu-west-1', AWS_EC2_METADATA_DISABLED: 'true' };
const ALI_ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret };

before(async () => {
  ({ dir, cleanup } = await tempDir());
  raw = join(dir, 'disk.raw');
  await writeFile(raw, '');
  await truncate(raw, 64 * 1024 * 1024);
  ec2 = await Ec2QueryFake.start();
  ecs = await EcsRpcFake.start();
});
after(async () => {
  await ec2.close();
  await ecs.close();
  await cleanup();
});

test('vmxfer preflight prints each finding with the cloud code and a hint, and exits 2 on errors', async () => {
  const r = await vmxfer(['preflight', raw, '--import', 'ecs-image', '--name', 'aliyun-web', '--description', 'x', '--tag', 'acs:team=ops']);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.map((l) => /^ERROR \[([^\]]+)\]/.exec(l)?.[1]), ['InvalidImageName.Malformed', 'InvalidDescription.Malformed', 'InvalidTagKey.Malformed']);
  assert.ok(lines.every((l) => l.includes(' — ')), 'each line carries a hint');
  assert.match(r.stderr, /3 finding\(s\) would make the ecs-image import fail.*\[CLOUD_PREFLIGHT_FAILED\]/);
});

test('vmxfer preflight --json: a clean AWS ImportImage passes, license type with usage operation is refused, an unknown option is a usage error', async () => {
  const ok = await vmxfer(['preflight', raw, '--import', 'aws-image', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), []);
  const both = await vmxfer(['preflight', raw, '--import', 'aws-image', '--license-type', 'BYOL', '--usage-operation', 'RunInstances:0800', '--json']);
  assert.equal(both.code, 2);
  // With --json the findings come first, then the failure as one JSON error line.
  const [findings, failure] = both.stdout.trim().split(/\n(?=\{"type":"error")/);
  assert.deepEqual(JSON.parse(findings!).map((f: { cloudCode: string }) => f.cloudCode), ['InvalidParameterCombination']);
  assert.equal(JSON.parse(failure!).code, 'CLOUD_PREFLIGHT_FAILED');
  const bad = await vmxfer(['preflight', raw, '--import', 'ecs-image', '--bogus']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /VMX_USAGE/);
});

test('vmxfer preflight refuses flags the target would ignore and checks documented values; --boot-mode reaches the AWS rules', async () => {
  const aws = await vmxfer(['preflight', raw, '--import', 'ecs-image', '--name', 'web01', '--kms-key-id', 'k']);
  assert.equal(aws.code, 2);
  assert.match(aws.stderr, /--kms-key-id does not apply to --import ecs-image/);
  const license = await vmxfer(['preflight', raw, '--import', 'ecs-image', '--name', 'web01', '--license-type', 'AWS']);
  assert.equal(license.code, 2);
  assert.match(license.stderr, /license-type/);
  const mode = await vmxfer(['preflight', raw, '--import', 'aws-image', '--boot-mode', 'BIOS']);
  assert.equal(mode.code, 2);
  assert.match(mode.stderr, /boot-mode/);
  const ok = await vmxfer(['preflight', raw, '--import', 'ecs-image', '--name', 'web01', '--license-type', 'BYOL', '--boot-mode', 'UEFI', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
});

test('vmxfer preflight --check-role asks the IAM part of the EC2 Query API protocol fake', async () => {
  const ok = await vmxfer(['preflight', raw, '--import', 'aws-snapshot', '--check-role', '--endpoint', ec2.url], { env: AWS_ENV });
  assert.equal(ok.code, 0, ok.stderr);
  const missing = await vmxfer(['preflight', raw, '--import', 'aws-snapshot', '--check-role', '--role-name', 'absent', '--endpoint', ec2.url], { env: AWS_ENV });
  assert.equal(missing.code, 2);
  assert.match(missing.stdout, /^ERROR \[NoSuchEntity\] the role absent does not exist/m);
});

test('vmxfer export --help describes both clouds', async () => {
  const r = await vmxfer(['export', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /vmxfer export aws --image-id ami-/);
  assert.match(r.stdout, /vmxfer export ecs --image-id m-/);
  const main = await vmxfer(['--help']);
  assert.match(main.stdout, /export +export an AWS or Alibaba Cloud image/);
  assert.match(main.stdout, /preflight +check what a cloud import would refuse/);
});

test('vmxfer export aws against the EC2 Query API protocol fake: bucket preflight, ExportImage, statuses as JSON lines, download equals the export', async () => {
  const account = exportCanonicalAccount('eu-west-1')!;
  ec2.buckets.set('exp', { ownership: 'BucketOwnerPreferred', grants: [{ id: account, permission: 'WRITE' }, { id: account, permission: 'READ_ACP' }] });
  ec2.world.exportBytes = randomBytes(150_000);
  const dst = join(dir, 'web01.vhd');
  const r = await vmxfer(['export', 'aws', '--image-id', 'ami-0123456789abcdef0', '--format', 'vhd', '--bucket', 'exp', '--prefix', 'p/', dst, '--endpoint', ec2.url, '--poll-seconds', '0.005', '--json'], { env: AWS_ENV });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.filter((l) => l.type === 'cloudTask').map((l) => l.state), ['active', 'active', 'completed']);
  const result = lines.at(-1)!;
  assert.equal(result.type, 'result');
  assert.match(String(result.key), /^p\/export-ami-[0-9a-f]{17}\.vhd$/);
  assert.ok((await readFile(dst)).equals(ec2.world.exportBytes));
});

test('vmxfer export aws refuses a bucket with BucketOwnerEnforced before calling ExportImage', async () => {
  ec2.buckets.set('enforced', { ownership: 'BucketOwnerEnforced', grants: [] });
  const before = ec2.callsOf('ExportImage').length;
  const r = await vmxfer(['export', 'aws', '--image-id', 'ami-1', '--format', 'raw', '--bucket', 'enforced', join(dir, 'x.raw'), '--endpoint', ec2.url], { env: AWS_ENV });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /AccessControlListNotSupported/);
  assert.match(r.stderr, /CLOUD_PREFLIGHT_FAILED/);
  assert.equal(ec2.callsOf('ExportImage').length, before);
});

test('vmxfer export ecs against the ECS RPC API protocol fake and its OSS routes', async () => {
  const imageId = ecsId('m');
  ecs.world.images.set(imageId, { id: imageId, region: 'cn-hangzhou', name: 'web01', script: [{ status: 'Available', progress: '100%' }], step: 0, disks: [{ type: 'system', size: 40, encrypted: false }] });
  ecs.world.buckets.set('exports', { storageClass: 'Standard' });
  ecs.world.exportBytes = randomBytes(90_000);
  const port = ecs.host.split(':')[1];
  const dst = join(dir, 'web01.vmdk');
  const r = await vmxfer(['export', 'ecs', '--image-id', imageId, '--format', 'vmdk', '--oss-bucket', 'exports', '--oss-prefix', 'web01', dst, '--region', 'cn-hangzhou', '--endpoint', `http://${ecs.host}`, '--oss-endpoint', `http://localhost:${port}`, '--poll-seconds', '0.005'], { env: ALI_ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`exports/web01_${imageId}_system\\.vmdk`));
  assert.match(r.stderr, /ecs-export-image t-[0-9a-f]+: Finished/);
  assert.ok((await readFile(dst)).equals(ecs.world.exportBytes));
});

test('vmxfer export refuses the flags of another kind of export instead of ignoring them, before any cloud call', async () => {
  const before = ec2.calls.length;
  const cases: Array<[string[], RegExp]> = [
    [['aws', '--instance-id', 'i-0123456789abcdef0', '--disk-format', 'vmdk', '--target-environment', 'vmware', '--bucket', 'exp', '--role-name', 'vmimport'], /--role-name is not an option of an AWS instance export/],
    [['aws', '--instance-id', 'i-0123456789abcdef0', '--image-id', 'ami-0123456789abcdef0', '--disk-format', 'vmdk', '--target-environment', 'vmware', '--bucket', 'exp'], /--image-id is not an option of an AWS instance export/],
    [['aws', '--image-id', 'ami-0123456789abcdef0', '--format', 'vmdk', '--bucket', 'exp', '--oss-prefix', 'p'], /--oss-prefix is not an option of an AWS image export/],
    [['ecs', '--image-id', 'm-abc', '--format', 'qcow2', '--oss-bucket', 'exports', '--oss-prefix', 'web01', '--bucket', 'exp'], /--bucket is not an option of an ECS export/],
  ];
  for (const [args, message] of cases) {
    const r = await vmxfer(['export', ...args, join(dir, 'never.img'), '--endpoint', ec2.url], { env: AWS_ENV });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
  assert.equal(ec2.calls.length, before, 'no call was made');
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { vmxfer } from '../helpers/run-command.js';
import { interruptWhen } from '../helpers/killable-cli.js';
import { qemuImg } from '../helpers/qemu.js';
import type { RgwEnv, TestBucket } from '../helpers/rgw.js';
import { getObjectBytes, pendingUploads } from '../helpers/s3-object.js';
import type { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { importWorld, type ImportWorld } from '../helpers/import-world.js';
import { IMPORT_IMAGE_SCRIPT } from '../helpers/ec2-query-fake/fake-state.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { FAKE_ACCESS_KEY_ID, FAKE_ACCESS_KEY_SECRET, startOssProtocolFake, type OssProtocolFake } from '../helpers/oss-protocol-server/oss-protocol-fake.js';

let rgw: RgwEnv;
let bucket: TestBucket;
let ec2: Ec2QueryFake;
let dir: string;
let raw: string;

const MiB = 1024 * 1024;

function awsEnv() {
  return { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: '', AWS_EC2_METADATA_DISABLED: 'true' };
}

function uploadArgs(src: string, key: string, extra: string[]): string[] {
  return ['upload', src, `s3://${bucket.name}/${key}`, '--endpoint', rgw.endpoint, '--path-style', '--region', 'us-east-1', '--workers', '0', '--cloud-endpoint', ec2.url, '--poll-seconds', '0.005', ...extra];
}

let world: ImportWorld;
before(async () => {
  world = await importWorld('import', 6);
  ({ dir, raw, rgw, bucket, ec2 } = world);
});
after(() => world?.close());

test('vmxfer upload --import aws-image: a preflight error stops the command with the cloud code before any byte reaches RGW', async () => {
  const key = `refused/${randomBytes(3).toString('hex')}.raw`;
  const r = await vmxfer(uploadArgs(raw, key, ['--import', 'aws-image', '--license-type', 'BYOL', '--usage-operation', 'RunInstances:0800']), { env: awsEnv() });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /ERROR \[InvalidParameterCombination\]/);
  assert.match(r.stderr, /CLOUD_PREFLIGHT_FAILED/);
  assert.equal(await pendingUploads(bucket.client, bucket.name, 'refused/'), 0, 'no multipart upload was started');
  assert.equal(ec2.callsOf('ImportImage').length, 0);
  const usage = await vmxfer(uploadArgs(raw, key, ['--import', 'aws-image', '--image-name', 'x']), { env: awsEnv() });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--image-name does not apply to --import aws-image/);
});

test('vmxfer upload --import aws-image through the CLI: a qcow2 repaired to stream-optimized VMDK on RGW, ImportImage on the EC2 Query API protocol fake, every state in order, the AMI printed', async () => {
  const qcow2 = join(dir, 'disk.qcow2');
  await qemuImg(['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  const key = `ok/${randomBytes(3).toString('hex')}.vmdk`;
  const r = await vmxfer(uploadArgs(qcow2, key, ['--import', 'aws-image', '--description', 'web01', '--boot-mode', 'uefi', '--license-type', 'BYOL', '--import-tag', 'team=ops', '--json']), { env: awsEnv() });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /REPAIR \[InvalidParameterValue\].*converted to vmdk/);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  assert.deepEqual(lines.filter((l) => l.type === 'cloudTask').map((l) => l.state), ['active', 'validating', 'validated', 'converting', 'updating', 'completed']);
  const result = lines.at(-1)!;
  assert.equal(result.type, 'result');
  assert.match(result.import.resourceIds[0], /^ami-[0-9a-f]{17}$/);
  const call = ec2.callsOf('ImportImage').at(-1)!;
  assert.equal(call.params['DiskContainer.1.UserBucket.S3Bucket'], bucket.name);
  assert.equal(call.params['DiskContainer.1.UserBucket.S3Key'], key);
  assert.equal(call.params['DiskContainer.1.Format'], 'VMDK');
  assert.equal(call.params.BootMode, 'uefi');
  assert.equal(call.params.LicenseType, 'BYOL');
  assert.equal(call.params.Description, 'web01');
  assert.equal(call.params['TagSpecification.1.Tag.1.Key'], 'team');
  assert.equal(result.import.taskIds[0], ec2.world.tokens.get(call.params.ClientToken!));
  // The stored object is what AWS reads: a VMDK (sparse magic "KDMV", VMDK 5.0 §Hosted Sparse Extent Header).
  assert.equal((await getObjectBytes(bucket.client, bucket.name, key)).subarray(0, 4).toString('latin1'), 'KDMV');
  // Without a repair the bytes go unchanged: a raw disk becomes an ImportSnapshot of Format RAW.
  const plain = await vmxfer(uploadArgs(raw, `ok/${randomBytes(3).toString('hex')}.raw`, ['--import', 'aws-snapshot']), { env: awsEnv() });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /aws-snapshot: snapshot snap-[0-9a-f]{17} \(task import-snap-[0-9a-f]{17}\)/);
  assert.match(plain.stderr, /aws-snapshot import-snap-[0-9a-f]+: completed/);
  assert.equal(ec2.callsOf('ImportSnapshot').at(-1)!.params['DiskContainer.Format'], 'RAW');
});

test('SIGINT during the import step sends CancelImportTask to the EC2 Query API protocol fake and exits 130', async () => {
  ec2.world.scripts.importImage = [{ status: 'active', message: 'pending' }, { status: 'converting', message: 'converting', progress: '30' }];
  try {
    const key = `cancel/${randomBytes(3).toString('hex')}.raw`;
    const { code, stderr } = await interruptWhen(uploadArgs(raw, key, ['--import', 'aws-image']), awsEnv(), /: converting/);
    assert.equal(code, 130, stderr);
    const taskId = /aws-image (import-ami-[0-9a-f]+): converting/.exec(stderr)![1]!;
    const cancel = ec2.callsOf('CancelImportTask').at(-1);
    assert.equal(cancel?.params.ImportTaskId, taskId);
    assert.equal(ec2.world.tasks.get(taskId)!.cancelled, 'vmxfer job cancelled');
  } finally {
    ec2.world.scripts.importImage = IMPORT_IMAGE_SCRIPT;
  }
});

test('vmxfer upload --import ecs-image: the object on the OSS protocol fake, ImportImage on the ECS RPC API protocol fake, task then image states, the image id printed', async () => {
  const ecs = await EcsRpcFake.start();
  let oss: OssProtocolFake | undefined;
  try {
    oss = await startOssProtocolFake({ buckets: ['ecs-up'], capacityBytes: 64 * MiB });
    const r = await vmxfer(['upload', raw, 'oss://ecs-up/web01/system.qcow2', '--endpoint', oss.endpoint, '--path-style', '--region', 'oss-cn-hangzhou', '--as', 'qcow2', '--workers', '0',
      '--import', 'ecs-image', '--image-name', 'web01', '--os-type', 'linux', '--platform', 'Ubuntu', '--architecture', 'x86_64', '--boot-mode', 'UEFI', '--license-type', 'BYOL',
      '--cloud-endpoint', `http://${ecs.host}`, '--poll-seconds', '0.005'], {
      env: { OSS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY_SECRET, ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(oss.store.bucket('ecs-up').objects.get('web01/system.qcow2'), 'the object is on the OSS protocol fake');
    const states = [...r.stderr.matchAll(/^ecs-image \S+: (\w+)/gm)].map((m) => m[1]);
    assert.deepEqual(states, ['Waiting', 'Processing', 'Finished', 'Creating', 'Available']);
    const call = ecs.callsOf('ImportImage').at(-1)!;
    assert.equal(call.params.RegionId, 'cn-hangzhou');
    assert.equal(call.params['DiskDeviceMapping.1.OSSBucket'], 'ecs-up');
    assert.equal(call.params['DiskDeviceMapping.1.OSSObject'], 'web01/system.qcow2');
    assert.equal(call.params['DiskDeviceMapping.1.Format'], 'qcow2');
    assert.equal(call.params['DiskDeviceMapping.1.DiskImageSize'], '1');
    assert.equal(call.params.BootMode, 'UEFI');
    assert.match(r.stdout, /ecs-image: image m-[0-9a-z]+ \(task t-[0-9a-z]+\)/);
  } finally {
    await oss?.close();
    await ecs.close();
  }
});

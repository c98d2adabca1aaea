import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { vmxfer } from '../helpers/run-command.js';
import { jsonResult } from '../helpers/killable-cli.js';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { VMIMPORT_TRUST } from '../helpers/ec2-query-fake/server.js';
import { importWorld, type ImportWorld } from '../helpers/import-world.js';
import { EcsRpcFake, ECS_ROLE_TRUST, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { FAKE_ACCESS_KEY_ID, FAKE_ACCESS_KEY_SECRET, startOssProtocolFake, type OssProtocolFake } from '../helpers/oss-protocol-server/oss-protocol-fake.js';

/**
 * Every import parameter the CLI (`upload --import`) and the API (`import`) accept, as the protocol fakes
 * record it on the wire, named as the EC2 Query API (ImportImage, ImportSnapshot) and the ECS RPC API
 * (ImportImage) name it.
 */
let world: ImportWorld;
let ecs: EcsRpcFake;
let oss: OssProtocolFake;

const MiB = 1024 * 1024;
const OSS_BUCKET = 'wire-up';

before(async () => {
  world = await importWorld('import-wire', 2);
  world.ec2.world.roles.set('vmxfer-import', VMIMPORT_TRUST);
  ecs = await EcsRpcFake.start();
  ecs.world.roles.set('VmxferImportRole', ECS_ROLE_TRUST);
  oss = await startOssProtocolFake({ buckets: [OSS_BUCKET], capacityBytes: 64 * MiB });
});
after(async () => {
  await oss?.close();
  await ecs?.close();
  await world?.close();
});

/** One case: the CLI flags and the API fields of one import, and the request parameters both must send. */
interface WireCase {
  name: string;
  flags: string[];
  fields: Record<string, unknown>;
  /** Wire parameters; `$BUCKET`, `$KEY` and `$TOKEN` stand for the upload's bucket and key and the ClientToken. */
  wire: Record<string, string>;
  action: string;
}

const AWS_CASES: WireCase[] = [
  {
    name: 'aws-image with a license type, UEFI, encryption, a role, tags and a second disk',
    action: 'ImportImage',
    flags: ['--import', 'aws-image', '--description', 'web01 import', '--license-type', 'BYOL', '--boot-mode', 'uefi', '--platform', 'Linux', '--architecture', 'arm64',
      '--encrypted', '--kms-key-id', 'arn:aws:kms:us-east-1:123456789012:key/k1', '--role-name', 'vmxfer-import', '--import-tag', 'team=ops', '--import-tag', 'env=prod',
      '--import-disk', 'vhd=s3://$BUCKET/web01/data.vhd'],
    fields: { target: 'aws-image', description: 'web01 import', licenseType: 'BYOL', bootMode: 'uefi', platform: 'Linux', architecture: 'arm64', encrypted: true,
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k1', roleName: 'vmxfer-import', tags: { team: 'ops', env: 'prod' }, extraDisks: [{ format: 'vhd', url: 's3://$BUCKET/web01/data.vhd' }] },
    wire: {
      Description: 'web01 import', LicenseType: 'BYOL', BootMode: 'uefi', Platform: 'Linux', Architecture: 'arm64', Encrypted: 'true',
      KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k1', RoleName: 'vmxfer-import', ClientToken: '$TOKEN',
      'TagSpecification.1.ResourceType': 'import-image-task', 'TagSpecification.1.Tag.1.Key': 'team', 'TagSpecification.1.Tag.1.Value': 'ops',
      'TagSpecification.1.Tag.2.Key': 'env', 'TagSpecification.1.Tag.2.Value': 'prod',
      'DiskContainer.1.Format': 'RAW', 'DiskContainer.1.UserBucket.S3Bucket': '$BUCKET', 'DiskContainer.1.UserBucket.S3Key': '$KEY',
      'DiskContainer.2.Format': 'VHD', 'DiskContainer.2.UserBucket.S3Bucket': '$BUCKET', 'DiskContainer.2.UserBucket.S3Key': 'web01/data.vhd',
    },
  },
  {
    name: 'aws-image with a usage operation and legacy BIOS',
    action: 'ImportImage',
    flags: ['--import', 'aws-image', '--usage-operation', 'RunInstances:0010', '--boot-mode', 'legacy-bios'],
    fields: { target: 'aws-image', usageOperation: 'RunInstances:0010', bootMode: 'legacy-bios' },
    wire: { UsageOperation: 'RunInstances:0010', BootMode: 'legacy-bios', RoleName: 'vmimport', ClientToken: '$TOKEN', 'DiskContainer.1.Format': 'RAW', 'DiskContainer.1.UserBucket.S3Key': '$KEY' },
  },
  {
    name: 'aws-snapshot with a description, encryption, a role and a tag',
    action: 'ImportSnapshot',
    flags: ['--import', 'aws-snapshot', '--description', 'data disk', '--encrypted', '--kms-key-id', 'alias/imports', '--role-name', 'vmxfer-import', '--import-tag', 'team=ops'],
    fields: { target: 'aws-snapshot', description: 'data disk', encrypted: true, kmsKeyId: 'alias/imports', roleName: 'vmxfer-import', tags: { team: 'ops' } },
    wire: {
      Description: 'data disk', Encrypted: 'true', KmsKeyId: 'alias/imports', RoleName: 'vmxfer-import', ClientToken: '$TOKEN',
      'TagSpecification.1.ResourceType': 'import-snapshot-task', 'TagSpecification.1.Tag.1.Key': 'team', 'TagSpecification.1.Tag.1.Value': 'ops',
      'DiskContainer.Format': 'RAW', 'DiskContainer.UserBucket.S3Bucket': '$BUCKET', 'DiskContainer.UserBucket.S3Key': '$KEY',
    },
  },
];

const ECS_CASES: WireCase[] = [
  {
    name: 'ecs-image with every documented parameter and a data disk',
    action: 'ImportImage',
    flags: ['--import', 'ecs-image', '--image-name', 'web01', '--description', 'web01 import', '--os-type', 'linux', '--platform', 'Ubuntu', '--architecture', 'arm64',
      '--boot-mode', 'UEFI', '--license-type', 'BYOL', '--role-name', 'VmxferImportRole', '--import-tag', 'team=ops', '--import-tag', 'env=prod',
      '--import-disk', `raw=oss://${OSS_BUCKET}/web01/data.raw`],
    fields: { target: 'ecs-image', imageName: 'web01', description: 'web01 import', osType: 'linux', platform: 'Ubuntu', architecture: 'arm64', bootMode: 'UEFI',
      licenseType: 'BYOL', roleName: 'VmxferImportRole', tags: { team: 'ops', env: 'prod' }, extraDisks: [{ format: 'raw', url: `oss://${OSS_BUCKET}/web01/data.raw` }] },
    wire: {
      RegionId: 'cn-hangzhou', ImageName: 'web01', Description: 'web01 import', OSType: 'linux', Platform: 'Ubuntu', Architecture: 'arm64', BootMode: 'UEFI',
      LicenseType: 'BYOL', RoleName: 'VmxferImportRole', ClientToken: '$TOKEN', 'Tag.1.Key': 'team', 'Tag.1.Value': 'ops', 'Tag.2.Key': 'env', 'Tag.2.Value': 'prod',
      'DiskDeviceMapping.1.OSSBucket': '$BUCKET', 'DiskDeviceMapping.1.OSSObject': '$KEY', 'DiskDeviceMapping.1.Format': 'RAW', 'DiskDeviceMapping.1.DiskImageSize': '1',
      'DiskDeviceMapping.2.OSSBucket': '$BUCKET', 'DiskDeviceMapping.2.OSSObject': 'web01/data.raw', 'DiskDeviceMapping.2.Format': 'RAW',
    },
  },
];

function fill(s: string, bucket: string): string {
  return s.replaceAll('$BUCKET', bucket);
}

function fillFields(fields: Record<string, unknown>, bucket: string): Record<string, unknown> {
  return JSON.parse(fill(JSON.stringify(fields), bucket));
}

/** The recorded request holds exactly the expected value for every parameter the case names. */
function assertWire(params: Record<string, string>, c: WireCase, bucket: string, key: string, via: string): void {
  for (const [name, raw] of Object.entries(c.wire)) {
    const want = raw === '$TOKEN' ? params.ClientToken : raw === '$KEY' ? key : fill(raw, bucket);
    assert.ok(want, `${via} ${c.name}: ClientToken sent`);
    assert.equal(params[name], want, `${via} ${c.name}: ${name}`);
  }
}

function awsEnv() {
  const { rgw } = world;
  return { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: '', AWS_EC2_METADATA_DISABLED: 'true' };
}

const ALI_ENV = { OSS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY_SECRET, ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret };

async function withDaemon(env: Record<string, string>, config: Record<string, unknown>, fn: (d: TestDaemon) => Promise<void>): Promise<void> {
  const d = await startDaemon({ sourceRoots: [world.dir], env, config });
  try {
    await fn(d);
  } finally {
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
}

async function apiImport(d: TestDaemon, destination: string, fields: Record<string, unknown>): Promise<any> {
  const r = await d.api('POST', '/v1/jobs', { source: world.raw, destination, format: 'original', import: fields });
  assert.equal(r.status, 201, r.text);
  const job = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  return job;
}

test('AWS import parameters on the wire of the EC2 Query API protocol fake, from `upload --import` and from an API job, exactly as ImportImage / ImportSnapshot name them', async () => {
  const { bucket, ec2, rgw } = world;
  for (const c of AWS_CASES) {
    const key = `cli/${randomBytes(3).toString('hex')}.raw`;
    const r = await vmxfer(['upload', world.raw, `s3://${bucket.name}/${key}`, '--endpoint', rgw.endpoint, '--path-style', '--region', 'us-east-1', '--as', 'original', '--workers', '0',
      '--cloud-endpoint', ec2.url, '--poll-seconds', '0.005', '--json', ...c.flags.map((f) => fill(f, bucket.name))], { env: awsEnv() });
    assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
    const call = ec2.callsOf(c.action).at(-1)!;
    assertWire(call.params, c, bucket.name, key, 'CLI');
    assert.equal(jsonResult(r).import.taskIds[0], ec2.world.tokens.get(call.params.ClientToken!), 'the task of that ClientToken');
  }
  await withDaemon(awsEnv(), {
    stores: { s3_endpoint: rgw.endpoint, s3_region: 'us-east-1', s3_path_style: true },
    cloud: { aws_endpoint: ec2.url, poll_seconds: 0.01 },
  }, async (d) => {
    for (const c of AWS_CASES) {
      const key = `api/${randomBytes(3).toString('hex')}.raw`;
      const job = await apiImport(d, `s3://${bucket.name}/${key}`, fillFields(c.fields, bucket.name));
      const call = ec2.callsOf(c.action).at(-1)!;
      assertWire(call.params, c, bucket.name, key, 'API');
      assert.equal(call.params.ClientToken, job.import.clientToken, 'the job\'s ClientToken');
    }
  });
});

test('ECS import parameters on the wire of the ECS RPC API protocol fake (objects on the OSS protocol fake), from `upload --import` and from an API job, exactly as ImportImage names them', async () => {
  for (const c of ECS_CASES) {
    const key = `cli/${randomBytes(3).toString('hex')}.raw`;
    const r = await vmxfer(['upload', world.raw, `oss://${OSS_BUCKET}/${key}`, '--endpoint', oss.endpoint, '--path-style', '--region', 'oss-cn-hangzhou', '--as', 'original', '--workers', '0',
      '--cloud-endpoint', `http://${ecs.host}`, '--poll-seconds', '0.005', ...c.flags], { env: ALI_ENV });
    assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
    assertWire(ecs.callsOf(c.action).at(-1)!.params, c, OSS_BUCKET, key, 'CLI');
  }
  await withDaemon(ALI_ENV, {
    stores: { oss_endpoint: oss.endpoint, oss_region: 'oss-cn-hangzhou', s3_path_style: true },
    cloud: { ecs_endpoint: `http://${ecs.host}`, poll_seconds: 0.01 },
  }, async (d) => {
    for (const c of ECS_CASES) {
      const key = `api/${randomBytes(3).toString('hex')}.raw`;
      const job = await apiImport(d, `oss://${OSS_BUCKET}/${key}`, c.fields);
      const call = ecs.callsOf(c.action).at(-1)!;
      assertWire(call.params, c, OSS_BUCKET, key, 'API');
      assert.equal(call.params.ClientToken, job.import.clientToken, 'the job\'s ClientToken');
    }
  });
});

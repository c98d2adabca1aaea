import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { runImportStep } from '../../agent/cloud/tasks/import-step.js';
import { awsClients, type AwsConnection } from '../../agent/cloud/aws/aws-clients.js';
import { iamSigningRegion } from '../../agent/cloud/aws/iam-region.js';
import { awsImportRolePreflight } from '../../agent/cloud/preflight/aws-remote-preflight.js';
import { planUploadImport } from '../../agent/cloud/upload-import/upload-preflight.js';
import { isVmxferError } from '../../agent/core/errors.js';

let fake: Ec2QueryFake;
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };

function connection(region: string): AwsConnection {
  return { region, endpoint: fake.url, credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake-secret' }, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } };
}

before(async () => {
  fake = await Ec2QueryFake.start();
});
after(() => fake.close());

test('IAM signing region follows the partition: aws, aws-cn, aws-us-gov, ISO', () => {
  const cases: Array<[string, string]> = [['eu-west-1', 'us-east-1'], ['us-east-1', 'us-east-1'], ['cn-northwest-1', 'cn-north-1'], ['cn-north-1', 'cn-north-1'], ['us-gov-east-1', 'us-gov-west-1'], ['us-iso-east-1', 'us-iso-east-1'], ['us-isob-east-1', 'us-isob-east-1']];
  assert.deepEqual(cases.map(([r]) => [r, iamSigningRegion(r)]), cases);
});

test('the IAM client of a China or GovCloud connection signs for its partition, without and with an endpoint (EC2 Query API protocol fake with IAM)', async () => {
  const cn = awsClients({ region: 'cn-northwest-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  assert.equal(await cn.iam.config.region(), 'cn-north-1');
  assert.equal(await cn.ec2.config.region(), 'cn-northwest-1');
  const before = fake.calls.length;
  await awsImportRolePreflight({ target: 'aws-image', image: { disks: [] }, convertAllowed: true }, awsClients(connection('us-gov-east-1')));
  const getRole = fake.calls.slice(before).find((c) => c.action === 'GetRole');
  assert.equal(getRole?.service, 'iam');
  assert.equal(getRole?.region, 'us-gov-west-1');
});

test('aws-snapshot forwards every documented ImportSnapshot parameter on the wire to the EC2 Query API protocol fake', async () => {
  const disks = [{ bucket: 'up', key: 'web01/data.vmdk', format: 'VMDK' }];
  const r = await runImportStep({ cloud: 'aws', connection: connection('eu-west-1'), poll: POLL, import: { target: 'aws-snapshot', disks, description: 'web01 data', encrypted: true, kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/k', roleName: 'vmimport', tags: { team: 'ops' }, clientToken: 'tok-snap-1' } });
  assert.match(r.resourceIds[0]!, /^snap-/);
  const p = fake.callsOf('ImportSnapshot').at(-1)!.params;
  assert.equal(p.Description, 'web01 data');
  assert.equal(p['DiskContainer.Description'], 'web01 data');
  assert.equal(p['DiskContainer.Format'], 'VMDK');
  assert.equal(p['DiskContainer.UserBucket.S3Key'], 'web01/data.vmdk');
  assert.equal(p.Encrypted, 'true');
  assert.equal(p.KmsKeyId, 'arn:aws:kms:eu-west-1:1:key/k');
  assert.equal(p.RoleName, 'vmimport');
  assert.equal(p.ClientToken, 'tok-snap-1');
  assert.equal(p['TagSpecification.1.ResourceType'], 'import-snapshot-task');
  assert.equal(p['TagSpecification.1.Tag.1.Key'], 'team');
});

test('aws-snapshot refuses the image flags ImportSnapshot does not take unless a boot mode or platform asks for the AMI, naming each, before the EC2 Query API protocol fake sees a call', async () => {
  const before = fake.callsOf('ImportSnapshot').length;
  const disks = [{ bucket: 'up', key: 'web01/boot.vmdk', format: 'VMDK' }];
  try {
    await runImportStep({ cloud: 'aws', connection: connection('eu-west-1'), poll: POLL, import: { target: 'aws-snapshot', disks, architecture: 'x86_64', licenseType: 'BYOL' } });
    assert.fail('expected a refusal');
  } catch (err) {
    assert.ok(isVmxferError(err), String(err));
    assert.equal(err.code, 'CLOUD_PREFLIGHT_FAILED', err.message);
    for (const flag of ['--architecture', '--license-type']) assert.ok(err.message.includes(flag), `${flag} named: ${err.message}`);
    assert.match(err.message, /\[UnknownParameter\]/);
    assert.match(err.message, /registers the snapshots as an AMI/);
  }
  assert.equal(fake.callsOf('ImportSnapshot').length, before);
  // The same rule runs in the upload's preflight, before the first byte; aws-image accepts these flags.
  const image = { disks: [{ path: 'd.vmdk', format: 'vmdk', subformat: 'streamOptimized', virtualSize: 1 << 30 }] };
  const snap = planUploadImport({ target: 'aws-snapshot', usageOperation: 'RunInstances:0800' }, image, 'original');
  assert.deepEqual(snap.findings.filter((f) => f.rule === 'aws-snapshot-parameter').map((f) => f.message.split(' ')[0]), ['--usage-operation']);
  // A platform asks for the AMI registration (ImportImage), which takes the usage operation.
  const registered = planUploadImport({ target: 'aws-snapshot', usageOperation: 'RunInstances:0800', platform: 'Linux' }, image, 'original');
  assert.deepEqual(registered.findings.filter((f) => f.rule.startsWith('aws-snapshot-')), []);
  const ami = planUploadImport({ target: 'aws-image', bootMode: 'uefi', platform: 'Linux', architecture: 'x86_64' }, image, 'original');
  assert.deepEqual(ami.findings.filter((f) => f.rule === 'aws-snapshot-parameter'), []);
});

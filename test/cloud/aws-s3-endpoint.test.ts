import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { vmxfer } from '../helpers/run-command.js';
import { jsonResult } from '../helpers/killable-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { createTestBucket, ensureRgw, type RgwEnv, type TestBucket } from '../helpers/rgw.js';
import { landExportsIn } from '../helpers/rgw-export-landing.js';
import { awsClients } from '../../agent/cloud/aws/aws-clients.js';
import { connectionsFromConfig } from '../../agent/cloud/upload-import/config-connections.js';
import { DEFAULTS } from '../../agent/config/schema.js';

/**
 * EC2 and S3 at different endpoints (an EC2 VPC endpoint beside S3, or here: the EC2 Query API protocol
 * fake beside the real local RGW): `vmxfer export aws --endpoint EC2 --s3-endpoint S3`, and the daemon's
 * cloud.aws_endpoint beside stores.s3_endpoint.
 */
let rgw: RgwEnv;
let bucket: TestBucket;
let ec2: Ec2QueryFake;
let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  rgw = await ensureRgw();
  bucket = await createTestBucket(rgw, 'export-cli');
  ec2 = await Ec2QueryFake.start();
  landExportsIn(ec2, bucket);
});
after(async () => {
  await ec2?.close();
  await bucket?.remove();
  await cleanup?.();
});

test('vmxfer export aws --s3-endpoint: ExportImage on the EC2 Query API protocol fake, the object downloaded from RGW, equal to what the export wrote', async () => {
  ec2.world.exportBytes = randomBytes(400_000);
  const dst = join(dir, 'web01.vmdk');
  const env = { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
  // --no-preflight: RGW keeps no grants for AWS's VM Import/Export accounts; the bucket checks are tested against the fake.
  const r = await vmxfer(['export', 'aws', '--image-id', 'ami-0123456789abcdef0', '--format', 'vmdk', '--bucket', bucket.name, '--prefix', 'cli/', dst,
    '--endpoint', ec2.url, '--s3-endpoint', rgw.endpoint, '--no-preflight', '--poll-seconds', '0.005', '--state-dir', join(dir, 'state'), '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const result = jsonResult(r);
  assert.equal(result.key, `cli/${result.taskId}.vmdk`);
  assert.ok((await readFile(dst)).equals(ec2.world.exportBytes));
  assert.equal(ec2.callsOf('ExportImage').at(-1)!.params['S3ExportLocation.S3Bucket'], bucket.name);
  assert.deepEqual(ec2.calls.filter((c) => c.service === 's3'), [], 'no S3 request reached the EC2 endpoint');
  const usage = await vmxfer(['export', '--help']);
  assert.match(usage.stdout, /--s3-endpoint URL/);
});

test('the daemon\'s AWS connection sends EC2 to cloud.aws_endpoint and S3 (the export bucket checks) to stores.s3_endpoint', async () => {
  const config = { ...DEFAULTS, stores: { ...DEFAULTS.stores, s3_endpoint: 'http://127.0.0.1:7480', s3_region: 'eu-west-1' }, cloud: { ...DEFAULTS.cloud, aws_endpoint: 'http://127.0.0.1:9001' } };
  const clients = awsClients(connectionsFromConfig(config).aws!);
  const s3 = await clients.s3.config.endpoint!();
  const ec2Endpoint = await clients.ec2.config.endpoint!();
  assert.deepEqual([s3.hostname, s3.port], ['127.0.0.1', 7480]);
  assert.deepEqual([ec2Endpoint.hostname, ec2Endpoint.port], ['127.0.0.1', 9001]);
  const same = awsClients(connectionsFromConfig({ ...config, stores: { ...config.stores, s3_endpoint: '' } }).aws!);
  assert.equal((await same.s3.config.endpoint!()).port, 9001, 'without a store endpoint S3 shares the cloud endpoint');
});

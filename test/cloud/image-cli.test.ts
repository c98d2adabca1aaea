import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { vmxfer } from '../helpers/run-command.js';
import { importWorld, type ImportWorld } from '../helpers/import-world.js';
import { pendingUploads } from '../helpers/s3-object.js';
import { Ec2Error } from '../helpers/ec2-query-fake/ec2-actions.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId } from '../helpers/ecs-rpc-fake/ecs-world.js';

const A = '111122223333';
const B = '444455556666';
let world: ImportWorld;
let ecs: EcsRpcFake;

before(async () => {
  world = await importWorld('image-cli', 5);
  ecs = await EcsRpcFake.start();
});
after(async () => {
  await ecs?.close();
  await world?.close();
});

const awsEnv = () => ({ AWS_ACCESS_KEY_ID: world.rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: world.rgw.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: '', AWS_EC2_METADATA_DISABLED: 'true' });
const ALI_ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret };
const aws = (args: string[]) => vmxfer(['image', ...args, '--endpoint', world.ec2.url, '--region', 'us-east-1', '--poll-seconds', '0.005'], { env: awsEnv() });

function ami(): string {
  const id = `ami-${randomBytes(9).toString('hex').slice(0, 17)}`;
  world.ec2.world.images.set(id, { region: 'us-east-1', encrypted: false });
  return id;
}

test('vmxfer image copy aws against the EC2 Query API protocol fake: one copy per region with its states on stderr, the AMIs on stdout, exit 0', async () => {
  const src = ami();
  const r = await aws(['copy', 'aws', '--image-id', src, '--to-region', 'us-west-2,eu-west-1', '--name', 'web01 copy']);
  assert.equal(r.code, 0, r.stderr);
  const copies = [...r.stdout.matchAll(/^copy (\S+): (ami-[0-9a-f]{17})$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(copies.map((c) => c[0]), ['us-west-2', 'eu-west-1']);
  for (const [region, id] of copies) {
    assert.equal(world.ec2.world.images.get(id!)?.region, region);
    assert.match(r.stderr, new RegExp(`^aws-copy ${id}: available$`, 'm'));
  }
  const calls = world.ec2.callsOf('CopyImage').filter((c) => c.params.SourceImageId === src);
  assert.equal(calls.filter((c) => c.params.DryRun !== 'true').length, 2, 'one real CopyImage per destination');
  assert.equal(calls.filter((c) => c.params.DryRun === 'true').length, 2, 'a DryRun per destination');
  const bad = await aws(['copy', 'aws', '--image-id', src, '--to-region', 'us-west-2', '--kms-key-id', 'k']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /CLOUD_COPY_RULE/);
  assert.match(bad.stderr, /InvalidParameterDependency/);
});

test('vmxfer image share aws: each account outcome printed; a DryRun answered UnauthorizedOperation stops before ModifyImageAttribute and exits 7; --community is refused with exit 2', async () => {
  const img = ami();
  const ok = await aws(['share', 'aws', '--image-id', img, '--accounts', `${A},${B}`]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `share ${img} (us-east-1) with ${A}: shared\nshare ${img} (us-east-1) with ${B}: shared\n`);
  assert.deepEqual(world.ec2.world.launchPermissions.get(img), [A, B]);

  const other = ami();
  world.ec2.failNext.set('ModifyImageAttribute', new Ec2Error(403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.'));
  const denied = await aws(['share', 'aws', '--image-id', other, '--accounts', A]);
  assert.equal(denied.code, 7, denied.stderr);
  assert.match(denied.stdout, new RegExp(`with ${A}: FAILED \\[UnauthorizedOperation\\]`));
  assert.match(denied.stderr, /CLOUD_SHARE_FAILED/);
  assert.deepEqual(world.ec2.callsOf('ModifyImageAttribute').filter((c) => c.params.ImageId === other).map((c) => c.params.DryRun), ['true'], 'the real call was never made');
  assert.equal(world.ec2.world.launchPermissions.has(other), false);

  const community = await aws(['share', 'aws', '--image-id', img, '--community']);
  assert.equal(community.code, 2, community.stderr);
  assert.match(community.stderr, /share\.community: is ECS only/);
});

test('vmxfer image share ecs against the ECS RPC API protocol fake: the batch with an unknown account fails, the others are shared, exit 7', async () => {
  const img = ecsId('m');
  ecs.world.images.set(img, { id: img, region: 'cn-hangzhou', name: 'src', script: [{ status: 'Available', progress: '100%' }], step: 0, disks: [{ type: 'system', size: 40, encrypted: false }] });
  const accounts = Array.from({ length: 12 }, (_, i) => String(1_500_000_000_000_000 + i));
  ecs.world.unknownAccounts.add(accounts[11]!);
  const r = await vmxfer(['image', 'share', 'ecs', '--image-id', img, '--accounts', accounts.slice(0, 6).join(','), '--accounts', accounts.slice(6).join(','), '--region', 'cn-hangzhou', '--endpoint', `http://${ecs.host}`], { env: ALI_ENV });
  assert.equal(r.code, 7, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 12);
  assert.ok(lines.slice(0, 10).every((l) => l.endsWith(': shared')));
  assert.ok(lines.slice(10).every((l) => /: FAILED \[InvalidAccount\.NotFound\]/.test(l)), lines.slice(10).join('\n'));
  assert.deepEqual(ecs.world.shares.get(img), accounts.slice(0, 10));
});

test('vmxfer upload --import aws-image --copy-to --share-with: upload to RGW, import, copies and shares on the EC2 Query API protocol fake, all in the JSON result', async () => {
  const { bucket, rgw, ec2, raw } = world;
  const args = (key: string, extra: string[]) => ['upload', raw, `s3://${bucket.name}/${key}`, '--endpoint', rgw.endpoint, '--path-style', '--region', 'us-east-1', '--workers', '0', '--cloud-endpoint', ec2.url, '--poll-seconds', '0.005', '--import', 'aws-image', ...extra];
  const refused = await vmxfer(args(`refused/${randomBytes(3).toString('hex')}.vmdk`, ['--copy-to', 'us-east-1', '--share-with', A]), { env: awsEnv() });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /copy\[0\]\.region: is the source region us-east-1/);
  assert.equal(await pendingUploads(bucket.client, bucket.name, 'refused/'), 0, 'refused before the first byte');

  const r = await vmxfer(args(`copied/${randomBytes(3).toString('hex')}.vmdk`, ['--copy-to', 'us-west-2', '--copy-to', 'eu-central-1', '--share-with', `${A},${B}`, '--json']), { env: awsEnv() });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  const copyStates = lines.filter((l) => l.type === 'cloudTask' && l.kind === 'aws-copy').map((l) => l.state);
  assert.deepEqual(copyStates.filter((s) => s === 'available').length, 2);
  const result = lines.at(-1)!;
  assert.equal(result.type, 'result');
  const source = result.import.resourceIds[0];
  assert.deepEqual(result.import.copies.map((c: any) => c.region), ['us-west-2', 'eu-central-1']);
  assert.deepEqual(result.import.shares.map((s: any) => s.imageId), [source, ...result.import.copies.map((c: any) => c.imageId)]);
  for (const s of result.import.shares) {
    assert.deepEqual(s.accounts.map((a: any) => a.shared), [true, true]);
    assert.deepEqual(ec2.world.launchPermissions.get(s.imageId), [A, B]);
  }
});

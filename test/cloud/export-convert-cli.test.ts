import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { QEMU_MISSING, qemuCompare, qemuFromRaw, qemuInfo } from '../helpers/qemu.js';
import { qemuStreamVmdk, smallRaw, writerOva } from '../helpers/export-images.js';
import { createTestBucket, ensureRgw, type RgwEnv, type TestBucket } from '../helpers/rgw.js';
import { landExportsIn } from '../helpers/rgw-export-landing.js';

/**
 * `vmxfer export … --to FORMAT` and `--unpack` against the EC2 Query API and ECS RPC protocol fakes (AWS
 * exports land in and download from the real local RGW; ECS exports from the ECS fake's OSS routes, as no
 * OSS server runs here): the exported bytes are real images (qemu-img's stream-optimized VMDK and qcow2, the OVA writer's
 * OVA), and qemu-img is the oracle of every conversion.
 */
let ec2: Ec2QueryFake;
let ecs: EcsRpcFake;
let rgw: RgwEnv;
let bucket: TestBucket;
let dir: string;
let cleanup: () => Promise<void>;
let rawA: string;
let rawB: string;
let ova: Buffer;

const awsEnv = () => ({ AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
const ALI_ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret };

before(async () => {
  ({ dir, cleanup } = await tempDir());
  rawA = await smallRaw(dir, 'a.raw', 8);
  rawB = await smallRaw(dir, 'b.raw', 4);
  ova = await readFile(await writerOva([rawA, rawB], join(dir, 'vm.ova')));
  ec2 = await Ec2QueryFake.start();
  ecs = await EcsRpcFake.start();
  rgw = await ensureRgw();
  bucket = await createTestBucket(rgw, 'export-convert');
  landExportsIn(ec2, bucket);
});
after(async () => {
  await ec2.close();
  await ecs.close();
  await bucket.remove();
  await cleanup();
});

/** EC2 on the fake, S3 on RGW; RGW keeps no grants for AWS's export accounts, so the bucket checks are skipped here (cloud-cli.test.ts runs them). */
function awsPlanes(): string[] {
  return ['--endpoint', ec2.url, '--s3-endpoint', rgw.endpoint, '--no-preflight'];
}

function awsImage(dst: string, extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return vmxfer(['export', 'aws', '--image-id', 'ami-0123456789abcdef0', '--format', 'vmdk', '--bucket', bucket.name, '--prefix', 'p/', dst, ...awsPlanes(), '--poll-seconds', '0.005', '--state-dir', join(dir, 'state'), ...extra], { env: awsEnv() });
}

function awsInstance(dst: string, extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return vmxfer(
    ['export', 'aws', '--instance-id', 'i-0123456789abcdef0', '--disk-format', 'vmdk', '--target-environment', 'vmware', '--bucket', bucket.name, '--prefix', 'vms/', dst, ...awsPlanes(), '--poll-seconds', '0.005', '--state-dir', join(dir, 'state'), ...extra],
    { env: awsEnv() },
  );
}

function resultOf(stdout: string): Record<string, any> {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

test('vmxfer export aws --image-id --to qcow2: the stream-optimized VMDK export is converted from the stream of GETs and equals the source per qemu-img', { skip: QEMU_MISSING }, async () => {
  ec2.world.exportBytes = await readFile(await qemuStreamVmdk(rawA, join(dir, 'a-stream.vmdk')));
  const dst = join(dir, 'image.qcow2');
  const r = await awsImage(dst, ['--to', 'qcow2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = resultOf(r.stdout);
  assert.equal(result.type, 'result');
  assert.match(result.key, /^p\/export-ami-[0-9a-f]{17}\.vmdk$/);
  assert.deepEqual({ from: result.conversion.from, to: result.conversion.to, mode: result.conversion.mode }, { from: 'vmdk', to: 'qcow2', mode: 'stream' });
  assert.equal((await qemuInfo(dst)).format, 'qcow2');
  await qemuCompare(rawA, dst);
});

test('vmxfer export aws --instance-id --to qcow2 converts the OVA\'s first disk (local copy, removed), --disk 2 the second; each equals its source per qemu-img', { skip: QEMU_MISSING }, async () => {
  ec2.world.exportBytes = ova;
  const first = join(dir, 'inst1.qcow2');
  const r1 = await awsInstance(first, ['--to', 'qcow2']);
  assert.equal(r1.code, 0, r1.stderr);
  assert.match(r1.stdout, /vms\/export-i-[0-9a-f]{17}\.ova .*converted ova -> qcow2 \(local\)/);
  await qemuCompare(rawA, first);
  const second = join(dir, 'inst2.vhd');
  const r2 = await awsInstance(second, ['--to', 'vhd', '--disk', '2', '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(resultOf(r2.stdout).conversion.mode, 'local');
  await qemuCompare(rawB, second);
  assert.deepEqual((await readdir(dir)).filter((f) => f.includes('vmxfer-partial')), [], 'the local OVA copy is removed');
  const r3 = await awsInstance(join(dir, 'inst3.raw'), ['--to', 'raw', '--disk', '3']);
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /--disk 3: the package has 2 disk\(s\).*\[OVA_DISK_INDEX\]/);
});

test('vmxfer export aws --instance-id --unpack extracts the OVA into DST, verifies its manifest and removes the downloaded OVA', async () => {
  ec2.world.exportBytes = ova;
  const out = join(dir, 'vm-files');
  const r = await awsInstance(out, ['--unpack', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = resultOf(r.stdout);
  assert.deepEqual(result.unpacked.members.map((m: { name: string }) => m.name), ['vm.ovf', 'vm-disk1.vmdk', 'vm-disk2.vmdk', 'vm.mf']);
  assert.equal(result.unpacked.manifest.status, 'verified');
  assert.deepEqual((await readdir(out)).sort(), ['vm-disk1.vmdk', 'vm-disk2.vmdk', 'vm.mf', 'vm.ovf']);
  assert.ok(!existsSync(join(dir, '.vm-files.download.ova')), 'the OVA copy is removed after the unpack');
});

test('vmxfer export --unpack of a tampered OVA exits 6 with OVA_MANIFEST_MISMATCH naming the disk member; DST is not created and the OVA copy is kept', async () => {
  const bad = Buffer.from(ova);
  const at = bad.indexOf('vm-disk1.vmdk\0');
  bad[at + 512 + 4096]! ^= 0xff;
  ec2.world.exportBytes = bad;
  const out = join(dir, 'vm-bad');
  const r = await awsInstance(out, ['--unpack']);
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /SHA256 of "vm-disk1\.vmdk" is [0-9a-f]{64}, but manifest vm\.mf says [0-9a-f]{64}.*\[OVA_MANIFEST_MISMATCH\]/);
  assert.ok(!existsSync(out));
  assert.ok((await readFile(join(dir, '.vm-bad.download.ova'))).equals(bad));
});

test('vmxfer export checks --to, --disk and --unpack before any cloud call', async () => {
  const before = ec2.callsOf('ExportImage').length + ec2.callsOf('CreateInstanceExportTask').length;
  const cases: Array<[Promise<{ code: number; stderr: string }>, number, RegExp]> = [
    [awsImage(join(dir, 'x'), ['--to', 'vdi']), 2, /cannot write "vdi".*\[VMX_UNSUPPORTED_TARGET\]/],
    [awsImage(join(dir, 'x'), ['--unpack']), 2, /--unpack applies to an instance export/],
    [awsImage(join(dir, 'x'), ['--to', 'raw', '--disk', '2']), 2, /--disk picks the disk of an instance export/],
    [awsInstance(join(dir, 'x'), ['--unpack', '--to', 'raw']), 2, /does not combine with --to/],
    [awsInstance(dir, ['--unpack']), 2, /already holds .*\[OVA_UNPACK_DIR_NOT_EMPTY\]/],
  ];
  for (const [p, code, re] of cases) {
    const r = await p;
    assert.equal(r.code, code, r.stderr);
    assert.match(r.stderr, re);
  }
  assert.equal(ec2.callsOf('ExportImage').length + ec2.callsOf('CreateInstanceExportTask').length, before);
});

test('vmxfer export ecs --to raw: a qcow2 export is downloaded to a local copy, converted, and equals the source per qemu-img', { skip: QEMU_MISSING }, async () => {
  const imageId = ecsId('m');
  ecs.world.images.set(imageId, { id: imageId, region: 'cn-hangzhou', name: 'web01', script: [{ status: 'Available', progress: '100%' }], step: 0, disks: [{ type: 'system', size: 40, encrypted: false }] });
  ecs.world.buckets.set('exports', { storageClass: 'Standard' });
  ecs.world.exportBytes = await readFile(await qemuFromRaw(rawB, join(dir, 'b.qcow2'), 'qcow2'));
  const port = ecs.host.split(':')[1];
  const dst = join(dir, 'ecs.raw');
  const r = await vmxfer(
    ['export', 'ecs', '--image-id', imageId, '--format', 'qcow2', '--oss-bucket', 'exports', '--oss-prefix', 'web01', dst, '--to', 'raw', '--region', 'cn-hangzhou', '--endpoint', `http://${ecs.host}`, '--oss-endpoint', `http://localhost:${port}`, '--poll-seconds', '0.005', '--state-dir', join(dir, 'state')],
    { env: ALI_ENV },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /converted qcow2 -> raw \(local\)/);
  await qemuCompare(rawB, dst);
});

test('vmxfer export --help describes --to, --disk and --unpack', async () => {
  const r = await vmxfer(['export', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--to FORMAT +convert on the way, as vmxfer download --to: .*qcow2/);
  assert.match(r.stdout, /--disk N +with --to on an instance export/);
  assert.match(r.stdout, /With an OVA of several disks, --to writes the one picked/);
  assert.match(r.stdout, /--unpack +instance export: DST is a directory/);
});

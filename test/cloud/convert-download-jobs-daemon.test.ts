import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { waitForJob, type TestDaemon } from '../helpers/daemon.js';
import type { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { startRgwExportDaemon, type RgwExportDaemon } from '../helpers/export-daemon.js';
import { QEMU_MISSING, qemuCompare, qemuInfo } from '../helpers/qemu.js';
import { qemuStreamVmdk, smallRaw, writerOva } from '../helpers/export-images.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `format` on download and export API jobs: the object is converted on the way (agent/transfer/download.ts
 * `to`), against the EC2 Query API protocol fake with the objects on the real local RGW; qemu-img is the oracle.
 */
let world: RgwExportDaemon;
let ec2: Ec2QueryFake;
let d: TestDaemon;
let bucket: string;
let dir: string;
let cleanup: () => Promise<void>;
let raw: string;
let raw2: string;
let streamVmdk: Buffer;
let ova: Buffer;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  raw = await smallRaw(dir, 'src.raw', 8);
  raw2 = await smallRaw(dir, 'src2.raw', 4);
  if (!QEMU_MISSING) streamVmdk = await readFile(await qemuStreamVmdk(raw, join(dir, 'src.vmdk')));
  ova = await readFile(await writerOva([raw, raw2], join(dir, 'vm.ova')));
  world = await startRgwExportDaemon('convert-jobs');
  ({ ec2, d } = world);
  bucket = world.bucket.name;
});
after(async () => {
  await world?.close();
  await cleanup();
});

/** An object on RGW, as a download job reads it. */
async function put(key: string, body: Buffer): Promise<string> {
  await world.bucket.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return `s3://${bucket}/${key}`;
}

async function finished(id: string): Promise<any> {
  return waitForJob(d, id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
}

test('POST /v1/jobs refuses a bad `format` on download and export jobs with a 400 naming format', async () => {
  const export1 = { kind: 'export', destination: join(d.stateDir, 'e.raw'), export: { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket: 'exp' } };
  const cases: unknown[] = [
    { source: 's3://exp/disk.vmdk', destination: join(d.stateDir, 'a.x'), format: 'vdi' },
    { source: 's3://exp/disk.vmdk', destination: join(d.stateDir, 'a.x'), format: 7 },
    { ...export1, format: 'ova' },
    { ...export1, format: 'VMDK' },
  ];
  for (const body of cases) {
    const r = await d.api('POST', '/v1/jobs', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error.field, 'format', `${JSON.stringify(body)}: ${r.text}`);
  }
});

test('a download job with format "qcow2" converts a stream-optimized VMDK object from the stream; the file equals the source per qemu-img', { skip: QEMU_MISSING }, async () => {
  const source = await put('web01.vmdk', streamVmdk);
  const dst = join(d.stateDir, 'web01.qcow2');
  const r = await d.api('POST', '/v1/jobs', { source, destination: dst, format: 'qcow2' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.job.kind, 'download');
  assert.equal(r.json.job.format, 'qcow2');
  const job = await finished(r.json.job.id);
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.deepEqual({ ...job.result.conversion, outputBytes: undefined, outputDigest: undefined }, { from: 'vmdk', to: 'qcow2', mode: 'stream', outputBytes: undefined, outputDigest: undefined });
  assert.match(job.result.outputDigest, /^sha256-linear-512k:[0-9a-f]{64}$/);
  assert.equal(job.result.outputDigest, job.result.conversion.outputDigest);
  assert.equal(job.result.objectSize, streamVmdk.length);
  assert.equal((await qemuInfo(dst)).format, 'qcow2');
  await qemuCompare(raw, dst);
});

test('an export job with format "qcow2" converts the exported VMDK on the way; result.export and result.conversion both reported', { skip: QEMU_MISSING }, async () => {
  ec2.world.exportBytes = streamVmdk;
  const dst = join(d.stateDir, 'exported.qcow2');
  const r = await d.api('POST', '/v1/jobs', { kind: 'export', destination: dst, format: 'qcow2', export: { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket, prefix: 'p/', preflight: false } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.job.format, 'qcow2');
  const job = await finished(r.json.job.id);
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.match(job.result.export.key, /^p\/export-ami-[0-9a-f]{17}\.vmdk$/);
  assert.equal(job.result.conversion.to, 'qcow2');
  await qemuCompare(raw, dst);
});

test('an instance export job with format "vhd" converts the OVA\'s disk from a local copy (removed afterwards); the VHD equals the first disk per qemu-img', { skip: QEMU_MISSING }, async () => {
  ec2.world.exportBytes = ova;
  const dst = join(d.stateDir, 'instance.vhd');
  const r = await d.api('POST', '/v1/jobs', {
    kind: 'export',
    destination: dst,
    format: 'vhd',
    export: { cloud: 'aws', instanceId: 'i-0123456789abcdef0', format: 'vmdk', targetEnvironment: 'vmware', bucket, prefix: 'vms/', preflight: false },
  });
  assert.equal(r.status, 201, r.text);
  const job = await finished(r.json.job.id);
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.deepEqual([job.result.conversion.from, job.result.conversion.to, job.result.conversion.mode], ['ova', 'vhd', 'local']);
  await qemuCompare(raw, dst);
  assert.deepEqual((await readdir(d.stateDir)).filter((f) => f.startsWith('.instance.vhd')), [], 'no partial or source copy left');
});

test('a download job with format "original" keeps the object\'s bytes and reports no conversion', async () => {
  const source = await put('as-is.ova', ova);
  const dst = join(d.stateDir, 'as-is.ova');
  const r = await d.api('POST', '/v1/jobs', { source, destination: dst });
  assert.equal(r.json.job.format, 'original');
  const job = await finished(r.json.job.id);
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.equal(job.result.conversion, undefined);
  assert.ok((await readFile(dst)).equals(ova));
});

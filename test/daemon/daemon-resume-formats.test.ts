import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureRgw, createTestBucket, type RgwEnv, type TestBucket } from '../helpers/rgw.js';
import { startDaemon, waitForJob } from '../helpers/daemon.js';
import { QEMU_MISSING, qemuImg } from '../helpers/qemu.js';
import { getObjectBytes, pendingUploads } from '../helpers/s3-object.js';
import { run, vmxfer } from '../helpers/run-command.js';

/**
 * The daemon killed with -9 in the middle of a `format: vmdk` job (what AWS imports) or a dynamic
 * VHD job (a writer that patches its head at the end) and started again: the job resumes from its checkpoint, skips the parts confirmed before the kill,
 * and the object equals what an uninterrupted `vmxfer upload --as FORMAT` of the same source makes.
 */
const MiB = 1024 * 1024;
let rgw: RgwEnv;
let bucket: TestBucket;

before(async () => {
  rgw = await ensureRgw();
  bucket = await createTestBucket(rgw, 'daemon-vmdk');
});
after(async () => bucket?.remove());

const done = (j: any) => (j.parts ?? []).filter((p: any) => p.state === 'done').length;

for (const [format, qemuFormat] of [['vmdk', 'vmdk'], ['vhd', 'vpc']] as const) test(`kill -9 of the daemon mid ${format} job, restart: the job completes, confirmed parts are skipped, the object equals an uninterrupted upload and passes qemu-img compare`, { skip: QEMU_MISSING }, async () => {
  const d = await startDaemon({
    env: { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey },
    config: { stores: { s3_endpoint: rgw.endpoint, s3_region: 'us-east-1', s3_path_style: true }, transfer: { part_size: '5MiB', bwlimit: '6MiB' } },
  });
  try {
    const raw = join(d.stateDir, 'disk.raw');
    const bytes = randomBytes(24 * MiB);
    bytes.fill(0, 10 * MiB, 12 * MiB);
    await writeFile(raw, bytes);
    const src = join(d.stateDir, 'disk.qcow2');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, src]);
    const key = `daemon-resume/${randomBytes(3).toString('hex')}.${format}`;
    const submit = await d.api('POST', '/v1/jobs', { source: src, destination: `s3://${bucket.name}/${key}`, format });
    assert.equal(submit.status, 201, submit.text);
    const id = submit.json.job.id;
    const before = await waitForJob(d, id, (j) => done(j) >= 2 || ['completed', 'failed'].includes(j.state));
    assert.equal(before.state, 'active', JSON.stringify(before.error ?? before.state));
    await d.kill();
    const confirmed = done(before);

    await d.restart();
    const job = await waitForJob(d, id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    const skipped = job.parts.filter((p: any) => p.state === 'skipped').length;
    assert.ok(skipped >= confirmed, `skipped ${skipped}, confirmed before the kill ${confirmed}`);
    assert.doesNotMatch(d.output(), /does not fit this job/, 'the job\'s own checkpoint was resumed, not replaced');
    assert.equal(await pendingUploads(bucket.client, bucket.name, key), 0);

    const object = await getObjectBytes(bucket.client, bucket.name, key);
    const refDir = join(d.stateDir, 'ref');
    await mkdir(refDir, { recursive: true });
    const refUrl = `file://${refDir}/${key}`;
    await mkdir(join(refDir, 'daemon-resume'), { recursive: true });
    const ref = await vmxfer(['upload', src, refUrl, '--as', format, '--state-dir', join(d.stateDir, 'cli-state')]);
    assert.equal(ref.code, 0, ref.stderr);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.equal(sha(object), sha(await readFile(join(refDir, key))), 'the resumed object equals an uninterrupted upload of the same source');
    const got = join(d.stateDir, 'got');
    await mkdir(got);
    const local = join(got, `object.${format}`);
    await writeFile(local, object);
    await qemuImg(['compare', '-q', '-f', qemuFormat, '-F', 'raw', local, raw]);
  } finally {
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});

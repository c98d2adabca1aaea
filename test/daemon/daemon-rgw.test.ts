import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureRgw, createTestBucket, type RgwEnv, type TestBucket } from '../helpers/rgw.js';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { buildRealisticDisk, SMALL_DISK } from '../helpers/realistic-disk.js';
import { fixtureCacheDir } from '../helpers/tmp.js';
import { linearDigestByDocScript, sha256File } from '../helpers/hash.js';
import { qemuImg } from '../helpers/qemu.js';
import { objectSha256, pendingUploads } from '../helpers/s3-object.js';
import { vmxfer } from '../helpers/run-command.js';
import { promtool } from '../helpers/promtool.js';

const MiB = 1024 * 1024;
let rgw: RgwEnv;
let bucket: TestBucket;

before(async () => {
  rgw = await ensureRgw();
  bucket = await createTestBucket(rgw, 'daemon');
});
after(async () => bucket?.remove());

function rgwDaemonOptions(extra: Record<string, unknown> = {}, roots?: string[]) {
  return {
    sourceRoots: roots,
    env: { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey },
    config: { stores: { s3_endpoint: rgw.endpoint, s3_region: 'us-east-1', s3_path_style: true }, ...extra },
  };
}

async function metricsText(d: TestDaemon): Promise<string> {
  const r = await d.api('GET', '/metrics');
  assert.equal(r.status, 200);
  return r.text;
}

function metric(text: string, line: RegExp): number {
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.split(' ').pop()) : 0;
}

test('an API upload job converts to qcow2 with correct bytes, a download job brings it back, /metrics passes promtool', async () => {
  const disk = await buildRealisticDisk(SMALL_DISK);
  const cache = await fixtureCacheDir();
  const d = await startDaemon(rgwDaemonOptions({}, [cache]));
  const out = join(d.stateDir, 'back.qcow2');
  try {
    const key = `jobs/${randomBytes(3).toString('hex')}/small.qcow2`;
    const submit = await d.api('POST', '/v1/jobs', { source: disk, destination: `s3://${bucket.name}/${key}`, format: 'qcow2' });
    assert.equal(submit.status, 201, submit.text);
    assert.equal(submit.json.job.kind, 'upload');
    const job = await waitForJob(d, submit.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    assert.ok(job.parts.length >= 1 && job.parts.every((p: any) => p.state === 'done'), JSON.stringify(job.parts));
    assert.equal(job.progress.bytesRead, job.progress.totalBytes);

    const local = join(d.stateDir, 'got.qcow2');
    const sha = await objectSha256(bucket.client, bucket.name, key, local);
    // The qcow2 writer patches its head, so the job reports no streamed digest: the same conversion
    // done locally by `vmxfer convert` is the reference (the writer is deterministic).
    const reference = join(d.stateDir, 'reference.qcow2');
    const conv = await vmxfer(['convert', disk, reference, '--to', 'qcow2']);
    assert.equal(conv.code, 0, conv.stderr);
    assert.equal(sha, await sha256File(reference), 'object bytes equal a local conversion');
    assert.equal(job.result.sourceDigest, await linearDigestByDocScript(disk));
    assert.equal(job.result.sourceSha256, null, 'no full SHA-256 without options.sha256');
    await qemuImg(['compare', '-f', 'raw', '-F', 'qcow2', disk, local]);

    await writeFile(d.configFile, JSON.stringify({ ...JSON.parse(await readFile(d.configFile, 'utf8')), source_roots: [cache, d.stateDir] }));
    process.kill(d.pid, 'SIGHUP');
    await waitUntil(() => /configuration reloaded/.test(d.output()));
    const dl = await d.api('POST', '/v1/jobs', { source: `s3://${bucket.name}/${key}`, destination: out });
    assert.equal(dl.status, 201, dl.text);
    const done = await waitForJob(d, dl.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.equal(await sha256File(out), sha);

    const text = await metricsText(d);
    assert.ok(metric(text, /^vmxfer_transferred_bytes_total\{direction="upload",store="s3",agent="[^"]+"\}/) >= job.result.objectSize);
    assert.equal(metric(text, /^vmxfer_transferred_bytes_total\{direction="download",store="s3",agent="[^"]+"\}/), job.result.objectSize);
    assert.equal(metric(text, /^vmxfer_read_bytes_total\{direction="upload",store="s3",agent="[^"]+"\}/), job.progress.totalBytes);
    assert.equal(metric(text, /^vmxfer_parts_total\{result="sent",agent="[^"]+"\}/), job.parts.length);
    assert.equal(metric(text, /^vmxfer_jobs\{state="completed"\}/), 2);
    assert.ok(metric(text, /^vmxfer_part_duration_seconds_count\{agent="[^"]+",direction="upload",store="s3"\}/) >= job.parts.length);
    assert.ok(metric(text, /^vmxfer_checkpoint_writes_total\{kind="upload",agent="[^"]+"\}/) >= job.parts.length);
    assert.ok(metric(text, /^process_resident_memory_bytes/) > 0);
    assert.match(text, /^vmxfer_worker_pool_utilization_ratio\{agent="[^"]+"\} /m);
    assert.match(text, /^vmxfer_remaining_bytes\{agent="[^"]+"\} 0$/m);
    const lint = await promtool(text);
    assert.equal(lint.code, 0, lint.output);

    // Secrets from the environment and the token appear nowhere we publish.
    const all = d.output() + text + JSON.stringify((await d.api('GET', '/v1/jobs')).json) + JSON.stringify(job);
    assert.ok(!all.includes(rgw.secretAccessKey), 'the S3 secret key leaked');
    assert.ok(!all.includes(d.token), 'the API token leaked');
  } finally {
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});

test('kill -9 mid-upload and a restart finish the job without re-sending confirmed parts; SIGTERM exits within 10 s', async () => {
  const d = await startDaemon(rgwDaemonOptions({ transfer: { part_size: '5MiB', bwlimit: '5MiB' } }));
  try {
    const src = join(d.stateDir, 'data.bin');
    await writeFile(src, randomBytes(36 * MiB));
    const key = `resume/${randomBytes(3).toString('hex')}.bin`;
    const { json } = await d.api('POST', '/v1/jobs', { source: src, destination: `s3://${bucket.name}/${key}` });
    const id = json.job.id;
    const before = await waitForJob(d, id, (j) => j.parts?.filter((p: any) => p.state === 'done').length >= 2);
    await d.kill();
    const confirmed = before.parts.filter((p: any) => p.state === 'done').length;

    await d.restart();
    const mid = await waitForJob(d, id, (j) => j.state === 'active' && j.parts?.filter((p: any) => p.state === 'done').length >= 1);
    assert.ok(mid.parts.filter((p: any) => p.state === 'skipped').length >= confirmed, JSON.stringify(mid.parts));
    const t0 = performance.now();
    const code = await d.stop();
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(code, 0);
    assert.ok(seconds < 10, `SIGTERM took ${seconds.toFixed(2)} s`);
    const rec = JSON.parse(await readFile(join(d.stateDir, 'jobs', `${id}.json`), 'utf8'));
    assert.equal(rec.state, 'active', 'a stopped job keeps its state for the next start');
    assert.equal((await readdir(join(d.stateDir, 'checkpoints'))).filter((f) => f.endsWith('.json')).length, 1);

    await d.restart();
    const job = await waitForJob(d, id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    assert.equal(job.attempts, 3);
    const skipped = job.parts.filter((p: any) => p.state === 'skipped').length;
    const sent = metric(await metricsText(d), /^vmxfer_parts_total\{result="sent",agent="[^"]+"\}/);
    assert.equal(job.parts.length, Math.ceil(36 / 5));
    assert.equal(skipped + sent, job.parts.length, 'each part is either re-used or sent once by the last run');
    assert.ok(skipped >= confirmed + 1, `skipped ${skipped}, confirmed before the kill ${confirmed}`);
    assert.equal(await objectSha256(bucket.client, bucket.name, key), await sha256File(src));
    assert.equal(await pendingUploads(bucket.client, bucket.name, key), 0);
  } finally {
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});

test('cancel aborts the multipart upload and forgets the checkpoint', async () => {
  const d = await startDaemon(rgwDaemonOptions({ transfer: { part_size: '5MiB', bwlimit: '4MiB' } }));
  try {
    const src = join(d.stateDir, 'data.bin');
    await writeFile(src, randomBytes(30 * MiB));
    const key = `cancel/${randomBytes(3).toString('hex')}.bin`;
    const { json } = await d.api('POST', '/v1/jobs', { source: src, destination: `s3://${bucket.name}/${key}` });
    await waitForJob(d, json.job.id, (j) => j.parts?.some((p: any) => p.state === 'done'));
    assert.equal(await pendingUploads(bucket.client, bucket.name, key), 1);
    const c = await d.api('POST', `/v1/jobs/${json.job.id}/cancel`);
    assert.equal(c.status, 202);
    assert.ok(['cancelling', 'cancelled'].includes(c.json.job.state));
    await waitForJob(d, json.job.id, (j) => j.state === 'cancelled');
    assert.equal(await pendingUploads(bucket.client, bucket.name, key), 0);
    assert.deepEqual((await readdir(join(d.stateDir, 'checkpoints'))).filter((f) => f.endsWith('.json')), []);
    const again = await d.api('POST', `/v1/jobs/${json.job.id}/cancel`);
    assert.equal(again.status, 409);
  } finally {
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});

async function waitUntil(cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('kill -9 mid-download and a restart resume the download from its checkpoint with correct bytes', async () => {
  const d = await startDaemon(rgwDaemonOptions({ transfer: { part_size: '5MiB', bwlimit: '5MiB' } }));
  try {
    const src = join(d.stateDir, 'data.bin');
    await writeFile(src, randomBytes(30 * MiB));
    const key = `dl-resume/${randomBytes(3).toString('hex')}.bin`;
    const up = await d.api('POST', '/v1/jobs', { source: src, destination: `s3://${bucket.name}/${key}` });
    assert.equal((await waitForJob(d, up.json.job.id, (j) => ['completed', 'failed'].includes(j.state))).state, 'completed');
    const out = join(d.stateDir, 'back.bin');
    const dl = await d.api('POST', '/v1/jobs', { source: `s3://${bucket.name}/${key}`, destination: out });
    assert.equal(dl.status, 201, dl.text);
    // Wait until the download's checkpoint records at least two completed ranges, then kill the daemon.
    const cpDir = join(d.stateDir, 'downloads');
    await waitUntil(async () => {
      const files = (await readdir(cpDir).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
      if (files.length === 0) return false;
      const cp = JSON.parse(await readFile(join(cpDir, files[0]!), 'utf8'));
      return cp.ranges.length >= 2;
    });
    await d.kill();
    await d.restart();
    const done = await waitForJob(d, dl.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.equal(await sha256File(out), await sha256File(src));
    assert.equal(done.result.outputDigest, await linearDigestByDocScript(src), 'the copy checked against the vmxfer-digest tag reports that digest');
    const fetchedAfterRestart = metric(await metricsText(d), /^vmxfer_transferred_bytes_total\{direction="download",store="s3",agent="[^"]+"\}/);
    assert.ok(fetchedAfterRestart <= 30 * MiB - 2 * 5 * MiB, `after the restart ${fetchedAfterRestart} bytes were fetched: the ranges done before the kill must not be fetched again`);
    assert.deepEqual((await readdir(cpDir)).filter((f) => f.endsWith('.json')), [], 'the checkpoint is gone once the download completed');
  } finally {
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureRgw, createTestBucket } from '../helpers/rgw.js';
import { startDaemon } from '../helpers/daemon.js';
import { getObjectBytes } from '../helpers/s3-object.js';

const MiB = 1024 * 1024;

test('50 concurrent small jobs to the RGW all complete with correct bytes and bounded daemon memory', async () => {
  const rgw = await ensureRgw();
  const bucket = await createTestBucket(rgw, 'many');
  const d = await startDaemon({
    env: { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey },
    config: { stores: { s3_endpoint: rgw.endpoint, s3_region: 'us-east-1', s3_path_style: true }, jobs: { max_concurrent: 16, per_destination: 8 } },
  });
  let maxRss = 0;
  let maxActive = 0;
  const sampler = setInterval(async () => {
    const text = (await d.api('GET', '/metrics').catch(() => ({ text: '' }))).text;
    for (const line of text.split('\n')) {
      if (/^process_resident_memory_bytes\{agent="[^"]+"\} /.test(line)) maxRss = Math.max(maxRss, Number(line.split(' ')[1]));
      if (line.startsWith('vmxfer_jobs{state="active"}')) maxActive = Math.max(maxActive, Number(line.split(' ')[1]));
    }
  }, 200);
  try {
    const dir = join(d.stateDir, 'src');
    await mkdir(dir);
    const files = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const path = join(dir, `f${i}.bin`);
        const bytes = randomBytes(256 * 1024 + i * 1000);
        await writeFile(path, bytes);
        return { path, key: `many/f${i}.bin`, sha: createHash('sha256').update(bytes).digest('hex') };
      }),
    );
    const ids = await Promise.all(
      files.map(async (f) => {
        const r = await d.api('POST', '/v1/jobs', { source: f.path, destination: `s3://${bucket.name}/${f.key}` });
        assert.equal(r.status, 201, r.text);
        return r.json.job.id as string;
      }),
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { json } = await d.api('GET', '/v1/jobs?state=completed,failed');
      if (json.jobs.length === ids.length) {
        assert.deepEqual(json.jobs.filter((j: any) => j.state === 'failed').map((j: any) => j.error), []);
        break;
      }
      if (Date.now() > deadline) throw new Error(`only ${json.jobs.length} of 50 jobs finished in 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const f of files) {
      const bytes = await getObjectBytes(bucket.client, bucket.name, f.key);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha, f.key);
    }
    assert.ok(maxActive <= 8, `per-destination limit held: at most ${maxActive} active for one bucket`);
    assert.ok(maxRss > 0 && maxRss < 300 * MiB, `daemon RSS peaked at ${(maxRss / MiB).toFixed(0)} MiB`);
    process.stdout.write(`# 50 jobs: daemon RSS peak ${(maxRss / MiB).toFixed(0)} MiB, at most ${maxActive} active\n`);
  } finally {
    clearInterval(sampler);
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
    await bucket.remove();
  }
});

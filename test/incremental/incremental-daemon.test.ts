import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { startDaemon, waitForJob } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { sha256File } from '../helpers/hash.js';
import { s3Store } from '../helpers/transfer-stores.js';
import { readRgwLog, rgwLogCursor } from '../helpers/rgw-request-log.js';
import { writeSparseDisk } from '../helpers/changed-disk.js';

test('API options.incremental: a second upload job of a changed disk sends the changed part and RGW copies the others (RGW log)', async () => {
  const s3 = await s3Store('incr-daemon');
  const work = await tempDir('vmxfer-incr-daemon-');
  const d = await startDaemon({ sourceRoots: [work.dir], env: { AWS_ACCESS_KEY_ID: s3.env.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.env.secretAccessKey }, config: { stores: { s3_endpoint: s3.env.endpoint, s3_region: 'us-east-1', s3_path_style: true } } });
  try {
    const src = join(work.dir, 'disk.raw');
    await writeSparseDisk(src, 32 * MiB, 6, MiB);
    const key = `incr/daemon-${randomBytes(3).toString('hex')}.raw`;
    const body = { source: src, destination: s3.url(key), format: 'raw', options: { incremental: true, partSize: '8MiB' } };
    const runJob = async () => {
      const submit = await d.api('POST', '/v1/jobs', body);
      assert.equal(submit.status, 201, submit.text);
      const job = await waitForJob(d, submit.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
      assert.equal(job.state, 'completed', JSON.stringify(job.error));
      return job;
    };
    await runJob();
    const fh = await open(src, 'r+');
    await fh.write(randomBytes(4096), 0, 4096, 3 * 8 * MiB + 5);
    await fh.close();
    const cursor = await rgwLogCursor(s3.env.stateDir);
    const second = await runJob();
    assert.deepEqual([second.result.partsSent, second.result.partsCopied, second.result.bytesSent], [1, 3, 8 * MiB], 'the job\'s result reports parts sent, copied and bytes sent');
    await rgwLogCursor(s3.env.stateDir);
    const mine = (await readRgwLog(s3.env.stateDir)).slice(cursor).filter((e) => e.path === `/${s3.bucket.name}/${key}` && e.status === 200);
    assert.deepEqual(mine.filter((e) => e.operation === 'UploadPart').map((e) => e.query.get('partNumber')), ['4']);
    assert.deepEqual(mine.filter((e) => e.operation === 'UploadPartCopy').map((e) => e.query.get('partNumber')).sort(), ['1', '2', '3']);
    assert.equal(await s3.objectSha256(key), await sha256File(src));
    const submitBad = await d.api('POST', '/v1/jobs', { ...body, options: { incremental: 'yes' } });
    assert.equal(submitBad.status, 400, submitBad.text);
    assert.match(submitBad.text, /options\.incremental/);
  } finally {
    await d.stop();
    await s3.close();
    await work.cleanup();
  }
});

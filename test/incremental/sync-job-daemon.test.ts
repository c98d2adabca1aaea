import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { importWorld, startImportDaemon, type ImportWorld } from '../helpers/import-world.js';
import { openFeed, distinct, type JobFeed } from '../helpers/job-feed.js';
import { readRgwLog, rgwLogCursor } from '../helpers/rgw-request-log.js';
import { writeSparseDisk } from '../helpers/changed-disk.js';
import { sha256File } from '../helpers/hash.js';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';

/** docs/api.md "Sync jobs" on the real RGW (its request log shows what was copied) and the EC2 Query API protocol fake. */
let world: ImportWorld;
let d: TestDaemon;
let feed: JobFeed;

before(async () => {
  world = await importWorld('sync-job', 1);
  d = await startImportDaemon(world);
  feed = await openFeed(d);
});
after(async () => {
  await feed?.close();
  await d?.stop();
  if (d) await rm(d.stateDir, { recursive: true, force: true });
  await world?.close();
});

async function newDisk(): Promise<{ src: string; key: string }> {
  const src = join(world.dir, `sync-${randomBytes(3).toString('hex')}.raw`);
  await writeSparseDisk(src, 32 * MiB, 6, MiB);
  return { src, key: `sync/${randomBytes(3).toString('hex')}.raw` };
}

/** RGW's successful part requests on `key` since `cursor`: part numbers sent and copied. */
async function partRequests(key: string, cursor: number): Promise<{ sent: string[]; copied: string[] }> {
  await rgwLogCursor(world.rgw.stateDir);
  const mine = (await readRgwLog(world.rgw.stateDir)).slice(cursor).filter((e) => e.path === `/${world.bucket.name}/${key}` && e.status === 200);
  const nums = (op: string) => mine.filter((e) => e.operation === op).map((e) => e.query.get('partNumber')!).sort();
  return { sent: nums('UploadPart'), copied: nums('UploadPartCopy') };
}

async function objectSha256(key: string): Promise<string> {
  const out = await world.bucket.client.send(new GetObjectCommand({ Bucket: world.bucket.name, Key: key }));
  const h = createHash('sha256');
  for await (const c of out.Body as AsyncIterable<Buffer>) h.update(c);
  return h.digest('hex');
}

test('a sync job with passes: 2 runs two incremental passes, waits between them, and the second copies every unchanged part server-side (RGW log); the passes are on the job and in the feed', async () => {
  const { src, key } = await newDisk();
  const cursor = await rgwLogCursor(world.rgw.stateDir);
  const r = await d.api('POST', '/v1/jobs', { source: src, destination: `s3://${world.bucket.name}/${key}`, format: 'raw', options: { partSize: '8MiB' }, sync: { every: '1s', passes: 2 } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.job.kind, 'sync');
  const job = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.equal(job.passes.length, 2);
  const [first, second] = job.passes;
  assert.deepEqual([first.n, first.partsSent, first.partsCopied, first.bytesSent, first.final], [1, 4, 0, 32 * MiB, false]);
  assert.deepEqual([second.n, second.partsSent, second.partsCopied, second.bytesSent, second.final], [2, 0, 4, 0, false]);
  assert.equal(second.bytesRead, 32 * MiB, 'the second pass reads the whole source to hash its parts');
  const parts = await partRequests(key, cursor);
  assert.deepEqual(parts.sent, ['1', '2', '3', '4'], 'only the first pass sent parts');
  assert.deepEqual(parts.copied, ['1', '2', '3', '4'], 'the second pass copied all four');
  await new Promise((res) => setTimeout(res, 200));
  const fed = feed.jobs(job.id);
  assert.deepEqual(distinct(fed.map((j) => j.state)).filter((s) => s !== 'validating'), ['queued', 'active', 'waiting', 'active', 'completed']);
  assert.ok(fed.some((j) => j.state === 'waiting' && j.passes.length === 1), 'the feed shows the first pass while the job waits');
  assert.equal(await objectSha256(key), await sha256File(src));
  const cut = await d.api('POST', `/v1/jobs/${job.id}/cutover`);
  assert.equal(cut.status, 409, cut.text);
  assert.equal(cut.json.error.code, 'API_NOT_SYNC');
});

test('a sync job every 1h waits after its first pass; POST /v1/jobs/ID/cutover runs the final pass (the changed part sent, the rest copied) then the aws-image import through the EC2 Query API protocol fake', async () => {
  const { src, key } = await newDisk();
  const r = await d.api('POST', '/v1/jobs', { source: src, destination: `s3://${world.bucket.name}/${key}`, format: 'raw', options: { partSize: '8MiB' }, sync: { every: '1h' }, import: { target: 'aws-image' } });
  assert.equal(r.status, 201, r.text);
  const waiting = await waitForJob(d, r.json.job.id, (j) => ['waiting', 'failed'].includes(j.state));
  assert.equal(waiting.state, 'waiting', JSON.stringify(waiting.error));
  assert.equal(waiting.passes.length, 1);
  assert.equal(waiting.result, null, 'no import before the cutover');
  const fh = await open(src, 'r+');
  await fh.write(randomBytes(4096), 0, 4096, 2 * 8 * MiB + 77);
  await fh.close();
  const cursor = await rgwLogCursor(world.rgw.stateDir);
  const cut = await d.api('POST', `/v1/jobs/${r.json.job.id}/cutover`);
  assert.equal(cut.status, 202, cut.text);
  const job = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.equal(job.passes.length, 2);
  assert.deepEqual([job.passes[1].final, job.passes[1].partsSent, job.passes[1].partsCopied, job.passes[1].bytesSent], [true, 1, 3, 8 * MiB]);
  const parts = await partRequests(key, cursor);
  assert.deepEqual(parts, { sent: ['3'], copied: ['1', '2', '4'] });
  assert.equal(job.result.import.target, 'aws-image');
  assert.equal(job.result.import.taskIds.length, 1);
  assert.match(job.result.import.resourceIds[0], /^ami-/);
  assert.equal(await objectSha256(key), await sha256File(src));
});

test('a sync body is checked: every as a duration, passes a positive integer, cutover with neither, downloads refused', async () => {
  const { src } = await newDisk();
  const base = { source: src, destination: `s3://${world.bucket.name}/sync/bad.raw`, format: 'raw' };
  for (const [sync, field] of [[{ every: 'soon' }, 'sync.every'], [{ passes: 0 }, 'sync.passes'], [{ cutover: true, passes: 2 }, 'sync'], [{ often: true }, 'sync.often']] as const) {
    const r = await d.api('POST', '/v1/jobs', { ...base, sync });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.field, field);
  }
  const download = await d.api('POST', '/v1/jobs', { source: `s3://${world.bucket.name}/sync/x.raw`, destination: join(world.dir, 'x.raw'), sync: {} });
  assert.equal(download.status, 400, download.text);
  assert.equal(download.json.error.field, 'sync');
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { checkpointId } from '../../agent/transfer/upload-checkpoint.js';
import { ensureRgw, createTestBucket, type RgwEnv, type TestBucket } from '../helpers/rgw.js';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { confirmedParts } from '../helpers/killable-cli.js';
import { readRgwLog, rgwLogCursor } from '../helpers/rgw-request-log.js';
import { touchedParts, writeSparseDisk } from '../helpers/changed-disk.js';
import { linearDigestByDocScript, sha256File } from '../helpers/hash.js';
import { objectSha256, pendingUploads } from '../helpers/s3-object.js';
import { tempDir } from '../helpers/tmp.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Sync and upload jobs with `options.changedBlocks` (docs/api.md), and a daemon killed with SIGKILL in
 * the middle of a sync pass, on the real Ceph RGW (its request log says which parts were sent and copied).
 */
const PART = 8 * MiB;
let rgw: RgwEnv;
let bucket: TestBucket;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  rgw = await ensureRgw();
  bucket = await createTestBucket(rgw, 'sync-cbt');
  work = await tempDir('vmxfer-sync-cbt-');
  work.dir = await realpath(work.dir);
});
after(async () => {
  await bucket?.remove();
  await work?.cleanup();
});

function daemon(extra: Record<string, unknown> = {}): Promise<TestDaemon> {
  return startDaemon({
    sourceRoots: [work.dir],
    env: { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey },
    config: { stores: { s3_endpoint: rgw.endpoint, s3_region: 'us-east-1', s3_path_style: true }, ...extra },
  });
}

async function stopped(d: TestDaemon): Promise<void> {
  await d.stop();
  await rm(d.stateDir, { recursive: true, force: true });
}

/** RGW's successful part requests on `key` since `cursor`: part numbers sent and copied. */
async function partRequests(key: string, cursor: number): Promise<{ sent: number[]; copied: number[] }> {
  await rgwLogCursor(rgw.stateDir);
  const mine = (await readRgwLog(rgw.stateDir)).slice(cursor).filter((e) => e.path === `/${bucket.name}/${key}` && e.status === 200);
  const nums = (op: string) => mine.filter((e) => e.operation === op).map((e) => Number(e.query.get('partNumber'))).sort((a, b) => a - b);
  return { sent: nums('UploadPart'), copied: nums('UploadPartCopy') };
}

async function change(src: string, offsets: number[]): Promise<void> {
  const fh = await open(src, 'r+');
  for (const o of offsets) await fh.write(randomBytes(MiB), 0, MiB, o);
  await fh.close();
}

async function writeList(path: string, size: number, offsets: number[]): Promise<void> {
  await writeFile(path, JSON.stringify({ version: 1, virtualSize: size, extents: offsets.map((offset) => ({ offset, length: MiB })) }));
}

test('a sync job with options.changedBlocks: the cutover pass reads and sends only the parts the list (read afresh) touches, RGW copies the rest; the object equals the source and carries its digest tag', async () => {
  const d = await daemon();
  try {
    const size = 48 * MiB;
    const src = join(work.dir, 'sync-cbt.raw');
    const key = `sync-cbt/${randomBytes(3).toString('hex')}.raw`;
    await writeSparseDisk(src, size, 8, MiB);
    const list = join(work.dir, 'sync-cbt.json');
    // Pass 1 has no manifest to copy from: it reads the whole source whatever the list says.
    await writeList(list, size, []);
    const r = await d.api('POST', '/v1/jobs', { source: src, destination: `s3://${bucket.name}/${key}`, format: 'raw', options: { partSize: '8MiB', changedBlocks: list }, sync: { every: '1h' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.job.options.changedBlocks, list);
    const waiting = await waitForJob(d, r.json.job.id, (j) => ['waiting', 'failed'].includes(j.state));
    assert.equal(waiting.state, 'waiting', JSON.stringify(waiting.error));
    const changed = [2 * PART + MiB, 4 * PART];
    await change(src, changed);
    await writeList(list, size, changed);
    const cursor = await rgwLogCursor(rgw.stateDir);
    assert.equal((await d.api('POST', `/v1/jobs/${r.json.job.id}/cutover`)).status, 202);
    const job = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    const last = job.passes[1];
    assert.deepEqual([last.n, last.final, last.partsSent, last.partsCopied, last.bytesSent, last.bytesRead], [2, true, 2, 4, 2 * PART, 2 * PART]);
    assert.deepEqual(await partRequests(key, cursor), { sent: [3, 5], copied: [1, 2, 4, 6] });
    assert.equal(await objectSha256(bucket.client, bucket.name, key), await sha256File(src));
    assert.equal(job.result.outputDigest, await linearDigestByDocScript(src), 'the digest the tags carry, built without reading the unchanged parts');
  } finally {
    await stopped(d);
  }
});

test('options.changedBlocks is checked at submit: confined to the source roots, a valid list, only with incremental uploads, sync jobs or ebs:// with a parent', async () => {
  const d = await daemon();
  try {
    const src = join(work.dir, 'check.raw');
    await writeSparseDisk(src, 16 * MiB, 2, MiB);
    const good = join(work.dir, 'good.json');
    await writeList(good, 16 * MiB, [0]);
    const bad = join(work.dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ version: 1, virtualSize: 16 * MiB, extents: [{ offset: 0, length: 1 }, { offset: 16 * MiB, length: 4096 }] }));
    const s3 = `s3://${bucket.name}/check.raw`;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ destination: s3, options: { incremental: true, changedBlocks: '/etc/passwd' } }, /outside|root/i],
      [{ destination: s3, options: { incremental: true, changedBlocks: bad } }, /extents\[1\].*extends past virtualSize/],
      [{ destination: s3, options: { incremental: true, changedBlocks: 7 } }, /string/],
      [{ destination: s3, options: { changedBlocks: good } }, /options\.incremental/],
      [{ destination: 'ebs://eu-west-1', options: { changedBlocks: good } }, /parent snapshot/],
    ];
    for (const [body, rule] of cases) {
      const r = await d.api('POST', '/v1/jobs', { source: src, format: 'raw', ...body, ...(String(body.destination).startsWith('ebs') ? { format: 'original' } : {}) });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.json.error.field, 'options.changedBlocks', r.text);
      assert.match(r.json.error.message, rule);
    }
    const download = await d.api('POST', '/v1/jobs', { source: s3, destination: join(work.dir, 'back.raw'), options: { changedBlocks: good } });
    assert.equal(download.status, 400, download.text);
    assert.equal(download.json.error.field, 'options.changedBlocks');
  } finally {
    await stopped(d);
  }
});

test('kill -9 of the daemon in the middle of a sync pass: after a restart the pass resumes from its checkpoint (confirmed parts not sent again), the job completes with its passes recorded once each, and the object equals the source', async (ctx) => {
  const d = await daemon({ transfer: { bwlimit: '6MiB', concurrency: 1 } });
  try {
    const size = 48 * MiB;
    const src = join(work.dir, 'sync-kill.raw');
    const key = `sync-kill/${randomBytes(3).toString('hex')}.raw`;
    const url = `s3://${bucket.name}/${key}`;
    await writeSparseDisk(src, size, 8, MiB);
    const r = await d.api('POST', '/v1/jobs', { source: src, destination: url, format: 'raw', options: { partSize: '8MiB' }, sync: { every: '1h' } });
    assert.equal(r.status, 201, r.text);
    const id = r.json.job.id;
    const waiting = await waitForJob(d, id, (j) => ['waiting', 'failed'].includes(j.state));
    assert.equal(waiting.state, 'waiting', JSON.stringify(waiting.error));
    // Pass 2 sends parts 1, 3, 4 and 6 at 6 MiB/s, one at a time: the kill lands after two parts are confirmed.
    const changed = [0, 2 * PART, 3 * PART + 2 * MiB, 5 * PART];
    await change(src, changed);
    assert.equal((await d.api('POST', `/v1/jobs/${id}/cutover`)).status, 202);
    const cp = join(d.stateDir, 'checkpoints', `${checkpointId(src, url)}.json`);
    let atKill: number[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(10)) {
      atKill = await confirmedParts(cp);
      if (atKill.length >= 2) break;
    }
    await d.kill();
    atKill = await confirmedParts(cp);
    assert.ok(atKill.length >= 2 && atKill.length < size / PART, `killed mid-pass with parts ${atKill.join(',')} confirmed`);
    const cursor = await rgwLogCursor(rgw.stateDir);
    await d.restart();
    const job = await waitForJob(d, id, (j) => ['completed', 'failed'].includes(j.state), 120_000);
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    assert.deepEqual(job.passes.map((p: { n: number; final: boolean }) => [p.n, p.final]), [[1, false], [2, true]], 'each pass recorded once');
    assert.equal(job.passes[0].partsSent, size / PART);
    const after = await partRequests(key, cursor);
    for (const n of atKill) assert.ok(!after.sent.includes(n) && !after.copied.includes(n), `part ${n}, confirmed before the kill, was not redone`);
    const touched = touchedParts(changed, MiB, PART);
    assert.deepEqual(after.sent, [...touched].filter((n) => !atKill.includes(n)).sort((a, b) => a - b), 'the restarted pass sent only the changed parts left');
    assert.equal(job.passes[1].partsSent, after.sent.length);
    assert.equal(await objectSha256(bucket.client, bucket.name, key), await sha256File(src));
    assert.equal(await pendingUploads(bucket.client, bucket.name, key), 0);
    ctx.diagnostic(`killed in pass 2 with parts ${atKill.join(',')} confirmed; after the restart RGW got parts ${after.sent.join(',')} sent and ${after.copied.join(',')} copied`);
  } finally {
    await stopped(d);
  }
});

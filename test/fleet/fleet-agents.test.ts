import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { ensureRgw, type RgwEnv } from '../helpers/rgw.js';
import { readRgwLog, rgwLogCursor } from '../helpers/rgw-request-log.js';
import { pendingUploads } from '../helpers/s3-object.js';
import {
  assertObjectIsImage,
  completions,
  creations,
  imageDir,
  makeQcow2Image,
  partsAccepted,
  rgwRequestsFor,
  startFleet,
  storedRecord,
  waitRgwLog,
  type Fleet,
  type FleetAgent,
} from '../helpers/fleet.js';

/**
 * Issue #15 point 7 (a), (b), (d), (f): three daemon processes on one Redis and the RGW. The cases share
 * one fleet and run in order; (b) kills an agent and restarts it before (f). A short lease (5 s) makes
 * takeovers quick; part size 5 MiB (RGW's minimum), two parts in flight per upload and a bandwidth limit
 * per agent keep a 40 MiB upload running long enough to kill, stop or cancel it in the middle.
 */
const LEASE_SECONDS = 5;
const CONCURRENCY = 2;
const PART_MIB = 5;
const LONG_MIB = 40;

let rgw: RgwEnv;
let fleet: Fleet;

before(async () => {
  rgw = await ensureRgw();
  const redis = await ensureRedis();
  fleet = await startFleet({
    count: 3,
    redisUrl: redis.url,
    prefix: redisPrefix('fleet'),
    leaseSeconds: LEASE_SECONDS,
    rgw,
    label: 'fleet',
    transfer: { part_size: `${PART_MIB}MiB`, concurrency: CONCURRENCY, bwlimit: '4MiB' },
    jobs: { max_concurrent: 2, per_destination: 8 },
  });
});
after(async () => fleet?.close());

const dest = (key: string) => `s3://${fleet.bucket.name}/${key}`;
const other = (not: FleetAgent) => fleet.agents.find((a) => a !== not && !a.down)!;

test('(a) 12 jobs submitted to agent A run on all three agents and complete byte-identical', { timeout: 240_000 }, async () => {
  const dir = await imageDir(fleet, 'spread');
  const images = await Promise.all(Array.from({ length: 12 }, (_, i) => makeQcow2Image(dir, `vm${i}`, 3)));
  const a = fleet.agents[0]!;
  const ids: string[] = [];
  for (const [i, image] of images.entries()) ids.push(await fleet.submit(a, { source: image.path, destination: dest(`spread/vm${i}.raw`), format: 'raw' }));
  const jobs = await fleet.waitFinished(ids, 180_000);
  assert.deepEqual(jobs.filter((j) => j.state !== 'completed').map((j) => [j.id, j.state, j.error]), []);
  const perAgent = new Map<string, number>();
  for (const j of jobs) perAgent.set(j.agent, (perAgent.get(j.agent) ?? 0) + 1);
  assert.deepEqual([...perAgent.keys()].sort(), fleet.agents.map((x) => x.name), `jobs per agent: ${JSON.stringify(Object.fromEntries(perAgent))}`);
  for (const [i, image] of images.entries()) await assertObjectIsImage(fleet.bucket, `spread/vm${i}.raw`, image);
  // Every agent lists the same twelve jobs with their agent: one view of the fleet.
  for (const x of fleet.agents) {
    const list = (await x.api('GET', '/v1/jobs')).json.jobs.filter((j: any) => ids.includes(j.id));
    assert.deepEqual(list.map((j: any) => `${j.id}@${j.agent}`).sort(), jobs.map((j) => `${j.id}@${j.agent}`).sort(), x.name);
  }
  process.stdout.write(`# (a) jobs per agent: ${JSON.stringify(Object.fromEntries(perAgent))}\n`);
});

test('(d) a cancel sent through one agent reaches the agent running the job within 5 s', { timeout: 120_000 }, async () => {
  const image = await makeQcow2Image(await imageDir(fleet, 'cancel'), 'long', LONG_MIB);
  const key = 'cancel/long.raw';
  const id = await fleet.submit(fleet.agents[0]!, { source: image.path, destination: dest(key), format: 'raw' });
  const { owner } = await fleet.waitUploading(id, 1);
  const via = other(owner);
  const t0 = performance.now();
  const r = await via.api('POST', `/v1/jobs/${id}/cancel`);
  assert.equal(r.status, 202, r.text);
  const cancelled = await fleet.waitJob(id, (j) => j.state === 'cancelled', 5000, owner);
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(cancelled.agent, owner.name);
  assert.ok(seconds < 5, `cancelled after ${seconds.toFixed(2)} s`);
  // The owner stopped the upload and aborted it at the store.
  assert.equal(await pendingUploads(fleet.bucket.client, fleet.bucket.name, key), 0);
  process.stdout.write(`# (d) cancel via ${via.name} of a job on ${owner.name}: cancelled in ${seconds.toFixed(2)} s\n`);
});

test('(b) kill -9 of the agent uploading: another agent finishes the same upload byte-identical, re-sending at most the parts in flight', { timeout: 180_000 }, async () => {
  const image = await makeQcow2Image(await imageDir(fleet, 'kill'), 'long', LONG_MIB);
  const key = 'kill/long.raw';
  const from = (await readRgwLog(rgw.stateDir)).length;
  const id = await fleet.submit(fleet.agents[0]!, { source: image.path, destination: dest(key), format: 'raw' });
  const { job: before, owner: victim } = await fleet.waitUploading(id, 2);
  await victim.kill();
  const killedAt = performance.now();
  const confirmed = before.parts.filter((p: any) => p.state === 'done').map((p: any) => p.n as number);
  const taken = await fleet.waitJob(id, (j) => j.agent !== victim.name && j.state !== 'queued', LEASE_SECONDS * 6 * 1000);
  const takeover = (performance.now() - killedAt) / 1000;
  // The job is back in its lane at most a lease after the last renewal (docs/fleet.md "Leases"); the rest
  // is the next claim and this test's polling, on a loaded two-core box.
  assert.ok(takeover <= LEASE_SECONDS + 2, `taken over ${takeover.toFixed(2)} s after the kill; the lease is ${LEASE_SECONDS} s`);
  const job = await fleet.waitJob(id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state), 120_000);
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.equal(job.agent, taken.agent);
  await assertObjectIsImage(fleet.bucket, key, image);

  const entries = await waitRgwLog(rgw, fleet.bucket.name, key, from, (e) => completions(e).some((c) => c.status === 200));
  const uploadIds = new Set(entries.filter((e) => e.query.has('uploadId')).map((e) => e.query.get('uploadId')));
  assert.equal(uploadIds.size, 1, 'the agent that took over resumed the dead one\'s multipart upload');
  assert.equal(creations(entries).length, 1);
  const accepted = partsAccepted(entries);
  const partsTotal = Math.ceil(LONG_MIB / PART_MIB);
  assert.deepEqual([...accepted.keys()].sort((x, y) => x - y), Array.from({ length: partsTotal }, (_, i) => i + 1));
  const resent = [...accepted.values()].reduce((s, n) => s + n - 1, 0);
  assert.ok(resent <= CONCURRENCY, `${resent} parts accepted twice by RGW; at most ${CONCURRENCY} were in flight`);
  for (const n of confirmed) assert.equal(accepted.get(n), 1, `part ${n} was confirmed before the kill and sent again`);
  assert.equal(completions(entries).length, 1);
  assert.equal(await pendingUploads(fleet.bucket.client, fleet.bucket.name, key), 0);
  process.stdout.write(`# (b) killed ${victim.name} with parts ${confirmed.join(',')} confirmed; ${taken.agent} took over after ${takeover.toFixed(2)} s (lease ${LEASE_SECONDS} s); ${resent} part(s) re-sent\n`);
  await victim.restart();
});

test('(f) an owner stopped past its lease is fenced: after SIGCONT it writes neither the record nor the object', { timeout: 180_000 }, async () => {
  const image = await makeQcow2Image(await imageDir(fleet, 'fence'), 'long', LONG_MIB);
  const key = 'fence/long.raw';
  const from = (await readRgwLog(rgw.stateDir)).length;
  const id = await fleet.submit(fleet.agents[0]!, { source: image.path, destination: dest(key), format: 'raw' });
  const { owner: stale } = await fleet.waitUploading(id, 1);
  stale.pause();
  const witness = other(stale);
  const finished = await fleet.waitJob(id, (j) => j.agent !== stale.name && ['completed', 'failed'].includes(j.state), 120_000, witness);
  assert.equal(finished.state, 'completed', JSON.stringify(finished.error));
  await assertObjectIsImage(fleet.bucket, key, image);
  const head = await fleet.bucket.client.send(new HeadObjectCommand({ Bucket: fleet.bucket.name, Key: key }));
  const outputBefore = stale.output().length;
  const logBefore = await rgwLogCursor(rgw.stateDir);
  const stored = await storedRecord(fleet.redisUrl, fleet.prefix, id);
  assert.notEqual(stored.agent, stale.name);

  stale.resume();
  const deadline = Date.now() + 20_000;
  // JobService.takenOver's warning (JOB_FENCED: the job is another runner's now).
  const fencedLog = /job taken over by another runner|JOB_FENCED/;
  while (!fencedLog.test(stale.output().slice(outputBefore)) && Date.now() < deadline) await sleep(200);
  await sleep(LEASE_SECONDS * 1000);

  const storedAfter = await storedRecord(fleet.redisUrl, fleet.prefix, id);
  assert.deepEqual([storedAfter.version, storedAfter.owner, storedAfter.agent, storedAfter.state], [stored.version, stored.owner, stored.agent, stored.state], 'the old owner wrote the record');
  assert.deepEqual(await fleet.job(id, witness), finished, 'the old owner changed the record');
  assert.equal((await fleet.job(id, stale)).agent, finished.agent, 'the old owner shows the new owner too');
  const after = await fleet.bucket.client.send(new HeadObjectCommand({ Bucket: fleet.bucket.name, Key: key }));
  assert.equal(after.ETag, head.ETag);
  assert.equal(after.LastModified?.getTime(), head.LastModified?.getTime(), 'a second version of the object was written');
  await assertObjectIsImage(fleet.bucket, key, image);
  const entries = await rgwRequestsFor(rgw, fleet.bucket.name, key, from);
  assert.deepEqual(completions(entries).map((c) => c.status), [200], 'one CompleteMultipartUpload, by the new owner');
  const writesAfter = (await rgwRequestsFor(rgw, fleet.bucket.name, key, logBefore)).filter((e) => e.method !== 'GET' && e.method !== 'HEAD' && e.status < 300);
  assert.deepEqual(writesAfter.map((e) => `${e.method} ${e.query}`), [], 'the old owner wrote to the object after SIGCONT');
  assert.equal(await pendingUploads(fleet.bucket.client, fleet.bucket.name, key), 0);
  assert.match(stale.output().slice(outputBefore), fencedLog, 'the old owner logs that it lost the job');
  process.stdout.write(`# (f) ${stale.name} stopped; ${finished.agent} finished the job; ${stale.name} fenced after SIGCONT\n`);
});

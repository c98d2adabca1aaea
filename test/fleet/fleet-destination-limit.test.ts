import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { ensureRgw, type RgwEnv } from '../helpers/rgw.js';
import { readRgwLog, type RgwLogEntry } from '../helpers/rgw-request-log.js';
import { pendingUploads } from '../helpers/s3-object.js';
import { assertObjectIsImage, completions, creations, imageDir, makeQcow2Image, startFleet, waitRgwLog, type Fleet } from '../helpers/fleet.js';

/**
 * Issue #15 point 7 (c), the per-destination half: `jobs.per_destination: 2` holds across a fleet of
 * three daemon processes on one Redis. Each agent could run 3 jobs, so only the destination limit
 * binds. A bandwidth limit per agent makes each upload last long enough for uploads to overlap. The
 * witness is RGW's own access log: per object, the span from its CreateMultipartUpload starting to its
 * CompleteMultipartUpload answered.
 */
const PER_DESTINATION = 2;
const JOBS = 8;
const IMAGE_MIB = 6;

let rgw: RgwEnv;
let fleet: Fleet;

before(async () => {
  rgw = await ensureRgw();
  const redis = await ensureRedis();
  fleet = await startFleet({
    count: 3,
    redisUrl: redis.url,
    prefix: redisPrefix('fleet-dest'),
    leaseSeconds: 10,
    rgw,
    label: 'fleet-dest',
    transfer: { part_size: '5MiB', concurrency: 2, bwlimit: '3MiB' },
    jobs: { max_concurrent: 3, per_destination: PER_DESTINATION },
  });
});
after(async () => fleet?.close());

interface Span {
  key: string;
  from: number;
  to: number;
}

/** The object's span at RGW: its (one) CreateMultipartUpload's start to its successful CompleteMultipartUpload's end. */
function spanOf(key: string, entries: RgwLogEntry[]): Span {
  const created = creations(entries);
  const done = completions(entries).filter((e) => e.status === 200);
  assert.equal(created.length, 1, `${key}: ${created.length} CreateMultipartUpload requests`);
  assert.equal(done.length, 1, `${key}: ${done.length} successful CompleteMultipartUpload requests`);
  const span = { key, from: created[0]!.startedMs, to: done[0]!.startedMs + done[0]!.latencyMs };
  assert.ok(Number.isFinite(span.from) && Number.isFinite(span.to) && span.from <= span.to, `${key}: span ${JSON.stringify(span)} from RGW's log`);
  return span;
}

/** The most spans open at one instant; a span ending at the instant another starts does not overlap it. */
function maxOverlap(spans: Span[]): { most: number; at: string[] } {
  const events = spans.flatMap((s) => [{ t: s.from, d: 1, s }, { t: s.to, d: -1, s }]).sort((x, y) => x.t - y.t || x.d - y.d);
  const open = new Set<Span>();
  let best: Span[] = [];
  for (const e of events) {
    if (e.d > 0) open.add(e.s);
    else open.delete(e.s);
    if (open.size > best.length) best = [...open];
  }
  return { most: best.length, at: best.map((s) => s.key) };
}

test(`(c) per_destination ${PER_DESTINATION} across three agents: RGW never serves more than ${PER_DESTINATION} uploads to one bucket at once`, { timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const dir = await imageDir(fleet, 'dest');
  const images = await Promise.all(Array.from({ length: JOBS }, (_, i) => makeQcow2Image(dir, `vm${i}`, IMAGE_MIB)));
  const keys = images.map((_, i) => `dest/vm${i}.raw`);
  const from = (await readRgwLog(rgw.stateDir)).length;
  const a = fleet.agents[0]!;
  const ids: string[] = [];
  for (const [i, image] of images.entries()) ids.push(await fleet.submit(a, { source: image.path, destination: `s3://${fleet.bucket.name}/${keys[i]}`, format: 'raw' }));
  const jobs = await fleet.waitFinished(ids, 90_000);
  assert.deepEqual(jobs.filter((j) => j.state !== 'completed').map((j) => [j.id, j.state, j.error]), []);
  for (const [i, image] of images.entries()) await assertObjectIsImage(fleet.bucket, keys[i]!, image);
  for (const key of keys) assert.equal(await pendingUploads(fleet.bucket.client, fleet.bucket.name, key), 0, key);

  const spans: Span[] = [];
  for (const key of keys) spans.push(spanOf(key, await waitRgwLog(rgw, fleet.bucket.name, key, from, (e) => completions(e).some((c) => c.status === 200))));
  const { most, at } = maxOverlap(spans);
  assert.ok(most <= PER_DESTINATION, `RGW served ${most} uploads to the bucket at once (${at.join(', ')}); the limit is ${PER_DESTINATION}`);
  assert.equal(most, PER_DESTINATION, `at most ${most} upload(s) at once: the limit of ${PER_DESTINATION} was not used`);
  const perAgent = new Map<string, number>();
  for (const j of jobs) perAgent.set(j.agent, (perAgent.get(j.agent) ?? 0) + 1);
  assert.ok(perAgent.size > 1, `every job ran on ${[...perAgent.keys()].join(', ')}`);
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`# (c) ${JOBS} uploads to one bucket: at most ${most} at once at RGW; jobs per agent ${JSON.stringify(Object.fromEntries(perAgent))}; ${seconds.toFixed(1)} s\n`);
});

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiRequest, startDaemon, type TestDaemon } from './daemon.js';
import { sha256File } from './hash.js';
import { qemuImg } from './qemu.js';
import { createTestBucket, type RgwEnv, type TestBucket } from './rgw.js';
import { readRgwLog, type RgwLogEntry } from './rgw-request-log.js';
import { getObjectBytes } from './s3-object.js';

const MiB = 1024 * 1024;
export const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/** One daemon process of a fleet: the test daemon plus its `agent.name` and stop/continue signals. */
export interface FleetAgent extends TestDaemon {
  name: string;
  /** SIGSTOP: the process keeps its sockets but answers nothing and renews no lease (a partition, as the agent sees it). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Whether the process was killed (kill()) and not restarted. */
  readonly down: boolean;
}

export interface FleetOptions {
  count: number;
  /** The engine the agents share (test/helpers/redis.ts); '' runs each agent on its embedded store (a baseline). */
  redisUrl: string;
  /** job_store.prefix: keeps this fleet's keys apart from other tests on the same Redis. */
  prefix: string;
  leaseSeconds: number;
  rgw: RgwEnv;
  label: string;
  /** The `transfer` section every agent gets (part size, concurrency, bwlimit). */
  transfer?: Record<string, unknown>;
  jobs?: Record<string, unknown>;
  /** An existing directory of images to read (kept by close()); a fresh temporary one when absent. */
  sources?: string;
}

export interface Fleet {
  agents: FleetAgent[];
  redisUrl: string;
  prefix: string;
  bucket: TestBucket;
  /** A directory every agent lists in source_roots: the images the jobs read. */
  sources: string;
  byName(name: string): FleetAgent;
  /** Submits through `via`; returns the job id. */
  submit(via: FleetAgent, body: Record<string, unknown>): Promise<string>;
  /** The job as `via` (default: the first agent not killed or paused) shows it. */
  job(id: string, via?: FleetAgent): Promise<any>;
  waitJob(id: string, until: (job: any) => boolean, timeoutMs?: number, via?: FleetAgent): Promise<any>;
  /**
   * Waits until the job is active with at least `parts` parts done, as the agent running it shows it (a
   * job's parts are the running agent's live view); returns the job and that agent.
   */
  waitUploading(id: string, parts: number, timeoutMs?: number): Promise<{ job: any; owner: FleetAgent }>;
  /** Waits until every job is finished; returns them in the order of `ids`. */
  waitFinished(ids: string[], timeoutMs?: number, via?: FleetAgent): Promise<any[]>;
  /** Stops every agent (SIGCONT first for paused ones), removes state dirs, sources and the bucket. */
  close(): Promise<void>;
}

/**
 * Starts `count` real daemon processes (bin/vmxfer.js daemon) sharing one job store (`job_store.url`
 * through VMXFER_JOB_STORE_URL, one `job_store.prefix`) and the loopback RGW, named agent-a, agent-b, ...
 * Each has its own state dir, port and token; all read one source directory.
 */
export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const sources = opts.sources ?? (await mkdtemp(join(tmpdir(), `vmxfer-fleet-${opts.label}-`)));
  const bucket = await createTestBucket(opts.rgw, opts.label);
  const agents: FleetAgent[] = [];
  const paused = new Set<FleetAgent>();
  try {
    for (let i = 0; i < opts.count; i++) {
      const name = `agent-${String.fromCharCode(97 + i)}`;
      agents.push(fleetAgent(name, await startDaemon(agentOptions(opts, name, sources)), paused));
    }
  } catch (err) {
    await Promise.all(agents.map((a) => a.stop()));
    throw err;
  }
  const live = (via?: FleetAgent) => via ?? agents.find((a) => !a.down && !paused.has(a)) ?? agents[0]!;
  const fleet: Fleet = {
    agents,
    redisUrl: opts.redisUrl,
    prefix: opts.prefix,
    bucket,
    sources,
    byName: (name) => {
      const a = agents.find((x) => x.name === name);
      if (!a) throw new Error(`no agent named ${JSON.stringify(name)} in this fleet (${agents.map((x) => x.name).join(', ')})`);
      return a;
    },
    submit: async (via, body) => {
      const r = await via.api('POST', '/v1/jobs', body);
      assert.equal(r.status, 201, r.text);
      return r.json.job.id as string;
    },
    job: async (id, via) => {
      const r = await live(via).api('GET', `/v1/jobs/${id}`);
      assert.equal(r.status, 200, r.text);
      return r.json.job;
    },
    waitJob: async (id, until, timeoutMs = 60_000, via) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await fleet.job(id, via);
        if (until(job)) return job;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state} on ${job.agent} after ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    waitUploading: async (id, parts, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const seen = await fleet.job(id);
        if (FINISHED.has(seen.state)) throw new Error(`job ${id} ended ${seen.state} before ${parts} parts were seen done`);
        if (seen.state === 'active' && seen.agent) {
          const owner = fleet.byName(seen.agent);
          const job = await fleet.job(id, owner);
          if (job.agent === owner.name && job.state === 'active' && (job.parts?.filter((p: any) => p.state === 'done').length ?? 0) >= parts) return { job, owner };
        }
        if (Date.now() > deadline) throw new Error(`job ${id} not uploading with ${parts} parts done after ${timeoutMs} ms (${seen.state} on ${seen.agent})`);
        await sleep(100);
      }
    },
    waitFinished: async (ids, timeoutMs = 120_000, via) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const jobs = await Promise.all(ids.map((id) => fleet.job(id, via)));
        if (jobs.every((j) => FINISHED.has(j.state))) return jobs;
        if (Date.now() > deadline) {
          throw new Error(`unfinished after ${timeoutMs} ms: ${jobs.filter((j) => !FINISHED.has(j.state)).map((j) => `${j.id} ${j.state} on ${j.agent}`).join(', ')}`);
        }
        await sleep(200);
      }
    },
    close: async () => {
      for (const a of paused) a.resume();
      await Promise.all(agents.filter((a) => !a.down).map((a) => a.stop()));
      await Promise.all(agents.map((a) => rm(a.stateDir, { recursive: true, force: true })));
      if (!opts.sources) await rm(sources, { recursive: true, force: true });
      await bucket.remove();
    },
  };
  return fleet;
}

function agentOptions(opts: FleetOptions, name: string, sources: string) {
  return {
    sourceRoots: [sources],
    env: {
      AWS_ACCESS_KEY_ID: opts.rgw.accessKeyId,
      AWS_SECRET_ACCESS_KEY: opts.rgw.secretAccessKey,
      VMXFER_JOB_STORE_URL: opts.redisUrl,
      VMXFER_AGENT_NAME: name,
    },
    config: {
      // Every agent sees the sources directory, so any agent may run a job reading it.
      source_roots: [{ path: sources, shared: true }],
      job_store: { prefix: opts.prefix, lease_seconds: opts.leaseSeconds },
      stores: { s3_endpoint: opts.rgw.endpoint, s3_region: 'us-east-1', s3_path_style: true },
      ...(opts.transfer ? { transfer: opts.transfer } : {}),
      ...(opts.jobs ? { jobs: opts.jobs } : {}),
    },
  };
}

function fleetAgent(name: string, d: TestDaemon, paused: Set<FleetAgent>): FleetAgent {
  let down = false;
  const agent: FleetAgent = {
    name,
    url: d.url,
    token: d.token,
    stateDir: d.stateDir,
    configFile: d.configFile,
    get pid() {
      return d.pid;
    },
    get down() {
      return down;
    },
    api: (method, path, body) => d.api(method, path, body),
    output: () => d.output(),
    pause: () => {
      process.kill(d.pid, 'SIGSTOP');
      paused.add(agent);
    },
    resume: () => {
      process.kill(d.pid, 'SIGCONT');
      paused.delete(agent);
    },
    kill: async () => {
      down = true;
      await d.kill();
    },
    restart: async () => {
      await d.restart();
      down = false;
    },
    stop: async () => {
      down = true;
      return d.stop();
    },
  };
  return agent;
}

/** GET /readyz without a token: 200 when ready, 503 while not (the store unreachable), 0 when nothing answers. */
export async function readyz(a: TestDaemon): Promise<number> {
  const r = await apiRequest(a.url, null, 'GET', '/readyz').catch(() => ({ status: 0 }));
  return r.status;
}

/**
 * The job record as the shared store holds it (agent/fleet/fleet-keys.ts: `<prefix>:job:<id>`, JSON), read
 * straight from Redis: `version` and `owner`, which the API does not show.
 */
export async function storedRecord(redisUrl: string, prefix: string, id: string): Promise<any> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const text = await client.get(`${prefix}:job:${id}`);
    return text === null ? undefined : JSON.parse(text);
  } finally {
    client.disconnect();
  }
}

/** A qcow2 image made by qemu-img and the SHA-256 of its raw rendering by qemu-img (the oracle). */
export interface TestImage {
  path: string;
  virtualSize: number;
  rawSha256: string;
}

/**
 * A qcow2 of `mib` MiB by qemu-img from a raw file: random data, then a zero run (a hole in the
 * qcow2), then random data again, so the job reads allocated and unallocated clusters.
 */
export async function makeQcow2Image(dir: string, name: string, mib: number): Promise<TestImage> {
  const raw = join(dir, `${name}.src.raw`);
  const fh = await open(raw, 'w');
  try {
    const data = Math.max(1, Math.floor(mib / 3)) * MiB;
    await fh.write(randomBytes(data), 0, data, 0);
    await fh.write(randomBytes(data), 0, data, mib * MiB - data);
  } finally {
    await fh.close();
  }
  const path = join(dir, `${name}.qcow2`);
  await qemuImg(['convert', '-f', 'raw', '-O', 'qcow2', raw, path]);
  await unlink(raw);
  const oracle = join(dir, `${name}.oracle.raw`);
  await qemuImg(['convert', '-f', 'qcow2', '-O', 'raw', path, oracle]);
  const rawSha256 = await sha256File(oracle);
  await unlink(oracle);
  return { path, virtualSize: mib * MiB, rawSha256 };
}

/** Asserts the object holds exactly qemu-img's raw rendering of the image. */
export async function assertObjectIsImage(bucket: TestBucket, key: string, image: TestImage): Promise<void> {
  const bytes = await getObjectBytes(bucket.client, bucket.name, key);
  assert.equal(bytes.length, image.virtualSize, `${key}: ${bytes.length} bytes, the image has ${image.virtualSize}`);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), image.rawSha256, `${key}: the object differs from qemu-img's raw rendering of ${image.path}`);
}

/** RGW's log entries (test/helpers/rgw-request-log.ts) for one object from `from` on. */
export async function rgwRequestsFor(rgw: RgwEnv, bucket: string, key: string, from = 0): Promise<RgwLogEntry[]> {
  return (await readRgwLog(rgw.stateDir)).slice(from).filter((e) => e.path === `/${bucket}/${key}`);
}

/** Successful UploadPart requests by part number (RGW's log: what the store accepted, not our counters). */
export function partsAccepted(entries: RgwLogEntry[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const e of entries) {
    if (e.method !== 'PUT' || e.status !== 200 || !e.query.has('partNumber') || e.query.has('x-amz-copy-source')) continue;
    const n = Number(e.query.get('partNumber'));
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return counts;
}

/** CompleteMultipartUpload requests, any status. */
export function completions(entries: RgwLogEntry[]): RgwLogEntry[] {
  return entries.filter((e) => e.operation === 'CompleteMultipartUpload');
}

/** CreateMultipartUpload requests (`POST ?uploads`: the SDK names no x-id for it), any status. */
export function creations(entries: RgwLogEntry[]): RgwLogEntry[] {
  return entries.filter((e) => e.method === 'POST' && e.query.has('uploads'));
}

/** Polls RGW's asynchronously written log until `ready` holds for the object's entries. */
export async function waitRgwLog(rgw: RgwEnv, bucket: string, key: string, from: number, ready: (entries: RgwLogEntry[]) => boolean, timeoutMs = 15_000): Promise<RgwLogEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = await rgwRequestsFor(rgw, bucket, key, from);
    if (ready(entries)) return entries;
    if (Date.now() > deadline) throw new Error(`RGW's log for ${key}: ${entries.length} entries, not the expected ones after ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** A directory under the fleet's sources for one test's images. */
export async function imageDir(fleet: Fleet, label: string): Promise<string> {
  const dir = join(fleet.sources, label);
  await mkdir(dir, { recursive: true });
  return dir;
}

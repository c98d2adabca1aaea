import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULTS, type AgentConfig } from '../../agent/config/schema.js';
import { FileJobStore } from '../../agent/jobs/file-job-store.js';
import { JobService, type JobRunner } from '../../agent/jobs/job-service.js';
import { JobViews } from '../../agent/jobs/job-views.js';
import { LiveProgress } from '../../agent/jobs/live-progress.js';
import { isJobId } from '../../agent/jobs/job-id.js';
import type { RunContext } from '../../agent/jobs/run-context.js';
import type { JobRecord, JobRequest, JobResult, JobState } from '../../agent/jobs/job-types.js';

const RESULT: JobResult = { etag: '"e"', objectSize: 3, sourceSha256: null, outputSha256: null, seconds: 0 };

function upload(bucket = 'a', name = 'disk'): JobRequest {
  return { kind: 'upload', source: `/images/${name}.vmdk`, destination: `s3://${bucket}/${name}.vmdk`, format: 'vmdk', options: {} };
}

/** A run that passes its checks and finishes at once, moving 3 bytes. */
const quick: JobRunner['run'] = async (_job, _ctx, run) => {
  run.onValidated();
  run.progress.advance(3);
  return RESULT;
};

/** A run that passes its checks, then waits for its signal and fails with its reason. */
const untilAborted: JobRunner['run'] = async (_job, _ctx, run) => {
  run.onValidated();
  await new Promise((_, reject) => run.signal.addEventListener('abort', () => reject(run.signal.reason), { once: true }));
  throw new Error('unreachable');
};

interface Rig {
  dir: string;
  store: FileJobStore;
  service: JobService;
  views: JobViews;
  logs: string[];
  cleaned: string[];
  close(): Promise<void>;
}

async function rig(jobs: Partial<AgentConfig['jobs']>, run: JobRunner['run'], dir?: string): Promise<Rig> {
  dir ??= await mkdtemp(join(tmpdir(), 'vmxfer-jobservice-'));
  const store = await FileJobStore.open(dir);
  const live = new LiveProgress();
  const logs: string[] = [];
  const cleaned: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const ctx = { config: { ...DEFAULTS, jobs: { ...DEFAULTS.jobs, ...jobs } } } as RunContext;
  const runner: JobRunner = { run, cleanup: async (job) => void cleaned.push(job.id), cancelCloudTask: async () => undefined };
  const service = new JobService(store, live, ctx, log, runner);
  const views = new JobViews(store, live);
  await service.start();
  const close = async () => {
    await service.shutdown(1000);
    views.close();
    await store.close();
  };
  return { dir, store, service, views, logs, cleaned, close };
}

async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await read();
    if (v) return v;
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const inState = (r: Rig, id: string, state: JobState) => until(`${id} ${state}`, async () => ((await r.store.get(id))?.state === state ? (await r.store.get(id))! : undefined));

test('JobService (in process, FileJobStore): a submitted job is stored, claimed, run and completed; the views see each state', async () => {
  const r = await rig({}, quick);
  try {
    const states: string[] = [];
    r.views.on('job', (j) => states.push(j.state));
    const view = await r.service.submit(upload());
    assert.ok(isJobId(view.id) && view.id.length === 36, 'a 128-bit UUIDv7');
    assert.equal(view.state, 'queued');
    const rec = await inState(r, view.id, 'completed');
    assert.deepEqual(rec.result, RESULT);
    assert.equal(rec.owner, null, 'a finished job has no owner');
    assert.equal(rec.attempts, 1);
    assert.equal(rec.progress.bytesRead, 3, 'the final progress is written with the record');
    assert.ok(rec.startedAt && rec.finishedAt);
    await until('the completed event', async () => states.includes('completed') || undefined);
    assert.deepEqual([...new Set(states)], ['queued', 'validating', 'active', 'completed']);
    assert.equal((await r.views.get(view.id))?.state, 'completed');
  } finally {
    await r.close();
  }
});

test('JobService: the claim loop keeps the global and per-destination limits and runs every job', async () => {
  const running = new Map<string, number>();
  let most = 0;
  let mostPerBucket = 0;
  const gates: Array<() => void> = [];
  const gated: JobRunner['run'] = async (job, _ctx, run) => {
    run.onValidated();
    const bucket = job.destination.split('/')[2]!;
    running.set(bucket, (running.get(bucket) ?? 0) + 1);
    most = Math.max(most, [...running.values()].reduce((a, b) => a + b, 0));
    mostPerBucket = Math.max(mostPerBucket, running.get(bucket)!);
    await new Promise<void>((resolve) => gates.push(resolve));
    running.set(bucket, running.get(bucket)! - 1);
    return RESULT;
  };
  const r = await rig({ max_concurrent: 2, per_destination: 1 }, gated);
  try {
    const ids = [];
    for (const [b, n] of [['a', 1], ['a', 2], ['a', 3], ['b', 1], ['c', 1]] as const) ids.push((await r.service.submit(upload(b, `d${n}`))).id);
    await until('two jobs running at once', async () => gates.length === 2 || undefined);
    for (let done = 0; done < ids.length; done++) {
      await until('a job to run', async () => gates.length > 0 || undefined);
      gates.shift()!();
    }
    for (const id of ids) await inState(r, id, 'completed');
    assert.equal(most, 2, 'global limit 2, and used');
    assert.equal(mostPerBucket, 1, 'one job per bucket');
  } finally {
    await r.close();
  }
});

test('JobService: cancel stops a running job through its owner, finishes a queued one without running it, refuses a finished or unknown one', async () => {
  const ran: string[] = [];
  const r = await rig({ max_concurrent: 1 }, async (job, ctx, run) => {
    ran.push(job.id);
    return job.source.includes('quick') ? quick(job, ctx, run) : untilAborted(job, ctx, run);
  });
  try {
    const running = await r.service.submit(upload('a', 'slow'));
    const queued = await r.service.submit(upload('a', 'waits'));
    await inState(r, running.id, 'active');
    assert.equal((await r.service.cancel(queued.id)).state, 'cancelling');
    await inState(r, queued.id, 'cancelled');
    assert.equal((await r.service.cancel(running.id)).state, 'cancelling');
    const cancelled = await inState(r, running.id, 'cancelled');
    assert.equal(cancelled.owner, null);
    assert.deepEqual(ran, [running.id], 'the queued job never ran');
    assert.deepEqual(r.cleaned.sort(), [running.id, queued.id].sort(), 'both cancels cleaned up');
    await assert.rejects(r.service.cancel(running.id), (e: { code?: string }) => e.code === 'JOB_NOT_CANCELLABLE');
    await assert.rejects(r.service.cancel('0190a6b0-0000-7000-8000-000000000000'), (e: { code?: string }) => e.code === 'JOB_NOT_FOUND');
  } finally {
    await r.close();
  }
});

test("JobService: a cancel requested in the store by another writer reaches the job's owner, which stops the run", async () => {
  const r = await rig({}, untilAborted);
  try {
    const job = await r.service.submit(upload());
    await inState(r, job.id, 'active');
    await r.store.requestCancel(job.id);
    const done = await inState(r, job.id, 'cancelled');
    assert.equal(done.error, null);
    assert.deepEqual(r.cleaned, [job.id]);
  } finally {
    await r.close();
  }
});

test('JobService: retention keeps the newest keep_finished finished jobs in the store', async () => {
  const r = await rig({ keep_finished: 2 }, quick);
  try {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { id } = await r.service.submit(upload('a', `d${i}`));
      await inState(r, id, 'completed');
      ids.push(id);
    }
    const left = await until('retention', async () => {
      const all = await r.store.list();
      return all.length === 2 ? all : undefined;
    });
    assert.deepEqual(left.map((j: JobRecord) => j.id), ids.slice(3));
  } finally {
    await r.close();
  }
});

test('JobService: a stop leaves a running job to the next start, which resumes it; a stopped service takes no jobs', async () => {
  const first = await rig({}, untilAborted);
  const job = await first.service.submit(upload());
  await inState(first, job.id, 'active');
  await first.close();
  const left = (await first.store.get(job.id))!;
  assert.equal(left.state, 'active', 'a stop is not a failure');
  await assert.rejects(first.service.submit(upload()), (e: { code?: string }) => e.code === 'JOB_NOT_ACCEPTING');
  const second = await rig({}, quick, first.dir);
  try {
    const done = await inState(second, job.id, 'completed');
    assert.equal(done.attempts, 2);
    assert.match(second.logs.join(''), /resuming interrupted job/);
  } finally {
    await second.close();
    await rm(first.dir, { recursive: true, force: true });
  }
});

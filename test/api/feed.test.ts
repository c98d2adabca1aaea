import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { REPO_ROOT } from '../helpers/tmp.js';

const MiB = 1024 * 1024;
let d: TestDaemon;

before(async () => {
  d = await startDaemon({ config: { transfer: { part_size: '5MiB', bwlimit: '12MiB' }, jobs: { max_concurrent: 8, per_destination: 8 } } });
  await mkdir(join(d.stateDir, 'out'), { recursive: true });
});
after(async () => {
  await d?.stop();
  await rm(d.stateDir, { recursive: true, force: true });
});

interface Received {
  at: number;
  msg: any;
}

async function connect(token: string): Promise<{ ws: WebSocket; got: Received[] }> {
  const ws = new WebSocket(d.url.replace('http', 'ws') + '/v1/feed');
  const got: Received[] = [];
  ws.on('message', (data) => got.push({ at: performance.now(), msg: JSON.parse(String(data)) }));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'auth', token }));
  return { ws, got };
}

test('the feed sends a snapshot, then state changes in order, throttled progress and part changes', async () => {
  const first = join(d.stateDir, 'first.bin');
  await writeFile(first, randomBytes(MiB));
  const pre = await d.api('POST', '/v1/jobs', { source: first, destination: `file://${d.stateDir}/out/first.bin` });
  await waitForJob(d, pre.json.job.id, (j) => j.state === 'completed');

  const { ws, got } = await connect(d.token);
  const src = join(d.stateDir, 'data.bin');
  await writeFile(src, randomBytes(24 * MiB));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(got[0]?.msg.type, 'snapshot');
  assert.ok(got[0]!.msg.jobs.some((j: any) => j.id === pre.json.job.id && j.state === 'completed' && j.parts === undefined));

  const { json } = await d.api('POST', '/v1/jobs', { source: src, destination: `file://${d.stateDir}/out/data.bin` });
  const id = json.job.id;
  await waitForJob(d, id, (j) => j.state === 'completed');
  await new Promise((r) => setTimeout(r, 400));
  ws.close();

  const mine = got.filter((g) => g.msg.id === id || g.msg.job?.id === id);
  const states = mine.filter((g) => g.msg.type === 'job').map((g) => g.msg.job.state + (g.msg.job.phase ? `/${g.msg.job.phase}` : ''));
  assert.deepEqual(states.filter((s, i) => s !== states[i - 1]), ['queued', 'validating', 'active/converting', 'active/verifying', 'completed']);
  const progress = mine.filter((g) => g.msg.type === 'progress');
  assert.ok(progress.length >= 4, `${progress.length} progress messages over a 2 s job`);
  for (let i = 1; i < progress.length; i++) {
    assert.ok(progress[i]!.at - progress[i - 1]!.at >= 180, 'at most 4 progress messages per second per job');
  }
  const last = progress[progress.length - 1]!.msg.progress;
  assert.ok(last.bytesRead > 0 && last.totalBytes === 24 * MiB);
  const parts = new Map<number, string>();
  for (const g of mine.filter((x) => x.msg.type === 'parts')) for (const p of g.msg.parts) parts.set(p.n, p.state);
  assert.equal(parts.size, 5);
  assert.ok([...parts.values()].every((s) => s === 'done'), JSON.stringify([...parts]));
  const view = (await d.api('GET', `/v1/jobs/${id}`)).json.job;
  assert.ok(Array.isArray(view.throughput) && view.throughput.every((s: number[]) => s.length === 2));
});

test('a client that never reads gets coalesced updates and cannot grow the daemon', async () => {
  const slow = spawn('python3', [join(REPO_ROOT, 'test', 'helpers', 'feed', 'slow-client.py'), new URL(d.url).port, d.token], { stdio: ['pipe', 'pipe', 'inherit'] });
  slow.unref();
  try {
    await new Promise((r) => slow.stdout.once('data', r));
    await slowClientRun(slow);
  } finally {
    slow.kill();
  }
});

async function slowClientRun(slow: ReturnType<typeof spawn>): Promise<void> {
  const { ws, got } = await connect(d.token);
  // Large job views (14 metadata values of 4000 characters each, ~56 KB per message, under the API's
  // 64 KiB body limit) make the feed's volume: about 15 MB for 40 jobs of 5 state changes each.
  const metadata = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`k${i}`, 'm'.repeat(4000)]));
  const src = join(d.stateDir, 'small.bin');
  await writeFile(src, randomBytes(64 * 1024));
  const ids: string[] = [];
  let maxBuffered = 0;
  let maxRss = 0;
  const sample = async () => {
    const text = (await d.api('GET', '/metrics')).text;
    maxBuffered = Math.max(maxBuffered, value(text, 'vmxfer_feed_max_buffered_bytes'));
    maxRss = Math.max(maxRss, value(text, 'process_resident_memory_bytes'));
    return text;
  };
  for (let i = 0; i < 40; i++) {
    const r = await d.api('POST', '/v1/jobs', { source: src, destination: `file://${d.stateDir}/out/s${i}.bin`, options: { metadata } });
    assert.equal(r.status, 201, r.text);
    ids.push(r.json.job.id);
    if (i % 5 === 0) await sample();
  }
  for (const id of ids) await waitForJob(d, id, (j) => j.state === 'completed');
  const text = await sample();
  slow.stdin!.end();
  await new Promise((r) => slow.once('exit', r));
  await new Promise((r) => setTimeout(r, 500));
  ws.close();
  assert.ok(value(text, 'vmxfer_feed_coalesced_messages_total') > 0, 'the slow client got coalesced updates');
  assert.ok(maxBuffered > 1 * MiB, `the slow client's backlog reached ${maxBuffered} bytes: the test made enough traffic`);
  assert.ok(maxBuffered < 8 * MiB + 512 * 1024, `unsent data for one client stayed bounded (max ${maxBuffered})`);
  assert.ok(maxRss < 400 * MiB, `daemon RSS ${maxRss}`);
  // The reading client saw every job finish despite the stalled one.
  const completed = new Set(got.filter((g) => g.msg.type === 'job' && g.msg.job.state === 'completed').map((g) => g.msg.job.id));
  assert.ok(ids.every((id) => completed.has(id)));
}

function value(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line ? Number(line.split(' ').pop()) : 0;
}

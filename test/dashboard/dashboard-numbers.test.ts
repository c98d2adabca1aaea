import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openBrowser, saveScreenshot, type TestBrowser } from '../helpers/browser.js';
import { apiRequest, startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { createTestBucket, ensureRgw, type TestBucket } from '../helpers/rgw.js';
import { tempDir } from '../helpers/tmp.js';
import { signIn } from './page-session.js';

/**
 * The dashboard's numbers in real Chromium against a daemon uploading to Ceph RGW (through a loopback
 * proxy) at --bwlimit 4 MiB/s: percent, Sent, Rate and ETA follow the bytes the store confirmed, not the
 * bytes read; the parts grid has the real part count; and the page agrees with GET /v1/jobs/ID and
 * /metrics while the upload runs and after it completes. A part the store holds shows `stalled`.
 */
const MiB = 1024 * 1024;
const SIZE = 48 * MiB;
const PART = 5 * MiB;
const PARTS = Math.ceil(SIZE / PART);

let browser: TestBrowser;
let daemon: TestDaemon;
let bucket: TestBucket;
let proxy: FaultProxy;
let work: Awaited<ReturnType<typeof tempDir>>;

async function sparse(name: string, bytes: number): Promise<string> {
  const path = join(work.dir, name);
  const f = await open(path, 'w');
  await f.truncate(bytes);
  await f.close();
  return path;
}

before(async () => {
  const env = await ensureRgw();
  bucket = await createTestBucket(env, 'dash-numbers');
  proxy = await startFaultProxy(env.endpoint);
  work = await tempDir('vmxfer-dash-numbers-');
  daemon = await startDaemon({
    sourceRoots: [work.dir],
    env: { AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: env.secretAccessKey },
    config: {
      stores: { s3_endpoint: proxy.endpoint, s3_region: 'us-east-1', s3_path_style: true },
      transfer: { bwlimit: '4MiB', part_size: '5MiB', concurrency: 2, stall_timeout: 3 },
    },
  });
  browser = await openBrowser();
  await signIn(browser.page, `${daemon.url}/`, daemon.token);
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
  await proxy?.close();
  await bucket?.remove();
  await work?.cleanup();
});

const UNIT: Record<string, number> = { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB };

/** "12.5 MiB" → bytes (the dashboard's formatBytes). */
function bytesOf(text: string): number {
  const m = /([\d.]+) (B|KiB|MiB|GiB)/.exec(text);
  assert.ok(m, `no byte figure in "${text}"`);
  return Number(m[1]) * UNIT[m[2]!]!;
}

/** "1 min 3 s" or "12 s" → seconds (formatEta). */
function secondsOf(text: string): number {
  const m = /^(?:(\d+) min )?(\d+) s$/.exec(text);
  assert.ok(m, `no ETA in "${text}"`);
  return Number(m[1] ?? 0) * 60 + Number(m[2]);
}

/** The counter's value for the labels given, from the /metrics text (0 when absent). */
function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

interface Shown {
  rowPercent: number;
  rowState: string;
  rowStalled: string | null;
  barText: string;
  facts: Record<string, string>;
  grid: string;
}

/** What the page shows now for job `id`: its row and the open job view. */
function shown(page: Page, id: string): Promise<Shown> {
  return page.evaluate((jobId) => {
    const doc = (globalThis as any).document;
    const row = doc.querySelector(`#jobs-body tr[data-job-id="${jobId}"]`);
    const bar = row?.querySelector('[role=progressbar]');
    const facts: Record<string, string> = {};
    for (const div of doc.querySelectorAll('#job-facts .fact')) facts[div.querySelector('dt').textContent] = div.querySelector('dd').textContent;
    return {
      rowPercent: Number(bar?.getAttribute('aria-valuenow') ?? NaN),
      rowState: row?.querySelector('.badge')?.textContent ?? '',
      rowStalled: row?.getAttribute('data-stalled') ?? null,
      barText: bar?.getAttribute('aria-valuetext') ?? '',
      facts,
      grid: doc.getElementById('parts-canvas')?.getAttribute('aria-label') ?? '',
    };
  }, id);
}

async function metricsText(): Promise<string> {
  const r = await apiRequest(daemon.url, daemon.token, 'GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  return r.text;
}

test('during a 4 MiB/s upload the page shows confirmed bytes, Rate, ETA and the part count as the API and /metrics report them; 100% at the end', async () => {
  const page = browser.page;
  const before = await metricsText();
  const written0 = metric(before, 'vmxfer_written_bytes_total', 'direction="upload"');
  const sent0 = metric(before, 'vmxfer_parts_total', 'result="sent"');
  const source = await sparse('numbers.raw', SIZE);
  const submitted = await daemon.api('POST', '/v1/jobs', { source, destination: `s3://${bucket.name}/numbers.raw`, format: 'raw', options: { partSize: '5MiB' } });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.json));
  const id: string = submitted.json.job.id;
  await page.getByRole('button', { name: `Open job ${id}` }).click();

  const samples: Array<{ page: Shown; api: any; written: number; sentParts: number }> = [];
  for (;;) {
    // The API before and after the page: a sample counts when the page shows the object size both report
    // (the projected size can change once, early; the page follows the feed a few hundred ms behind).
    const api1 = (await daemon.api('GET', `/v1/jobs/${id}`)).json.job;
    const s = await shown(page, id);
    const api = (await daemon.api('GET', `/v1/jobs/${id}`)).json.job;
    const m = await metricsText();
    if (['completed', 'failed', 'cancelled'].includes(api.state)) break;
    const p = api.progress;
    const pageSize = s.facts['Sent']?.includes(' of ') ? bytesOf(s.facts['Sent'].split(' of ')[1]!) : NaN;
    const settled = api1.progress.outputBytes === p.outputBytes && Math.abs(pageSize - p.outputBytes) < 0.1 * MiB;
    if (settled && p.bytesConfirmed > 0 && p.bytesConfirmed < p.outputBytes && Number.isFinite(s.rowPercent)) {
      samples.push({ page: s, api, written: metric(m, 'vmxfer_written_bytes_total', 'direction="upload"') - written0, sentParts: metric(m, 'vmxfer_parts_total', 'result="sent"') - sent0 });
    }
    await page.waitForTimeout(500);
  }
  assert.ok(samples.length >= 5, `${samples.length} samples while parts were being confirmed`);
  assert.equal(samples.at(-1)!.api.progress.partsTotal, PARTS, 'the part count, once the object size is exact');
  let rated = 0;
  for (const { page: s, api, written, sentParts } of samples) {
    const p = api.progress;
    const at = `page ${JSON.stringify(s)}; API ${JSON.stringify(p)}; metrics written ${written}, parts sent ${sentParts}`;
    const sent = bytesOf(s.facts['Sent']!.split(' of ')[0]!);
    // The bar is the Sent figure's percent (the same feed message), and both are within a part of the API's.
    assert.ok(Math.abs(s.rowPercent - (sent / p.outputBytes) * 100) <= 1, `bar follows Sent: ${at}`);
    assert.ok(Math.abs(sent - p.bytesConfirmed) <= PART, `Sent is the API's bytesConfirmed within a part: ${at}`);
    assert.ok(Math.abs(written - p.bytesConfirmed) <= PART, `/metrics written bytes are the API's bytesConfirmed within a part: ${at}`);
    assert.ok(Math.abs(sentParts - p.partsDone) <= 1, `/metrics parts sent are the API's partsDone within one: ${at}`);
    assert.ok(s.grid.startsWith(`${p.partsTotal} parts`), `the parts grid has the API's part count: ${at}`);
    assert.match(s.facts['Parts']!, new RegExp(`of ${p.partsTotal} `), at);
    // The rate is of confirmed bytes over the last 5 s (agent/core/progress.ts), whole parts at a time: from the fourth part on it is a rate.
    if (p.bytesConfirmed < 4 * PART || s.facts['Rate'] === '—') continue;
    const rate = bytesOf(s.facts['Rate']!);
    const eta = secondsOf(s.facts['ETA']!);
    // ETA of the bytes not yet confirmed at the rate shown; of the bytes not yet read it would be far less.
    assert.ok(Math.abs(eta - (p.outputBytes - sent) / rate) <= 3, `ETA is the unconfirmed bytes at the shown rate: ${at}`);
    // Where the page has seen the same confirmations as the API, the two rates and ETAs are the same figures a moment apart.
    if (sent !== p.bytesConfirmed || !(p.rate > 0)) continue;
    rated++;
    assert.ok(Math.abs(rate - p.rate) <= 0.35 * p.rate, `Rate agrees with the API's: ${at}`);
    if (p.etaSeconds !== null) assert.ok(Math.abs(eta - p.etaSeconds) <= Math.max(4, 0.35 * p.etaSeconds), `ETA agrees with the API's: ${at}`);
  }
  assert.ok(rated >= 2, `${rated} samples where the page and the API had seen the same confirmations, rate and ETA compared`);
  const readAhead = samples.filter(({ page: s, api }) => (api.progress.bytesRead / api.progress.totalBytes) * 100 - s.rowPercent >= 15);
  assert.ok(readAhead.length >= 1, `at least once the bytes read ran 15 points ahead of what the page shows: ${samples.map((x) => `${x.page.rowPercent}/${Math.round((x.api.progress.bytesRead / x.api.progress.totalBytes) * 100)}`).join(' ')}`);

  const done = await waitForJob(daemon, id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  await page.locator(`#jobs-body tr[data-job-id="${id}"][data-state="completed"]`).waitFor({ timeout: 15_000 });
  const end = await shown(page, id);
  assert.equal(end.rowPercent, 100);
  assert.equal(end.facts['Sent'], '48.0 MiB of 48.0 MiB, confirmed by the store');
  assert.ok(end.grid.startsWith(`${PARTS} parts`) && end.grid.includes(`${PARTS} done`), end.grid);
  const m = await metricsText();
  assert.equal(metric(m, 'vmxfer_written_bytes_total', 'direction="upload"') - written0, SIZE);
  assert.equal(metric(m, 'vmxfer_parts_total', 'result="sent"') - sent0, PARTS);
  console.log(`dashboard numbers: ${samples.length} samples; e.g. ${JSON.stringify(samples[Math.floor(samples.length / 2)]!.page.facts)}`);
  await saveScreenshot(page, 'dashboard-numbers-completed');
});

test('a part the store holds: the row, the bar and the job view show stalled while the API says so, and not once bytes move again', async () => {
  const page = browser.page;
  const source = await sparse('stalled.raw', 3 * PART);
  let held = 2;
  proxy.setPlan((r) => (r.method === 'PUT' && r.partNumber === 2 && r.url.includes('stalled.raw') && held-- > 0 ? { kind: 'stall', ms: 600_000 } : undefined));
  try {
    const submitted = await daemon.api('POST', '/v1/jobs', { source, destination: `s3://${bucket.name}/stalled.raw`, format: 'raw', options: { partSize: '5MiB' } });
    assert.equal(submitted.status, 201, JSON.stringify(submitted.json));
    const id: string = submitted.json.job.id;
    await page.getByRole('button', { name: `Open job ${id}` }).click();
    await page.locator(`#jobs-body tr[data-job-id="${id}"][data-stalled="true"]`).waitFor({ timeout: 60_000 });
    const s = await shown(page, id);
    const api = (await daemon.api('GET', `/v1/jobs/${id}`)).json.job;
    assert.equal(api.progress.stalled, true, `the API says stalled while the page does: ${JSON.stringify(api.progress)}`);
    assert.match(s.rowState, /stalled/);
    assert.match(s.barText, /stalled/);
    assert.match(s.facts['State']!, /stalled: no byte has moved/);
    await saveScreenshot(page, 'dashboard-stalled', false);
    const done = await waitForJob(daemon, id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state), 120_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    await page.locator(`#jobs-body tr[data-job-id="${id}"][data-state="completed"][data-stalled="false"]`).waitFor({ timeout: 15_000 });
    assert.doesNotMatch((await shown(page, id)).rowState, /stalled/);
  } finally {
    proxy.setPlan(undefined);
  }
});

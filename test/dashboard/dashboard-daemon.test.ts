import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { openBrowser, saveScreenshot, type TestBrowser } from '../helpers/browser.js';
import { tempDir } from '../helpers/tmp.js';
import { loadRgw, loadStartDaemon, type DaemonHandle, type TestBucket } from './helper-contracts.js';
import { recordConnectionStates, recordProgressValues, signIn } from './page-session.js';
import type { Page } from 'playwright-core';

const MiB = 1024 * 1024;
/** Slow enough (with the daemon's bandwidth limit) that progress is seen moving and a cancel lands mid-upload. */
const BWLIMIT = '8MiB';
/** About four seconds at BWLIMIT (one second of burst): many feed updates (4 per second) before completion. */
const SMALL_MIB = 40;
/** docs/api.md "Agents": the name the agents table shows for this daemon. */
const AGENT = 'dashboard-agent';

let browser: TestBrowser;
let daemon: DaemonHandle;
let bucket: TestBucket;
let work: { dir: string; cleanup: () => Promise<void> };

/** Incompressible bytes, written 1 MiB at a time (memory stays small). */
async function writeRandomImage(path: string, mib: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) await file.write(randomBytes(MiB));
  } finally {
    await file.close();
  }
}

before(async () => {
  const startDaemon = await loadStartDaemon();
  const rgw = await loadRgw();
  const env = await rgw.ensureRgw();
  bucket = await rgw.createTestBucket(env, 'dashboard');
  work = await tempDir('vmxfer-dashboard-');
  await writeRandomImage(join(work.dir, 'small.raw'), SMALL_MIB);
  await writeRandomImage(join(work.dir, 'large.raw'), 64);
  daemon = await startDaemon({
    sourceRoots: [work.dir],
    env: {
      AWS_ACCESS_KEY_ID: env.accessKeyId,
      AWS_SECRET_ACCESS_KEY: env.secretAccessKey,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
    },
    config: {
      stores: { s3_endpoint: env.endpoint, s3_region: 'us-east-1', s3_path_style: true },
      transfer: { bwlimit: BWLIMIT, part_size: '5MiB', concurrency: 2 },
      agent: { name: AGENT },
    },
  });
  browser = await openBrowser();
  await signIn(browser.page, `${daemon.url}/`, daemon.token);
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
  await bucket?.remove();
  await work?.cleanup();
});

function row(page: Page, id: string) {
  return page.locator(`#jobs-body tr[data-job-id="${id}"]`);
}

/**
 * Waits until job `id`'s row shows `state`. On a timeout the failure carries what the API says of the job,
 * the page's status line and the daemon's last log lines, so a failure in CI can be explained from its log.
 */
async function untilRowState(page: Page, id: string, state: string, timeout: number): Promise<void> {
  try {
    await row(page, id).and(page.locator(`[data-state="${state}"]`)).waitFor({ timeout });
  } catch (err) {
    const { json } = await daemon.api('GET', `/v1/jobs/${id}`).catch((e: Error) => ({ json: e.message }));
    const status = await page.locator('#job-status').textContent().catch(() => '?');
    const shown = await row(page, id).getAttribute('data-state').catch(() => '?');
    const log = daemon.output().split('\n').slice(-40).join('\n');
    await saveScreenshot(page, `timeout-${state}-${id}`).catch(() => undefined);
    throw new Error(`job ${id} did not show ${state} within ${timeout} ms (row shows ${shown}; page status "${status}")\nAPI: ${JSON.stringify(json)}\ndaemon log:\n${log}`, { cause: err });
  }
}

/** Submits through the page's form and returns the new job's id from the confirmation. */
async function submitThroughForm(page: Page, source: string, destination: string): Promise<string> {
  const panel = page.locator('#submit-panel');
  if (!(await panel.evaluate((d) => d.open))) await page.getByText('Submit a job').click();
  await page.getByLabel('Source image path').fill(source);
  await page.getByLabel('Destination URL').fill(destination);
  await page.getByLabel('Output format').selectOption('raw');
  await page.getByLabel('Part size').fill('5MiB');
  await page.getByRole('button', { name: 'Submit job' }).click();
  await page.locator('#submit-status', { hasText: 'Submitted job' }).waitFor({ timeout: 15_000 });
  const text = (await page.locator('#submit-status').textContent()) ?? '';
  return /Submitted job (\S+)\./.exec(text)![1]!;
}

test('the agents table shows this agent from the feed: ready, nothing running, every slot free, its version', async () => {
  const page = browser.page;
  const agentRow = page.locator(`#agents-table tr[data-agent="${AGENT}"][data-state="ready"]`);
  await agentRow.waitFor({ timeout: 15_000 });
  const [api] = (await daemon.api('GET', '/v1/agents')).json.agents;
  const cells = await agentRow.locator('td').allTextContents();
  assert.deepEqual(cells.slice(0, 4), [AGENT, 'ready', '0', '4']);
  assert.equal(cells[5], api.version);
  assert.equal(await page.locator('#agents-count').textContent(), '1 agent');
});

test('a submitted upload: its progress bar advances and the row reaches completed', async () => {
  const page = browser.page;
  const id = await submitThroughForm(page, join(work.dir, 'small.raw'), `s3://${bucket.name}/small.raw`);
  const bar = row(page, id).getByRole('progressbar');
  await row(page, id).waitFor({ timeout: 15_000 });
  const values = await recordProgressValues(page, id);
  await untilRowState(page, id, 'completed', 60_000);
  assert.equal(await bar.getAttribute('aria-valuenow'), '100');
  const seen = await values();
  const between = seen.filter((v) => v > 0 && v < 100);
  assert.ok(between.length >= 2, `the bar showed intermediate values ${seen.join(', ')}`);
  const head = await bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'small.raw' }));
  assert.equal(head.ContentLength, SMALL_MIB * MiB);
  await page.getByRole('button', { name: `Open job ${id}` }).click();
  const api = await daemon.api('GET', `/v1/jobs/${id}`);
  await page.locator('#job-checksums dd', { hasText: api.json.job.result.sourceDigest }).first().waitFor();
  await page.locator('#job-facts dd', { hasText: AGENT }).first().waitFor();
  await saveScreenshot(page, 'daemon-upload-completed');
});

test('a cancel (with confirmation) shows cancelled and the multipart upload is gone from the server', async () => {
  const page = browser.page;
  const submitted = await daemon.api('POST', '/v1/jobs', { source: join(work.dir, 'large.raw'), destination: `s3://${bucket.name}/large.raw`, format: 'raw', options: { partSize: '5MiB' } });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.json));
  const id: string = submitted.json.job.id;
  await page.getByRole('button', { name: `Open job ${id}` }).click();
  await page.waitForFunction((jobId) => Number((globalThis as any).document.querySelector(`tr[data-job-id="${jobId}"] [role=progressbar]`)?.getAttribute('aria-valuenow')) > 0, id, { timeout: 30_000 });
  await page.locator('#job-cancel').click();
  await page.locator('#cancel-dialog[open]').waitFor();
  await page.locator('#cancel-confirm').click();
  await untilRowState(page, id, 'cancelled', 30_000);
  assert.equal(await page.locator('#job-view').getAttribute('data-state'), 'cancelled');
  await saveScreenshot(page, 'daemon-cancelled');
  const uploads = await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: 'large.raw' }));
  assert.deepEqual(uploads.Uploads ?? [], [], 'the multipart upload was aborted');
  await assert.rejects(bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'large.raw' })));
});

test('a failed job shows its full error, as the API reports it', async () => {
  const page = browser.page;
  const missing = `vmxfer-no-such-bucket-${randomBytes(4).toString('hex')}`;
  const id = await submitThroughForm(page, join(work.dir, 'small.raw'), `s3://${missing}/x.raw`);
  await untilRowState(page, id, 'failed', 60_000);
  await page.getByRole('button', { name: `Open job ${id}` }).click();
  await page.locator('#job-error:not([hidden])').waitFor();
  const { json } = await daemon.api('GET', `/v1/jobs/${id}`);
  assert.equal(await page.locator('#job-error-code').textContent(), json.job.error.code);
  assert.equal(await page.locator('#job-error-message').textContent(), json.job.error.message);
  assert.ok(json.job.error.message.length > 0);
  await saveScreenshot(page, 'daemon-failed-job');
});

test('the connection indicator reacts to a daemon restart and the table is re-filled from the new snapshot', async () => {
  const page = browser.page;
  const states = await recordConnectionStates(page);
  await daemon.restart();
  await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 30_000 });
  const trail = await states();
  assert.ok(trail.includes('reconnecting') || trail.includes('offline'), `states seen: ${trail.join(' → ')}`);
  assert.equal(trail[trail.length - 1], 'connected');
  const { json } = await daemon.api('GET', '/v1/jobs');
  assert.equal(await page.locator('#jobs-body tr').count(), json.jobs.length);
  await saveScreenshot(page, 'daemon-reconnected', false);
});

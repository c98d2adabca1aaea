import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openBrowser, type TestBrowser } from '../helpers/browser.js';
import { routeDaemon, ROUTED_ORIGIN } from '../helpers/routed-daemon.js';
import { syntheticJob, syntheticParts } from '../helpers/synthetic-jobs.js';
import { signIn } from './page-session.js';
import { auditAccessibility } from './a11y-audit.js';
import type { Job, SyncPass } from '../../agent/dashboard/client/api-types.js';

const TOKEN = 'sync-passes-test-token';
const MiB = 1024 * 1024;
let browser: TestBrowser;
before(async () => {
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
});

function rows(page: Page): Promise<string[][]> {
  return page.locator('#job-passes tbody tr').evaluateAll((trs) => trs.map((tr) => [...(tr as any).cells].map((td: any) => td.textContent ?? '')));
}

const pass = (n: number, sent: number, copied: number, final = false): SyncPass => ({
  n, startedAt: `2026-12-07T1${n}:00:00.000Z`, finishedAt: `2026-12-07T1${n}:00:12.500Z`, seconds: 12.5, bytesRead: 32 * MiB, bytesSent: sent * 8 * MiB, partsSent: sent, partsCopied: copied, final,
});

test('a sync job shows its passes (pass, time, bytes sent, parts copied / sent), the next pass arrives from the feed while it waits; other jobs show no passes', async () => {
  const page = await browser.context.newPage();
  try {
    const job: Job = { ...syntheticJob(1), kind: 'sync', state: 'waiting', phase: null, passes: [pass(1, 4, 0)] };
    const plain = syntheticJob(12);
    const details = new Map([job, plain].map((j) => [j.id, { ...j, parts: syntheticParts(4, 4), throughput: [] }]));
    const daemon = await routeDaemon(page, { token: TOKEN, snapshot: [job, plain], details });
    await signIn(page, `${ROUTED_ORIGIN}/`, TOKEN);
    await page.getByRole('button', { name: `Open job ${job.id}` }).click();
    await page.locator('#job-passes:not([hidden])').waitFor();
    const [first] = await rows(page);
    assert.deepEqual([first![0], first![2], first![3], first![4], first![5]], ['1', '12.5', '32.0 MiB', '32.0 MiB', '0 / 4']);
    assert.ok(first![1]!.length > 0 && first![1] !== '—', 'the pass has its start time');
    daemon.send({ type: 'job', job: { ...job, state: 'completed', passes: [pass(1, 4, 0), pass(2, 1, 3, true)] } });
    await page.locator('#job-passes td', { hasText: '2 (cutover)' }).waitFor();
    assert.deepEqual((await rows(page)).map((r) => [r[0], r[4], r[5]]), [['1', '32.0 MiB', '0 / 4'], ['2 (cutover)', '8.0 MiB', '3 / 1']]);
    assert.equal(await page.getByRole('table', { name: 'Sync passes' }).getByRole('columnheader', { name: 'Parts copied / sent' }).count(), 1);
    assert.deepEqual(await auditAccessibility(page), []);
    await page.locator('#job-close').click();
    await page.getByRole('button', { name: `Open job ${plain.id}` }).click();
    await page.locator('#job-facts dd', { hasText: plain.destination }).waitFor();
    assert.equal(await page.locator('#job-passes').isVisible(), false, 'an upload job shows no passes');
  } finally {
    await page.close();
  }
});

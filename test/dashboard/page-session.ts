import type { Page } from 'playwright-core';

/** Enters the token the way an operator does (the token form), then waits until the feed is live. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
}

/** Records every value #connection's data-state takes from now on (a restart may pass through states quickly). */
export async function recordConnectionStates(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const node = (globalThis as any).document.getElementById('connection')!;
    const seen: string[] = [node.dataset.state ?? ''];
    (globalThis as any).__states = seen;
    new (globalThis as any).MutationObserver(() => seen.push(node.dataset.state ?? '')).observe(node, { attributes: true, attributeFilter: ['data-state'] });
  });
  return () => page.evaluate(() => (globalThis as any).__states);
}

/**
 * Records, inside the page, every aria-valuenow the progress bar of job `id` shows from now on.
 * Polling from the test misses values on a loaded machine; a MutationObserver over the table sees each redraw.
 */
export async function recordProgressValues(page: Page, id: string): Promise<() => Promise<number[]>> {
  await page.evaluate((jobId) => {
    const doc = (globalThis as any).document;
    const seen: number[] = [];
    const sample = () => {
      const v = doc.querySelector(`#jobs-body tr[data-job-id="${jobId}"] [role=progressbar]`)?.getAttribute('aria-valuenow');
      if (v !== null && v !== undefined && seen[seen.length - 1] !== Number(v)) seen.push(Number(v));
    };
    (globalThis as any).__progress = seen;
    sample();
    new (globalThis as any).MutationObserver(sample).observe(doc.getElementById('jobs-body'), { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow', 'data-job-id'] });
  }, id);
  return () => page.evaluate(() => (globalThis as any).__progress);
}

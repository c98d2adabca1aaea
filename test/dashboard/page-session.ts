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

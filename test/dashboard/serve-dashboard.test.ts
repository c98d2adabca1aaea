import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dashboardAssets, DASHBOARD_DIST } from '../../agent/dashboard/serve-dashboard.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { tempDir } from '../helpers/tmp.js';

test('dashboardAssets() maps "/" and every /assets/* path to the built bytes and a Content-Type', async () => {
  const assets = dashboardAssets();
  assert.equal(assets.get('/')!.type, 'text/html; charset=utf-8');
  assert.deepEqual(assets.get('/')!.body, await readFile(join(DASHBOARD_DIST, 'index.html')));
  assert.equal(assets.get('/assets/main.js')!.type, 'text/javascript; charset=utf-8');
  assert.equal(assets.get('/assets/styles.css')!.type, 'text/css; charset=utf-8');
  for (const key of assets.keys()) assert.ok(key === '/' || key.startsWith('/assets/'), key);
  const html = assets.get('/')!.body.toString('utf8');
  for (const ref of html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) assert.ok(assets.has(ref[1]!), `the page references ${ref[1]}, which is served`);
  assert.equal(dashboardAssets(), assets, 'read once, then served from memory');
});

test('an unbuilt dashboard is a typed DASH_ASSETS_MISSING error naming the file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    assert.throws(() => dashboardAssets(dir), (err: unknown) => {
      assert.ok(isVmxferError(err));
      assert.equal(err.code, 'DASH_ASSETS_MISSING');
      assert.match(err.message, new RegExp(`${dir}/index.html`));
      return true;
    });
  } finally {
    await cleanup();
  }
});

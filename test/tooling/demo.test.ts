import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/tmp.js';

test('the demo builds once: demo.sh runs the build once and no install hook (prepare, postinstall) builds again', async () => {
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
  for (const hook of ['prepare', 'preinstall', 'postinstall']) assert.equal(pkg.scripts[hook], undefined, `no ${hook} script`);
  assert.doesNotMatch(pkg.scripts.install, /tsc|build-dashboard/, 'the install hook builds only the optional addons');
  const sh = await readFile(join(REPO_ROOT, 'scripts', 'demo.sh'), 'utf8');
  assert.equal(sh.match(/npm run --silent build|tsc -p/g)?.length, 1);
});

test('npm run demo -- --keep: URL and token first, the job done, the dashboard still up until SIGINT, then a clean stop', { timeout: 300_000 }, async () => {
  const demo = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'scripts', 'demo.js'), '--keep'], {
    env: { ...process.env, VMXFER_TRANSFER_BWLIMIT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a failed test stops the demo and its daemon together.
    detached: true,
  });
  let out = '';
  let err = '';
  demo.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const kept = new Promise<void>((resolve, reject) => {
    demo.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('stay up until Ctrl-C')) resolve();
    });
    demo.once('exit', (code) => reject(new Error(`the demo exited (${code}) before the job was done: ${out}\n${err}`)));
  });
  const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
  try {
    await kept;
    const plain = out.replaceAll('\x1b[1m', '').replaceAll('\x1b[0m', '');
    const m = /dashboard: open (http:\/\/127\.0\.0\.1:\d+)\/ and paste the token ([0-9a-f]{48})/.exec(plain);
    assert.ok(m, plain);
    assert.ok(plain.indexOf(m[0]) < plain.indexOf('building the demo disk'), 'the URL and token come before the disk is built');
    const [, url, token] = m;
    // Still up after the job: the dashboard page and the finished job through the API.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await fetch(`${url}/`)).status, 200);
    const jobs = (await (await fetch(`${url}/v1/jobs`, { headers: { authorization: `Bearer ${token}` } })).json()) as any;
    const list = Array.isArray(jobs) ? jobs : jobs.jobs;
    assert.equal(list.length, 1);
    assert.equal(list[0].state, 'completed');
    demo.kill('SIGINT');
    assert.equal(await exited, 0, err);
    await assert.rejects(fetch(`${url}/healthz`), 'the daemon is stopped');
  } finally {
    if (demo.exitCode === null) process.kill(-demo.pid!, 'SIGKILL');
  }
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { collectOutput } from '../helpers/run-command.js';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/daemon.js';
import { createTestBucket, ensureRgw } from '../helpers/rgw.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A home of its own: no VMXFER_* or XDG variable of the machine leaks into what a test spawns. */
async function home(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const { dir, cleanup } = await tempDir('vmxfer-config-');
  cleanups.push(cleanup);
  const env: NodeJS.ProcessEnv = { HOME: dir, XDG_CONFIG_HOME: '', XDG_STATE_HOME: '', VMXFER_CONFIG: '', VMXFER_TOKEN: '', VMXFER_STATE_DIR: '' };
  for (const k of Object.keys(process.env)) if (k.startsWith('VMXFER_') && !(k in env)) env[k] = undefined;
  return { dir, env };
}

/** The child's environment: this process's, with the test's values; undefined or empty ones unset. */
function cleanEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

async function cli(args: string[], env: NodeJS.ProcessEnv) {
  const r = await collectOutput(spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
  return r;
}

test('config show: each value with its origin (default, the file found under ~/.config, VMXFER_*, flag), secrets masked', async () => {
  const { dir, env } = await home();
  const file = join(dir, '.config', 'vmxfer', 'config.yaml');
  await mkdir(join(dir, '.config', 'vmxfer'), { recursive: true });
  await writeFile(file, 'transfer:\n  concurrency: 7\nstore_profiles:\n  lab:\n    endpoint: http://rgw.lab:7480\n    path_style: true\n    urls: [s3://lab-images]\n');
  const token = 'tok-' + 'x'.repeat(20) + '-SECRET';
  const r = await cli(['config', 'show', '--json', '--state-dir', join(dir, 'st')], { ...env, VMXFER_TRANSFER_RETRIES: '3', VMXFER_TOKEN: token, AWS_SECRET_ACCESS_KEY: 'very-secret-key-value' });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(token) && !r.stdout.includes('very-secret-key-value'), 'token and secret key are masked');
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.file, file);
  const v = Object.fromEntries(doc.values.map((e: { key: string; value: unknown; origin: string }) => [e.key, e]));
  assert.deepEqual([v['transfer.concurrency'].value, v['transfer.concurrency'].origin], [7, file]);
  assert.deepEqual([v['transfer.retries'].value, v['transfer.retries'].origin], [3, 'environment variable VMXFER_TRANSFER_RETRIES']);
  assert.deepEqual([v.state_dir.value, v.state_dir.origin], [join(dir, 'st'), 'flag for state_dir']);
  assert.deepEqual([v['listen.port'].value, v['listen.port'].origin], [8740, 'default']);
  assert.deepEqual([v['store_profiles.lab.endpoint'].value, v['store_profiles.lab.endpoint'].origin], ['http://rgw.lab:7480', file]);
  assert.equal(doc.token.origin, 'VMXFER_TOKEN');
  assert.match(doc.credentials.AWS_SECRET_ACCESS_KEY, /^\*\*\*\*/);

  // $VMXFER_CONFIG comes before the user's file; the text form names the file and each origin.
  const other = join(dir, 'other.yaml');
  await writeFile(other, 'transfer:\n  concurrency: 9\n');
  const t = await cli(['config', 'show'], { ...env, VMXFER_CONFIG: other });
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, new RegExp(`^# configuration file: ${other}$`, 'm'));
  assert.match(t.stdout, new RegExp(`^transfer\\.concurrency = 9  # ${other}$`, 'm'));
});

test('CLI and daemon share one default state directory and token: jobs list finds the daemon started with no flags', { timeout: 60_000 }, async () => {
  const { dir, env } = await home();
  const port = await freePort();
  const e = { ...env, VMXFER_LISTEN_PORT: String(port), VMXFER_SOURCE_ROOTS: dir };
  const shown = JSON.parse((await cli(['config', 'show', '--json'], e)).stdout);
  const stateDir = join(dir, '.local', 'state', 'vmxfer');
  assert.equal(shown.values.find((x: { key: string }) => x.key === 'state_dir').value, stateDir);
  const daemon = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), 'daemon'], { env: cleanEnv(e), cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  cleanups.push(async () => {
    daemon.kill('SIGTERM');
    if (daemon.exitCode === null) await new Promise((r) => daemon.once('exit', r));
  });
  let list: Awaited<ReturnType<typeof cli>> | undefined;
  for (const t0 = Date.now(); Date.now() - t0 < 30_000; await new Promise((r) => setTimeout(r, 300))) {
    if (!existsSync(join(stateDir, 'token'))) continue;
    list = await cli(['jobs', 'list', '--json'], e);
    if (list.code === 0) break;
  }
  assert.equal(list?.code, 0, `jobs list: ${list?.stderr} daemon: ${stderr}`);
  assert.ok((await readFile(join(stateDir, 'token'), 'utf8')).trim().length >= 16, 'the daemon generated its token in the shared default state directory');
  assert.ok(!existsSync(join(dir, '.vmxfer-state')), 'no state directory in the working directory');
});

test('upload picks a store profile by --store and by the bucket URL (endpoint, region, path style from the file); an unknown --store is a usage error', { timeout: 120_000 }, async () => {
  const rgw = await ensureRgw();
  const bucket = await createTestBucket(rgw, 'profiles');
  cleanups.push(() => bucket.remove());
  const { dir, env } = await home();
  const file = join(dir, 'vmxfer.yaml');
  await writeFile(
    file,
    `store_profiles:\n  lab-rgw:\n    endpoint: ${rgw.endpoint}\n    region: us-east-1\n    path_style: true\n  by-url:\n    endpoint: ${rgw.endpoint}\n    region: us-east-1\n    path_style: true\n    urls: [s3://${bucket.name}/matched]\n`,
  );
  const img = join(dir, 'disk.raw');
  await writeFile(img, Buffer.alloc(1024 * 1024, 7));
  const e = { ...env, VMXFER_CONFIG: file, AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_ENDPOINT_URL: '', AWS_REGION: '' };

  const named = await cli(['upload', img, `s3://${bucket.name}/named/disk.raw`, '--store', 'lab-rgw'], e);
  assert.equal(named.code, 0, named.stderr);
  const byUrl = await cli(['upload', img, `s3://${bucket.name}/matched/disk.raw`], e);
  assert.equal(byUrl.code, 0, byUrl.stderr);
  for (const key of ['named/disk.raw', 'matched/disk.raw']) {
    const head = await bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }));
    assert.equal(head.ContentLength, 1024 * 1024);
  }

  const unknown = await cli(['upload', img, `s3://${bucket.name}/x`, '--store', 'nope'], e);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no store named "nope" in store_profiles \(known: lab-rgw, by-url\)/);
});

test('VMXFER_* variables reach every command: a bad VMXFER_TRANSFER_STALL_TIMEOUT stops upload with the variable named', async () => {
  const { dir, env } = await home();
  const img = join(dir, 'disk.raw');
  await writeFile(img, Buffer.alloc(4096));
  const r = await cli(['upload', img, `file://${join(dir, 'out')}/disk.raw`], { ...env, VMXFER_TRANSFER_STALL_TIMEOUT: 'soon' });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /transfer\.stall_timeout.*environment variable VMXFER_TRANSFER_STALL_TIMEOUT/);
  await rm(join(dir, 'out'), { recursive: true, force: true });
});

test('upload takes transfer defaults from the configuration: VMXFER_TRANSFER_PART_SIZE over the file, --part-size over both', async () => {
  const { dir, env } = await home();
  const file = join(dir, 'vmxfer.yaml');
  await writeFile(file, 'transfer:\n  part_size: 7MiB\n');
  const img = join(dir, 'disk.raw');
  await writeFile(img, Buffer.alloc(12 * 1024 * 1024, 1));
  await mkdir(join(dir, 'store'));
  const e = { ...env, VMXFER_CONFIG: file };
  const parts = async (name: string, extra: string[], more: NodeJS.ProcessEnv = {}) => {
    const r = await cli(['upload', img, `file://${join(dir, 'store')}/${name}`, '--json', ...extra], { ...e, ...more });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!).partSize;
  };
  assert.equal(await parts('a', []), 7 * 1024 * 1024);
  assert.equal(await parts('b', [], { VMXFER_TRANSFER_PART_SIZE: '6MiB' }), 6 * 1024 * 1024);
  assert.equal(await parts('c', ['--part-size', '5MiB'], { VMXFER_TRANSFER_PART_SIZE: '6MiB' }), 5 * 1024 * 1024);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

const pexec = promisify(execFile);
const INSTALLER = join(REPO_ROOT, 'scripts', 'install-test-deps.sh');
/** Debian's Essential packages (coreutils, bash, dash, util-linux's basics): present on every machine. */
const ESSENTIAL = new Set(['bash', 'sh', 'cp', 'mv', 'rm', 'cat', 'head', 'tail', 'split', 'dd', 'truncate', 'mknod', 'mkfifo', 'mkdir', 'ln', 'ls', 'chmod', 'sync', 'true', 'false', 'echo', 'printf', 'test', 'sed', 'grep']);

/** The commands (or absolute paths) the installer checks, from its `want COMMAND PACKAGE` lines. */
async function wanted(): Promise<Map<string, string>> {
  const text = await readFile(INSTALLER, 'utf8');
  return new Map([...text.matchAll(/^\s*want (\S+) (\S+)/gm)].map((m) => [m[1]!, m[2]!]));
}

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (/\.(ts|py|sh)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Every program a test or helper starts: the first argument of spawn/execFile/run, and each command of a `sh -c` line. */
function commandsIn(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?<![.\w])(?:spawn|spawnSync|execFile|execFileSync|pexec|run)\(\s*'([^']+)'/g)) found.push(m[1]!);
  for (const m of text.matchAll(/\(\s*'(?:sh|bash)',\s*\[\s*'-c',\s*[`'"]([^`'"]+)/g)) {
    for (const part of m[1]!.split(/\|\||&&|[|;]/)) {
      const word = part.trim().split(/\s+/)[0];
      if (word && /^[a-z][\w.+-]*$/.test(word) && word !== 'command') found.push(word);
    }
    for (const v of m[1]!.matchAll(/command -v (\S+)/g)) found.push(v[1]!);
  }
  return found;
}

/** Runs the installer with PATH holding only `present` (and a recording apt-get); returns apt-get's calls. */
async function runInstaller(present: string[]): Promise<string[][]> {
  const t = await tempDir('vmxfer-deps-');
  try {
    const bin = join(t.dir, 'bin');
    await pexec('mkdir', [bin]);
    const log = join(t.dir, 'apt.log');
    await writeFile(join(bin, 'apt-get'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\n`);
    await chmod(join(bin, 'apt-get'), 0o755);
    for (const cmd of ['id', ...present]) {
      const where = (await pexec('bash', ['-c', `command -v ${cmd}`])).stdout.trim();
      await symlink(where, join(bin, cmd));
    }
    await pexec('/bin/bash', [INSTALLER], { env: { PATH: bin } });
    const text = await readFile(log, 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map((l) => l.split(' '));
  } finally {
    await t.cleanup();
  }
}

test('every program a test, helper or the RGW script starts is installed by scripts/install-test-deps.sh before the first test', async () => {
  const want = await wanted();
  const files = [...(await sources(join(REPO_ROOT, 'test'))), join(REPO_ROOT, 'scripts', 'rgw', 'start.sh'), join(REPO_ROOT, 'scripts', 'build-native.mjs')];
  const missing: string[] = [];
  let count = 0;
  for (const file of files) {
    for (const cmd of commandsIn(await readFile(file, 'utf8'))) {
      count++;
      if (cmd.startsWith('$') || ESSENTIAL.has(basename(cmd))) continue;
      if (!want.has(cmd) && !want.has(`/usr/bin/${cmd}`)) missing.push(`${cmd} (${relative(REPO_ROOT, file)})`);
    }
  }
  assert.ok(count > 20, `found only ${count} program starts: the scan is broken`);
  for (const cmd of ['promtool', 'qemu-img', 'xz', 'systemd-analyze', 'clang', 'python3', 'ceph-mon', 'radosgw', '/usr/bin/chromium', '/usr/bin/time']) assert.ok(want.has(cmd), `${cmd} is not checked by the installer`);
  assert.deepEqual(missing, [], 'programs tests start that scripts/install-test-deps.sh does not install');
});

test('scripts/install-test-deps.sh installs a missing promtool (prometheus) with apt-get waiting for the dpkg lock', async () => {
  const want = await wanted();
  const commands = [...want.keys()].filter((c) => !c.startsWith('/') && c !== 'promtool');
  const calls = await runInstaller(commands);
  const install = calls.find((c) => c.includes('install'));
  assert.ok(install, `no apt-get install: ${JSON.stringify(calls)}`);
  assert.ok(install.includes('prometheus'), install.join(' '));
  assert.equal(install.includes('qemu-utils'), false, 'a present tool is not installed again');
  for (const call of calls) assert.ok(call.join(' ').includes('-o DPkg::Lock::Timeout=600'), `apt-get ${call.join(' ')} does not wait for the dpkg lock`);
  assert.ok(calls.some((c) => c.includes('update')), 'apt-get update first');
});

test('no test and no test script installs packages itself: test/run.sh installs everything up front', async () => {
  const self = join(REPO_ROOT, 'test', 'tooling', 'test-deps.test.ts');
  for (const file of [...(await sources(join(REPO_ROOT, 'test'))), join(REPO_ROOT, 'scripts', 'rgw', 'start.sh')]) {
    if (file === self || file.endsWith('run.sh')) continue;
    const text = await readFile(file, 'utf8');
    assert.equal(/apt-get\b[^\n]*\binstall\b[^\n]*\s-y\b|'install-test-deps\.sh'/.test(text), false, `${relative(REPO_ROOT, file)} installs packages lazily`);
  }
  const runner = await readFile(join(REPO_ROOT, 'test', 'run.sh'), 'utf8');
  const install = runner.indexOf('bash scripts/install-test-deps.sh');
  assert.ok(install >= 0 && install < runner.indexOf('node --test'), 'test/run.sh installs before running tests');
});

test('test/run.sh stops the RGW the tests started (and only when none answered before) and every test Redis', async () => {
  const runner = await readFile(join(REPO_ROOT, 'test', 'run.sh'), 'utf8');
  assert.match(runner, /if ! rgw_answers; then stop_rgw=1; fi/);
  assert.match(runner, /if \[ "\$stop_rgw" = 1 \]; then bash scripts\/rgw\/stop\.sh "\$RGW_STATE"; fi/);
  assert.match(runner, /bash scripts\/redis\/stop\.sh \.tmp\/redis\n/);
  assert.match(runner, /for d in \.tmp\/redis-\*; do/);
  assert.match(runner, /^trap stop_servers EXIT$/m);
  const redis = await readFile(join(REPO_ROOT, 'test', 'helpers', 'redis.ts'), 'utf8');
  assert.match(redis, /join\(REPO_ROOT, '\.tmp', 'redis'\)/, 'the shared test Redis lives where test/run.sh stops it');
  assert.match(redis, /join\(REPO_ROOT, '\.tmp', `redis-\$\{label\}/, 'private ones too');
  assert.doesNotMatch(runner, /^exec node --test/m, 'exec would drop the EXIT trap');
  const helper = await readFile(join(REPO_ROOT, 'test', 'helpers', 'rgw.ts'), 'utf8');
  assert.match(helper, /join\(REPO_ROOT, '\.tmp', 'rgw'\)/, 'the helper starts the gateway in the state directory test/run.sh stops');
});

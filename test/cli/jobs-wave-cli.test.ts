import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { vmxfer } from '../helpers/run-command.js';
import { sha256File } from '../helpers/hash.js';

/** `vmxfer jobs submit --file`: a wave from a YAML or JSON file through the real CLI and a real daemon. */
let d: TestDaemon;
let flags: string[];
let images: string;

before(async () => {
  d = await startDaemon({ config: { agent: { name: 'wave-cli' } } });
  const tokenFile = join(d.stateDir, 'client-token');
  await writeFile(tokenFile, d.token + '\n', { mode: 0o600 });
  flags = ['--config', d.configFile, '--token-file', tokenFile];
  images = join(d.stateDir, 'images');
  await mkdir(images);
  for (const n of ['web01', 'web02', 'db01']) await writeFile(join(images, `${n}.raw`), randomBytes(96 * 1024));
});
after(async () => {
  await d?.stop();
  await rm(d.stateDir, { recursive: true, force: true });
});

const jobCount = async () => (await d.api('GET', '/v1/jobs')).json.jobs.length as number;

test('a YAML wave (paths relative to the file) and a JSON one go in whole: one id per job, --priority for jobs without one; each converts byte-exact', async () => {
  const yaml = join(images, 'wave.yaml');
  await writeFile(yaml, [
    '# a VM\'s disks and another VM',
    'jobs:',
    '  - source: web01.raw',
    `    destination: file://${join(images, 'web01.out')}`,
    '  - source: web02.raw',
    `    destination: file://${join(images, 'web02.out')}`,
    '    priority: 9',
    '',
  ].join('\n'));
  const r = await vmxfer(['jobs', 'submit', '--file', yaml, '--priority', '3', ...flags]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2, r.stdout);
  const ids = lines.map((l) => l.split(' ')[0]!);
  const jobs = await Promise.all(ids.map((id) => waitForJob(d, id, (j) => j.state === 'completed' || j.state === 'failed')));
  assert.deepEqual(jobs.map((j) => [j.state, j.source, j.priority, j.agent]), [
    ['completed', join(images, 'web01.raw'), 3, 'wave-cli'],
    ['completed', join(images, 'web02.raw'), 9, 'wave-cli'],
  ]);
  for (const n of ['web01', 'web02']) assert.equal(await sha256File(join(images, `${n}.out`)), await sha256File(join(images, `${n}.raw`)));
  const show = await vmxfer(['jobs', 'show', ids[1]!, ...flags]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^ {2}agent wave-cli, priority 9$/m);

  const json = join(images, 'wave.json');
  await writeFile(json, JSON.stringify([{ source: join(images, 'db01.raw'), destination: `file://${join(images, 'db01.out')}` }]));
  const j = await vmxfer(['jobs', 'submit', '--file', json, '--json', ...flags]);
  assert.equal(j.code, 0, j.stderr);
  const [one] = JSON.parse(j.stdout).jobs;
  assert.equal((await waitForJob(d, one.id, (x) => x.state === 'completed')).priority, 0);
});

test('a wave with one bad job creates none and the error names it by index; unreadable, malformed and mixed-up invocations are typed errors', async () => {
  const before = await jobCount();
  const bad = join(images, 'bad.yaml');
  await writeFile(bad, `- { source: ${join(images, 'web01.raw')}, destination: "file://${join(images, 'x1.out')}" }\n- { source: /etc/hostname, destination: "file://${join(images, 'x2.out')}" }\n`);
  const r = await vmxfer(['jobs', 'submit', '--file', bad, ...flags]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /jobs\[1\]\.source/);
  assert.match(r.stderr, /API_OUTSIDE_ROOTS/);
  assert.equal(await jobCount(), before, 'nothing of the refused wave was created');

  const missing = await vmxfer(['jobs', 'submit', '--file', join(images, 'nope.yaml'), ...flags]);
  assert.equal(missing.code, 5, missing.stderr);
  assert.match(missing.stderr, /VMX_FILE_NOT_FOUND/);
  await writeFile(bad, 'jobs: [ { source: a\n');
  const broken = await vmxfer(['jobs', 'submit', '--file', bad, ...flags]);
  assert.equal(broken.code, 2, broken.stderr);
  assert.match(broken.stderr, /not valid YAML or JSON/);
  await writeFile(bad, 'source: a.raw\n');
  const notList = await vmxfer(['jobs', 'submit', '--file', bad, ...flags]);
  assert.equal(notList.code, 2, notList.stderr);
  assert.match(notList.stderr, /non-empty list of job bodies/);
  const mixed = await vmxfer(['jobs', 'submit', '--file', bad, '--as', 'qcow2', ...flags]);
  assert.equal(mixed.code, 2, mixed.stderr);
  assert.match(mixed.stderr, /--as with SRC DEST only/);
  const prio = await vmxfer(['jobs', 'submit', 'a', 'file:///b', '--priority', 'high', ...flags]);
  assert.equal(prio.code, 2, prio.stderr);
  assert.equal(await jobCount(), before);

  const help = await vmxfer(['jobs', 'submit', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /vmxfer jobs submit --file WAVE\.yaml/);
  assert.match(help.stdout, /--priority N/);
});

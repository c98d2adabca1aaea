import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * output_roots through a real daemon over loopback: every path a job writes (a conversion's file://
 * object, download and export destinations) must resolve, symlinks followed, below an output root; at
 * submit (400 API_OUTSIDE_ROOTS, nothing written) and again when the job starts.
 */
let work: { dir: string; cleanup: () => Promise<void> };
let src: string;
let out: string;
let outside: string;
let victim: string;
const VICTIM_BYTES = Buffer.from('the file an attacker wants overwritten\n');

before(async () => {
  work = await tempDir('vmxfer-outroots-');
  src = join(work.dir, 'images');
  out = join(work.dir, 'outputs');
  outside = join(work.dir, 'elsewhere');
  for (const d of [src, out, outside]) await mkdir(d);
  await writeFile(join(src, 'disk.raw'), randomBytes(1024 * 1024));
  await writeFile(join(src, 'big.raw'), randomBytes(8 * 1024 * 1024));
  victim = join(outside, 'victim.raw');
  await writeFile(victim, VICTIM_BYTES);
  await symlink(outside, join(out, 'link-dir'));
  await symlink(victim, join(out, 'link-file.raw'));
});
after(() => work?.cleanup());

async function withDaemon(fn: (d: TestDaemon) => Promise<void>, config: Record<string, unknown> = {}, outputRoots: string[] = [out]): Promise<void> {
  const d = await startDaemon({ sourceRoots: [src], outputRoots, config });
  try {
    await fn(d);
  } finally {
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
}

async function untouched(): Promise<void> {
  assert.ok((await readFile(victim)).equals(VICTIM_BYTES), 'the file outside the roots is unchanged');
  assert.deepEqual((await readdir(outside)).sort(), ['victim.raw'], 'nothing (.vmxfer-uploads, .vmxfer-meta, partial files) was created outside the roots');
}

test('API jobs whose destination resolves outside every output root are refused with 400 API_OUTSIDE_ROOTS and nothing is written', async () => {
  await withDaemon(async (d) => {
    const source = join(src, 'disk.raw');
    const cases: Array<[string, Record<string, unknown>]> = [
      ['file:// over an existing file outside the roots', { source, destination: `file://${victim}`, format: 'raw' }],
      ['file:// to a new file outside the roots', { source, destination: `file://${join(outside, 'new.raw')}`, format: 'raw' }],
      ['file:// through a symlinked directory inside the root', { source, destination: `file://${join(out, 'link-dir', 'victim.raw')}`, format: 'raw' }],
      ['file:// onto a symlink inside the root that points outside', { source, destination: `file://${join(out, 'link-file.raw')}`, format: 'raw' }],
      ['file:// into the source root (readable, not writable)', { source, destination: `file://${join(src, 'copy.raw')}`, format: 'raw' }],
      ['a download destination outside the roots', { source: 's3://bucket/key.raw', destination: join(outside, 'dl.raw') }],
      ['an export destination through a symlinked directory', { kind: 'export', destination: join(out, 'link-dir', 'exp.vmdk'), export: { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket: 'exports', prefix: 'web01/' } }],
    ];
    for (const [name, body] of cases) {
      const r = await d.api('POST', '/v1/jobs', body);
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.equal(r.json.error.code, 'API_OUTSIDE_ROOTS', `${name}: ${r.text}`);
      assert.equal(r.json.error.field, 'destination', name);
      assert.match(r.json.error.message, /output roots/, name);
    }
    const listed = await d.api('GET', '/v1/jobs');
    assert.deepEqual(listed.json.jobs, [], 'no job was created');
    await untouched();
    await assert.rejects(stat(join(src, 'copy.raw')));
    // Inside the root, a conversion writes.
    const ok = await d.api('POST', '/v1/jobs', { source, destination: `file://${join(out, 'disk.raw')}`, format: 'raw' });
    assert.equal(ok.status, 201, ok.text);
    const done = await waitForJob(d, ok.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.ok((await readFile(join(out, 'disk.raw'))).equals(await readFile(source)));
  });
});

test('the destination is confined again when the job starts: a directory swapped for a symlink to outside while the job waited fails it with API_OUTSIDE_ROOTS before any byte', async () => {
  const queued = join(out, 'queued');
  await mkdir(queued);
  await withDaemon(async (d) => {
    const slow = await d.api('POST', '/v1/jobs', { source: join(src, 'big.raw'), destination: `file://${join(out, 'slow.raw')}`, format: 'raw' });
    assert.equal(slow.status, 201, slow.text);
    await waitForJob(d, slow.json.job.id, (j) => j.state === 'active');
    const r = await d.api('POST', '/v1/jobs', { source: join(src, 'disk.raw'), destination: `file://${join(queued, 'victim.raw')}`, format: 'raw' });
    assert.equal(r.status, 201, r.text);
    assert.equal((await d.api('GET', `/v1/jobs/${r.json.job.id}`)).json.job.state, 'queued');
    await rename(queued, `${queued}.moved`);
    await symlink(outside, queued);
    await d.api('POST', `/v1/jobs/${slow.json.job.id}/cancel`);
    const failed = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error.code, 'API_OUTSIDE_ROOTS', JSON.stringify(failed.error));
    await untouched();
  }, { jobs: { max_concurrent: 1 }, transfer: { bwlimit: '1MiB' } });
});

test('output_roots defaults to <state_dir>/outputs: created at start, written there, refused elsewhere', async () => {
  await withDaemon(async (d) => {
    const root = join(d.stateDir, 'outputs');
    assert.ok((await stat(root)).isDirectory());
    const bad = await d.api('POST', '/v1/jobs', { source: join(src, 'disk.raw'), destination: `file://${join(out, 'x.raw')}`, format: 'raw' });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.error.code, 'API_OUTSIDE_ROOTS');
    const ok = await d.api('POST', '/v1/jobs', { source: join(src, 'disk.raw'), destination: `file://${join(root, 'x.raw')}`, format: 'raw' });
    assert.equal(ok.status, 201, ok.text);
    const done = await waitForJob(d, ok.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
  }, {}, []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { sha256File } from '../helpers/hash.js';
import { writeSparseDisk } from '../helpers/changed-disk.js';

const PART = 5 * MiB;

function results(stdout: string): Array<Record<string, number>> {
  return stdout.split('\n').filter((l) => l.includes('"type":"result"')).map((l) => JSON.parse(l));
}

test('vmxfer sync: a first pass uploads in full, later passes send only the changed part and the store copies the rest; --every with --passes runs them on the schedule', async () => {
  const { dir, cleanup } = await tempDir('vmxfer-sync-');
  try {
    const bucket = join(dir, 'bucket');
    await mkdir(bucket);
    const src = join(dir, 'disk.raw');
    await writeSparseDisk(src, 4 * PART, 6, MiB);
    const url = `file://${bucket}/disk.raw`;
    const base = ['sync', src, url, '--as', 'raw', '--part-size', '5MiB', '--state-dir', join(dir, 'state'), '--json'];
    const first = await vmxfer(base);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(results(first.stdout).map((r) => [r.partsSent, r.partsCopied]), [[4, 0]]);
    const fh = await open(src, 'r+');
    await fh.write(randomBytes(4096), 0, 4096, 2 * PART + 100);
    await fh.close();
    const started = Date.now();
    const two = await vmxfer([...base, '--every', '2s', '--passes', '2']);
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(results(two.stdout).map((r) => [r.partsSent, r.partsCopied, r.bytesSent]), [[1, 3, PART], [0, 4, 0]], 'pass 1 sends the changed part; pass 2 finds nothing changed');
    assert.ok(Date.now() - started >= 2000, 'the second pass waited for its slot');
    assert.match(two.stderr, /sync pass 2 in \d+ s/);
    assert.equal(await sha256File(join(bucket, 'disk.raw')), await sha256File(src));
  } finally {
    await cleanup();
  }
});

test('vmxfer sync refuses --import without --cutover and --cutover with --every, before any upload', async () => {
  const r1 = await vmxfer(['sync', '/nonexistent.raw', 'file:///tmp/x.raw', '--import', 'aws-image']);
  assert.equal(r1.code, EXIT_CODES.usage, r1.stderr);
  assert.match(r1.stderr, /add --cutover/);
  const r2 = await vmxfer(['sync', '/nonexistent.raw', 'file:///tmp/x.raw', '--cutover', '--every', '1h']);
  assert.equal(r2.code, EXIT_CODES.usage, r2.stderr);
  assert.match(r2.stderr, /one final pass/);
});

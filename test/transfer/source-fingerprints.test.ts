import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { EXIT_CODES, isVmxferError } from '../../agent/core/errors.js';
import { ChunkFingerprinter } from '../../agent/hashing/fingerprint.js';
import { SourceFingerprints, fingerprintWindow } from '../../agent/transfer/source-fingerprints.js';
import { checkpointId } from '../../agent/transfer/upload-checkpoint.js';
import { runAndKill } from '../helpers/killable-cli.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { fileStore, type TestStore } from '../helpers/transfer-stores.js';

/**
 * Source fingerprints in the upload checkpoint (issue #5 point 4, issue #4 point 2): xxh64 of each
 * window of the source read, checked when a resumed upload reads the source again, so a source
 * changed in place with its size and mtime restored is refused, naming where it changed.
 */

const W = 1 * MiB;

async function collector(expected: string[] = []): Promise<SourceFingerprints> {
  return new SourceFingerprints(await ChunkFingerprinter.create('xxh64'), W, expected, 'disk.raw');
}

/** Feeds `data` then `zeros` zero bytes then `tail`, in pieces of `piece` bytes. */
function feed(f: SourceFingerprints, data: Buffer, zeros: number, tail: Buffer, piece: number): void {
  for (let at = 0; at < data.length; at += piece) f.data(data.subarray(at, at + piece));
  for (let left = zeros; left > 0; left -= piece) f.zeros(Math.min(piece, left));
  for (let at = 0; at < tail.length; at += piece) f.data(tail.subarray(at, at + piece));
  f.end();
}

test('fingerprints: one per window (last one shorter), independent of how reads and zero runs are split', async () => {
  const data = randomBytes(2.5 * W);
  const tail = randomBytes(W / 4);
  const a = await collector();
  feed(a, data, 3 * W + 17, tail, 65536);
  const b = await collector();
  feed(b, data, 3 * W + 17, tail, 1000003);
  const windows = Math.ceil((data.length + 3 * W + 17 + tail.length) / W);
  assert.equal(a.record().windows.length, windows);
  assert.deepEqual(a.record(), b.record());
  assert.match(a.record().windows[0]!, /^[0-9a-f]{16}$/);
  const zerosAsData = await collector();
  feed(zerosAsData, Buffer.concat([data, Buffer.alloc(3 * W + 17)]), 0, tail, 65536);
  assert.equal(zerosAsData.record().windows[0], a.record().windows[0], 'windows of pure data agree');
  assert.notEqual(zerosAsData.record().windows[3], a.record().windows[3], 'a zero run is told apart from stored zero bytes (a hole is a different layout)');
});

test('fingerprints: a resumed read that differs throws XFER_RESUME_MISMATCH naming the window of the first change', async () => {
  const data = randomBytes(6 * W);
  const first = await collector();
  feed(first, data, 0, Buffer.alloc(0), 65536);
  const recorded = first.record().windows;
  const same = await collector(recorded);
  feed(same, data, 0, Buffer.alloc(0), 300000);
  const changed = Buffer.from(data);
  changed[4 * W + 12345] ^= 0x01;
  changed[5 * W + 1] ^= 0x01;
  const again = await collector(recorded);
  assert.throws(
    () => feed(again, changed, 0, Buffer.alloc(0), 65536),
    (e) => isVmxferError(e) && e.code === 'XFER_RESUME_MISMATCH' && e.offset === 4 * W && /bytes \[4194304, 5242880\) read back with xxh64/.test(e.message),
  );
});

test('fingerprints: a partial read keeps the windows the checkpoint proved beyond it; restart starts over', async () => {
  const data = randomBytes(4 * W);
  const full = await collector();
  feed(full, data, 0, Buffer.alloc(0), W);
  const resumed = await collector(full.record().windows);
  resumed.data(data.subarray(0, W + 5));
  assert.deepEqual(resumed.record().windows, full.record().windows, 'read 1 window, the other 3 are still on record');
  resumed.restart();
  feed(resumed, data, 0, Buffer.alloc(0), W);
  assert.deepEqual(resumed.record(), full.record());
});

test('fingerprint windows: 4 MiB at least, at most 4096 per source', () => {
  assert.equal(fingerprintWindow(100 * MiB), 4 * MiB);
  assert.equal(fingerprintWindow(0), 4 * MiB);
  assert.ok(40 * 1024 ** 4 / fingerprintWindow(40 * 1024 ** 4) <= 4096);
});

let work: { dir: string; cleanup: () => Promise<void> };
let file: TestStore;
before(async () => {
  work = await tempDir('vmxfer-fingerprints-');
  file = await fileStore(work.dir);
});
after(async () => work?.cleanup());

/** A whole-second mtime, which utimes can restore exactly (the checkpoint compares mtimeMs exactly). */
const MTIME = 1_700_000_000;

/**
 * Where the changed byte lies and the window the refusal must name: a passthrough upload
 * fingerprints each part as it is read (so the check comes before the part is compared or sent),
 * a conversion fingerprints 4 MiB windows of the virtual disk.
 */
const CASES = [
  { as: 'original', at: 5 * MiB + 777, window: [5 * MiB, 10 * MiB] },
  { as: 'vmdk', at: 4 * MiB + 777, window: [4 * MiB, 8 * MiB] },
] as const;

for (const c of CASES) {
  test(`--as ${c.as}: a byte changed in the source with size and mtime restored; --resume refuses with XFER_RESUME_MISMATCH at that window`, async () => {
    const src = join(work.dir, `changing-${c.as}.raw`);
    await writeFile(src, randomBytes(12 * 5 * MiB));
    await utimes(src, MTIME, MTIME);
    const key = `fp-${c.as}.img`;
    const args = (extra: string[]) => ['upload', src, file.url(key), '--as', c.as, '--part-size', '5MiB', '--concurrency', '2', '--bwlimit', '12MiB', '--state-dir', join(work.dir, 'state'), ...extra];
    const cpFile = join(work.dir, 'state', 'checkpoints', `${checkpointId(src, file.url(key))}.json`);
    const kill = await runAndKill(args([]), {}, cpFile, 3);
    assert.ok(!kill.finished, 'killed mid-upload');
    const cp = JSON.parse(await readFile(cpFile, 'utf8'));
    assert.equal(cp.source.fingerprints.algorithm, 'xxh64');
    assert.equal(cp.source.fingerprints.windowBytes, c.window[1] - c.window[0]);
    assert.ok(cp.source.fingerprints.windows.length >= 2, `windows on record: ${cp.source.fingerprints.windows.length}`);
    // In window 1, which was read before the kill and fed a confirmed part.
    const fh = await open(src, 'r+');
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, c.at);
    byte[0] ^= 0xff;
    await fh.write(byte, 0, 1, c.at);
    await fh.close();
    await utimes(src, MTIME, MTIME);
    const resumed = await vmxfer(args(['--resume']));
    assert.equal(resumed.code, EXIT_CODES.integrity, resumed.stderr);
    const named = `offset ${c.window[0]}: the source changed since the upload started: bytes \\[${c.window[0]}, ${c.window[1]}\\) read back with xxh64`;
    assert.match(resumed.stderr, new RegExp(`${named} [0-9a-f]{16}, the checkpoint recorded [0-9a-f]{16}.*\\[XFER_RESUME_MISMATCH\\]`));
    const cancel = await vmxfer(args(['--cancel']));
    assert.equal(cancel.code, 0, cancel.stderr);
  });
}

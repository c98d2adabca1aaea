import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProgressTracker } from '../../agent/core/progress.js';
import { withProgress } from '../../agent/disk/progress-source.js';
import { dataExtent, emptyExtent } from '../../agent/disk/extent.js';
import { memoryDisk } from '../helpers/memory-disk.js';
import { tempDir } from '../helpers/tmp.js';
import { vmxfer } from '../helpers/run-command.js';

test('progress: a consumer that reads its source twice never sees bytesRead above totalBytes', async () => {
  const disk = memoryDisk(3 * 4096, [dataExtent(0, Buffer.alloc(4096, 1)), emptyExtent('zero', 4096, 8192)]);
  const tracker = new ProgressTracker(disk.virtualSize);
  const seen: Array<[number, number]> = [];
  tracker.on('progress', (s) => seen.push([s.bytesRead, s.totalBytes]));
  const counted = withProgress(disk, tracker);
  for (let pass = 0; pass < 2; pass++) for await (const e of counted.extents()) void e;
  assert.ok(seen.length >= 4);
  for (const [read, total] of seen) assert.ok(read <= total, `bytesRead ${read} above totalBytes ${total}`);
  assert.deepEqual(seen.at(-1), [2 * disk.virtualSize, 2 * disk.virtualSize], 'both passes counted, and the total says so');
});

test('CLI: upload --as ova of a disk whose VMDK exceeds the 64 MiB hold (read twice) reports bytesRead within totalBytes', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'big.raw');
    await writeFile(src, randomBytes(72 * 1024 * 1024));
    await mkdir(join(dir, 'bucket'));
    const r = await vmxfer(['upload', src, `file://${dir}/bucket/big.ova`, '--as', 'ova', '--format', 'raw', '--state-dir', join(dir, 'state'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const progress = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((j) => j.type === 'progress');
    assert.ok(progress.length > 0);
    for (const p of progress) assert.ok(p.bytesRead <= p.totalBytes, `bytesRead ${p.bytesRead} above totalBytes ${p.totalBytes} (${p.phase})`);
    assert.equal(progress.at(-1).totalBytes, 2 * 72 * 1024 * 1024, 'the write pass is counted in the total');
  } finally {
    await cleanup();
  }
});

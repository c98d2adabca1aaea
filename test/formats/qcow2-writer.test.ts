import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { buildRealisticDisk, EMPTY_DISK, SMALL_DISK, SPARSE_DISK } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuFromRaw, qemuImg } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { vmxfer } from '../helpers/run-command.js';
import { openDisk } from '../../agent/formats/detect.js';
import { writeStreamToFile } from '../../agent/io/file-output.js';
import { createQcow2Writer } from '../../agent/formats/qcow2/qcow2-writer.js';
import { qcow2Writer } from '../../agent/formats/qcow2/qcow2-writer.js';
import { isVmxferError } from '../../agent/core/errors.js';

let dir: string;
let cleanup: () => Promise<void>;
let small: string;

before(async () => {
  ({ dir, cleanup } = await tempDir('vmxfer-qcow2-write-'));
  small = await buildRealisticDisk(SMALL_DISK);
});
after(() => cleanup());

/** qemu-img check: no corruptions, no leaks, no check errors; returns its report. */
async function assertQemuCheckClean(image: string): Promise<Record<string, any>> {
  const out = await qemuImg(['check', '--output=json', image]).catch((err: { stdout?: string }) => err.stdout ?? '{}');
  const report = JSON.parse(out);
  assert.equal(report.corruptions ?? 0, 0, `qemu-img check: ${out}`);
  assert.equal(report.leaks ?? 0, 0, `qemu-img check: ${out}`);
  assert.equal(report['check-errors'] ?? 0, 0, `qemu-img check: ${out}`);
  return report;
}

async function assertQemuIdentical(raw: string, image: string): Promise<void> {
  const out = await qemuImg(['compare', '-f', 'raw', '-F', 'qcow2', raw, image]);
  assert.match(out, /Images are identical/);
}

/** Runs the writer through the library path (as `convert` does) and checks the size bound. */
async function writeWith(src: string, out: string, writer = qcow2Writer): Promise<number> {
  const disk = await openDisk(src);
  try {
    const bound = writer.maxOutputSize(disk);
    const result = await writeStreamToFile(out, writer.write(disk));
    assert.ok(result.bytes <= bound, `output ${result.bytes} exceeds maxOutputSize ${bound}`);
    assert.ok(writer.patchableHead(disk) < result.bytes || disk.virtualSize === 0);
    return result.bytes;
  } finally {
    await disk.close();
  }
}

test('vmxfer convert --to qcow2 writes an image qemu-img checks clean and finds identical to the source', async () => {
  const out = join(dir, 'plain.qcow2');
  const r = await vmxfer(['convert', small, out, '--to', 'qcow2', '--format', 'raw', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(result.target, 'qcow2');
  assert.equal(result.outputBytes, (await stat(out)).size);
  const report = await assertQemuCheckClean(out);
  const info = JSON.parse(await qemuImg(['info', '--output=json', out]));
  assert.equal(info['format-specific'].data.compat, '1.1');
  assert.equal(info['cluster-size'], 65536);
  assert.equal(info['virtual-size'], SMALL_DISK.size);
  assert.ok(report['allocated-clusters'] > 0);
  await assertQemuIdentical(small, out);
  // All-zero clusters are not allocated: the image is smaller than the disk.
  assert.ok(result.outputBytes < SMALL_DISK.size * 0.6, `output ${result.outputBytes} bytes`);
  const back = await openDisk(out);
  try {
    await assertSourceMatchesRaw(back, small);
  } finally {
    await back.close();
  }
});

test('compressed qcow2 (createQcow2Writer({ compress: true })) checks clean, is identical and smaller than plain', async () => {
  const packed = join(dir, 'packed.qcow2');
  const bytes = await writeWith(small, packed, createQcow2Writer({ compress: true }));
  const report = await assertQemuCheckClean(packed);
  assert.ok(report['compressed-clusters'] > 100, `only ${report['compressed-clusters']} compressed clusters`);
  await assertQemuIdentical(small, packed);
  const plain = await writeWith(small, join(dir, 'plain2.qcow2'));
  assert.ok(bytes < plain * 0.8, `compressed ${bytes} not well below plain ${plain}`);
});

test('small clusters (4 KiB, many L2 tables and refcount blocks), plain and compressed, check clean and identical', async () => {
  for (const compress of [false, true]) {
    const out = join(dir, `c4k-${compress}.qcow2`);
    await writeWith(small, out, createQcow2Writer({ compress, clusterSize: 4096 }));
    const report = await assertQemuCheckClean(out);
    // One 4 KiB refcount block counts 2048 clusters (8 MiB): the image must need more than one.
    assert.ok(report['image-end-offset'] > 4096 * 2048, 'expected an image spanning several refcount windows');
    await assertQemuIdentical(small, out);
  }
});

test('empty disk (CLI) and a sparse 6 GiB disk read from a qemu qcow2 (library path, no source hashing) write clean', async () => {
  const empty = await buildRealisticDisk(EMPTY_DISK);
  const emptyOut = join(dir, 'empty.qcow2');
  const r1 = await vmxfer(['convert', empty, emptyOut, '--to', 'qcow2', '--format', 'raw']);
  assert.equal(r1.code, 0, r1.stderr);
  await assertQemuCheckClean(emptyOut);
  await assertQemuIdentical(empty, emptyOut);
  const sparseRaw = await buildRealisticDisk(SPARSE_DISK);
  const sparseQ = await qemuFromRaw(sparseRaw, join(dir, 'sparse-src.qcow2'), 'qcow2');
  const sparseOut = join(dir, 'sparse.qcow2');
  await writeWith(sparseQ, sparseOut);
  await assertQemuCheckClean(sparseOut);
  await assertQemuIdentical(sparseRaw, sparseOut);
  assert.ok((await stat(sparseOut)).size < 64 * 1024 * 1024);
});

test('a cluster size that is not a power of two in 512 B..2 MiB is refused with QCOW2_WRITER_OPTIONS', () => {
  for (const clusterSize of [1000, 256, 4 * 1024 * 1024]) {
    assert.throws(() => createQcow2Writer({ compress: false, clusterSize }), (err) => isVmxferError(err) && err.code === 'QCOW2_WRITER_OPTIONS');
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SMALL_DISK, SPARSE_DISK } from '../helpers/realistic-disk.js';
import { qemuImg } from '../helpers/qemu.js';
import { vmxfer } from '../helpers/run-command.js';
import { cachedVmdk } from '../helpers/vmdk-fixtures.js';

test('vmxfer inspect on a twoGbMaxExtentSparse VMDK shows subformat, sizes and extent files (text and --json)', async () => {
  const image = await cachedVmdk(SPARSE_DISK, 'twoGbMaxExtentSparse');
  const dir = join(image, '..');
  const qemuAllocated = (JSON.parse(await qemuImg(['map', '--output=json', image])) as Array<{ length: number; data: boolean }>)
    .filter((m) => m.data)
    .reduce((n, m) => n + m.length, 0);
  const j = await vmxfer(['inspect', image, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const info = JSON.parse(j.stdout);
  assert.equal(info.format, 'vmdk');
  assert.equal(info.subformat, 'twoGbMaxExtentSparse');
  assert.equal(info.virtualSize, SPARSE_DISK.size);
  assert.equal(info.allocatedBytes, qemuAllocated);
  assert.deepEqual(info.files, [image, ...[1, 2, 3, 4].map((i) => join(dir, `disk-s00${i}.vmdk`))]);
  assert.equal(info.details.headerVersion, 1);
  assert.equal(info.details.grainSize, 65536);
  const t = await vmxfer(['inspect', image]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^format: vmdk \(twoGbMaxExtentSparse\)$/m);
  assert.match(t.stdout, new RegExp(`^virtual size: ${SPARSE_DISK.size} bytes`, 'm'));
  assert.match(t.stdout, new RegExp(`^allocated: ${qemuAllocated} bytes`, 'm'));
  assert.match(t.stdout, /^files: .*disk\.vmdk, .*disk-s001\.vmdk, .*disk-s004\.vmdk$/m);
  assert.match(t.stdout, /^adapterType: ide$/m);
});

test('vmxfer inspect on a streamOptimized VMDK, and a typed error with its exit code on a bad one', async () => {
  const image = await cachedVmdk(SMALL_DISK, 'streamOptimized');
  const t = await vmxfer(['inspect', image]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^format: vmdk \(streamOptimized\)$/m);
  assert.match(t.stdout, /^compressed: true$/m);
  assert.match(t.stdout, /^headerVersion: 3$/m);
  const bad = await vmxfer(['inspect', join(image, '..', 'missing.vmdk'), '--format', 'vmdk']);
  assert.equal(bad.code, 5, 'I/O errors exit with 5');
  assert.match(bad.stderr, /missing\.vmdk: file does not exist \[VMX_FILE_NOT_FOUND\]/);
});

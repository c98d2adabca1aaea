import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { qemuImg, qemuInfo } from '../helpers/qemu.js';
import { buildRealisticDisk, SMALL_DISK } from '../helpers/realistic-disk.js';
import { EXIT_CODES } from '../../agent/core/errors.js';

test('convert --to qcow2 --compress writes compressed clusters that qemu-img checks and compares identical', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = await buildRealisticDisk(SMALL_DISK);
    const plain = join(dir, 'plain.qcow2');
    const packed = join(dir, 'packed.qcow2');
    assert.equal((await vmxfer(['convert', src, plain, '--to', 'qcow2', '--format', 'raw'])).code, 0);
    const r = await vmxfer(['convert', src, packed, '--to', 'qcow2', '--compress', '--format', 'raw']);
    assert.equal(r.code, 0, r.stderr);
    await qemuImg(['check', packed]);
    assert.match(await qemuImg(['compare', '-f', 'raw', '-F', 'qcow2', src, packed]), /identical/);
    assert.ok((await stat(packed)).size < (await stat(plain)).size * 0.6, 'compressed output is much smaller');
    assert.equal((await qemuInfo(packed)).format, 'qcow2');
  } finally {
    await cleanup();
  }
});

test('--compress with a target that has no compressed form is a usage error', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = await buildRealisticDisk(SMALL_DISK);
    const r = await vmxfer(['convert', src, join(dir, 'x.vhd'), '--to', 'vhd', '--compress']);
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stderr, /--compress applies to --to qcow2/);
  } finally {
    await cleanup();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildRealisticDisk, SMALL_DISK } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuToRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { openDisk } from '../../agent/formats/detect.js';
import { vmxfer } from '../helpers/run-command.js';

test('raw reader yields the bytes qemu-img convert -O raw yields', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = await buildRealisticDisk(SMALL_DISK);
    const oracle = await qemuToRaw(src, dir, 'raw');
    const disk = await openDisk(src, { format: 'raw' });
    await assertSourceMatchesRaw(disk, oracle);
    await disk.close();
  } finally {
    await cleanup();
  }
});

test('vmxfer convert --to raw --sha256 round-trips a raw disk and reports both SHA-256s', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = await buildRealisticDisk(SMALL_DISK);
    const out = join(dir, 'out.raw');
    const r = await vmxfer(['convert', src, out, '--to', 'raw', '--format', 'raw', '--json', '--sha256']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(result.type, 'result');
    assert.match(result.sourceSha256, /^[0-9a-f]{64}$/);
    assert.equal(result.sourceSha256, result.outputSha256);
    assert.equal(result.outputBytes, SMALL_DISK.size);
  } finally {
    await cleanup();
  }
});

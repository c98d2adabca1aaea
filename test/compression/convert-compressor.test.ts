import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadLibdeflate } from '../../agent/compression/libdeflate-addon.js';
import { buildRealisticDisk, SMALL_DISK } from '../helpers/realistic-disk.js';
import { qemuImg } from '../helpers/qemu.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';

const addonBuilt = 'addon' in loadLibdeflate({});

/** Converts the shared small realistic disk to stream-optimized VMDK with the real CLI and checks it with qemu-img. */
async function convertAndCheck(env: NodeJS.ProcessEnv): Promise<{ compressor: string; outputBytes: number }> {
  const src = await buildRealisticDisk(SMALL_DISK);
  const { dir, cleanup } = await tempDir();
  try {
    const out = join(dir, 'out.vmdk');
    const r = await vmxfer(['convert', src, out, '--to', 'vmdk', '--format', 'raw', '--json', '--no-source-hash'], { env });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
    await qemuImg(['check', '-f', 'vmdk', out]);
    assert.match(await qemuImg(['compare', '-f', 'raw', '-F', 'vmdk', src, out]), /Images are identical/);
    return result;
  } finally {
    await cleanup();
  }
}

test('convert --json reports compressor "node:zlib" when the addon is disabled (VMXFER_NO_NATIVE=1), and the VMDK is identical to the source per qemu-img', async () => {
  const r = await convertAndCheck({ VMXFER_NO_NATIVE: '1' });
  assert.equal(r.compressor, 'node:zlib');
});

test('convert --json reports compressor "libdeflate <version>" when the addon is built, and the VMDK is identical to the source per qemu-img', { skip: addonBuilt ? false : 'native/libdeflate addon not built; run node scripts/build-native.mjs' }, async () => {
  const r = await convertAndCheck({ VMXFER_NO_NATIVE: '' });
  assert.match(r.compressor, /^libdeflate \d+\.\d+/);
});

test('convert --to raw reports no compressor', async () => {
  const src = await buildRealisticDisk(SMALL_DISK);
  const { dir, cleanup } = await tempDir();
  try {
    const r = await vmxfer(['convert', src, join(dir, 'c.raw'), '--to', 'raw', '--format', 'raw', '--json', '--no-source-hash']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal('compressor' in JSON.parse(r.stdout.trim().split('\n').pop()!), false);
  } finally {
    await cleanup();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OVERHEAD_SECTORS } from '../../agent/formats/vmdk/stream-optimized-writer.js';
import { loadLibdeflate } from '../../agent/compression/libdeflate-addon.js';
import { buildRealisticDisk, SMALL_DISK } from '../helpers/realistic-disk.js';
import { qemuImg } from '../helpers/qemu.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';

const ADDON = loadLibdeflate({});
const addonBuilt = 'addon' in ADDON && ADDON.addon.version === '1.14';

/**
 * Converts the shared small realistic disk to stream-optimized VMDK with the real CLI and checks it
 * with qemu-img; `afterHead` is the SHA-256 of everything after the header and descriptor (the
 * descriptor's CID is random when no upload identity is given).
 */
async function convertAndCheck(env: NodeJS.ProcessEnv): Promise<{ compressor: string; outputBytes: number; afterHead: string }> {
  const src = await buildRealisticDisk(SMALL_DISK);
  const { dir, cleanup } = await tempDir();
  try {
    const out = join(dir, 'out.vmdk');
    const r = await vmxfer(['convert', src, out, '--to', 'vmdk', '--format', 'raw', '--json', '--no-source-hash'], { env });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
    await qemuImg(['check', '-f', 'vmdk', out]);
    assert.match(await qemuImg(['compare', '-f', 'raw', '-F', 'vmdk', src, out]), /Images are identical/);
    return { ...result, afterHead: createHash('sha256').update((await readFile(out)).subarray(OVERHEAD_SECTORS * 512)).digest('hex') };
  } finally {
    await cleanup();
  }
}

test('VMXFER_DEFLATE=node:zlib: convert --json reports compressor "node:zlib", and the VMDK is identical to the source per qemu-img', async () => {
  const r = await convertAndCheck({ VMXFER_DEFLATE: 'node:zlib' });
  assert.equal(r.compressor, 'node:zlib');
});

test('without the addon (VMXFER_NO_NATIVE=1) the WebAssembly libdeflate writes the VMDK: --json says so, qemu-img check passes and compare finds it identical to the source', async () => {
  const r = await convertAndCheck({ VMXFER_NO_NATIVE: '1', VMXFER_DEFLATE: '' });
  assert.equal(r.compressor, 'libdeflate 1.14 (wasm)');
});

test('the native addon and the WebAssembly build write the same VMDK bytes for the same disk (VMXFER_DEFLATE=native vs wasm)', { skip: addonBuilt ? false : 'native/libdeflate 1.14 addon not built; run node scripts/build-native.mjs' }, async () => {
  const native = await convertAndCheck({ VMXFER_DEFLATE: 'native' });
  const wasm = await convertAndCheck({ VMXFER_DEFLATE: 'wasm' });
  assert.equal(native.compressor, 'libdeflate 1.14 (native)');
  assert.equal(wasm.compressor, 'libdeflate 1.14 (wasm)');
  assert.equal(wasm.afterHead, native.afterHead);
  assert.equal(wasm.outputBytes, native.outputBytes);
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

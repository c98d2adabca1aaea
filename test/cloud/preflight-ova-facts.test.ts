import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { buildTwoDiskOva, stageChunkedDisk, twoQemuDisks } from '../helpers/ova-fixtures.js';
import { gnuTar, vmwareStyleOvf, writeManifest } from '../helpers/ova-build.js';
import { openDisk } from '../../agent/formats/detect.js';
import { imageFactsFromInfo, formatOfOvfUrl } from '../../agent/cloud/preflight/facts-from-disk.js';
import { localImportPreflight } from '../../agent/cloud/preflight/local-preflight.js';

/** Preflight facts of real OVAs, as the OVA reader reports them (not hand-written details). */
async function factsOf(ova: string) {
  const disk = await openDisk(ova);
  try {
    return imageFactsFromInfo(ova, disk.info);
  } finally {
    await disk.close();
  }
}

test('preflight facts of a real two-disk OVA: each disk with its OVF capacity and stream-optimized VMDK format; ImportImage takes it as is', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const disks = await twoQemuDisks();
    const ova = await buildTwoDiskOva(dir, disks, { format: 'ustar', manifest: 'last', style: 'sha256-space' });
    const facts = await factsOf(ova);
    assert.equal(facts.container, 'ova');
    assert.equal(facts.ovaChunked, false);
    assert.deepEqual(facts.disks.map((d) => [d.format, d.subformat, d.virtualSize]), [['vmdk', 'streamOptimized', disks.sizes[0]], ['vmdk', 'streamOptimized', disks.sizes[1]]]);
    assert.deepEqual(localImportPreflight({ target: 'aws-image', image: facts, convertAllowed: true }), []);
  } finally {
    await cleanup();
  }
});

test('preflight facts of a real OVA whose disk is split with ovf:chunkSize: reported as reassembled for ImportImage, an error with --as original', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const disks = await twoQemuDisks();
    const stage = join(dir, 'stage');
    await mkdir(stage);
    const chunk = 4 * 1024 * 1024;
    const { size, names } = await stageChunkedDisk(stage, disks.vmdks[0], 'big.vmdk', chunk);
    await writeFile(join(stage, 'vm.ovf'), vmwareStyleOvf([{ href: 'big.vmdk', size, capacity: disks.sizes[0], chunkSize: chunk }]));
    await writeManifest(stage, 'vm.mf', ['vm.ovf', ...names], 'sha256-space');
    const ova = await gnuTar(stage, join(dir, 'chunked.ova'), ['vm.ovf', 'vm.mf', ...names], 'ustar');
    const facts = await factsOf(ova);
    assert.equal(facts.ovaChunked, true);
    assert.equal(facts.disks[0]!.virtualSize, disks.sizes[0]);
    const repair = localImportPreflight({ target: 'aws-image', image: facts, convertAllowed: true });
    assert.deepEqual(repair.map((f) => [f.severity, f.cloudCode]), [['repair', 'ClientError']]);
    assert.match(repair[0]!.message, /chunk/);
    const refused = localImportPreflight({ target: 'aws-image', image: facts, convertAllowed: false });
    assert.deepEqual(refused.map((f) => [f.severity, f.cloudCode]), [['error', 'ClientError']]);
  } finally {
    await cleanup();
  }
});

test('ovf:format URLs map to the formats the import rules know (DSP0243 disk format URIs)', () => {
  assert.deepEqual(formatOfOvfUrl('http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized'), { format: 'vmdk', subformat: 'streamOptimized' });
  assert.deepEqual(formatOfOvfUrl('http://www.vmware.com/interfaces/specifications/vmdk.html#sparse'), { format: 'vmdk', subformat: 'monolithicSparse' });
  assert.deepEqual(formatOfOvfUrl('http://go.microsoft.com/fwlink/?LinkId=137171 vhd'), { format: 'vhd', subformat: undefined });
  assert.deepEqual(formatOfOvfUrl(undefined), { format: 'vmdk', subformat: undefined });
});

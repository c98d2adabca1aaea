import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { assertSourceMatchesRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { run } from '../helpers/run-command.js';
import { buildTwoDiskOva, stageChunkedDisk, twoQemuDisks, type OvaLayout } from '../helpers/ova-fixtures.js';
import { fileSize, gnuTar, vmwareStyleOvf, writeManifest } from '../helpers/ova-build.js';
import { openOva } from '../../agent/formats/ova/ova-reader.js';
import { openDisk } from '../../agent/formats/detect.js';

const LAYOUTS: OvaLayout[] = [
  { format: 'ustar', manifest: 'first', style: 'sha256-space' },
  { format: 'gnu', manifest: 'last', style: 'sha1-nospace' },
  { format: 'pax', manifest: 'last', style: 'sha256-space' },
  { format: 'gnu', manifest: 'first', style: 'sha1-nospace' },
];

for (const layout of LAYOUTS) {
  test(`ova read: GNU tar --format=${layout.format}, manifest ${layout.manifest} (${layout.style}): both disks match qemu, envelope parsed`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const disks = await twoQemuDisks();
      const ova = await buildTwoDiskOva(dir, disks, layout);
      const opened = await openOva(ova);
      const env = opened.envelope;
      assert.equal(env.ovfVersion, '1.x');
      assert.deepEqual(env.disks.map((d) => d.capacityBytes), disks.sizes);
      assert.deepEqual(env.networks, ['VM Network']);
      const hw = env.virtualSystem!.hardware;
      assert.equal(hw.cpus, 2);
      assert.equal(hw.memoryBytes, 4096 * 2 ** 20);
      assert.equal(hw.firmware, 'efi');
      assert.equal(hw.os.osType, 'ubuntu64Guest');
      assert.deepEqual(hw.controllers.map((c) => `${c.kind}:${c.subtype ?? ''}`), ['scsi:pvscsi', 'sata:vmware.sata.ahci', 'ide:']);
      assert.deepEqual(hw.nics, [{ name: 'Network adapter 1', subtype: 'E1000', network: 'VM Network' }]);
      assert.deepEqual(hw.diskDevices.map((d) => [d.hostResource, d.controller]), [['ovf:/disk/vmdisk1', '3'], ['ovf:/disk/vmdisk2', '4']]);
      let i = 0;
      let last;
      for await (const disk of opened.disks()) {
        await assertSourceMatchesRaw(disk, disks.oracles[i]!);
        last = disk;
        i++;
      }
      assert.equal(i, 2);
      const verdict = last!.info.details!['manifest'] as { status: string; verified: string[] };
      assert.equal(verdict.status, 'verified');
      assert.deepEqual([...verdict.verified].sort(), ['vm-disk1.vmdk', 'vm-disk2.vmdk', 'vm.ovf']);
      await opened.package.close();
    } finally {
      await cleanup();
    }
  });
}

test('ova read: a non-seekable stream in random-size pieces; --disk 2 through detection; a second pass re-reads the file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const disks = await twoQemuDisks();
    const ova = await buildTwoDiskOva(dir, disks, { format: 'pax', manifest: 'last', style: 'sha256-space' });
    const pt = new PassThrough({ highWaterMark: 4096 });
    createReadStream(ova, { highWaterMark: 3001 }).pipe(pt);
    const opened = await openOva(pt, { name: 'upload.ova' });
    const it = opened.disks();
    const first = (await it.next()).value!;
    await assertSourceMatchesRaw(first, disks.oracles[0]);
    assert.throws(() => first.extents(), /iterated only once/);
    const second = (await it.next()).value!;
    await assertSourceMatchesRaw(second, disks.oracles[1]);
    assert.equal((await it.next()).done, true);

    const d2 = await openDisk(ova, { disk: 2 });
    assert.equal(d2.info.format, 'ova');
    assert.equal(d2.info.subformat, 'vmdk streamOptimized');
    await assertSourceMatchesRaw(d2, disks.oracles[1]);
    assert.equal((d2.info.details!['manifest'] as { status: string }).status, 'verified');
    await assertSourceMatchesRaw(d2, disks.oracles[1]);
    await d2.close();
    await assert.rejects(openDisk(ova, { disk: 3 }), (e: Error & { code?: string }) => e.code === 'OVA_DISK_INDEX');
  } finally {
    await cleanup();
  }
});

test('ova read: a disk split with ovf:chunkSize (split -b into .000000000 names) and a gzip-compressed disk are reassembled', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const disks = await twoQemuDisks();
    const stage = join(dir, 'stage');
    await mkdir(stage);
    const chunk = 4 * 1024 * 1024;
    const { size, names: chunkNames } = await stageChunkedDisk(stage, disks.vmdks[0], 'big.vmdk', chunk);
    const chunks = chunkNames.length;
    assert.ok(chunks >= 3, `only ${chunks} chunks`);
    await run('sh', ['-c', `gzip -c "${disks.vmdks[1]}" > "${join(stage, 'small.vmdk.gz')}"`]);
    const gz = await fileSize(join(stage, 'small.vmdk.gz'));
    let ovf = vmwareStyleOvf([
      { href: 'big.vmdk', size, capacity: disks.sizes[0], chunkSize: chunk },
      { href: 'small.vmdk.gz', size: gz, capacity: disks.sizes[1] },
    ]);
    ovf = ovf.replace('ovf:id="file2"', 'ovf:id="file2" ovf:compression="gzip"');
    await writeFile(join(stage, 'vm.ovf'), ovf);
    await writeManifest(stage, 'vm.mf', ['vm.ovf', ...chunkNames, 'small.vmdk.gz'], 'sha256-space');
    const ova = await gnuTar(stage, join(dir, 'chunked.ova'), ['vm.ovf', 'vm.mf', ...chunkNames, 'small.vmdk.gz'], 'ustar');
    const opened = await openOva(ova);
    assert.equal(opened.envelope.files[0]!.chunkSize, chunk);
    let i = 0;
    for await (const disk of opened.disks()) await assertSourceMatchesRaw(disk, disks.oracles[i++]!);
    assert.equal(opened.package.verdict().verified.length, chunks + 2);
  } finally {
    await cleanup();
  }
});

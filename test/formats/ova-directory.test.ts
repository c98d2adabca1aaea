import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertSourceMatchesRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { run } from '../helpers/run-command.js';
import { twoQemuDisks } from '../helpers/ova-fixtures.js';
import { fileSize, gnuTar, vmwareStyleOvf, writeManifest } from '../helpers/ova-build.js';
import { detectFormat, openDisk } from '../../agent/formats/detect.js';
import { VmxferError } from '../../agent/core/errors.js';

test('ova read: member names over 100 bytes (GNU L headers, pax path records) are detected and read', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const disks = await twoQemuDisks();
    const s = join(dir, 'stage');
    await mkdir(s);
    const long = `${'a-rather-long-disk-name-'.repeat(6)}.vmdk`;
    assert.ok(long.length > 100);
    await copyFile(disks.vmdks[1], join(s, long));
    const descriptor = `${'descriptor-'.repeat(10)}.ovf`;
    await writeFile(join(s, descriptor), vmwareStyleOvf([{ href: long, size: await fileSize(join(s, long)), capacity: disks.sizes[1] }]));
    await writeManifest(s, 'vm.mf', [descriptor, long], 'sha256-space');
    for (const format of ['gnu', 'pax'] as const) {
      const ova = await gnuTar(s, join(dir, `long-${format}.ova`), [descriptor, long, 'vm.mf'], format);
      assert.equal((await detectFormat(ova)).name, 'ova', format);
      const disk = await openDisk(ova);
      await assertSourceMatchesRaw(disk, disks.oracles[1]);
      assert.deepEqual((disk.info.details!['manifest'] as { verified: string[] }).verified, [descriptor, long]);
      await disk.close();
    }
  } finally {
    await cleanup();
  }
});

test('ovf directory: a .ovf with its disks beside it reads each disk like qemu; the manifest is verified; a mismatch is refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const disks = await twoQemuDisks();
    const names = ['d1.vmdk', 'd2.vmdk'];
    for (const [i, v] of disks.vmdks.entries()) await copyFile(v, join(dir, names[i]!));
    const specs = await Promise.all(names.map(async (href, i) => ({ href, size: await fileSize(join(dir, href)), capacity: disks.sizes[i]!, unitsGiB: false })));
    await writeFile(join(dir, 'vm.ovf'), vmwareStyleOvf(specs));
    await writeManifest(dir, 'vm.mf', ['vm.ovf', ...names], 'sha1-nospace');
    assert.equal((await detectFormat(join(dir, 'vm.ovf'))).name, 'ovf');
    for (const n of [1, 2]) {
      const disk = await openDisk(join(dir, 'vm.ovf'), { disk: n });
      assert.equal(disk.info.format, 'ovf');
      assert.equal((disk.info.details!['manifest'] as { status: string }).status, 'verified');
      await assertSourceMatchesRaw(disk, disks.oracles[n - 1]!);
      await disk.close();
    }
    const mf = await readFile(join(dir, 'vm.mf'), 'utf8');
    await writeFile(join(dir, 'vm.mf'), mf.replace(/(SHA1\(d2\.vmdk\)=)([0-9a-f])/, (_, p, c) => p + (c === 'f' ? 'e' : 'f')));
    await assert.rejects(openDisk(join(dir, 'vm.ovf')), (e: VmxferError) => e.code === 'OVA_MANIFEST_MISMATCH' && /d2\.vmdk/.test(e.message));
    // A chunked file beside the descriptor is joined too.
    await run('split', ['-b', '2097152', '-d', '-a', '9', 'd2.vmdk', 'd2.vmdk.'], { cwd: dir });
    await writeFile(join(dir, 'vm.mf'), mf.split('\n').filter((l) => !l.includes('d2.vmdk')).join('\n'));
    await writeFile(join(dir, 'chunked.ovf'), vmwareStyleOvf([specs[0]!, { ...specs[1]!, href: 'd2.vmdk', chunkSize: 2097152 }]));
    const chunked = await openDisk(join(dir, 'chunked.ovf'), { disk: 2 });
    assert.equal((chunked.info.details!['manifest'] as { status: string }).status, 'absent');
    await assertSourceMatchesRaw(chunked, disks.oracles[1]);
    const ova = await gnuTar(dir, join(dir, 'x.ova'), ['vm.ovf', ...names], 'ustar');
    assert.equal((await detectFormat(ova)).name, 'ova');
  } finally {
    await cleanup();
  }
});

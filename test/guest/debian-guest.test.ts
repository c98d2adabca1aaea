import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDisk } from '../../agent/formats/detect.js';
import { inspectGuest, linuxSystems, type GuestReport } from '../../agent/guest/inspector.js';
import { tempDir } from '../helpers/tmp.js';
import { GUEST_TOOLS_MISSING } from '../helpers/guest-disks.js';
import { QEMU_MISSING, qemuFromRaw } from '../helpers/qemu.js';
import { fileSize, gnuTar, vmwareStyleOvf, writeManifest } from '../helpers/ova-build.js';
import { writeFile } from 'node:fs/promises';
import { buildDebianDisk, KERNEL, type BuiltGuest } from './guest-fixture.js';

let dir: string;
let cleanup: () => Promise<void>;
let gpt: BuiltGuest | undefined;
let mbr: BuiltGuest | undefined;
let skip: string | false = GUEST_TOOLS_MISSING;
const MiB = 1024 * 1024;

before(async () => {
  ({ dir, cleanup } = await tempDir('vmxfer-guest-'));
  if (skip) return;
  const g = await buildDebianDisk(dir, 'gpt');
  if ('skip' in g) {
    skip = g.skip;
    return;
  }
  gpt = g;
  const m = await buildDebianDisk(dir, 'mbr');
  if (!('skip' in m)) mbr = m;
});
after(() => cleanup());

async function inspect(path: string): Promise<GuestReport> {
  const disk = await openDisk(path);
  try {
    return await inspectGuest(disk, path);
  } finally {
    await disk.close();
  }
}

test('a debootstrapped Debian on a 4 GiB GPT disk with an ESP: every fact as built, UEFI, read in a few MiB well under a second', async (t) => {
  if (skip || !gpt) return t.skip(skip || 'no disk');
  const r = await inspect(gpt.path);
  t.diagnostic(`4 GiB GPT Debian disk (raw): read ${r.bytesRead} bytes in ${r.elapsedMs} ms`);
  assert.ok(r.bytesRead <= 4 * MiB, `read ${r.bytesRead} bytes`);
  assert.ok(r.elapsedMs < 1000, `took ${r.elapsedMs} ms`);
  assert.equal(r.partitionTable.scheme, 'gpt');
  assert.equal(r.partitionTable.primaryHeaderOk, true);
  assert.equal(r.partitionTable.backupHeaderOk, true);
  assert.equal(r.partitionTable.hybridMbr, false);
  assert.deepEqual(r.partitionTable.partitions.map((p) => [p.number, p.typeName, p.name]), [[1, 'efi-system', 'EFI System'], [2, 'linux-data', 'root']]);
  const [esp, root] = r.volumes;
  assert.deepEqual([esp!.content.kind, esp!.content.uuid, esp!.content.label, esp!.role], ['vfat', `${gpt.espVolumeId!.slice(0, 4)}-${gpt.espVolumeId!.slice(4)}`, 'ESP', 'esp']);
  assert.deepEqual([root!.content.kind, root!.content.uuid, root!.content.label, root!.role], ['ext4', gpt.rootUuid, 'debian-root', 'root']);
  assert.deepEqual(r.bootModes, ['UEFI']);
  assert.deepEqual(r.efiLoaders.map((l) => [l.path.toUpperCase(), l.architecture]), [['/EFI/BOOT/BOOTX64.EFI', 'x86_64'], ['/EFI/DEBIAN/GRUBX64.EFI', 'x86_64']]);
  const os = linuxSystems(r)[0]!;
  assert.equal(r.systems.length, 1);
  assert.deepEqual([os.id, os.versionId, os.prettyName], ['debian', gpt.versionId, gpt.prettyName]);
  assert.deepEqual(os.kernels, [KERNEL]);
  assert.deepEqual(os.modules, [KERNEL]);
  assert.equal(os.architecture, 'x86_64');
  assert.equal(os.grubDefault, '0');
  assert.deepEqual(os.fstab.map((e) => [e.mountPoint, e.naming]), [['/', 'uuid'], ['/boot/efi', 'uuid']]);
  assert.deepEqual(r.boot?.grubConfigs.map((c) => c.path), ['/boot/grub/grub.cfg']);
  assert.equal(r.boot?.defaultEntry?.kernelVersion, KERNEL);
  assert.equal(r.architecture, 'x86_64');
  assert.deepEqual([r.encrypted, r.dualBoot, r.dynamicDisk], [false, false, false]);
  assert.deepEqual(r.root, { device: `UUID=${gpt.rootUuid}`, naming: 'uuid', volume: 1, onBootDisk: 'yes' });
});

test('the same Debian on MBR with boot code and a bootable partition: BIOS only, the same OS facts', async (t) => {
  if (skip || !mbr) return t.skip(skip || 'no disk');
  const r = await inspect(mbr.path);
  t.diagnostic(`4 GiB MBR Debian disk (raw): read ${r.bytesRead} bytes in ${r.elapsedMs} ms`);
  assert.equal(r.partitionTable.scheme, 'mbr');
  assert.deepEqual(r.partitionTable.partitions.map((p) => [p.number, p.type, p.bootable]), [[1, '0x83', true]]);
  assert.deepEqual(r.bootModes, ['BIOS']);
  assert.deepEqual(r.efiLoaders, []);
  assert.equal(r.volumes[0]!.content.uuid, mbr.rootUuid);
  assert.deepEqual([linuxSystems(r)[0]!.id, linuxSystems(r)[0]!.versionId, linuxSystems(r)[0]!.kernels], ['debian', mbr.versionId, [KERNEL]]);
  assert.equal(r.root?.onBootDisk, 'yes');
});

/** The facts that must not depend on the container format. */
function essence(r: GuestReport): unknown {
  return { table: r.partitionTable, volumes: r.volumes, boot: r.bootModes, loaders: r.efiLoaders, systems: r.systems, root: r.root, defaultEntry: r.boot?.defaultEntry };
}

test('the GPT Debian converted by qemu-img to qcow2, VHDX, stream-optimized and sparse VMDK, VHD, VDI, and inside an OVA: the same facts as the raw disk, each read at random offsets in a few MiB', async (t) => {
  if (skip || !gpt) return t.skip(skip || 'no disk');
  if (QEMU_MISSING) return t.skip(QEMU_MISSING);
  const expected = essence(await inspect(gpt.path));
  const vmdk = await qemuFromRaw(gpt.path, join(dir, 'd.vmdk'), 'vmdk', ['-o', 'subformat=streamOptimized']);
  const images = [
    await qemuFromRaw(gpt.path, join(dir, 'd.qcow2'), 'qcow2'),
    await qemuFromRaw(gpt.path, join(dir, 'dc.qcow2'), 'qcow2', ['-c']),
    await qemuFromRaw(gpt.path, join(dir, 'd.vhdx'), 'vhdx'),
    vmdk,
    await qemuFromRaw(gpt.path, join(dir, 'ds.vmdk'), 'vmdk', ['-o', 'subformat=monolithicSparse']),
    await qemuFromRaw(gpt.path, join(dir, 'd.vhd'), 'vpc', ['-o', 'subformat=dynamic,force_size=on']),
    await qemuFromRaw(gpt.path, join(dir, 'd.vdi'), 'vdi'),
  ];
  await writeFile(join(dir, 'debian.ovf'), vmwareStyleOvf([{ href: 'd.vmdk', size: await fileSize(vmdk), capacity: 4096 * MiB }]));
  await writeManifest(dir, 'debian.mf', ['debian.ovf', 'd.vmdk'], 'sha256-space');
  images.push(await gnuTar(dir, join(dir, 'debian.ova'), ['debian.ovf', 'debian.mf', 'd.vmdk'], 'ustar'));
  for (const image of images) {
    const r = await inspect(image);
    t.diagnostic(`${image.split('/').pop()}: read ${r.bytesRead} bytes in ${r.elapsedMs} ms`);
    assert.deepEqual(essence(r), expected, image);
    // Every format, the OVA file's member included, is read at random offsets: a few MiB, as raw.
    assert.ok(r.bytesRead <= 4 * MiB, `${image}: read ${r.bytesRead} bytes`);
  }
});

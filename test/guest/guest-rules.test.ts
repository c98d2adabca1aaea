import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openDisk } from '../../agent/formats/detect.js';
import { inspectGuest, linuxSystems, type GuestReport } from '../../agent/guest/inspector.js';
import { guestRules, type GuestRuleInput } from '../../agent/guest/guest-rules.js';
import type { ImportTarget } from '../../agent/cloud/preflight/finding.js';
import { tempDir } from '../helpers/tmp.js';
import { ext4At, fatAt, GUEST_TOOLS_MISSING, partitionDisk, peImage, rootTree, writeBootCode, type TreeFile } from '../helpers/guest-disks.js';
import { run } from '../helpers/run-command.js';
import { debianBootFiles, KERNEL } from './guest-fixture.js';

/*
 * Small guests (64 MiB disks, an ext4 root filled from a directory) each built to trip one rule,
 * and a clean one that trips none. Every rule's finding is asserted on the disk built for it.
 */

const skip = GUEST_TOOLS_MISSING;
let dir: string;
let cleanup: () => Promise<void>;
let n = 0;

const DEBIAN_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n';

interface Spec {
  scheme?: 'gpt' | 'mbr';
  /** Files of the root filesystem (its fstab names it by this UUID unless files override it). */
  files?: (uuid: string) => TreeFile[];
  /** An ESP with BOOTX64.EFI (GPT) or MBR boot code (MBR); default true. */
  bootable?: boolean;
  /** A second Linux root beside the first. */
  secondRoot?: boolean;
  /** MBR type of the root partition (42: LDM). */
  mbrType?: string;
}

async function guest(spec: Spec): Promise<GuestReport> {
  const id = ++n;
  const path = join(dir, `g${id}.raw`);
  const uuid = randomUUID();
  const files = spec.files ? spec.files(uuid) : [{ path: 'etc/os-release', content: DEBIAN_RELEASE }, ...debianBootFiles(uuid)];
  const tree = await rootTree(join(dir, `t${id}`), undefined, files);
  const scheme = spec.scheme ?? 'gpt';
  const bootable = spec.bootable ?? true;
  const parts = scheme === 'gpt'
    ? [{ sizeMiB: 8, type: 'ef00' }, { sizeMiB: spec.secondRoot ? 24 : 0, type: '8300' }, ...(spec.secondRoot ? [{ sizeMiB: 0, type: '8300' }] : [])]
    : [{ sizeMiB: spec.secondRoot ? 24 : 0, type: spec.mbrType ?? '83', bootable: true }, ...(spec.secondRoot ? [{ sizeMiB: 0, type: '83' }] : [])];
  const at = await partitionDisk(path, 64, scheme, parts);
  const roots = scheme === 'gpt' ? at.slice(1) : at;
  if (scheme === 'gpt') await fatAt(path, at[0]!, bootable ? [{ path: '/EFI/BOOT/BOOTX64.EFI', content: peImage(0x8664) }] : [{ path: '/README', content: 'no loader' }], { volumeId: '0000BEEF', bits: 12 }, dir);
  else if (bootable) await writeBootCode(path);
  await ext4At(path, roots[0]!, tree, { uuid });
  if (roots[1]) await ext4At(path, roots[1], await rootTree(join(dir, `t${id}b`), undefined, [{ path: 'etc/os-release', content: 'ID=ubuntu\nVERSION_ID="22.04"\nPRETTY_NAME="Ubuntu 22.04 LTS"\n' }, ...debianBootFiles(randomUUID())]), { uuid: randomUUID() });
  const d = await openDisk(path);
  try {
    return await inspectGuest(d, path);
  } finally {
    await d.close();
  }
}

function rules(g: GuestReport, target: ImportTarget = 'aws-image', extra: Partial<GuestRuleInput> = {}): [string, string][] {
  return guestRules({ target, guest: g, ...extra }).map((f) => [f.severity, f.rule]);
}

const grubCfg = (body: string): TreeFile => ({ path: 'boot/grub/grub.cfg', content: body });
const base = (uuid: string, over: TreeFile[] = []): TreeFile[] => {
  const files = [{ path: 'etc/os-release', content: DEBIAN_RELEASE }, ...debianBootFiles(uuid)];
  return [...files.filter((f) => !over.some((o) => o.path === f.path)), ...over];
};

before(async () => {
  ({ dir, cleanup } = await tempDir('vmxfer-guestrules-'));
});
after(() => cleanup());

test('a clean Debian 12 on GPT/UEFI: no finding for aws-image, aws-snapshot or ecs-image; asked boot mode, architecture and ECS platform checked against the disk', async (t) => {
  if (skip) return t.skip(skip);
  const g = await guest({});
  assert.deepEqual(rules(g), []);
  assert.deepEqual(rules(g, 'aws-snapshot'), []);
  assert.deepEqual(rules(g, 'ecs-image', { platform: 'Debian', osType: 'linux', bootMode: 'UEFI' }), []);
  assert.deepEqual(rules(g, 'aws-image', { bootMode: 'uefi' }), []);
  assert.deepEqual(rules(g, 'aws-image', { bootMode: 'uefi-preferred' }), []);
  const bios = guestRules({ target: 'aws-image', guest: g, bootMode: 'legacy-bios' });
  assert.deepEqual(bios.map((f) => [f.severity, f.rule]), [['error', 'guest-boot-mode']]);
  assert.match(bios[0]!.hint, /--boot-mode uefi/);
  assert.deepEqual(rules(g, 'ecs-image', { bootMode: 'BIOS' }), [['error', 'guest-boot-mode']]);
  assert.deepEqual(rules(g, 'aws-image', { architecture: 'arm64' }), [['error', 'guest-architecture']]);
  assert.deepEqual(rules(g, 'ecs-image', { platform: 'CentOS', osType: 'windows' }), [['error', 'guest-ecs-os-type'], ['error', 'guest-ecs-platform']]);
});

test('MBR with boot code: BIOS; asking for UEFI is refused with the mode to use', async (t) => {
  if (skip) return t.skip(skip);
  const g = await guest({ scheme: 'mbr' });
  assert.deepEqual(g.bootModes, ['BIOS']);
  const f = guestRules({ target: 'aws-image', guest: g, bootMode: 'uefi' });
  assert.deepEqual(f.map((x) => x.rule), ['guest-boot-mode']);
  assert.match(f[0]!.hint, /--boot-mode legacy-bios/);
});

test('neither an EFI loader nor MBR boot code: not bootable', async (t) => {
  if (skip) return t.skip(skip);
  const g = await guest({ bootable: false });
  assert.deepEqual(g.bootModes, []);
  assert.deepEqual(rules(g), [['error', 'guest-not-bootable']]);
});

test('two different GRUB configurations (grub.cfg and a stale menu.lst): "Multiple different grub/menu.lst files found"', async (t) => {
  if (skip) return t.skip(skip);
  const g = await guest({ files: (u) => base(u, [{ path: 'boot/grub/menu.lst', content: 'default 0\ntitle Old\nkernel /boot/vmlinuz-2.6.32-5-amd64\n' }]) });
  assert.deepEqual(g.boot?.grubConfigs.map((c) => [c.path, c.sameAsFirst]), [['/boot/grub/grub.cfg', true], ['/boot/grub/menu.lst', false]]);
  const f = guestRules({ target: 'aws-image', guest: g });
  assert.deepEqual(f.map((x) => [x.severity, x.rule, x.cloudCode]), [['error', 'guest-multiple-grub', 'ClientError']]);
  assert.match(f[0]!.message, /Multiple different grub\/menu.lst files found/);
});

test('BLS entries without a saved default: "BLSC-style GRUB found, but unable to detect default kernel"; with grubenv saved_entry the default is found', async (t) => {
  if (skip) return t.skip(skip);
  const bls = (u: string, env: TreeFile[]) => base(u, [
    grubCfg('set default="${saved_entry}"\nload_env\nblscfg\n'),
    { path: 'boot/loader/entries/aaa-6.1.0-13-amd64.conf', content: `title Debian (6.1.0-13)\nversion ${KERNEL}\nlinux /vmlinuz-${KERNEL}\n` },
    { path: 'boot/loader/entries/aaa-5.10.0-9-amd64.conf', content: 'title Debian (5.10)\nversion 5.10.0-9-amd64\nlinux /vmlinuz-5.10.0-9-amd64\n' },
    ...env,
  ]);
  const none = await guest({ files: (u) => bls(u, []) });
  assert.equal(none.boot?.usesBls, true);
  assert.equal(none.boot?.blsEntries.length, 2);
  assert.equal(none.boot?.defaultEntry, undefined);
  assert.deepEqual(rules(none), [['error', 'guest-bls-default']]);
  const saved = await guest({ files: (u) => bls(u, [{ path: 'boot/grub/grubenv', content: '# GRUB Environment Block\nsaved_entry=aaa-5.10.0-9-amd64\n' + '#'.repeat(900) }]) });
  assert.deepEqual([saved.boot?.defaultEntry?.id, saved.boot?.defaultEntry?.kernelVersion, saved.boot?.defaultSource], ['aaa-5.10.0-9-amd64', '5.10.0-9-amd64', 'grubenv saved_entry']);
  assert.deepEqual(rules(saved), []);
});

test('fstab naming /dev/sda1 and /dev/xvdb: a warning naming the lines; root on /dev/sda2 is found on this disk', async (t) => {
  if (skip) return t.skip(skip);
  const g = await guest({ files: (u) => base(u, [{ path: 'etc/fstab', content: `# static\n/dev/sda2 / ext4 defaults 0 1\nUUID=${u} /srv ext4 defaults 0 2\n/dev/xvdb /data xfs defaults 0 2\nproc /proc proc defaults 0 0\n` }]) });
  assert.deepEqual(linuxSystems(g)[0]!.fstab.map((e) => [e.line, e.naming]), [[2, 'device-path'], [3, 'uuid'], [4, 'device-path'], [5, 'other']]);
  assert.deepEqual(g.root, { device: '/dev/sda2', naming: 'device-path', volume: 1, onBootDisk: 'yes' });
  const f = guestRules({ target: 'aws-image', guest: g });
  assert.deepEqual(f.map((x) => [x.severity, x.rule]), [['warning', 'guest-fstab-device-names']]);
  assert.match(f[0]!.message, /line 2 "\/dev\/sda2 \/".*line 4 "\/dev\/xvdb \/data"/);
});

test('the root on another disk (fstab / on /dev/sdb1, or a UUID no volume here has): root not on the boot disk', async (t) => {
  if (skip) return t.skip(skip);
  const sdb = await guest({ files: (u) => base(u, [{ path: 'etc/fstab', content: '/dev/sdb1 / ext4 defaults 0 1\n' }]) });
  assert.equal(sdb.root?.onBootDisk, 'no');
  assert.deepEqual(rules(sdb), [['warning', 'guest-fstab-device-names'], ['error', 'guest-root-elsewhere']].sort((a, b) => (a[1]! < b[1]! ? 1 : -1)) as [string, string][]);
  const other = await guest({ files: (u) => base(u, [{ path: 'etc/fstab', content: `UUID=${randomUUID()} / ext4 defaults 0 1\n` }]) });
  assert.deepEqual(rules(other), [['error', 'guest-root-elsewhere']]);
});

test('two operating systems on one disk: dual boot', async (t) => {
  if (skip) return t.skip(skip);
  const g = await guest({ secondRoot: true });
  assert.deepEqual(linuxSystems(g).map((s) => s.id), ['debian', 'ubuntu']);
  assert.equal(g.dualBoot, true);
  assert.deepEqual(rules(g), [['error', 'guest-dual-boot']]);
});

test('a default kernel older than the supported range: "Unsupported kernel version"; no kernel at all: "Missing OS files"', async (t) => {
  if (skip) return t.skip(skip);
  const old = await guest({ files: (u) => [{ path: 'etc/os-release', content: DEBIAN_RELEASE }, ...debianBootFiles(u, '', '2.6.9-1-686')] });
  assert.deepEqual(linuxSystems(old)[0]!.kernels, ['2.6.9-1-686']);
  const f = guestRules({ target: 'aws-image', guest: old });
  assert.deepEqual(f.map((x) => x.rule), ['guest-kernel-unsupported']);
  assert.match(f[0]!.message, /2\.6\.9-1-686.*Unsupported kernel version/);
  const none = await guest({ files: (u) => base(u).filter((x) => !x.path.startsWith('boot/vmlinuz')) });
  assert.deepEqual(rules(none).filter((x) => x[1] === 'guest-no-kernel'), [['error', 'guest-no-kernel']]);
});

test('an OS outside the supported table (os-release ID=gentoo) is an error for AWS; a filesystem with no OS is "Unknown OS"', async (t) => {
  if (skip) return t.skip(skip);
  const gentoo = await guest({ files: (u) => base(u, [{ path: 'etc/os-release', content: 'ID=gentoo\nVERSION_ID="2.15"\nPRETTY_NAME="Gentoo Linux"\n' }]) });
  assert.deepEqual(rules(gentoo), [['error', 'guest-os-unsupported']]);
  const empty = await guest({ files: () => [{ path: 'home/readme', content: 'data only' }] });
  assert.deepEqual(empty.systems, []);
  assert.deepEqual(rules(empty), [['error', 'guest-os-unknown']]);
  assert.deepEqual(rules(empty, 'aws-snapshot'), [['warning', 'guest-os-unknown']]);
});

test('a Windows dynamic disk (MBR type 0x42, LDM): an error', async (t) => {
  if (skip) return t.skip(skip);
  const g = await guest({ scheme: 'mbr', mbrType: '42' });
  assert.equal(g.dynamicDisk, true);
  assert.deepEqual(rules(g).filter((x) => x[1] === 'guest-dynamic-disk'), [['error', 'guest-dynamic-disk']]);
});

test('MBR with an extended partition and two logical partitions; a hybrid MBR beside a GPT', async (t) => {
  if (skip) return t.skip(skip);
  const path = join(dir, 'logical.raw');
  await partitionDisk(path, 64, 'mbr', [{ sizeMiB: 8, type: '83' }, { sizeMiB: 8, type: '83', logical: true }, { sizeMiB: 0, type: '82', logical: true }]);
  let d = await openDisk(path);
  const r = await inspectGuest(d, path);
  await d.close();
  const sf = JSON.parse(await run('sfdisk', ['--json', path])).partitiontable.partitions as { start: number; size: number; type: string }[];
  assert.deepEqual(r.partitionTable.partitions.map((p) => [p.number, p.offset / 512, p.length / 512, p.logical]), sf.map((p, i) => [i < 2 ? i + 1 : i + 3, p.start, p.size, i >= 2]));
  const hybrid = join(dir, 'hybrid.raw');
  await partitionDisk(hybrid, 64, 'gpt', [{ sizeMiB: 8, type: 'ef00' }, { sizeMiB: 0, type: '8300' }]);
  await run('sgdisk', ['-h', '2', hybrid]);
  d = await openDisk(hybrid);
  const h = await inspectGuest(d, hybrid);
  await d.close();
  assert.equal(h.partitionTable.hybridMbr, true);
  assert.deepEqual(h.partitionTable.mbrPartitions?.map((p) => p.offset), [h.partitionTable.partitions[1]!.offset]);
});

test('partitions whose contents no probe recognises: "No valid partitions" as a warning (the inspector may not know the filesystem)', async (t) => {
  if (skip) return t.skip(skip);
  const path = join(dir, 'unknown.raw');
  await partitionDisk(path, 16, 'gpt', [{ sizeMiB: 0, type: '8300' }]);
  const d = await openDisk(path);
  const g = await inspectGuest(d, path);
  await d.close();
  assert.deepEqual(g.volumes.map((v) => v.content.kind), ['unknown']);
  const f = guestRules({ target: 'aws-image', guest: g });
  assert.deepEqual(f.map((x) => [x.severity, x.rule]), [['warning', 'guest-not-recognised']]);
  assert.match(f[0]!.message, /No valid partitions/);
});

test('fstab mounting / from a filesystem the cloud does not support (the FAT ESP): unsupported root filesystem', async (t) => {
  if (skip) return t.skip(skip);
  const g = await guest({ files: (u) => base(u, [{ path: 'etc/fstab', content: 'UUID=0000-BEEF / vfat defaults 0 1\n' }]) });
  assert.equal(g.volumes[g.root!.volume!]!.content.kind, 'vfat');
  assert.deepEqual(rules(g), [['error', 'guest-root-filesystem']]);
});

test('MBR partitions reaching past 2 TiB (a sparse 3 TiB disk): an error naming the limit', async (t) => {
  if (skip) return t.skip(skip);
  const path = join(dir, 'big.raw');
  await run('truncate', ['-s', '3T', path]);
  const mbr = Buffer.alloc(512);
  const entry = (i: number, start: number, count: number) => {
    mbr[446 + 16 * i + 4] = 0x83;
    mbr.writeUInt32LE(start, 446 + 16 * i + 8);
    mbr.writeUInt32LE(count, 446 + 16 * i + 12);
  };
  entry(0, 2048, 0x80000000);
  entry(1, 0x80000800, 0x80000000);
  mbr.writeUInt16LE(0xaa55, 510);
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r+');
  await fh.write(mbr, 0, 512, 0);
  await fh.close();
  const d = await openDisk(path);
  const g = await inspectGuest(d, path);
  await d.close();
  const f = guestRules({ target: 'aws-image', guest: g }).filter((x) => x.severity === 'error');
  assert.deepEqual(f.map((x) => x.rule), ['guest-mbr-size']);
  assert.match(f[0]!.message, /past the 2 TiB an MBR disk can address/);
});

import { spawnSync } from 'node:child_process';
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from './run-command.js';
import { fatAt, partitionDisk, peImage, writeBootCode } from './guest-disks.js';
import { softwareHive } from './regf-build.js';

/*
 * Windows-like guests built without mounts: the tree is written to a directory, captured into a WIM
 * by wimcapture and applied by wimapply straight onto an unmounted NTFS volume in a file (wimlib's
 * NTFS-3G apply mode, through libntfs-3g: directories, hard links, data runs), made by mkntfs -F -Q;
 * the volume is then copied into its partition. ntfs-3g's own tools cannot make directories in an
 * unmounted volume (ntfscp copies files into existing directories only).
 */

const TOOLS = ['mkntfs', 'wimcapture', 'wimapply', 'ntfscat', 'ntfsls', 'hivexget', 'sgdisk', 'sfdisk', 'mkfs.fat', 'mcopy', 'mmd'];

export const WINDOWS_TOOLS_MISSING: string | false = (() => {
  const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  return missing.length ? `Windows guest test tools missing (${missing.join(', ')}): run scripts/install-test-deps.sh` : false;
})();

export interface WindowsVersion {
  productName: string;
  currentBuild: string;
  editionId: string;
  installationType: string;
  displayVersion?: string;
  major?: number;
}

export const SERVER_2022: WindowsVersion = { productName: 'Windows Server 2022 Datacenter', currentBuild: '20348', editionId: 'ServerDatacenter', installationType: 'Server', displayVersion: '21H2', major: 10 };
export const WINDOWS_10: WindowsVersion = { productName: 'Windows 10 Pro', currentBuild: '19045', editionId: 'Professional', installationType: 'Client', displayVersion: '22H2', major: 10 };

/** Files of a Windows system volume: the SOFTWARE hive, ntoskrnl.exe (a PE for `machine`), 300 DLLs in System32 (an INDX B-tree), a file with 40 hard links (an $ATTRIBUTE_LIST), and for BIOS bootmgr and Boot/BCD. */
export async function windowsTree(dir: string, v: WindowsVersion, opts: { machine?: number; bios: boolean }): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  const put = async (p: string, content: Buffer | string) => {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), content);
  };
  await put('Windows/System32/config/SOFTWARE', softwareHive(v));
  await put('Windows/System32/config/SYSTEM', Buffer.alloc(8192));
  const kernel = Buffer.concat([peImage(opts.machine ?? 0x8664), Buffer.alloc(300 * 1024, 0x5a)]);
  await put('Windows/System32/ntoskrnl.exe', kernel);
  for (let i = 0; i < 300; i++) await put(`Windows/System32/api-ms-win-core-module-l1-1-${i}.dll`, `dll ${i}\n`);
  await put('Windows/explorer.exe', 'explorer');
  await put('Program Files/readme.txt', 'readme');
  for (let i = 0; i < 40; i++) {
    if (i === 0) await put('Windows/WinSxS/manifest-with-a-rather-long-name-0.xml', 'linked manifest\n');
    else await link(join(dir, 'Windows/WinSxS/manifest-with-a-rather-long-name-0.xml'), join(dir, `Windows/WinSxS/manifest-with-a-rather-long-name-${i}.xml`));
  }
  if (opts.bios) {
    await put('bootmgr', Buffer.concat([Buffer.from('BOOTMGR'), Buffer.alloc(4096)]));
    await put('Boot/BCD', Buffer.alloc(8192));
  }
  return dir;
}

/** An NTFS volume of `bytes` in `file`, filled with `tree` (mkntfs, then wimcapture | wimapply). */
export async function ntfsVolume(file: string, bytes: number, tree: string, label: string): Promise<void> {
  await rm(file, { force: true });
  await run('truncate', ['-s', String(bytes), file]);
  await run('mkntfs', ['-q', '-F', '-Q', '-L', label, file]);
  const wim = `${file}.wim`;
  await run('wimcapture', [tree, wim, '--no-acls', '--compress=none']);
  await run('wimapply', [wim, '1', file]);
  await rm(wim, { force: true });
}

async function copyInto(disk: string, file: string, offset: number): Promise<void> {
  await run('dd', [`if=${file}`, `of=${disk}`, 'bs=1M', `seek=${offset / (1024 * 1024)}`, 'conv=notrunc,sparse', 'status=none']);
}

/**
 * A Windows disk: GPT with an ESP (EFI/Microsoft/Boot/bootmgfw.efi and BCD, EFI/BOOT/BOOTX64.EFI)
 * and the NTFS system volume (UEFI), or MBR with a bootable NTFS volume holding bootmgr and
 * Boot/BCD and boot code in the MBR (BIOS).
 */
export async function buildWindowsDisk(work: string, scheme: 'gpt' | 'mbr', v: WindowsVersion, opts: { machine?: number } = {}): Promise<{ path: string; volume: string; ntfsOffset: number }> {
  const path = join(work, `windows-${scheme}.raw`);
  const tree = await windowsTree(join(work, `tree-${scheme}`), v, { bios: scheme === 'mbr', machine: opts.machine });
  const volume = join(work, `ntfs-${scheme}.img`);
  if (scheme === 'gpt') {
    const [esp, sys] = await partitionDisk(path, 128, 'gpt', [{ sizeMiB: 33, type: 'ef00', name: 'EFI system partition' }, { sizeMiB: 0, type: '0700', name: 'Basic data partition' }]);
    const loader = peImage(opts.machine ?? 0x8664);
    await fatAt(path, esp!, [{ path: '/EFI/Microsoft/Boot/bootmgfw.efi', content: loader }, { path: '/EFI/Microsoft/Boot/BCD', content: Buffer.alloc(4096) }, { path: '/EFI/BOOT/BOOTX64.EFI', content: loader }], { volumeId: '5A1E0001', label: 'SYSTEM', bits: 32 }, work);
    await ntfsVolume(volume, sys!.length, tree, 'Windows');
    await copyInto(path, volume, sys!.offset);
    return { path, volume, ntfsOffset: sys!.offset };
  }
  const [sys] = await partitionDisk(path, 96, 'mbr', [{ sizeMiB: 0, type: '7', bootable: true }]);
  await ntfsVolume(volume, sys!.length, tree, 'Windows');
  await copyInto(path, volume, sys!.offset);
  await writeBootCode(path);
  return { path, volume, ntfsOffset: sys!.offset };
}

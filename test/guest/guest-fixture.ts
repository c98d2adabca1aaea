import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { debianTree, ext4At, fatAt, partitionDisk, peImage, rootTree, writeBootCode, x86KernelHeader, type TreeFile } from '../helpers/guest-disks.js';

export const KERNEL = '6.1.0-13-amd64';

/** What a Debian guest disk was built with, for the tests to compare the inspector's facts against. */
export interface BuiltGuest {
  path: string;
  rootUuid: string;
  espVolumeId?: string | undefined;
  prettyName: string;
  versionId: string;
  rootPartition: number;
}

/** /etc/fstab, /etc/default/grub, a kernel, its modules directory and grub.cfg, as an installed Debian has them. */
export function debianBootFiles(rootUuid: string, extraFstab = '', kernel = KERNEL): TreeFile[] {
  return [
    { path: 'etc/fstab', content: `# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=${rootUuid} / ext4 errors=remount-ro 0 1\n${extraFstab}` },
    { path: 'etc/default/grub', content: 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n' },
    { path: `boot/vmlinuz-${kernel}`, content: x86KernelHeader() },
    { path: `boot/initrd.img-${kernel}`, content: 'initrd' },
    { path: `lib/modules/${kernel}/modules.dep`, content: '' },
    { path: 'boot/grub/grub.cfg', content: `set default="0"\nmenuentry 'Debian GNU/Linux' --class debian {\n\tlinux\t/boot/vmlinuz-${kernel} root=UUID=${rootUuid} ro quiet\n\tinitrd\t/boot/initrd.img-${kernel}\n}\n` },
  ];
}

function osRelease(tree: string): { prettyName: string; versionId: string } {
  const t = readFileSync(join(tree, 'usr/lib/os-release'), 'utf8');
  return { prettyName: /^PRETTY_NAME="(.*)"$/m.exec(t)![1]!, versionId: /^VERSION_ID="(.*)"$/m.exec(t)![1]! };
}

/**
 * The debootstrapped Debian on a 4 GiB disk: GPT with a 32 MiB ESP (BOOTX64.EFI, debian/grubx64.efi)
 * and an ext4 root (UEFI), or MBR with a bootable ext4 root and boot code in the MBR (BIOS).
 */
export async function buildDebianDisk(dir: string, scheme: 'gpt' | 'mbr'): Promise<BuiltGuest | { skip: string }> {
  const deb = await debianTree();
  if (!deb.tree) return { skip: deb.skip! };
  const rootUuid = randomUUID();
  const espId = scheme === 'gpt' ? `${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, '0')}42`.toUpperCase() : undefined;
  const extra = espId ? `UUID=${espId.slice(0, 4)}-${espId.slice(4)} /boot/efi vfat umask=0077 0 1\n` : '';
  const tree = await rootTree(join(dir, `root-${scheme}`), deb.tree, debianBootFiles(rootUuid, extra));
  const path = join(dir, `debian-${scheme}.raw`);
  if (scheme === 'gpt') {
    const [esp, root] = await partitionDisk(path, 4096, 'gpt', [{ sizeMiB: 32, type: 'ef00', name: 'EFI System' }, { sizeMiB: 0, type: '8300', name: 'root' }]);
    await fatAt(path, esp!, [{ path: '/EFI/BOOT/BOOTX64.EFI', content: peImage(0x8664) }, { path: '/EFI/debian/grubx64.efi', content: peImage(0x8664) }], { volumeId: espId!, label: 'ESP' }, dir);
    await ext4At(path, root!, tree, { uuid: rootUuid, label: 'debian-root' });
  } else {
    const [root] = await partitionDisk(path, 4096, 'mbr', [{ sizeMiB: 0, type: '83', bootable: true }]);
    await ext4At(path, root!, tree, { uuid: rootUuid, label: 'debian-root' });
    await writeBootCode(path);
  }
  return { path, rootUuid, espVolumeId: espId, ...osRelease(deb.tree), rootPartition: scheme === 'gpt' ? 2 : 1 };
}

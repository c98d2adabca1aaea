/**
 * The operating systems the clouds' image import accepts, as data. Source: AWS VM Import/Export
 * User Guide, "Requirements for resources that you import with VM Import/Export" (operating
 * systems, kernels, boot modes, volume types and file systems), and Alibaba Cloud ECS "Instructions
 * for importing images" (the Platform values of ImportImage). Transcribed by hand; when the guides
 * change, this file is the one place to change.
 */

export interface SupportedOs {
  /** os-release ID (plus ID_LIKE aliases). */
  ids: readonly string[];
  /** Major versions accepted (os-release VERSION_ID's first number); empty: any. */
  versions: readonly string[];
  /** ECS ImportImage Platform value for it. */
  ecsPlatform: string;
}

export const AWS_LINUX: readonly SupportedOs[] = [
  { ids: ['amzn'], versions: ['2', '2023'], ecsPlatform: 'Others Linux' },
  { ids: ['centos'], versions: ['5', '6', '7', '8'], ecsPlatform: 'CentOS' },
  { ids: ['debian'], versions: ['6', '7', '8', '9', '10', '11', '12'], ecsPlatform: 'Debian' },
  { ids: ['fedora'], versions: ['19', '20', '21'], ecsPlatform: 'Fedora' },
  { ids: ['ol'], versions: ['5', '6', '7', '8', '9'], ecsPlatform: 'Others Linux' },
  { ids: ['rhel'], versions: ['5', '6', '7', '8', '9'], ecsPlatform: 'RedHat' },
  { ids: ['sles', 'sled'], versions: ['11', '12', '15'], ecsPlatform: 'SUSE' },
  { ids: ['ubuntu'], versions: ['12', '13', '14', '15', '16', '17', '18', '20', '22', '24'], ecsPlatform: 'Ubuntu' },
  { ids: ['rocky'], versions: ['8', '9'], ecsPlatform: 'Rocky Linux' },
  { ids: ['almalinux'], versions: ['8', '9'], ecsPlatform: 'AlmaLinux' },
];

/** ECS ImportImage Platform values for Linux (Alibaba's list), keyed by os-release ID. */
export const ECS_LINUX: Readonly<Record<string, string>> = {
  alinux: 'Aliyun', anolis: 'Anolis', centos: 'CentOS', debian: 'Debian', ubuntu: 'Ubuntu', sles: 'SUSE', 'opensuse-leap': 'OpenSUSE',
  rhel: 'RedHat', fedora: 'Fedora', rocky: 'Rocky Linux', almalinux: 'AlmaLinux', gentoo: 'Gentoo', kylin: 'Kylin', uos: 'UOS',
  freebsd: 'FreeBSD', coreos: 'CoreOS',
};

/** AWS: kernels from 2.6.18 on are imported; older ones fail with "Unsupported kernel version". */
export const AWS_MIN_KERNEL = '2.6.18';

/** Root filesystems import understands (AWS guide "Volume types and file systems"). */
export const AWS_ROOT_FILESYSTEMS: readonly string[] = ['ext2', 'ext3', 'ext4', 'btrfs', 'jfs', 'xfs', 'ntfs'];
export const ECS_ROOT_FILESYSTEMS: readonly string[] = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'ntfs'];

/** Partition-table limits: MBR disks up to 2 TiB, GPT up to 16 TiB. */
export const MBR_MAX_BYTES = 2 * 1024 ** 4;

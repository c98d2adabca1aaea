/**
 * The operating systems the clouds' image import accepts, as data; when the guides change, this
 * file is the one place to change. Sources:
 * - AWS VM Import/Export User Guide, "Requirements for resources that you import with VM
 *   Import/Export" (docs.aws.amazon.com/vm-import/latest/userguide/prerequisites.html; its source is
 *   awsdocs/vm-import-export-user-guide doc_source/prerequisites.md): the Linux/Unix table
 *   (Amazon Linux 2 and 2023, CentOS 5.1-9, Debian 6.0.x, 7.x, 10, 11, 12.x, Fedora 18-20, ...)
 *   and the Windows OS table (Server 2003 SP1 ... 2019, 1709, 1803; Windows 7, 8, 8.1, 10, 11;
 *   64-bit only from Server 2008 R2 and Windows 8.1 on; Windows 11 needs UEFI). Windows Server 2022
 *   and 2025 are in the current guide's table, which the archived repository predates.
 * - Alibaba Cloud ECS ImportImage API reference, Platform parameter (the Linux and Windows values).
 *   Its older revisions list Windows Server 2003, 2008 and 2012 (an R2 imports under its base
 *   release's value); 2016, 2019, 2022, Windows 7 and 10 are the current reference's additions.
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
  { ids: ['centos'], versions: ['5', '6', '7', '8', '9'], ecsPlatform: 'CentOS' },
  { ids: ['debian'], versions: ['6', '7', '10', '11', '12'], ecsPlatform: 'Debian' },
  { ids: ['fedora'], versions: ['18', '19', '20'], ecsPlatform: 'Fedora' },
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

export interface WindowsRelease {
  /** The name AWS's table and ECS's Platform use: "Windows Server 2022", "Windows 10". */
  name: string;
  server: boolean;
  /** CurrentBuild (HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion) of the release's first and last builds. */
  builds: readonly [number, number];
}

/**
 * Windows releases by build number (Microsoft's release information pages). The build tells the
 * release where ProductName does not: Windows 11 keeps "Windows 10" in ProductName.
 */
export const WINDOWS_RELEASES: readonly WindowsRelease[] = [
  { name: 'Windows Server 2003', server: true, builds: [3790, 3790] },
  { name: 'Windows Server 2008', server: true, builds: [6001, 6003] },
  { name: 'Windows Server 2008 R2', server: true, builds: [7600, 7601] },
  { name: 'Windows Server 2012', server: true, builds: [9200, 9200] },
  { name: 'Windows Server 2012 R2', server: true, builds: [9600, 9600] },
  { name: 'Windows Server 2016', server: true, builds: [14393, 14393] },
  { name: 'Windows Server 1709', server: true, builds: [16299, 16299] },
  { name: 'Windows Server 1803', server: true, builds: [17134, 17134] },
  { name: 'Windows Server 2019', server: true, builds: [17763, 17763] },
  { name: 'Windows Server 2022', server: true, builds: [20348, 20348] },
  { name: 'Windows Server 2025', server: true, builds: [26100, 26100] },
  { name: 'Windows Vista', server: false, builds: [6000, 6003] },
  { name: 'Windows 7', server: false, builds: [7600, 7601] },
  { name: 'Windows 8', server: false, builds: [9200, 9200] },
  { name: 'Windows 8.1', server: false, builds: [9600, 9600] },
  { name: 'Windows 10', server: false, builds: [10240, 19045] },
  { name: 'Windows 11', server: false, builds: [22000, 29999] },
];

/** AWS's Windows OS table: the release and whether 32-bit is accepted; Windows 11 imports only in UEFI mode (footnote 2). */
export const AWS_WINDOWS: readonly { name: string; bits32: boolean; uefiOnly?: boolean }[] = [
  { name: 'Windows Server 2003', bits32: true },
  { name: 'Windows Server 2008', bits32: true },
  { name: 'Windows Server 2008 R2', bits32: false },
  { name: 'Windows Server 2012', bits32: false },
  { name: 'Windows Server 2012 R2', bits32: false },
  { name: 'Windows Server 2016', bits32: false },
  { name: 'Windows Server 1709', bits32: false },
  { name: 'Windows Server 1803', bits32: false },
  { name: 'Windows Server 2019', bits32: false },
  { name: 'Windows Server 2022', bits32: false },
  { name: 'Windows Server 2025', bits32: false },
  { name: 'Windows 7', bits32: true },
  { name: 'Windows 8', bits32: true },
  { name: 'Windows 8.1', bits32: false },
  { name: 'Windows 10', bits32: false },
  { name: 'Windows 11', bits32: false, uefiOnly: true },
];

/** ECS ImportImage Platform values for Windows; any other Windows imports as "Others Windows". */
export const ECS_WINDOWS: readonly string[] = ['Windows Server 2003', 'Windows Server 2008', 'Windows Server 2012', 'Windows Server 2016', 'Windows Server 2019', 'Windows Server 2022', 'Windows 7', 'Windows 10'];

/** The ECS Platform value for a Windows release: the release itself, an R2 under its base release, else "Others Windows". */
export function ecsWindowsPlatform(release: string | undefined): string {
  const base = release?.replace(/ R2$/, '');
  return base && ECS_WINDOWS.includes(base) ? base : 'Others Windows';
}

/** The release of a Windows build: server or client, by CurrentBuild and InstallationType. */
export function windowsRelease(build: number, server: boolean): WindowsRelease | undefined {
  return WINDOWS_RELEASES.find((r) => r.server === server && build >= r.builds[0] && build <= r.builds[1]);
}

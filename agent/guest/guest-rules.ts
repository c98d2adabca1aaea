import { finding, type Finding, type ImportTarget } from '../cloud/preflight/finding.js';
import type { GuestReport } from './inspector.js';
import { compareVersions, type LinuxFacts } from './linux-facts.js';
import type { WindowsFacts } from './windows-facts.js';
import { AWS_LINUX, AWS_MIN_KERNEL, AWS_ROOT_FILESYSTEMS, AWS_WINDOWS, ECS_LINUX, ECS_ROOT_FILESYSTEMS, ecsWindowsPlatform, MBR_MAX_BYTES } from './supported-os.js';

export interface GuestRuleInput {
  target: ImportTarget;
  guest: GuestReport;
  /** What the import will be told: AWS BootMode / Architecture / Platform, ECS BootMode / Platform / OSType / Architecture. */
  bootMode?: string | undefined;
  architecture?: string | undefined;
  platform?: string | undefined;
  osType?: string | undefined;
}

/** AWS reports in-guest refusals as the import task's StatusMessage "ClientError: ..." (VM Import/Export User Guide, "Troubleshooting"). */
const AWS = 'ClientError';
/** ECS documents no error code for in-guest refusals or for a Platform/BootMode that does not match the disk (the image then fails to boot): "-". */
const ECS = '-';

type Rule = (i: GuestRuleInput) => Finding[];

const code = (i: GuestRuleInput): string => (i.target === 'ecs-image' ? ECS : AWS);
const unreadable = (g: GuestReport) => g.volumes.filter((v) => ['xfs', 'btrfs', 'jfs', 'lvm2-pv'].includes(v.content.kind));
const linux = (g: GuestReport) => g.systems.filter((s): s is LinuxFacts & { volume: number } => s.family === 'linux');
const windows = (g: GuestReport) => g.systems.filter((s): s is WindowsFacts & { volume: number } => s.family === 'windows');
const winName = (w: WindowsFacts) => `${w.productName ?? 'Windows'} (build ${w.currentBuild ?? '?'}${w.release ? `, ${w.release}` : ''})`;
const systemName = (s: GuestReport['systems'][number]) => (s.family === 'windows' ? winName(s) : (s.prettyName ?? s.id ?? 'Linux'));

const noOs: Rule = (i) => {
  const g = i.guest;
  if (g.systems.length) return [];
  // A disk with neither a partition table nor any known signature (blank, or a data disk) gives no finding: there is no guest to judge.
  if (g.partitionTable.scheme === 'none' && g.volumes.every((v) => v.content.kind === 'unknown')) return [];
  if (g.volumes.length === 0 || g.volumes.every((v) => v.content.kind === 'unknown')) {
    // Partitions of a filesystem the inspector does not know (ZFS, UFS, ReFS): it cannot tell the import will fail, so it warns.
    return [finding('warning', 'guest-not-recognised', code(i), 'no partition or volume holds a filesystem vmxfer recognises; if none is there the import fails with "No valid partitions. Not a valid volume."', 'Check that this is the system disk, with a partition table and a supported filesystem.')];
  }
  const hidden = unreadable(g);
  if (hidden.length) {
    return [finding('warning', 'guest-os-not-read', code(i), `no OS was read: ${hidden.map((v) => `${v.content.kind} on partition ${v.partition ?? '-'}`).join(', ')} ${hidden.length > 1 ? 'are' : 'is'} detected but not read by vmxfer`, 'Check the OS against the supported-OS list yourself.')];
  }
  if (g.encrypted) return [];
  return [finding('error', 'guest-os-unknown', code(i), 'no operating system was found on the disk ("Unknown OS / Missing OS files")', 'Import the system disk, with /etc/os-release and a kernel in /boot.')];
};

/** AWS's Windows OS table (release, 32-bit, Windows 11's UEFI); ECS's Platform list for Windows. */
const windowsSupported: Rule = (i) => {
  const out: Finding[] = [];
  for (const w of windows(i.guest)) {
    if (i.target === 'ecs-image') {
      if (ecsWindowsPlatform(w.release) === 'Others Windows') out.push(finding('warning', 'guest-os-unsupported', ECS, `${winName(w)} is not among ECS ImportImage's Windows platforms`, 'Import with Platform "Others Windows" and check the drivers yourself.'));
      continue;
    }
    const entry = AWS_WINDOWS.find((e) => e.name === w.release);
    if (!entry) {
      out.push(finding('error', 'guest-os-unsupported', AWS, `${winName(w)} is not a supported operating system for VM Import ("Unknown OS / Missing OS files")`, 'Import a supported Windows release (VM Import/Export User Guide, Windows OS table).'));
    } else if (!entry.bits32 && w.architecture === 'i386') {
      out.push(finding('error', 'guest-os-unsupported', AWS, `${winName(w)} is 32-bit; VM Import takes only its 64-bit edition`, 'Import the 64-bit edition.'));
    } else if (entry.uefiOnly && i.bootMode && /bios/i.test(i.bootMode)) {
      out.push(finding('error', 'guest-boot-mode', AWS, `${winName(w)} boots only in UEFI mode, but boot mode ${i.bootMode} was asked`, 'Import with --boot-mode uefi.'));
    }
  }
  return out;
};

/** Windows boots in BIOS mode from an MBR disk with bootmgr and Boot/BCD, in UEFI mode from a GPT disk with bootmgfw.efi on its ESP. */
const windowsBoot: Rule = (i) => {
  const g = i.guest;
  if (!windows(g).length) return [];
  const wb = g.windowsBoot ?? {};
  const biosOk = g.partitionTable.scheme === 'mbr' && g.bootModes.includes('BIOS') && wb.bios !== undefined && wb.bios.bcd;
  const uefiOk = g.partitionTable.scheme === 'gpt' && wb.uefi !== undefined && wb.uefi.bcd;
  const can = [biosOk ? 'BIOS' : '', uefiOk ? 'UEFI' : ''].filter(Boolean);
  const missing = (mode: string) => (mode === 'UEFI'
    ? [g.partitionTable.scheme !== 'gpt' ? `the disk is ${g.partitionTable.scheme}, not GPT` : '', !wb.uefi ? 'no EFI system partition holds /EFI/Microsoft/Boot/bootmgfw.efi' : !wb.uefi.bcd ? 'the ESP has no /EFI/Microsoft/Boot/BCD' : '']
    : [g.partitionTable.scheme !== 'mbr' ? `the disk is ${g.partitionTable.scheme}, not MBR` : '', !g.bootModes.includes('BIOS') ? 'the MBR holds no boot code' : '', !wb.bios ? 'no NTFS volume holds bootmgr' : !wb.bios.bcd ? 'the bootmgr volume has no Boot/BCD' : '']).filter(Boolean).join('; ');
  if (!can.length) {
    return [finding('error', 'guest-windows-boot', code(i), `Windows cannot boot from this disk: for BIOS ${missing('BIOS')}; for UEFI ${missing('UEFI')}`, 'Repair the Windows boot files (bcdboot C:\\Windows /f ALL) before exporting the disk.')];
  }
  if (!i.bootMode || i.bootMode.toLowerCase() === 'uefi-preferred') return [];
  const wanted = /bios/i.test(i.bootMode) ? 'BIOS' : 'UEFI';
  if (can.includes(wanted)) return [];
  const other = i.target === 'ecs-image' ? can[0]! : can[0] === 'UEFI' ? 'uefi' : 'legacy-bios';
  return [finding('error', 'guest-boot-mode', code(i), `boot mode ${i.bootMode} was asked, but Windows on this disk cannot boot in ${wanted} mode: ${missing(wanted)}`, `Import with --boot-mode ${other}.`)];
};

const osSupported: Rule = (i) => {
  const out: Finding[] = [];
  for (const os of linux(i.guest)) {
    const major = (os.versionId ?? '').split('.')[0] ?? '';
    const name = os.prettyName ?? `${os.id} ${os.versionId}`;
    if (i.target === 'ecs-image') {
      if (os.id && !ECS_LINUX[os.id]) out.push(finding('warning', 'guest-os-unsupported', ECS, `${name} is not among ECS ImportImage's platforms`, 'Import with Platform "Others Linux" or "Customized Linux" and check cloud-init and drivers yourself.'));
      continue;
    }
    const entry = AWS_LINUX.find((e) => os.id !== undefined && e.ids.includes(os.id));
    if (!entry || (entry.versions.length && !entry.versions.includes(major))) {
      out.push(finding('error', 'guest-os-unsupported', AWS, `${name} (ID=${os.id ?? '?'}, VERSION_ID=${os.versionId ?? '?'}) is not a supported operating system for VM Import ("Unknown OS / Missing OS files")`, 'Import a supported distribution and version (VM Import/Export User Guide, supported operating systems).'));
    }
  }
  return out;
};

const kernel: Rule = (i) => {
  const out: Finding[] = [];
  for (const os of linux(i.guest)) {
    const named = i.guest.boot?.defaultEntry?.kernelVersion;
    const def = named !== undefined && os.kernels.includes(named) ? named : undefined;
    const version = def ?? os.kernels[os.kernels.length - 1];
    if (!version) {
      out.push(finding('error', 'guest-no-kernel', code(i), `${os.prettyName ?? 'the Linux root'} has no kernel image in /boot ("Missing OS files")`, 'Install a kernel package in the guest before importing.'));
      continue;
    }
    if (i.target !== 'ecs-image' && compareVersions(version, AWS_MIN_KERNEL) < 0) {
      out.push(finding('error', 'guest-kernel-unsupported', AWS, `the ${def ? 'default' : 'newest'} kernel ${version} is older than ${AWS_MIN_KERNEL} ("Unsupported kernel version")`, `Boot a kernel of version ${AWS_MIN_KERNEL} or later by default before importing.`));
    }
  }
  return out;
};

/** AWS BootMode legacy-bios / uefi / uefi-preferred; ECS BootMode BIOS / UEFI. */
const bootMode: Rule = (i) => {
  const modes = i.guest.bootModes;
  // Windows has its own boot rule (windowsBoot): it needs its boot manager, not just any loader.
  if (!linux(i.guest).length) return [];
  if (modes.length === 0) {
    return [finding('error', 'guest-not-bootable', code(i), 'the disk has neither MBR boot code nor an EFI loader on an EFI system partition', 'Install a boot loader (grub-install for BIOS, an EFI loader in /EFI/BOOT for UEFI) before importing.')];
  }
  if (!i.bootMode) return [];
  const wanted = i.bootMode.toLowerCase();
  const can = (m: 'BIOS' | 'UEFI') => modes.includes(m);
  const ok = wanted === 'uefi-preferred' || (wanted === 'legacy-bios' || wanted === 'bios' ? can('BIOS') : can('UEFI'));
  if (ok) return [];
  const other = i.target === 'ecs-image' ? modes[0] : modes[0] === 'UEFI' ? 'uefi' : 'legacy-bios';
  return [finding('error', 'guest-boot-mode', code(i), `boot mode ${i.bootMode} was asked, but the disk boots only in ${modes.join(' and ')}`, `Import with --boot-mode ${other}.`)];
};

const encrypted: Rule = (i) =>
  i.guest.volumes.filter((v) => v.content.encrypted).map((v) =>
    finding('error', 'guest-encrypted-volume', code(i), `partition ${v.partition ?? '-'} is a ${v.content.kind} encrypted volume${v.content.uuid ? ` (UUID ${v.content.uuid})` : ''}; import cannot read encrypted volumes`, 'Decrypt the volume in the guest before exporting the disk (use the cloud\'s own disk encryption instead).'));

const dualBoot: Rule = (i) =>
  i.guest.dualBoot ? [finding('error', 'guest-dual-boot', code(i), `the disk holds ${i.guest.systems.length} operating systems (${i.guest.systems.map(systemName).join(', ')}); import does not support dual boot`, 'Import a disk with one operating system.')] : [];

const dynamicDisk: Rule = (i) =>
  i.guest.dynamicDisk ? [finding('error', 'guest-dynamic-disk', code(i), 'the disk is a Windows dynamic disk (LDM partitions)', 'Convert the disk to a basic disk in Windows Disk Management before exporting it.')] : [];

const grubConfigs: Rule = (i) => {
  const cfgs = i.guest.boot?.grubConfigs ?? [];
  if (!cfgs.some((c) => !c.sameAsFirst)) return [];
  return [finding('error', 'guest-multiple-grub', code(i), `different GRUB configurations are present: ${cfgs.map((c) => c.path).join(', ')} ("Multiple different grub/menu.lst files found")`, 'Keep one GRUB configuration (remove the stale grub.cfg / menu.lst) before exporting.')];
};

const blsDefault: Rule = (i) => {
  const b = i.guest.boot;
  if (!b || !b.usesBls || b.defaultEntry) return [];
  return [finding('error', 'guest-bls-default', code(i), `GRUB reads ${b.blsEntries.length} BLS entries but no default kernel can be told (grubenv saved_entry names none of them) ("BLSC-style GRUB found, but unable to detect default kernel")`, 'Run grubby --set-default with the kernel to boot before exporting.')];
};

const rootPlacement: Rule = (i) => {
  const r = i.guest.root;
  if (!r || r.onBootDisk !== 'no') return [];
  return [finding('error', 'guest-root-elsewhere', code(i), `fstab mounts / from ${r.device}, which is not on this (the boot) disk`, 'Import a disk whose root filesystem lies on the disk with the boot loader.')];
};

const rootFilesystem: Rule = (i) => {
  const allowed = i.target === 'ecs-image' ? ECS_ROOT_FILESYSTEMS : AWS_ROOT_FILESYSTEMS;
  const r = i.guest.root;
  const v = r?.volume !== undefined ? i.guest.volumes[r.volume] : undefined;
  if (!v || allowed.includes(v.content.kind)) return [];
  return [finding('error', 'guest-root-filesystem', code(i), `the root filesystem is ${v.content.kind}, which import does not support`, `Use one of ${allowed.join(', ')} for the root filesystem.`)];
};

const fstabNames: Rule = (i) => {
  const out: Finding[] = [];
  for (const os of linux(i.guest)) {
    const lines = os.fstab.filter((e) => e.naming === 'device-path');
    if (!lines.length) continue;
    out.push(finding('warning', 'guest-fstab-device-names', code(i), `/etc/fstab names devices by kernel name, which change on the cloud's disks: ${lines.map((e) => `line ${e.line} "${e.device} ${e.mountPoint}"`).join(', ')}`, 'Import rewrites these lines to UUID= (AWS) or they may not mount (ECS); name them by UUID= or LABEL= yourself to be sure.'));
  }
  return out;
};

const mbrSize: Rule = (i) => {
  const t = i.guest.partitionTable;
  const end = Math.max(0, ...t.partitions.map((p) => p.offset + p.length));
  if (t.scheme !== 'mbr' || end <= MBR_MAX_BYTES) return [];
  return [finding('error', 'guest-mbr-size', code(i), `MBR partitions reach ${end} bytes, past the 2 TiB an MBR disk can address`, 'Convert the disk to GPT (sgdisk --mbrtogpt) or shrink it below 2 TiB.')];
};

const architecture: Rule = (i) => {
  const found = i.guest.architecture;
  if (!found || !i.architecture) return [];
  const norm = (a: string) => a.toLowerCase().replace('aarch64', 'arm64').replace('x64', 'x86_64');
  if (norm(i.architecture) === norm(found)) return [];
  return [finding('error', 'guest-architecture', code(i), `architecture ${i.architecture} was asked, but the guest's ${i.guest.efiLoaders.length ? 'EFI loader' : windows(i.guest).length ? 'ntoskrnl.exe' : 'kernel'} is ${found}`, `Import with --architecture ${found}.`)];
};

/** ECS ImportImage Platform and OSType must name what the disk holds, or the image boots with the wrong initialisation. */
const ecsPlatform: Rule = (i) => {
  if (i.target !== 'ecs-image') return [];
  const win = windows(i.guest)[0];
  if (win) {
    const found: Finding[] = [];
    if (i.osType && i.osType.toLowerCase() !== 'windows') found.push(finding('error', 'guest-ecs-os-type', ECS, `OSType ${i.osType} was asked, but the disk holds ${winName(win)}`, 'Import with OSType windows.'));
    const expected = ecsWindowsPlatform(win.release);
    if (i.platform && i.platform !== expected) found.push(finding('error', 'guest-ecs-platform', ECS, `Platform ${i.platform} was asked, but the disk holds ${winName(win)}`, `Import with Platform ${expected}.`));
    return found;
  }
  const os = linux(i.guest)[0];
  const out: Finding[] = [];
  if (i.osType && os && i.osType.toLowerCase() !== 'linux') out.push(finding('error', 'guest-ecs-os-type', ECS, `OSType ${i.osType} was asked, but the disk holds ${os.prettyName ?? 'Linux'}`, 'Import with OSType linux.'));
  const expected = os?.id ? ECS_LINUX[os.id] : undefined;
  if (i.platform && expected && i.platform !== expected) out.push(finding('error', 'guest-ecs-platform', ECS, `Platform ${i.platform} was asked, but the disk holds ${os!.prettyName ?? os!.id}`, `Import with Platform ${expected}.`));
  return out;
};

const RULES: Rule[] = [noOs, osSupported, windowsSupported, windowsBoot, kernel, bootMode, encrypted, dualBoot, dynamicDisk, grubConfigs, blsDefault, rootPlacement, rootFilesystem, fstabNames, mbrSize, architecture, ecsPlatform];

/** What the import would refuse or change inside the guest, in the preflight's finding model. */
export function guestRules(input: GuestRuleInput): Finding[] {
  const all = RULES.flatMap((r) => r(input));
  // ImportSnapshot takes any disk (a data disk has no OS): what would stop an image from booting is a warning there.
  return input.target === 'aws-snapshot' ? all.map((f) => (f.severity === 'error' ? { ...f, severity: 'warning' as const } : f)) : all;
}

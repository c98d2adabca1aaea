import type { DiskSource } from '../disk/disk-source.js';
import { guestBytes, DEFAULT_GUEST_CACHE_BYTES, type GuestBytes } from './byte-source.js';
import { readPartitionTable, type PartitionTable } from './partition-table.js';
import { probeVolume, Volume, type VolumeContent } from './volume-probe.js';
import { ntfs } from './ntfs-volume.js';
import { Ext4Reader } from './ext4-reader.js';
import { FatReader } from './fat-reader.js';
import type { GuestFiles } from './guest-files.js';
import { isLinuxRoot, linuxFacts, type LinuxFacts } from './linux-facts.js';
import { readBootConfig, type BootConfig } from './boot-config.js';
import { peArchitecture } from './kernel-arch.js';
import { kernelDisk } from './fstab.js';
import { logicalVolumes } from './lvm-metadata.js';
import { NtfsReader } from './ntfs-reader.js';
import { windowsDirectory, windowsFacts, type WindowsFacts } from './windows-facts.js';

export type GuestSystem = (LinuxFacts | WindowsFacts) & { volume: number };

/** Where the Windows boot manager lies: bootmgr and Boot/BCD on an NTFS volume (BIOS), bootmgfw.efi and BCD on the ESP (UEFI). */
export interface WindowsBootManager {
  bios?: { volume: number; bcd: boolean } | undefined;
  uefi?: { volume: number; path: string; bcd: boolean } | undefined;
}

export interface GuestVolume {
  /** The partition number, absent for a disk without a partition table. */
  partition?: number | undefined;
  offset: number;
  length: number;
  partitionType?: string | undefined;
  /** An LVM2 logical volume followed from the physical volume on `partition`: "vg/lv". */
  logicalVolume?: string | undefined;
  content: VolumeContent;
  /** root (an OS's /), boot (a separate /boot), esp (holds EFI loaders). */
  role?: 'root' | 'boot' | 'esp' | undefined;
}

export interface EfiLoader {
  volume: number;
  path: string;
  architecture?: string | undefined;
}

export interface RootPlacement {
  /** What fstab mounts on / (or the volume the OS was found on when fstab names none). */
  device: string;
  naming: string;
  /** Index in `volumes` of the root filesystem when it is on this disk. */
  volume?: number | undefined;
  /** yes: the root lies on this (the boot) disk; no: fstab names another disk; unknown: LVM/device-mapper or an unmatched name. */
  onBootDisk: 'yes' | 'no' | 'unknown';
}

export interface GuestReport {
  partitionTable: PartitionTable;
  volumes: GuestVolume[];
  /** The firmware modes the disk can boot in: BIOS (MBR boot code), UEFI (an EFI loader on an ESP). */
  bootModes: ('BIOS' | 'UEFI')[];
  efiLoaders: EfiLoader[];
  systems: GuestSystem[];
  /** Present when a Windows system or a Windows boot manager was found. */
  windowsBoot?: WindowsBootManager | undefined;
  boot?: (BootConfig & { volume: number }) | undefined;
  architecture?: string | undefined;
  encrypted: boolean;
  /** Windows dynamic disk (LDM) partitions present. */
  dynamicDisk: boolean;
  dualBoot: boolean;
  root?: RootPlacement | undefined;
  /** Bytes of the virtual disk read and the time the inspection took. */
  bytesRead: number;
  elapsedMs: number;
  warnings: string[];
}

export interface InspectOptions {
  maxCacheBytes?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Looks inside a disk: partitions, volumes, filesystems, the OS and how it boots. Nothing is written. */
export async function inspectGuest(disk: DiskSource, name: string, opts: InspectOptions = {}): Promise<GuestReport> {
  const started = performance.now();
  const bytes = await guestBytes(disk, name, { maxCacheBytes: opts.maxCacheBytes ?? DEFAULT_GUEST_CACHE_BYTES, signal: opts.signal });
  const table = await readPartitionTable(bytes);
  const warnings = [...table.warnings];
  const volumes: GuestVolume[] = [];
  const areas = table.scheme === 'none' ? [{ offset: 0, length: bytes.size }] : table.partitions.filter((p) => p.typeName !== 'extended');
  for (const a of areas) {
    const p = 'number' in a ? a : undefined;
    const content = await probeVolume(new Volume(bytes, a.offset, a.length), [ntfs]);
    volumes.push({ partition: p?.number, offset: a.offset, length: a.length, partitionType: p?.typeName, content });
  }
  for (const v of [...volumes]) if (v.content.kind === 'lvm2-pv') volumes.push(...(await followLvm(bytes, v, warnings)));
  const systems: GuestReport['systems'] = [];
  const efiLoaders: EfiLoader[] = [];
  const windowsBoot: WindowsBootManager = {};
  let boot: GuestReport['boot'];
  for (const [i, v] of volumes.entries()) {
    const files = await filesOf(bytes, v);
    if (!files) continue;
    if (v.content.kind === 'vfat') {
      const loaders = await efiLoadersOf(files, i);
      if (loaders.length) v.role = 'esp';
      efiLoaders.push(...loaders);
      const mgr = loaders.find((l) => l.path.toLowerCase() === WINDOWS_EFI_LOADER);
      if (mgr && !windowsBoot.uefi) windowsBoot.uefi = { volume: i, path: mgr.path, bcd: (await files.readFile('/EFI/Microsoft/Boot/BCD', 1)) !== undefined };
    } else if (files instanceof NtfsReader) {
      const dir = await windowsDirectory(files);
      const facts = dir ? await windowsFacts(files, dir) : undefined;
      if (facts) {
        v.role = 'root';
        systems.push({ ...facts, volume: i });
      }
      const bootmgr = facts ? facts.bootmgr : (await files.readFile('/bootmgr', 1)) !== undefined;
      if (bootmgr && !facts) v.role = 'boot';
      if (bootmgr && !windowsBoot.bios) windowsBoot.bios = { volume: i, bcd: facts ? facts.bcd : (await files.readFile('/Boot/BCD', 1)) !== undefined };
    } else if (await isLinuxRoot(files)) {
      v.role = 'root';
      systems.push({ ...(await linuxFacts(files)), volume: i });
      const cfg = await readBootConfig(files, '/boot');
      if (!boot && (cfg.grubConfigs.length || cfg.blsEntries.length)) boot = { ...cfg, volume: i };
    } else if ((await files.isDirectory('/grub')) || (await files.isDirectory('/grub2')) || (await files.isDirectory('/loader'))) {
      v.role = 'boot';
      const cfg = await readBootConfig(files, '');
      if (cfg.grubConfigs.length || cfg.blsEntries.length) boot = { ...cfg, volume: i };
    }
  }
  const sector0 = await bytes.read(0, 512);
  const report: GuestReport = {
    partitionTable: table,
    volumes,
    bootModes: bootModes(table, sector0, efiLoaders),
    efiLoaders,
    systems,
    windowsBoot: systems.some((x) => x.family === 'windows') || windowsBoot.bios || windowsBoot.uefi ? windowsBoot : undefined,
    boot,
    architecture: efiLoaders.find((l) => l.architecture)?.architecture ?? systems.find((s) => s.architecture)?.architecture,
    encrypted: volumes.some((v) => v.content.encrypted === true),
    dynamicDisk: table.partitions.some((p) => p.typeName.startsWith('ldm-')),
    dualBoot: systems.length > 1,
    root: systems.length ? rootPlacement(systems[0]!, volumes, table) : undefined,
    bytesRead: 0,
    elapsedMs: 0,
    warnings,
  };
  return finish(report, bytes, started);
}

function finish(r: GuestReport, bytes: GuestBytes, started: number): GuestReport {
  return { ...r, bytesRead: bytes.bytesRead, elapsedMs: Math.round((performance.now() - started) * 10) / 10 };
}

/** The logical volumes of a PV that are one linear segment on it, probed like partitions; the others named in a warning. */
async function followLvm(bytes: GuestBytes, pv: GuestVolume, warnings: string[]): Promise<GuestVolume[]> {
  const out: GuestVolume[] = [];
  const lvs = await logicalVolumes(new Volume(bytes, pv.offset, pv.length));
  if (!lvs.length) warnings.push(`partition ${pv.partition ?? '-'} is an LVM2 physical volume whose metadata lists no logical volume`);
  for (const lv of lvs) {
    const id = `${lv.vg}/${lv.name}`;
    if (lv.offset === undefined || lv.length === undefined) {
      warnings.push(`LVM logical volume ${id} on partition ${pv.partition ?? '-'} is not read: ${lv.notFollowed}`);
      continue;
    }
    const offset = pv.offset + lv.offset;
    out.push({ partition: pv.partition, logicalVolume: id, offset, length: lv.length, content: await probeVolume(new Volume(bytes, offset, lv.length), [ntfs]) });
  }
  return out;
}

async function filesOf(bytes: GuestBytes, v: GuestVolume): Promise<GuestFiles | undefined> {
  const vol = new Volume(bytes, v.offset, v.length);
  if (['ext2', 'ext3', 'ext4'].includes(v.content.kind)) return Ext4Reader.open(vol);
  if (v.content.kind === 'vfat') return FatReader.open(vol);
  if (v.content.kind === 'ntfs') return NtfsReader.open(vol);
  return undefined;
}

/** The Windows boot manager's path on the ESP (Microsoft, "UEFI/GPT-based hard drive partitions"). */
const WINDOWS_EFI_LOADER = '/efi/microsoft/boot/bootmgfw.efi';

/** UEFI 2.10 §3.5.1.1: removable-media loaders /EFI/BOOT/BOOT{X64,AA64,IA32}.EFI, plus the .efi files of each vendor directory and its subdirectories (Microsoft keeps bootmgfw.efi in /EFI/Microsoft/Boot). */
async function efiLoadersOf(fs: GuestFiles, volume: number): Promise<EfiLoader[]> {
  const out: EfiLoader[] = [];
  const scan = async (dir: string, depth: number): Promise<void> => {
    for (const name of (await fs.list(dir)) ?? []) {
      const path = `${dir}/${name}`;
      if (/\.efi$/i.test(name)) {
        const head = await fs.readFile(path, 4096);
        out.push({ volume, path, architecture: head ? peArchitecture(head) : undefined });
      } else if (depth < 2 && (await fs.isDirectory(path))) {
        await scan(path, depth + 1);
      }
    }
  };
  for (const dir of (await fs.list('/EFI')) ?? []) if (await fs.isDirectory(`/EFI/${dir}`)) await scan(`/EFI/${dir}`, 1);
  return out;
}

/**
 * BIOS boot needs boot code in the MBR's first 440 bytes and, on GPT, a BIOS boot partition or a
 * hybrid MBR (where GRUB keeps its core image); UEFI needs an EFI loader on a FAT volume.
 */
function bootModes(table: PartitionTable, sector0: Buffer, loaders: EfiLoader[]): ('BIOS' | 'UEFI')[] {
  const code = sector0.subarray(0, 440).some((b) => b !== 0);
  const biosLayout = table.scheme === 'mbr' || table.scheme === 'none' || table.hybridMbr === true || table.partitions.some((p) => p.typeName === 'bios-boot');
  const modes: ('BIOS' | 'UEFI')[] = [];
  if (code && biosLayout && table.scheme !== 'none') modes.push('BIOS');
  if (loaders.length) modes.push('UEFI');
  return modes;
}

function rootPlacement(os: GuestSystem, volumes: GuestVolume[], table: PartitionTable): RootPlacement {
  if (os.family === 'windows') return { device: os.windowsDir, naming: 'found', volume: os.volume, onBootDisk: 'yes' };
  const e = os.fstab.find((x) => x.mountPoint === '/');
  if (!e) return { device: `volume ${os.volume}`, naming: 'found', volume: os.volume, onBootDisk: 'yes' };
  const value = e.device.replace(/^[A-Z]+=/i, '').replace(/^"(.*)"$/, '$1');
  const match = (i: number | undefined): RootPlacement => ({ device: e.device, naming: e.naming, volume: i, onBootDisk: i === undefined ? 'no' : 'yes' });
  if (e.naming === 'uuid') return match(index(volumes, (v) => v.content.uuid?.toLowerCase() === value.toLowerCase()));
  if (e.naming === 'label') return match(index(volumes, (v) => v.content.label === value));
  if (e.naming === 'partuuid') return match(index(volumes, (v) => table.partitions.find((p) => p.number === v.partition)?.guid?.toLowerCase() === value.toLowerCase()));
  if (e.naming === 'partlabel') return match(index(volumes, (v) => table.partitions.find((p) => p.number === v.partition)?.name === value));
  if (e.naming === 'device-path') {
    const d = kernelDisk(e.device);
    const first = d === 'sda' || d === 'hda' || d === 'vda' || d === 'xvda' || d === 'nvme0n1';
    const part = Number(/(\d+)$/.exec(e.device.replace(/nvme0n1/, ''))?.[1]);
    return first ? match(index(volumes, (v) => v.partition === part)) : { device: e.device, naming: e.naming, onBootDisk: 'no' };
  }
  const lv = lvmName(e.device);
  const hit = lv === undefined ? undefined : index(volumes, (v) => v.logicalVolume === lv);
  if (hit !== undefined) return { device: e.device, naming: e.naming, volume: hit, onBootDisk: 'yes' };
  return { device: e.device, naming: e.naming, onBootDisk: 'unknown' };
}

/** /dev/mapper/VG-LV (a dash inside a name doubled, as device-mapper writes it) or /dev/VG/LV, as "VG/LV". */
function lvmName(device: string): string | undefined {
  const m = /^\/dev\/mapper\/((?:[^-]|--)+)-((?:[^-]|--)+)$/.exec(device);
  if (m) return `${m[1]!.replace(/--/g, '-')}/${m[2]!.replace(/--/g, '-')}`;
  const d = /^\/dev\/([^/]+)\/([^/]+)$/.exec(device);
  return d && d[1] !== 'disk' && d[1] !== 'mapper' ? `${d[1]}/${d[2]}` : undefined;
}

function index(vs: GuestVolume[], f: (v: GuestVolume) => boolean): number | undefined {
  const i = vs.findIndex(f);
  return i < 0 ? undefined : i;
}

/** The Linux systems of a report. */
export function linuxSystems(r: GuestReport): (LinuxFacts & { volume: number })[] {
  return r.systems.filter((s): s is LinuxFacts & { volume: number } => s.family === 'linux');
}

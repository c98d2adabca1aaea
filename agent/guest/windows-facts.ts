import type { GuestFiles } from './guest-files.js';
import type { NtfsReader } from './ntfs-reader.js';
import { RegistryHive } from './regf-hive.js';
import { peArchitecture } from './kernel-arch.js';
import { windowsRelease } from './supported-os.js';

export interface WindowsFacts {
  family: 'windows';
  /** The Windows directory as named on the volume ("/Windows"). */
  windowsDir: string;
  /** HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion values. */
  productName?: string | undefined;
  editionId?: string | undefined;
  installationType?: string | undefined;
  currentBuild?: string | undefined;
  displayVersion?: string | undefined;
  /** CurrentMajorVersionNumber.CurrentMinorVersionNumber (Windows 10 on), else CurrentVersion. */
  version?: string | undefined;
  /** The release told by the build ("Windows Server 2022"), undefined for a build no table row holds. */
  release?: string | undefined;
  /** From System32/ntoskrnl.exe's PE header. */
  architecture?: string | undefined;
  /** The BIOS boot manager (bootmgr, Boot/BCD) on this same volume. */
  bootmgr: boolean;
  bcd: boolean;
}

const CURRENT_VERSION = 'Microsoft\\Windows NT\\CurrentVersion';

async function named(fs: GuestFiles, dir: string, name: string): Promise<string | undefined> {
  return ((await fs.list(dir)) ?? []).find((n) => n.toLowerCase() === name.toLowerCase());
}

/** A Windows system volume: a Windows directory holding System32. */
export async function windowsDirectory(fs: GuestFiles): Promise<string | undefined> {
  const dir = await named(fs, '/', 'Windows');
  return dir && (await fs.isDirectory(`/${dir}/System32`)) ? `/${dir}` : undefined;
}

/**
 * The version from the SOFTWARE hive (what Windows itself reports; ntoskrnl.exe's version resource
 * changes with every servicing update and does not name the edition or installation type), the
 * architecture from ntoskrnl.exe's PE header, and the BIOS boot manager files beside it.
 */
export async function windowsFacts(fs: NtfsReader, windowsDir: string): Promise<WindowsFacts> {
  const out: WindowsFacts = { family: 'windows', windowsDir, bootmgr: (await fs.readFile('/bootmgr', 1)) !== undefined, bcd: (await fs.readFile('/Boot/BCD', 1)) !== undefined };
  const hive = await fs.openFile(`${windowsDir}/System32/config/SOFTWARE`);
  if (hive) {
    const h = await RegistryHive.open((o, l) => hive.read(o, l), hive.size, `${windowsDir}/System32/config/SOFTWARE`);
    out.productName = await h.string(CURRENT_VERSION, 'ProductName');
    out.editionId = await h.string(CURRENT_VERSION, 'EditionID');
    out.installationType = await h.string(CURRENT_VERSION, 'InstallationType');
    out.currentBuild = (await h.string(CURRENT_VERSION, 'CurrentBuild')) ?? (await h.string(CURRENT_VERSION, 'CurrentBuildNumber'));
    out.displayVersion = await h.string(CURRENT_VERSION, 'DisplayVersion');
    const major = await h.dword(CURRENT_VERSION, 'CurrentMajorVersionNumber');
    out.version = major !== undefined ? `${major}.${(await h.dword(CURRENT_VERSION, 'CurrentMinorVersionNumber')) ?? 0}` : await h.string(CURRENT_VERSION, 'CurrentVersion');
    const build = Number(out.currentBuild);
    const server = /server/i.test(out.installationType ?? out.productName ?? '');
    out.release = Number.isInteger(build) ? windowsRelease(build, server)?.name : undefined;
  }
  const kernel = await fs.readFile(`${windowsDir}/System32/ntoskrnl.exe`, 4096);
  out.architecture = kernel ? peArchitecture(kernel) : undefined;
  return out;
}

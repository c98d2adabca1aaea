import type { GuestBytes } from './byte-source.js';
import { uuidAt } from './guid.js';

/** What a partition (or a whole disk without a table) holds, read from its signatures. */
export interface VolumeContent {
  /** ext2, ext3, ext4, xfs, btrfs, ntfs, vfat, exfat, jfs, swap; or a container: luks1, luks2, bitlocker, lvm2-pv; unknown. */
  kind: string;
  /** Encrypted containers: LUKS and BitLocker are detected, never opened. */
  encrypted?: boolean | undefined;
  label?: string | undefined;
  uuid?: string | undefined;
  /** Filesystem-specific facts (ext feature flags, NTFS cluster size, LVM volume group). */
  details?: Record<string, unknown> | undefined;
}

type Probe = (v: Volume) => Promise<VolumeContent | undefined>;

/** A partition's bytes: offsets are relative to its first byte. */
export class Volume {
  constructor(readonly disk: GuestBytes, readonly offset: number, readonly length: number) {}

  read(at: number, length: number): Promise<Buffer> {
    const len = Math.max(0, Math.min(length, this.length - at));
    return len === 0 ? Promise.resolve(Buffer.alloc(length)) : this.disk.read(this.offset + at, len).then((b) => (b.length === length ? b : Buffer.concat([b, Buffer.alloc(length - b.length)])));
  }
}

function text(b: Buffer, from: number, to: number, enc: BufferEncoding = 'utf8'): string {
  return b.toString(enc, from, to).replace(/\0.*$/s, '').trim();
}

/** LUKS1 (cryptsetup's LUKS1 On-Disk Format §2.4) and LUKS2 (LUKS2 On-Disk Format §2.1): magic, version, UUID at 168, LUKS2 label at 24. */
const luks: Probe = async (v) => {
  const h = await v.read(0, 512);
  if (!h.subarray(0, 6).equals(Buffer.from('LUKS\xba\xbe', 'latin1'))) return undefined;
  const version = h.readUInt16BE(6);
  return { kind: version === 2 ? 'luks2' : 'luks1', encrypted: true, uuid: text(h, 168, 208, 'latin1'), label: version === 2 ? text(h, 24, 72) || undefined : undefined };
};

/** BitLocker: the volume header's OEM name is "-FVE-FS-" ([MS-FVE]'s FVE volume header). */
const bitlocker: Probe = async (v) => {
  const h = await v.read(0, 512);
  return h.toString('latin1', 3, 11) === '-FVE-FS-' ? { kind: 'bitlocker', encrypted: true } : undefined;
};

/** LVM2: a "LABELONE" label in one of the first four sectors, type "LVM2 001", the PV UUID at the label's content offset (lib/format_text/layout.h). */
const lvm: Probe = async (v) => {
  const head = await v.read(0, 2048);
  for (let s = 0; s < 4; s++) {
    const at = s * 512;
    if (head.toString('latin1', at, at + 8) !== 'LABELONE' || head.toString('latin1', at + 24, at + 32) !== 'LVM2 001') continue;
    const pvAt = at + head.readUInt32LE(at + 20);
    const uuid = pvAt + 32 <= head.length ? head.toString('latin1', pvAt, pvAt + 32) : undefined;
    return { kind: 'lvm2-pv', uuid, details: { labelSector: s } };
  }
  return undefined;
};

/** ext2/3/4: superblock at 1024, magic 0xEF53 at 56, UUID at 104, volume name at 120 (kernel Documentation/filesystems/ext4/super.rst). */
const ext: Probe = async (v) => {
  const sb = await v.read(1024, 1024);
  if (sb.readUInt16LE(56) !== 0xef53) return undefined;
  const compat = sb.readUInt32LE(92);
  const incompat = sb.readUInt32LE(96);
  const ext4 = (incompat & (0x40 | 0x80 | 0x200)) !== 0;
  const kind = ext4 ? 'ext4' : (compat & 0x4) !== 0 ? 'ext3' : 'ext2';
  return { kind, uuid: uuidAt(sb, 104), label: text(sb, 120, 136) || undefined };
};

/** XFS: "XFSB" at 0, sb_uuid at 32, sb_fname (12 bytes) at 108 (XFS Algorithms & Data Structures §12.1). */
const xfs: Probe = async (v) => {
  const sb = await v.read(0, 512);
  if (sb.toString('latin1', 0, 4) !== 'XFSB') return undefined;
  return { kind: 'xfs', uuid: uuidAt(sb, 32), label: text(sb, 108, 120) || undefined };
};

/** Btrfs: superblock at 64 KiB, magic "_BHRfS_M" at 0x40, fsid at 0x20, label (256 bytes) at 0x12b (btrfs docs, On-disk Format: Superblock). */
const btrfs: Probe = async (v) => {
  const sb = await v.read(0x10000, 0x1000);
  if (sb.toString('latin1', 0x40, 0x48) !== '_BHRfS_M') return undefined;
  return { kind: 'btrfs', uuid: uuidAt(sb, 0x20), label: text(sb, 0x12b, 0x22b) || undefined };
};

/** FAT: BPB fields (Microsoft FAT32 File System Specification §3.1-3.3): volume ID and label at 67/71 (FAT32) or 39/43 (FAT12/16). */
const fat: Probe = async (v) => {
  const b = await v.read(0, 512);
  if ((b[0] !== 0xeb && b[0] !== 0xe9) || b.readUInt16LE(510) !== 0xaa55) return undefined;
  const fat32 = b.toString('latin1', 82, 87) === 'FAT32';
  if (!fat32 && b.toString('latin1', 54, 57) !== 'FAT') return undefined;
  const at = fat32 ? 64 : 36;
  const id = b.readUInt32LE(at + 3);
  const uuid = `${(id >>> 16).toString(16).padStart(4, '0')}-${(id & 0xffff).toString(16).padStart(4, '0')}`.toUpperCase();
  const label = text(b, at + 7, at + 18, 'latin1');
  return { kind: 'vfat', uuid, label: label && label !== 'NO NAME' ? label : undefined, details: { fatType: fat32 ? 'FAT32' : b.toString('latin1', 54, 59).trim() } };
};

/** exFAT: "EXFAT   " OEM name, VolumeSerialNumber at 100 (exFAT specification §3.1). */
const exfat: Probe = async (v) => {
  const b = await v.read(0, 512);
  if (b.toString('latin1', 3, 11) !== 'EXFAT   ') return undefined;
  const id = b.readUInt32LE(100);
  return { kind: 'exfat', uuid: `${(id >>> 16).toString(16).padStart(4, '0')}-${(id & 0xffff).toString(16).padStart(4, '0')}`.toUpperCase() };
};

/** JFS: "JFS1" at 32 KiB, s_uuid at 136, s_label at 152 (jfsutils jfs_superblock.h). */
const jfs: Probe = async (v) => {
  const sb = await v.read(0x8000, 512);
  if (sb.toString('latin1', 0, 4) !== 'JFS1') return undefined;
  return { kind: 'jfs', uuid: uuidAt(sb, 136), label: text(sb, 152, 168) || undefined };
};

/** Linux swap: "SWAPSPACE2" at the end of the first 4 KiB page, UUID at 1036, label at 1052 (include/linux/swap.h). */
const swap: Probe = async (v) => {
  const b = await v.read(0, 4096);
  if (b.toString('latin1', 4086, 4096) !== 'SWAPSPACE2') return undefined;
  return { kind: 'swap', uuid: uuidAt(b, 1036), label: text(b, 1052, 1068) || undefined };
};

/** NTFS is probed in ntfs-volume.ts (its label lives in an MFT record). */
const PROBES: Probe[] = [luks, bitlocker, lvm, xfs, btrfs, ext, jfs, swap, exfat, fat];

export async function probeVolume(v: Volume, extra: Probe[] = []): Promise<VolumeContent> {
  for (const p of [...extra, ...PROBES]) {
    const found = await p(v);
    if (found) return found;
  }
  return { kind: 'unknown' };
}

export type { Probe };

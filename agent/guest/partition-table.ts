import { crc32 } from 'node:zlib';
import { vmxError } from '../core/errors.js';
import { GUEST } from './error-codes.js';
import type { GuestBytes } from './byte-source.js';
import { guidAt, ZERO_GUID } from './guid.js';
import { GPT_TYPES, MBR_EXTENDED, MBR_TYPES } from './partition-types.js';

export interface Partition {
  /** 1-based: GPT entry number, or the Linux numbering of MBR (1-4 primary, 5+ logical). */
  number: number;
  /** Byte offset and length in the virtual disk. */
  offset: number;
  length: number;
  /** GPT type GUID or the MBR type byte as "0x83". */
  type: string;
  /** What the type means (efi-system, linux-data, ...), "unknown" otherwise. */
  typeName: string;
  /** GPT: unique partition GUID and name. */
  guid?: string | undefined;
  name?: string | undefined;
  /** MBR: the active (boot) flag; logical partitions live in the extended chain. */
  bootable?: boolean | undefined;
  logical?: boolean | undefined;
}

export interface PartitionTable {
  scheme: 'gpt' | 'mbr' | 'none';
  sectorSize: number;
  partitions: Partition[];
  /** GPT: the disk GUID, whether each header and its entry array passed their CRC-32 checks. */
  diskGuid?: string | undefined;
  primaryHeaderOk?: boolean | undefined;
  backupHeaderOk?: boolean | undefined;
  /** GPT with an MBR that lists real partitions beside the 0xEE entry (a hybrid MBR, readable by BIOS). */
  hybridMbr?: boolean | undefined;
  /** MBR partitions a hybrid MBR lists. */
  mbrPartitions?: Partition[] | undefined;
  warnings: string[];
}

const MAX_LOGICAL = 128;
/** GPT entry arrays are 16 KiB by default (UEFI 2.10 §5.3.2); 1 MiB bounds a malformed count. */
const MAX_GPT_ARRAY = 1024 * 1024;

/** Reads the disk's partition table: GPT (preferred when present), else MBR, else none. */
export async function readPartitionTable(disk: GuestBytes): Promise<PartitionTable> {
  const sector0 = await disk.read(0, 512);
  for (const sectorSize of [512, 4096]) {
    const gpt = await readGpt(disk, sectorSize, sector0);
    if (gpt) return gpt;
  }
  if (sector0.readUInt16LE(510) !== 0xaa55 || isVolumeBootRecord(sector0)) return { scheme: 'none', sectorSize: 512, partitions: [], warnings: [] };
  return { scheme: 'mbr', sectorSize: 512, partitions: await readMbr(disk, sector0), warnings: [] };
}

/** A FAT or NTFS boot sector also ends in 55 AA (it is a filesystem on the whole disk, not an MBR). */
function isVolumeBootRecord(s: Buffer): boolean {
  if (s[0] !== 0xeb && s[0] !== 0xe9) return false;
  const oem = s.toString('latin1', 3, 11);
  return oem === 'NTFS    ' || oem === '-FVE-FS-' || oem === 'EXFAT   ' || s.toString('latin1', 54, 57) === 'FAT' || s.toString('latin1', 82, 87) === 'FAT32';
}

function fail(disk: GuestBytes, offset: number, rule: string): never {
  throw vmxError(GUEST.PARTITION_TABLE, rule, { file: disk.name, offset });
}

function mbrEntry(disk: GuestBytes, sector: Buffer, i: number, base: number, sectorOffset: number): { type: number; start: number; count: number; boot: boolean } | undefined {
  const at = 446 + 16 * i;
  const type = sector[at + 4]!;
  const count = sector.readUInt32LE(at + 12);
  if (type === 0 || count === 0) return undefined;
  const status = sector[at]!;
  if (status !== 0 && status !== 0x80) fail(disk, sectorOffset + at, `MBR entry ${i + 1} has status byte 0x${status.toString(16)} (only 0x00 or 0x80 are valid)`);
  return { type, start: base + sector.readUInt32LE(at + 8), count, boot: status === 0x80 };
}

function toPartition(disk: GuestBytes, number: number, e: { type: number; start: number; count: number; boot: boolean }, logical: boolean, at: number): Partition {
  const offset = e.start * 512;
  const length = e.count * 512;
  if (offset + length > disk.size) fail(disk, at, `MBR partition ${number} (sectors ${e.start}+${e.count}) ends past the end of the ${disk.size}-byte disk`);
  return { number, offset, length, type: `0x${e.type.toString(16).padStart(2, '0')}`, typeName: MBR_TYPES[e.type] ?? 'unknown', bootable: e.boot, logical };
}

/** The four primary entries and the logical partitions of the extended chain (each EBR links the next, relative to the extended partition's start). */
async function readMbr(disk: GuestBytes, sector0: Buffer): Promise<Partition[]> {
  const out: Partition[] = [];
  let extended: { start: number; count: number } | undefined;
  for (let i = 0; i < 4; i++) {
    const e = mbrEntry(disk, sector0, i, 0, 0);
    if (!e) continue;
    if (MBR_EXTENDED.has(e.type)) {
      if (extended) fail(disk, 446 + 16 * i, 'the MBR lists more than one extended partition');
      extended = e;
    }
    out.push(toPartition(disk, i + 1, e, false, 446 + 16 * i));
  }
  if (extended) out.push(...(await readLogical(disk, extended.start)));
  return out;
}

async function readLogical(disk: GuestBytes, extStart: number): Promise<Partition[]> {
  const out: Partition[] = [];
  const seen = new Set<number>();
  for (let ebr = extStart; ; ) {
    if (seen.has(ebr)) fail(disk, ebr * 512, `the extended partition chain loops back to the EBR at sector ${ebr}`);
    if (seen.size >= MAX_LOGICAL) fail(disk, ebr * 512, `the extended partition chain holds more than ${MAX_LOGICAL} logical partitions`);
    seen.add(ebr);
    if (ebr * 512 + 512 > disk.size) fail(disk, ebr * 512, `an EBR at sector ${ebr} lies past the end of the disk`);
    const s = await disk.read(ebr * 512, 512);
    if (s.readUInt16LE(510) !== 0xaa55) fail(disk, ebr * 512 + 510, `the EBR at sector ${ebr} lacks the 55 AA signature`);
    const data = mbrEntry(disk, s, 0, ebr, ebr * 512);
    if (data) out.push(toPartition(disk, 5 + out.length, data, true, ebr * 512 + 446));
    const next = mbrEntry(disk, s, 1, extStart, ebr * 512);
    if (!next) return out;
    ebr = next.start;
  }
}

interface GptHeader {
  ok: boolean;
  entriesLba: number;
  count: number;
  entrySize: number;
  entriesCrc: number;
  alternate: number;
  diskGuid: string;
  raw: Buffer;
}

/** UEFI 2.10 §5.3.2: the header's CRC-32 covers HeaderSize bytes with its own field zeroed. */
async function readGptHeader(disk: GuestBytes, lba: number, sectorSize: number): Promise<GptHeader | undefined> {
  if ((lba + 1) * sectorSize > disk.size) return undefined;
  const h = await disk.read(lba * sectorSize, sectorSize);
  if (h.toString('latin1', 0, 8) !== 'EFI PART') return undefined;
  const size = h.readUInt32LE(12);
  if (size < 92 || size > sectorSize) fail(disk, lba * sectorSize + 12, `GPT header at LBA ${lba} has HeaderSize ${size} (92..${sectorSize} allowed)`);
  const copy = Buffer.from(h.subarray(0, size));
  copy.writeUInt32LE(0, 16);
  const ok = crc32(copy) === h.readUInt32LE(16);
  return {
    ok,
    alternate: Number(h.readBigUInt64LE(32)),
    diskGuid: guidAt(h, 56),
    entriesLba: Number(h.readBigUInt64LE(72)),
    count: h.readUInt32LE(80),
    entrySize: h.readUInt32LE(84),
    entriesCrc: h.readUInt32LE(88),
    raw: h,
  };
}

async function readGptEntries(disk: GuestBytes, h: GptHeader, sectorSize: number): Promise<Buffer | undefined> {
  const at = h.entriesLba * sectorSize;
  if (h.entrySize < 128 || h.entrySize % 128 !== 0) fail(disk, at, `GPT SizeOfPartitionEntry is ${h.entrySize} (a multiple of 128 is required)`);
  const bytes = h.count * h.entrySize;
  if (bytes > MAX_GPT_ARRAY) fail(disk, at, `GPT lists ${h.count} entries of ${h.entrySize} bytes, more than the ${MAX_GPT_ARRAY}-byte bound`);
  if (at + bytes > disk.size) fail(disk, at, `the GPT entry array (${bytes} bytes at LBA ${h.entriesLba}) ends past the end of the disk`);
  const entries = await disk.read(at, bytes);
  return crc32(entries) === h.entriesCrc ? entries : undefined;
}

async function readGpt(disk: GuestBytes, sectorSize: number, sector0: Buffer): Promise<PartitionTable | undefined> {
  const primary = await readGptHeader(disk, 1, sectorSize);
  if (!primary) return undefined;
  const lastLba = Math.floor(disk.size / sectorSize) - 1;
  const backupLba = primary.ok && primary.alternate > 1 && primary.alternate <= lastLba ? primary.alternate : lastLba;
  const backup = await readGptHeader(disk, backupLba, sectorSize);
  const primaryEntries = primary.ok ? await readGptEntries(disk, primary, sectorSize) : undefined;
  const backupEntries = backup?.ok ? await readGptEntries(disk, backup, sectorSize) : undefined;
  const primaryOk = primaryEntries !== undefined;
  const backupOk = backupEntries !== undefined;
  const use = primaryOk ? primary : backupOk ? backup! : undefined;
  if (!use) fail(disk, sectorSize, 'both GPT headers (or their partition entry arrays) fail their CRC-32 checks (UEFI 2.10 §5.3.2)');
  const warnings: string[] = [];
  if (!primaryOk) warnings.push('the primary GPT header or its entries fail the CRC-32 check; the backup is used');
  if (!backupOk) warnings.push(`the backup GPT header at LBA ${backupLba} is missing or fails its CRC-32 checks`);
  const partitions = gptPartitions(disk, primaryOk ? primaryEntries! : backupEntries!, use, sectorSize, lastLba);
  const mbr = await protectiveMbr(disk, sector0);
  return {
    scheme: 'gpt', sectorSize, partitions, diskGuid: use.diskGuid, primaryHeaderOk: primaryOk, backupHeaderOk: backupOk,
    hybridMbr: mbr.hybrid, ...(mbr.hybrid ? { mbrPartitions: mbr.partitions } : {}), warnings: [...warnings, ...mbr.warnings],
  };
}

function gptPartitions(disk: GuestBytes, entries: Buffer, h: GptHeader, sectorSize: number, lastLba: number): Partition[] {
  const out: Partition[] = [];
  for (let i = 0; i < h.count; i++) {
    const at = i * h.entrySize;
    const type = guidAt(entries, at);
    if (type === ZERO_GUID) continue;
    const first = Number(entries.readBigUInt64LE(at + 32));
    const last = Number(entries.readBigUInt64LE(at + 40));
    const where = h.entriesLba * sectorSize + at;
    if (last < first) fail(disk, where, `GPT entry ${i + 1} ends (LBA ${last}) before it starts (LBA ${first})`);
    if (last > lastLba) fail(disk, where, `GPT entry ${i + 1} ends at LBA ${last}, past the last LBA ${lastLba} of the disk`);
    const name = entries.toString('utf16le', at + 56, at + 128).replace(/\0.*$/s, '');
    out.push({ number: i + 1, offset: first * sectorSize, length: (last - first + 1) * sectorSize, type, typeName: GPT_TYPES[type] ?? 'unknown', guid: guidAt(entries, at + 16), name });
  }
  return out;
}

/** UEFI 2.10 §5.2.3: a protective MBR holds one 0xEE entry; other entries beside it make a hybrid MBR. */
async function protectiveMbr(disk: GuestBytes, sector0: Buffer): Promise<{ hybrid: boolean; partitions: Partition[]; warnings: string[] }> {
  if (sector0.readUInt16LE(510) !== 0xaa55) return { hybrid: false, partitions: [], warnings: ['the disk has a GPT but no protective MBR (no 55 AA signature in sector 0)'] };
  let protective = false;
  const partitions: Partition[] = [];
  for (let i = 0; i < 4; i++) {
    const e = mbrEntry(disk, sector0, i, 0, 0);
    if (!e) continue;
    if (e.type === 0xee) protective = true;
    else partitions.push(toPartition(disk, i + 1, e, false, 446 + 16 * i));
  }
  const warnings = protective ? [] : ['the GPT disk\'s MBR has no 0xEE protective entry'];
  return { hybrid: protective && partitions.length > 0, partitions, warnings };
}

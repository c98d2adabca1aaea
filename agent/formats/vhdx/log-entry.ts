import { crc32c } from '../../hashing/crc32c.js';
import { readGuid } from './guid.js';
import { LOG_SECTOR_SIZE } from './layout.js';
import type { LogWrite } from './log-overlay.js';

/** A log entry that passed every validity rule of [MS-VHDX] §2.3.1. */
export interface LogEntry {
  /** Byte position of the entry inside the log. */
  readonly position: number;
  readonly length: number;
  readonly sequenceNumber: bigint;
  readonly tail: number;
  readonly flushedFileOffset: number;
  readonly lastFileOffset: number;
  readonly writes: LogWrite[];
}

const ENTRY_HEADER_SIZE = 64;
const DESCRIPTOR_SIZE = 32;

/**
 * Parses the entry starting at `position` of the (circular) log, or returns undefined when any rule
 * of §2.3.1 fails — an invalid entry simply ends a sequence; §2.3.3 decides what that means.
 *  §2.3.1.1 entry header: "loge", Checksum (CRC-32C of the whole entry with this field zero),
 *    EntryLength (multiple of 4 KiB), Tail, SequenceNumber (non-zero), DescriptorCount, LogGuid
 *    (equal to the header's), FlushedFileOffset, LastFileOffset;
 *  §2.3.1.2 zero descriptor "zero": ZeroLength and FileOffset multiples of 4 KiB;
 *  §2.3.1.3 data descriptor "desc": TrailingBytes, LeadingBytes, FileOffset (multiple of 4 KiB);
 *  §2.3.1.4 data sector "data": SequenceHigh at 4, 4084 data bytes, SequenceLow at 4092;
 *  every descriptor's and data sector's sequence number equals the entry's.
 */
export function parseLogEntry(log: Buffer, position: number, logGuid: string): LogEntry | undefined {
  const head = log.subarray(position, position + ENTRY_HEADER_SIZE);
  if (head.toString('latin1', 0, 4) !== 'loge') return undefined;
  const length = head.readUInt32LE(8);
  const tail = head.readUInt32LE(12);
  const seq = head.readBigUInt64LE(16);
  const descriptorCount = head.readUInt32LE(24);
  if (length === 0 || length % LOG_SECTOR_SIZE !== 0 || length > log.length) return undefined;
  if (tail % LOG_SECTOR_SIZE !== 0 || tail >= log.length || seq === 0n) return undefined;
  if (readGuid(head, 32) !== logGuid) return undefined;
  if (ENTRY_HEADER_SIZE + descriptorCount * DESCRIPTOR_SIZE > length) return undefined;
  const entry = circularSlice(log, position, length);
  if (!checksumMatches(entry)) return undefined;
  const writes = parseDescriptors(entry, descriptorCount, seq);
  if (!writes) return undefined;
  return {
    position,
    length,
    sequenceNumber: seq,
    tail,
    flushedFileOffset: Number(entry.readBigUInt64LE(48)),
    lastFileOffset: Number(entry.readBigUInt64LE(56)),
    writes,
  };
}

function checksumMatches(entry: Buffer): boolean {
  const stored = entry.readUInt32LE(4);
  const copy = Buffer.from(entry);
  copy.writeUInt32LE(0, 4);
  return crc32c(copy) === stored;
}

/** Descriptors follow the header; data sectors follow the descriptor sectors, one per "desc", in order. */
function parseDescriptors(entry: Buffer, count: number, seq: bigint): LogWrite[] | undefined {
  const descriptorSectors = Math.ceil((ENTRY_HEADER_SIZE + count * DESCRIPTOR_SIZE) / LOG_SECTOR_SIZE);
  let dataSector = descriptorSectors;
  const writes: LogWrite[] = [];
  for (let i = 0; i < count; i++) {
    const d = entry.subarray(ENTRY_HEADER_SIZE + i * DESCRIPTOR_SIZE, ENTRY_HEADER_SIZE + (i + 1) * DESCRIPTOR_SIZE);
    const kind = d.toString('latin1', 0, 4);
    const fileOffset = Number(d.readBigUInt64LE(16));
    if (d.readBigUInt64LE(24) !== seq || fileOffset % LOG_SECTOR_SIZE !== 0) return undefined;
    if (kind === 'zero') {
      const zeroLength = Number(d.readBigUInt64LE(8));
      if (zeroLength === 0 || zeroLength % LOG_SECTOR_SIZE !== 0) return undefined;
      writes.push({ fileOffset, length: zeroLength, data: null });
    } else if (kind === 'desc') {
      const data = dataSectorContent(entry, dataSector++, d, seq);
      if (!data) return undefined;
      writes.push({ fileOffset, length: LOG_SECTOR_SIZE, data });
    } else {
      return undefined;
    }
  }
  return dataSector * LOG_SECTOR_SIZE === entry.length ? writes : undefined;
}

/** §2.3.1.3/§2.3.1.4: the sector written is LeadingBytes (8) + data bytes 8..4091 + TrailingBytes (4). */
function dataSectorContent(entry: Buffer, index: number, descriptor: Buffer, seq: bigint): Buffer | undefined {
  const at = index * LOG_SECTOR_SIZE;
  if (at + LOG_SECTOR_SIZE > entry.length) return undefined;
  const s = entry.subarray(at, at + LOG_SECTOR_SIZE);
  if (s.toString('latin1', 0, 4) !== 'data') return undefined;
  if (BigInt(s.readUInt32LE(4)) !== seq >> 32n || BigInt(s.readUInt32LE(4092)) !== (seq & 0xffffffffn)) return undefined;
  const out = Buffer.from(s);
  descriptor.copy(out, 0, 8, 16);
  descriptor.copy(out, 4092, 4, 8);
  return out;
}

/** `length` bytes of the circular log starting at `position`, wrapping at its end. */
function circularSlice(log: Buffer, position: number, length: number): Buffer {
  if (position + length <= log.length) return log.subarray(position, position + length);
  return Buffer.concat([log.subarray(position), log.subarray(0, position + length - log.length)]);
}

import { randomUUID } from 'node:crypto';
import { vmxError } from '../../core/errors.js';
import { VHD } from './error-codes.js';
import { vhdChecksum } from './checksum.js';
import type { ChsGeometry } from './geometry.js';

/** VHD spec, "Hard Disk Footer Format": 512 bytes, big-endian fields at these offsets. */
export const FOOTER_SIZE = 512;
export const FOOTER_COOKIE = 'conectix';
const OFF = {
  cookie: 0, features: 8, version: 12, dataOffset: 16, timestamp: 24, creatorApp: 28, creatorVersion: 32,
  creatorOs: 36, originalSize: 40, currentSize: 48, cylinders: 56, heads: 58, sectorsPerTrack: 59,
  diskType: 60, checksum: 64, uniqueId: 68, savedState: 84, reserved: 85,
} as const;

/** Field names in byte order, for naming the first field where two footers differ. */
export const FOOTER_FIELDS: ReadonlyArray<readonly [string, number]> = Object.entries(OFF).sort((a, b) => a[1] - b[1]);

/** VHD spec, "Hard Disk Footer Format", field Disk Type. */
export const DISK_TYPE = { fixed: 2, dynamic: 3, differencing: 4 } as const;
export type DiskTypeName = keyof typeof DISK_TYPE;

/** Seconds between the Unix epoch and the VHD epoch (January 1, 2000 12:00:00 AM UTC). */
export const VHD_EPOCH_SECONDS = 946684800;

export interface VhdFooter {
  features: number;
  version: number;
  /** Absolute offset of the dynamic disk header; undefined when all ones (fixed disks). */
  dataOffset: number | undefined;
  timestamp: number;
  creatorApp: string;
  creatorVersion: number;
  creatorOs: string;
  originalSize: number;
  currentSize: number;
  geometry: ChsGeometry;
  diskType: number;
  uniqueId: string;
  savedState: boolean;
}

/** Reads a u64 as a number, or undefined when it exceeds 2^53 (all ones, or garbage). */
export function readU64(buf: Buffer, at: number): number | undefined {
  const v = buf.readBigUInt64BE(at);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
}

export function uuidText(buf: Buffer): string {
  const h = buf.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function hasFooterCookie(buf: Buffer): boolean {
  return buf.length >= 8 && buf.toString('latin1', 0, 8) === FOOTER_COOKIE;
}

/** Parses and verifies one 512-byte footer found at `offset` of `file`. */
export function parseFooter(buf: Buffer, file: string, offset: number): VhdFooter {
  if (!hasFooterCookie(buf)) {
    throw vmxError(VHD.BAD_COOKIE, `hard disk footer cookie is ${JSON.stringify(buf.toString('latin1', 0, 8))}, the VHD spec ("Hard Disk Footer Format") requires "conectix"`, { file, offset });
  }
  const stored = buf.readUInt32BE(OFF.checksum);
  const computed = vhdChecksum(buf, OFF.checksum);
  if (stored !== computed) {
    throw vmxError(VHD.BAD_FOOTER_CHECKSUM, `hard disk footer checksum is 0x${hex32(stored)} but the one's complement of its byte sum is 0x${hex32(computed)}`, { file, offset: offset + OFF.checksum });
  }
  const currentSize = readU64(buf, OFF.currentSize);
  if (currentSize === undefined) {
    throw vmxError(VHD.BAD_SIZE, `footer Current Size 0x${buf.readBigUInt64BE(OFF.currentSize).toString(16)} is beyond any disk a VHD can hold`, { file, offset: offset + OFF.currentSize });
  }
  return {
    features: buf.readUInt32BE(OFF.features),
    version: buf.readUInt32BE(OFF.version),
    dataOffset: readU64(buf, OFF.dataOffset),
    timestamp: buf.readUInt32BE(OFF.timestamp),
    creatorApp: buf.toString('latin1', OFF.creatorApp, OFF.creatorApp + 4),
    creatorVersion: buf.readUInt32BE(OFF.creatorVersion),
    creatorOs: buf.toString('latin1', OFF.creatorOs, OFF.creatorOs + 4),
    originalSize: readU64(buf, OFF.originalSize) ?? currentSize,
    currentSize,
    geometry: { cylinders: buf.readUInt16BE(OFF.cylinders), heads: buf[OFF.heads]!, sectorsPerTrack: buf[OFF.sectorsPerTrack]! },
    diskType: buf.readUInt32BE(OFF.diskType),
    uniqueId: uuidText(buf.subarray(OFF.uniqueId, OFF.uniqueId + 16)),
    savedState: buf[OFF.savedState] !== 0,
  };
}

export interface NewFooter {
  diskType: DiskTypeName;
  size: number;
  geometry: ChsGeometry;
  /** Offset of the dynamic disk header; omitted for fixed disks. */
  dataOffset?: number;
  /** Time Stamp and Unique Id to write instead of now and a random UUID (deterministic output). */
  identity?: { createdAtMs: number; uniqueId: string } | undefined;
}

/**
 * A footer for a disk vmxfer writes. Creator Application "win " (Hyper-V's): qemu, VirtualBox and
 * Hyper-V all take the disk size from Current Size for it, whereas for unknown or Virtual PC creators
 * qemu would use the CHS geometry, which rounds most sizes down and would hide the disk's last sectors.
 */
export function encodeFooter(f: NewFooter): Buffer {
  const buf = Buffer.alloc(FOOTER_SIZE);
  buf.write(FOOTER_COOKIE, OFF.cookie, 'latin1');
  buf.writeUInt32BE(0x00000002, OFF.features); // "Reserved" feature bit: the spec says always set
  buf.writeUInt32BE(0x00010000, OFF.version);
  buf.writeBigUInt64BE(f.dataOffset === undefined ? 0xffffffffffffffffn : BigInt(f.dataOffset), OFF.dataOffset);
  buf.writeUInt32BE(Math.max(0, Math.floor((f.identity?.createdAtMs ?? Date.now()) / 1000) - VHD_EPOCH_SECONDS) >>> 0, OFF.timestamp);
  buf.write('win ', OFF.creatorApp, 'latin1');
  buf.writeUInt32BE(0x000a0000, OFF.creatorVersion);
  buf.write('Wi2k', OFF.creatorOs, 'latin1');
  buf.writeBigUInt64BE(BigInt(f.size), OFF.originalSize);
  buf.writeBigUInt64BE(BigInt(f.size), OFF.currentSize);
  buf.writeUInt16BE(f.geometry.cylinders, OFF.cylinders);
  buf[OFF.heads] = f.geometry.heads;
  buf[OFF.sectorsPerTrack] = f.geometry.sectorsPerTrack;
  buf.writeUInt32BE(DISK_TYPE[f.diskType], OFF.diskType);
  Buffer.from(f.identity?.uniqueId ?? randomUUID().replace(/-/g, ''), 'hex').copy(buf, OFF.uniqueId);
  buf.writeUInt32BE(vhdChecksum(buf, OFF.checksum), OFF.checksum);
  return buf;
}

export function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

import { vmxError } from '../../core/errors.js';
import { VHD } from './error-codes.js';
import { vhdChecksum } from './checksum.js';
import { hex32, readU64, uuidText } from './footer.js';

/** VHD spec, "Dynamic Disk Header Format": 1024 bytes, big-endian fields at these offsets. */
export const HEADER_SIZE = 1024;
export const HEADER_COOKIE = 'cxsparse';
const OFF = {
  cookie: 0, dataOffset: 8, tableOffset: 16, version: 24, maxTableEntries: 28, blockSize: 32, checksum: 36,
  parentUniqueId: 40, parentTimestamp: 56, parentName: 64, locators: 576,
} as const;
const PARENT_NAME_BYTES = 512;
const LOCATOR_ENTRY_SIZE = 24;
const LOCATOR_COUNT = 8;

/** VHD spec, "Dynamic Disk Header Format", field Parent Locator Entries (24 bytes each). */
export interface ParentLocatorEntry {
  index: number;
  /** Platform Code as its four characters (W2ku, W2ru, Wi2k, Wi2r, Mac , MacX). */
  platform: string;
  dataLength: number;
  dataOffset: number | undefined;
  /** Where the entry itself sits in the file, for error messages. */
  entryOffset: number;
}

export interface DynamicHeader {
  tableOffset: number | undefined;
  version: number;
  maxTableEntries: number;
  blockSize: number;
  parentUniqueId: string;
  parentTimestamp: number;
  parentName: string;
  locators: ParentLocatorEntry[];
}

/** Parses and verifies the dynamic disk header read at `offset`. */
export function parseDynamicHeader(buf: Buffer, file: string, offset: number): DynamicHeader {
  if (buf.toString('latin1', 0, 8) !== HEADER_COOKIE) {
    throw vmxError(VHD.BAD_COOKIE, `dynamic disk header cookie is ${JSON.stringify(buf.toString('latin1', 0, 8))}, the VHD spec ("Dynamic Disk Header Format") requires "cxsparse"`, { file, offset });
  }
  const stored = buf.readUInt32BE(OFF.checksum);
  const computed = vhdChecksum(buf, OFF.checksum);
  if (stored !== computed) {
    throw vmxError(VHD.BAD_HEADER_CHECKSUM, `dynamic disk header checksum is 0x${hex32(stored)} but the one's complement of its byte sum is 0x${hex32(computed)}`, { file, offset: offset + OFF.checksum });
  }
  return {
    tableOffset: readU64(buf, OFF.tableOffset),
    version: buf.readUInt32BE(OFF.version),
    maxTableEntries: buf.readUInt32BE(OFF.maxTableEntries),
    blockSize: buf.readUInt32BE(OFF.blockSize),
    parentUniqueId: uuidText(buf.subarray(OFF.parentUniqueId, OFF.parentUniqueId + 16)),
    parentTimestamp: buf.readUInt32BE(OFF.parentTimestamp),
    parentName: utf16beString(buf.subarray(OFF.parentName, OFF.parentName + PARENT_NAME_BYTES)),
    locators: parseLocators(buf, offset),
  };
}

function parseLocators(buf: Buffer, headerOffset: number): ParentLocatorEntry[] {
  const out: ParentLocatorEntry[] = [];
  for (let i = 0; i < LOCATOR_COUNT; i++) {
    const at = OFF.locators + i * LOCATOR_ENTRY_SIZE;
    if (buf.readUInt32BE(at) === 0) continue; // Platform Code "None"
    out.push({
      index: i,
      platform: buf.toString('latin1', at, at + 4),
      dataLength: buf.readUInt32BE(at + 8),
      dataOffset: readU64(buf, at + 16),
      entryOffset: headerOffset + at,
    });
  }
  return out;
}

/** Parent Unicode Name: UTF-16 big-endian, NUL-terminated or filling the field. */
function utf16beString(field: Buffer): string {
  const swapped = Buffer.from(field).swap16();
  const text = swapped.toString('utf16le');
  const nul = text.indexOf('\0');
  return nul < 0 ? text : text.slice(0, nul);
}

/** The header of a dynamic disk vmxfer writes: no parent, BAT at `tableOffset`. */
export function encodeDynamicHeader(tableOffset: number, maxTableEntries: number, blockSize: number): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  buf.write(HEADER_COOKIE, OFF.cookie, 'latin1');
  // Data Offset is unused and "should be set to 0xFFFFFFFF"; Hyper-V writes all 64 bits set, as here.
  buf.writeBigUInt64BE(0xffffffffffffffffn, OFF.dataOffset);
  buf.writeBigUInt64BE(BigInt(tableOffset), OFF.tableOffset);
  buf.writeUInt32BE(0x00010000, OFF.version);
  buf.writeUInt32BE(maxTableEntries, OFF.maxTableEntries);
  buf.writeUInt32BE(blockSize, OFF.blockSize);
  buf.writeUInt32BE(vhdChecksum(buf, OFF.checksum), OFF.checksum);
  return buf;
}

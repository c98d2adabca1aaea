import { randomBytes } from 'node:crypto';

/**
 * VHD structures written from the spec ("Virtual Hard Disk Image Format Specification" 1.0) by the
 * tests themselves, independently of agent/formats/vhd: qemu cannot create differencing disks, and
 * malformed inputs are made by patching fields and recomputing checksums.
 */
export const SECTOR = 512;

/** One's complement of the byte sum with the 4-byte checksum field skipped. */
export function specChecksum(buf: Buffer, checksumAt: number): number {
  let sum = 0;
  buf.forEach((b, i) => {
    if (i < checksumAt || i >= checksumAt + 4) sum += b;
  });
  return ~sum >>> 0;
}

/** Footer checksum at 64, dynamic header checksum at 36. */
export function resealFooter(footer: Buffer): Buffer {
  footer.writeUInt32BE(specChecksum(footer, 64), 64);
  return footer;
}

export function resealHeader(header: Buffer): Buffer {
  header.writeUInt32BE(specChecksum(header, 36), 36);
  return header;
}

export interface SpecLocator {
  platform: 'W2ku' | 'W2ru' | 'Wi2k' | 'Wi2r' | 'MacX';
  data: Buffer;
  /** Override the data offset (for malformed locators). */
  offset?: number;
}

export interface SpecBlock {
  /** One bit per sector, most significant bit first; padded by the builder to whole sectors. */
  bitmap: Buffer;
  /** The block's full data area (blockSize bytes). */
  data: Buffer;
}

export interface DifferencingSpec {
  virtualSize: number;
  blockSize: number;
  parentUniqueId: Buffer;
  parentName: string;
  locators: SpecLocator[];
  blocks: Map<number, SpecBlock>;
}

/** A whole differencing VHD (disk type 4) in memory: footer copy, header, BAT, locator data, blocks, footer. */
export function buildDifferencingVhd(spec: DifferencingSpec): Buffer {
  const entries = Math.ceil(spec.virtualSize / spec.blockSize);
  const batBytes = Math.ceil((entries * 4) / SECTOR) * SECTOR;
  const bitmapBytes = Math.ceil(spec.blockSize / SECTOR / 8 / SECTOR) * SECTOR;
  let next = 1536 + batBytes;
  const locatorAt: number[] = [];
  for (const l of spec.locators) {
    locatorAt.push(next);
    next += Math.ceil(l.data.length / SECTOR) * SECTOR;
  }
  const bat = Buffer.alloc(batBytes, 0xff);
  const parts: Buffer[] = [];
  for (const [index, block] of [...spec.blocks].sort((a, b) => a[0] - b[0])) {
    bat.writeUInt32BE(next / SECTOR, index * 4);
    const bitmap = Buffer.alloc(bitmapBytes);
    block.bitmap.copy(bitmap);
    parts.push(bitmap, block.data);
    next += bitmapBytes + spec.blockSize;
  }
  const footer = specFooter(spec.virtualSize, 4, 512);
  const header = specHeader(spec, entries, locatorAt);
  const locatorData = spec.locators.map((l) => {
    const padded = Buffer.alloc(Math.ceil(l.data.length / SECTOR) * SECTOR);
    l.data.copy(padded);
    return padded;
  });
  return Buffer.concat([footer, header, bat, ...locatorData, ...parts, footer]);
}

export function specFooter(size: number, diskType: number, dataOffset: number): Buffer {
  const f = Buffer.alloc(512);
  f.write('conectix', 0, 'latin1');
  f.writeUInt32BE(2, 8);
  f.writeUInt32BE(0x00010000, 12);
  f.writeBigUInt64BE(BigInt(dataOffset), 16);
  f.writeUInt32BE(0x2a000000, 24);
  f.write('win ', 28, 'latin1');
  f.writeUInt32BE(0x000a0000, 32);
  f.write('Wi2k', 36, 'latin1');
  f.writeBigUInt64BE(BigInt(size), 40);
  f.writeBigUInt64BE(BigInt(size), 48);
  f.writeUInt16BE(1024, 56);
  f[58] = 16;
  f[59] = 63;
  f.writeUInt32BE(diskType, 60);
  randomBytes(16).copy(f, 68);
  return resealFooter(f);
}

function specHeader(spec: DifferencingSpec, entries: number, locatorAt: number[]): Buffer {
  const h = Buffer.alloc(1024);
  h.write('cxsparse', 0, 'latin1');
  h.writeBigUInt64BE(0xffffffffffffffffn, 8);
  h.writeBigUInt64BE(1536n, 16);
  h.writeUInt32BE(0x00010000, 24);
  h.writeUInt32BE(entries, 28);
  h.writeUInt32BE(spec.blockSize, 32);
  spec.parentUniqueId.copy(h, 40);
  h.writeUInt32BE(0x29000000, 56);
  Buffer.from(spec.parentName, 'utf16le').swap16().copy(h, 64, 0, 512);
  spec.locators.forEach((l, i) => {
    const at = 576 + i * 24;
    h.write(l.platform, at, 'latin1');
    h.writeUInt32BE(Math.ceil(l.data.length / SECTOR) * SECTOR, at + 4);
    h.writeUInt32BE(l.data.length, at + 8);
    h.writeBigUInt64BE(BigInt(l.offset ?? locatorAt[i]!), at + 16);
  });
  return resealHeader(h);
}

/** Sets bit `sector` (most significant bit of each byte first). */
export function setBit(bitmap: Buffer, sector: number): void {
  bitmap[sector >> 3]! |= 0x80 >> (sector & 7);
}

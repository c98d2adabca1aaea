import { vmxError } from '../core/errors.js';
import { GUEST } from './error-codes.js';
import type { Volume } from './volume-probe.js';

/*
 * NTFS on-disk structures, after the Linux-NTFS project's "NTFS Documentation" (Richard Russon,
 * Yuval Fledel): boot sector (§"$Boot"), FILE record header and update sequence array (§"FILE
 * record", §"Update Sequence"), attribute header (§"Attribute - Header"), data runs (§"Data Runs"),
 * attribute list entries (§"$ATTRIBUTE_LIST"). Every length and count read from the disk is checked
 * against the buffer it lies in before it is used.
 */

export const ATTR = { ATTRIBUTE_LIST: 0x20, FILE_NAME: 0x30, VOLUME_NAME: 0x60, VOLUME_INFORMATION: 0x70, DATA: 0x80, INDEX_ROOT: 0x90, INDEX_ALLOCATION: 0xa0, END: 0xffffffff } as const;

export interface NtfsGeometry {
  sector: number;
  cluster: number;
  record: number;
  /** Byte offset of the MFT in the volume. */
  mft: number;
  /** INDX block size from the boot sector (0x44). */
  indexBlock: number;
  clusters: number;
}

function sizeField(b: Buffer, at: number, cluster: number): number {
  const v = b.readInt8(at);
  return v < 0 ? 2 ** -v : v * cluster;
}

/** Boot sector: bytes per sector 0x0B, sectors per cluster 0x0D, total sectors 0x28, $MFT cluster 0x30, record size 0x40, index block size 0x44. */
export function ntfsGeometry(v: Volume, b: Buffer): NtfsGeometry {
  const sector = b.readUInt16LE(0x0b);
  const spc = b[0x0d]!;
  const cluster = sector * (spc > 0x80 ? 2 ** (256 - spc) : spc);
  const record = sizeField(b, 0x40, cluster);
  const indexBlock = sizeField(b, 0x44, cluster);
  const clusters = cluster ? Math.floor(Number(b.readBigUInt64LE(0x28)) * sector / cluster) : 0;
  const mftCluster = Number(b.readBigUInt64LE(0x30));
  const ok = [512, 1024, 2048, 4096].includes(sector) && cluster > 0 && cluster <= 2 * 1024 * 1024 && record >= 512 && record <= 65536 && indexBlock >= 512 && indexBlock <= 65536;
  if (!ok) {
    throw vmxError(GUEST.FILESYSTEM, `NTFS boot sector has an impossible geometry (bytes per sector ${sector}, cluster ${cluster}, MFT record ${record}, index block ${indexBlock})`, { file: v.disk.name, offset: v.offset + 0x0b });
  }
  if (mftCluster >= clusters || (mftCluster + 1) * cluster > v.length) {
    throw vmxError(GUEST.FILESYSTEM, `the NTFS MFT (cluster ${mftCluster}) lies past the end of the volume (${clusters} clusters)`, { file: v.disk.name, offset: v.offset + 0x30 });
  }
  return { sector, cluster, record, mft: mftCluster * cluster, indexBlock, clusters };
}

/** The update sequence array: the last two bytes of each 512-byte stride hold the USN and are restored from the array. */
export function applyFixups(v: Volume, rec: Buffer, where: number, magic: 'FILE' | 'INDX'): Buffer | undefined {
  if (rec.toString('latin1', 0, 4) !== magic) return undefined;
  const usa = rec.readUInt16LE(4);
  const count = rec.readUInt16LE(6);
  if (count < 1 || usa + count * 2 > rec.length || (count - 1) * 512 > rec.length) {
    throw vmxError(GUEST.FILESYSTEM, `NTFS ${magic} record has an update sequence array of ${count} entries at ${usa} that does not fit the record`, { file: v.disk.name, offset: where + 4 });
  }
  const usn = rec.readUInt16LE(usa);
  for (let i = 1; i < count; i++) {
    const end = i * 512 - 2;
    if (rec.readUInt16LE(end) !== usn) throw vmxError(GUEST.FILESYSTEM, `NTFS ${magic} record sector ${i} fails its update sequence check (torn write)`, { file: v.disk.name, offset: where + end });
    rec.writeUInt16LE(rec.readUInt16LE(usa + 2 * i), end);
  }
  return rec;
}

export interface Run {
  /** First cluster of the run in the volume; undefined for a sparse run. */
  lcn: number | undefined;
  vcn: number;
  clusters: number;
}

export interface Attribute {
  type: number;
  name: string;
  flags: number;
  id: number;
  /** The resident value, or the non-resident attribute's runs from `lowestVcn`. */
  value?: Buffer | undefined;
  runs?: Run[] | undefined;
  lowestVcn: number;
  dataSize: number;
}

export interface FileRecord {
  number: number;
  sequence: number;
  inUse: boolean;
  directory: boolean;
  /** Record number of the base record (0 for a base record). */
  base: number;
  attributes: Attribute[];
}

export type Fail = (sentence: string, offset: number) => never;

/** Record header: sequence 0x10, first attribute 0x14, flags 0x16 (1 in use, 2 directory), bytes in use 0x18, base reference 0x20. */
export function parseRecord(rec: Buffer, number: number, clusters: number, fail: Fail): FileRecord {
  const used = Math.min(rec.readUInt32LE(0x18), rec.length);
  const flags = rec.readUInt16LE(0x16);
  const attributes: Attribute[] = [];
  let p = rec.readUInt16LE(0x14);
  if (p < 0x18 || p >= used) fail(`NTFS FILE record ${number} puts its first attribute at ${p}, outside the record`, 0x14);
  while (p + 8 <= used) {
    const type = rec.readUInt32LE(p);
    if (type === ATTR.END) break;
    const len = rec.readUInt32LE(p + 4);
    if (len < 24 || len % 8 !== 0 || p + len > used) fail(`NTFS FILE record ${number} has an attribute of type 0x${type.toString(16)} with length ${len} at ${p}, outside the record`, p + 4);
    attributes.push(parseAttribute(rec.subarray(p, p + len), number, clusters, (s, o) => fail(s, p + o)));
    p += len;
  }
  return { number, sequence: rec.readUInt16LE(0x10), inUse: (flags & 1) !== 0, directory: (flags & 2) !== 0, base: Number(rec.readBigUInt64LE(0x20) & 0xffffffffffffn), attributes };
}

/** Attribute header: non-resident flag 0x08, name length 0x09 / offset 0x0A, flags 0x0C, id 0x0E; resident value length 0x10 / offset 0x14; non-resident lowest VCN 0x10, runs offset 0x20, data size 0x30. */
function parseAttribute(a: Buffer, number: number, clusters: number, fail: Fail): Attribute {
  const nameLen = a[9]!;
  const nameOff = a.readUInt16LE(10);
  if (nameLen && nameOff + nameLen * 2 > a.length) fail(`NTFS FILE record ${number}: an attribute name runs past its attribute`, 9);
  const base = { type: a.readUInt32LE(0), name: nameLen ? a.toString('utf16le', nameOff, nameOff + nameLen * 2) : '', flags: a.readUInt16LE(12), id: a.readUInt16LE(14) };
  if (a[8] === 0) {
    const vlen = a.readUInt32LE(16);
    const voff = a.readUInt16LE(20);
    if (voff + vlen > a.length) fail(`NTFS FILE record ${number}: a resident value of ${vlen} bytes at ${voff} runs past its attribute`, 16);
    return { ...base, value: a.subarray(voff, voff + vlen), lowestVcn: 0, dataSize: vlen };
  }
  if (a.length < 0x40) fail(`NTFS FILE record ${number}: a non-resident attribute header of ${a.length} bytes is too short`, 4);
  const lowestVcn = Number(a.readBigUInt64LE(0x10));
  const runsOff = a.readUInt16LE(0x20);
  if (runsOff < 0x40 || runsOff > a.length) fail(`NTFS FILE record ${number}: data runs at ${runsOff} lie outside the attribute`, 0x20);
  const dataSize = Number(a.readBigUInt64LE(0x30));
  return { ...base, runs: decodeRuns(a.subarray(runsOff), lowestVcn, clusters, (s, o) => fail(s, runsOff + o)), lowestVcn, dataSize };
}

/**
 * Data runs: a header byte (low nibble: length field size, high nibble: offset field size), the
 * cluster count, then the LCN as a signed delta from the previous run's; an offset size of 0 is a
 * sparse run; a 0 header ends the list. Each run must lie inside the volume.
 */
export function decodeRuns(b: Buffer, startVcn: number, clusters: number, fail: Fail): Run[] {
  const runs: Run[] = [];
  let vcn = startVcn;
  let lcn = 0;
  for (let p = 0; p < b.length && b[p] !== 0; ) {
    const lenSize = b[p]! & 0x0f;
    const offSize = b[p]! >> 4;
    if (lenSize === 0 || lenSize > 8 || offSize > 8 || p + 1 + lenSize + offSize > b.length) fail(`NTFS data run header 0x${b[p]!.toString(16)} is malformed or runs past its attribute`, p);
    const count = Number(readSigned(b, p + 1, lenSize));
    if (count <= 0) fail(`NTFS data run of ${count} clusters`, p + 1);
    let at: number | undefined;
    if (offSize) {
      lcn += Number(readSigned(b, p + 1 + lenSize, offSize));
      if (lcn < 0 || lcn + count > clusters) fail(`NTFS data run of ${count} clusters at cluster ${lcn} lies outside the volume's ${clusters} clusters`, p);
      at = lcn;
    }
    runs.push({ lcn: at, vcn, clusters: count });
    vcn += count;
    p += 1 + lenSize + offSize;
  }
  return runs;
}

function readSigned(b: Buffer, at: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
  return (b[at + size - 1]! & 0x80) !== 0 ? v - (1n << BigInt(size * 8)) : v;
}

export interface ListEntry {
  type: number;
  name: string;
  lowestVcn: number;
  record: number;
  id: number;
}

/** $ATTRIBUTE_LIST entries: type 0x00, entry length 0x04, name length 0x06 / offset 0x07, lowest VCN 0x08, record reference 0x10, attribute id 0x18. */
export function parseAttributeList(b: Buffer, fail: Fail): ListEntry[] {
  const out: ListEntry[] = [];
  for (let p = 0; p + 0x1a <= b.length; ) {
    const len = b.readUInt16LE(p + 4);
    const nameLen = b[p + 6]!;
    const nameOff = b[p + 7]!;
    if (len < 0x1a || p + len > b.length || nameOff + nameLen * 2 > len) fail(`NTFS attribute list entry of length ${len} at ${p} runs past the list`, p + 4);
    out.push({ type: b.readUInt32LE(p), name: b.toString('utf16le', p + nameOff, p + nameOff + nameLen * 2), lowestVcn: Number(b.readBigUInt64LE(p + 8)), record: Number(b.readBigUInt64LE(p + 0x10) & 0xffffffffffffn), id: b.readUInt16LE(p + 0x18) });
    p += len;
  }
  return out;
}

import { vmxError } from '../../core/errors.js';
import { MiB } from '../../core/units.js';
import { readQcow2Header, type Qcow2Header } from '../../formats/qcow2/qcow2-header.js';
import { RandomAccessFile } from '../../io/random-access-file.js';
import { INCR } from '../error-codes.js';
import { normalizeExtents, type ChangedExtentList } from './extent-list.js';

/** qcow2.txt §Header extensions: the bitmaps extension's type. */
const EXT_BITMAPS = 0x23852875;
/** qcow2.txt §Bitmaps extension: at most 65535 bitmaps, a directory of at most 64 MiB. */
const MAX_BITMAPS = 65535;
const MAX_DIRECTORY_BYTES = 64 * MiB;
/** qcow2.txt §Bitmap directory: flags bit 0 in_use, bit 1 auto, bit 2 extra_data_compatible. */
const FLAG_IN_USE = 1;
const FLAG_AUTO = 2;
const FLAG_EXTRA_DATA_COMPATIBLE = 4;
const KNOWN_FLAGS = FLAG_IN_USE | FLAG_AUTO | FLAG_EXTRA_DATA_COMPATIBLE;
/** qcow2.txt §Bitmap directory: type 1 is the only one, a dirty tracking bitmap; granularity limits as qemu's. */
const TYPE_DIRTY_TRACKING = 1;
const MIN_GRANULARITY_BITS = 9;
const MAX_GRANULARITY_BITS = 31;
/** qcow2.txt §Bitmap table: bits 9-55 the data cluster's offset, bit 0 "all ones" when that is 0, the rest reserved. */
const ENTRY_OFFSET_MASK = 0x00fffffffffffe00n;
const ENTRY_RESERVED_MASK = 0xff000000000001fen;
/** qcow2.txt §Header autoclear_features bit 0: the bitmaps extension is consistent. */
const AUTOCLEAR_BITMAPS = 1n;

interface DirectoryEntry {
  name: string;
  tableOffset: number;
  tableSize: number;
  flags: number;
  granularityBits: number;
  at: number;
}

/**
 * The ranges a persistent dirty bitmap of a qcow2 image marks (qcow2.txt "Bitmaps extension",
 * "Bitmap directory", "Bitmap table"): each set bit is `granularity` bytes of the virtual disk.
 */
export async function changedSinceBitmap(path: string, name: string): Promise<ChangedExtentList> {
  const file = await RandomAccessFile.open(path);
  try {
    const header = await readQcow2Header(file);
    const entry = await findBitmap(file, header, name);
    return { version: 1, virtualSize: header.virtualSize, extents: await setRanges(file, header, entry) };
  } finally {
    await file.close();
  }
}

const bad = (file: RandomAccessFile, offset: number, rule: string) => vmxError(INCR.BITMAP_INVALID, rule, { file: file.path, offset });

async function findBitmap(file: RandomAccessFile, h: Qcow2Header, name: string): Promise<DirectoryEntry> {
  const ext = await bitmapsExtension(file, h);
  if (!ext) throw bad(file, 0, `the image has no bitmaps extension, so no bitmap "${name}" (qemu-img bitmap --add makes one)`);
  const autoclear = h.version === 3 ? (await file.read(88, 8, 'autoclear_features')).readBigUInt64BE(0) : 0n;
  if ((autoclear & AUTOCLEAR_BITMAPS) === 0n) throw bad(file, 88, 'autoclear_features bit 0 is clear: a program unaware of bitmaps wrote the image, so its bitmaps are inconsistent');
  const dir = await file.read(ext.offset, ext.size, 'bitmap directory');
  const names: string[] = [];
  for (let pos = 0, i = 0; i < ext.count; i++) {
    if (pos + 24 > dir.length) throw bad(file, ext.offset + pos, `bitmap directory entry ${i} runs past the directory's ${ext.size} bytes`);
    const e = parseEntry(file, dir, pos, ext.offset + pos);
    names.push(e.entry.name);
    pos = e.next;
    if (e.entry.name === name) return checkUsable(file, h, e.entry);
  }
  throw bad(file, ext.offset, `no bitmap "${name}" in the image (bitmaps: ${names.join(', ') || 'none'})`);
}

async function bitmapsExtension(file: RandomAccessFile, h: Qcow2Header): Promise<{ count: number; size: number; offset: number } | undefined> {
  if (h.version !== 3) return undefined;
  const head = await file.read(0, Math.min(file.size, h.clusterSize), 'qcow2 header cluster');
  // readQcow2Header checked that the extensions end inside the first cluster.
  for (let pos = h.headerLength; pos + 8 <= head.length; ) {
    const type = head.readUInt32BE(pos);
    const length = head.readUInt32BE(pos + 4);
    if (type === 0) return undefined;
    if (type === EXT_BITMAPS) {
      if (length < 24) throw bad(file, pos, `the bitmaps extension has ${length} bytes, fewer than 24`);
      const count = head.readUInt32BE(pos + 8);
      const size = Number(head.readBigUInt64BE(pos + 16));
      const offset = Number(head.readBigUInt64BE(pos + 24));
      if (count === 0 || count > MAX_BITMAPS) throw bad(file, pos + 8, `nb_bitmaps ${count} is outside 1..${MAX_BITMAPS}`);
      if (head.readUInt32BE(pos + 12) !== 0) throw bad(file, pos + 12, 'the reserved field after nb_bitmaps is not zero');
      if (!Number.isSafeInteger(size) || size > MAX_DIRECTORY_BYTES || size < 24 * count) throw bad(file, pos + 16, `bitmap_directory_size ${size} must hold ${count} entries and be at most ${MAX_DIRECTORY_BYTES}`);
      if (!Number.isSafeInteger(offset) || offset % h.clusterSize !== 0 || offset === 0 || offset + size > file.size) {
        throw bad(file, pos + 24, `bitmap_directory_offset ${offset} must be a cluster-aligned offset with the directory inside the file (${file.size} bytes)`);
      }
      return { count, size, offset };
    }
    pos += 8 + Math.ceil(length / 8) * 8;
  }
  return undefined;
}

function parseEntry(file: RandomAccessFile, dir: Buffer, pos: number, at: number): { entry: DirectoryEntry; next: number } {
  const tableOffset = Number(dir.readBigUInt64BE(pos));
  const tableSize = dir.readUInt32BE(pos + 8);
  const flags = dir.readUInt32BE(pos + 12);
  const type = dir[pos + 16]!;
  const granularityBits = dir[pos + 17]!;
  const nameSize = dir.readUInt16BE(pos + 18);
  const extra = dir.readUInt32BE(pos + 20);
  const end = pos + 24 + extra + nameSize;
  if (end > dir.length) throw bad(file, at, `bitmap directory entry of ${24 + extra + nameSize} bytes runs past the directory`);
  const name = dir.subarray(pos + 24 + extra, end).toString('utf8');
  if (type !== TYPE_DIRTY_TRACKING) throw bad(file, at + 16, `bitmap "${name}" has type ${type}; only type 1 (dirty tracking) exists`);
  if (flags & ~KNOWN_FLAGS) throw bad(file, at + 12, `bitmap "${name}" has reserved flags set (0x${flags.toString(16)})`);
  if (extra !== 0 && !(flags & FLAG_EXTRA_DATA_COMPATIBLE)) throw bad(file, at + 20, `bitmap "${name}" has ${extra} bytes of extra data vmxfer does not know, without extra_data_compatible: it must not be used`);
  return { entry: { name, tableOffset, tableSize, flags, granularityBits, at }, next: pos + Math.ceil((end - pos) / 8) * 8 };
}

function checkUsable(file: RandomAccessFile, h: Qcow2Header, e: DirectoryEntry): DirectoryEntry {
  if (e.flags & FLAG_IN_USE) throw vmxError(INCR.BITMAP_IN_USE, `bitmap ${e.name} is in use: the image was not closed cleanly, so the bitmap may miss writes`, { file: file.path, offset: e.at + 12 });
  if (e.granularityBits < MIN_GRANULARITY_BITS || e.granularityBits > MAX_GRANULARITY_BITS) {
    throw bad(file, e.at + 17, `bitmap "${e.name}" has granularity_bits ${e.granularityBits}, outside ${MIN_GRANULARITY_BITS}..${MAX_GRANULARITY_BITS}`);
  }
  const bits = Math.ceil(h.virtualSize / 2 ** e.granularityBits);
  const want = Math.ceil(bits / (h.clusterSize * 8));
  if (e.tableSize !== want) throw bad(file, e.at + 8, `bitmap "${e.name}" has a table of ${e.tableSize} entries; ${h.virtualSize} bytes at granularity ${2 ** e.granularityBits} need ${want}`);
  if (!Number.isSafeInteger(e.tableOffset) || e.tableOffset % h.clusterSize !== 0 || e.tableOffset + e.tableSize * 8 > file.size) {
    throw bad(file, e.at, `bitmap "${e.name}" has its table at ${e.tableOffset}, not a cluster-aligned offset inside the file`);
  }
  return e;
}

/** qcow2.txt §Bitmap table and data: bit j of byte i of the k-th data cluster is bit (k·cluster + i)·8 + j. */
async function setRanges(file: RandomAccessFile, h: Qcow2Header, e: DirectoryEntry): Promise<Array<{ offset: number; length: number }>> {
  const table = await file.read(e.tableOffset, e.tableSize * 8, `bitmap "${e.name}" table`);
  const granularity = 2 ** e.granularityBits;
  const bitsPerCluster = h.clusterSize * 8;
  const total = Math.ceil(h.virtualSize / granularity);
  const out: Array<{ offset: number; length: number }> = [];
  const mark = (bit: number, count: number) => {
    const offset = bit * granularity;
    const length = Math.min(count * granularity, h.virtualSize - offset);
    const last = out[out.length - 1];
    if (last && last.offset + last.length === offset) last.length += length;
    else out.push({ offset, length });
  };
  for (let k = 0; k < e.tableSize; k++) {
    const v = table.readBigUInt64BE(k * 8);
    const first = k * bitsPerCluster;
    const count = Math.min(bitsPerCluster, total - first);
    if (v & ENTRY_RESERVED_MASK) throw bad(file, e.tableOffset + k * 8, `bitmap "${e.name}" table entry ${k} has reserved bits set`);
    const host = Number(v & ENTRY_OFFSET_MASK);
    if (host === 0) {
      if (v & 1n) mark(first, count);
      continue;
    }
    if (v & 1n) throw bad(file, e.tableOffset + k * 8, `bitmap "${e.name}" table entry ${k} sets bit 0 beside a cluster offset`);
    if (host + h.clusterSize > file.size) throw bad(file, e.tableOffset + k * 8, `bitmap "${e.name}" table entry ${k} points at ${host}, past the end of the file`);
    const data = await file.read(host, h.clusterSize, `bitmap "${e.name}" data cluster ${k}`);
    for (let i = 0; i < count; i++) if (data[i >> 3]! & (1 << (i & 7))) mark(first + i, 1);
  }
  return normalizeExtents(out);
}

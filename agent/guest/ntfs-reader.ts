import { vmxError } from '../core/errors.js';
import { GUEST } from './error-codes.js';
import type { Volume } from './volume-probe.js';
import type { GuestFiles } from './guest-files.js';
import { ATTR, applyFixups, decodeRuns, ntfsGeometry, parseAttributeList, parseRecord, type Attribute, type Fail, type FileRecord, type NtfsGeometry, type Run } from './ntfs-records.js';

/*
 * A read-only NTFS reader for the few files the guest facts need (the Windows directory, the
 * SOFTWARE hive, ntoskrnl.exe, bootmgr, the BCD store). Written here because no maintained
 * JavaScript NTFS reader exists (the npm registry has none that reads through a byte-range reader;
 * the known NTFS readers are C, Rust and Python). Structures after the Linux-NTFS project's "NTFS
 * Documentation": the MFT read through its own $DATA runs, $ATTRIBUTE_LIST followed into extension
 * records, directories looked up in the $I30 B+tree ($INDEX_ROOT, INDX blocks of $INDEX_ALLOCATION,
 * §"Directory Tree" / §"INDX"). Names compare case-insensitively by folding each UTF-16 code unit
 * with toUpperCase, not by the volume's $UpCase table: exact for the ASCII names looked up here,
 * an approximation of the collation for others. Compressed and encrypted $DATA is not decoded
 * (such a file reads as absent). Every count is bounded: MFT record size, INDX block size, depth
 * of the tree, blocks visited, extension records, attribute-list size.
 */

const ROOT_RECORD = 5;
const MAX_EXTENSION_RECORDS = 256;
const MAX_ATTRIBUTE_LIST = 1024 * 1024;
const MAX_TREE_DEPTH = 24;
const MAX_LIST_BLOCKS = 4096;
const NAMESPACE_DOS = 2;
const FLAG_COMPRESSED = 0x0001;
const FLAG_ENCRYPTED = 0x4000;

interface IndexEntry {
  record: number;
  sequence: number;
  name: string;
  namespace: number;
  subnode?: number | undefined;
  last: boolean;
}

/** A file's unnamed $DATA, read by range. */
export interface NtfsStream {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

export class NtfsReader implements GuestFiles {
  private readonly fail: (where: number) => Fail;

  private constructor(private readonly v: Volume, private readonly g: NtfsGeometry, private mftRuns: Run[], private mftRecords: number) {
    this.fail = (where) => (sentence, offset) => {
      throw vmxError(GUEST.FILESYSTEM, sentence, { file: v.disk.name, offset: v.offset + where + offset });
    };
  }

  static async open(v: Volume): Promise<NtfsReader> {
    const g = ntfsGeometry(v, await v.read(0, 512));
    // The first records ($MFT itself, its first extension records) lie contiguously at the MFT's start ("$MFT" in the documentation).
    const boot = [{ lcn: g.mft / g.cluster, vcn: 0, clusters: Math.ceil((16 * g.record) / g.cluster) }];
    const r = new NtfsReader(v, g, boot, 16);
    const mft = await r.record(0);
    const data = await r.stream(mft, '');
    if (!data?.runs) r.fail(g.mft)('NTFS $MFT has no non-resident $DATA', 0);
    r.mftRuns = data!.runs!;
    r.mftRecords = Math.floor(data!.size / g.record);
    return r;
  }

  async readFile(path: string, maxBytes: number): Promise<Buffer | undefined> {
    const s = await this.openFile(path);
    return s ? s.read(0, Math.min(s.size, maxBytes)) : undefined;
  }

  async list(path: string): Promise<string[] | undefined> {
    const rec = await this.lookup(path);
    if (!rec?.directory) return undefined;
    const names = new Set<string>();
    await this.walk(rec, (e) => {
      if (e.namespace !== NAMESPACE_DOS) names.add(e.name);
    });
    return [...names];
  }

  async isDirectory(path: string): Promise<boolean> {
    return (await this.lookup(path))?.directory === true;
  }

  /** The unnamed $DATA of a regular file, read by range; undefined when absent, a directory, compressed or encrypted. */
  async openFile(path: string): Promise<NtfsStream | undefined> {
    const rec = await this.lookup(path);
    if (!rec || rec.directory) return undefined;
    const s = await this.stream(rec, '');
    if (!s || s.flags & (FLAG_COMPRESSED | FLAG_ENCRYPTED)) return undefined;
    return { size: s.size, read: (o, l) => s.read(o, l) };
  }

  private async lookup(path: string): Promise<FileRecord | undefined> {
    let cur = await this.record(ROOT_RECORD);
    for (const part of path.split('/').filter(Boolean)) {
      if (!cur.directory) return undefined;
      const hit = await this.find(cur, fold(part));
      if (!hit) return undefined;
      const next = await this.record(hit.record);
      if (!next.inUse || (hit.sequence !== 0 && hit.sequence !== next.sequence)) {
        this.fail(this.recordOffset(hit.record))(`NTFS directory entry "${hit.name}" in record ${cur.number} names record ${hit.record} sequence ${hit.sequence}, which is ${next.inUse ? `at sequence ${next.sequence}` : 'not in use'}`, 0);
      }
      cur = next;
    }
    return cur;
  }

  /** B+tree search of $I30 (entries sorted by the upper-cased name; an entry's subnode holds the names before it). */
  private async find(dir: FileRecord, want: string): Promise<IndexEntry | undefined> {
    const idx = await this.index(dir);
    let entries = idx.rootEntries;
    const seen = new Set<number>();
    for (let depth = 0; depth < MAX_TREE_DEPTH; depth++) {
      let down: number | undefined;
      for (const e of entries) {
        const c = e.last ? -1 : compare(want, fold(e.name));
        if (c === 0) return e;
        if (c < 0) {
          down = e.subnode;
          break;
        }
      }
      if (down === undefined) return undefined;
      if (seen.has(down)) this.fail(this.recordOffset(dir.number))(`NTFS directory index of record ${dir.number} loops back to block ${down}`, 0);
      seen.add(down);
      entries = await idx.block(down);
    }
    return this.fail(this.recordOffset(dir.number))(`NTFS directory index of record ${dir.number} is deeper than ${MAX_TREE_DEPTH} levels`, 0);
  }

  /** Every entry of a directory, in order, visiting each INDX block once. */
  private async walk(dir: FileRecord, visit: (e: IndexEntry) => void): Promise<void> {
    const idx = await this.index(dir);
    const seen = new Set<number>();
    const descend = async (entries: IndexEntry[], depth: number): Promise<void> => {
      if (depth > MAX_TREE_DEPTH) this.fail(this.recordOffset(dir.number))(`NTFS directory index of record ${dir.number} is deeper than ${MAX_TREE_DEPTH} levels`, 0);
      for (const e of entries) {
        if (e.subnode !== undefined) {
          if (seen.has(e.subnode) || seen.size >= MAX_LIST_BLOCKS) this.fail(this.recordOffset(dir.number))(`NTFS directory index of record ${dir.number} ${seen.has(e.subnode) ? `loops back to block ${e.subnode}` : `has more than ${MAX_LIST_BLOCKS} blocks`}`, 0);
          seen.add(e.subnode);
          await descend(await idx.block(e.subnode), depth + 1);
        }
        if (!e.last) visit(e);
      }
    };
    await descend(idx.rootEntries, 0);
  }

  /** $INDEX_ROOT "$I30": bytes per index block 0x08, node header 0x10; INDX blocks read from $INDEX_ALLOCATION at VCN × (cluster, or 512 when blocks are smaller than a cluster). */
  private async index(dir: FileRecord): Promise<{ rootEntries: IndexEntry[]; block: (vcn: number) => Promise<IndexEntry[]> }> {
    const attrs = await this.attributes(dir);
    const root = attrs.find((a) => a.type === ATTR.INDEX_ROOT && a.name === '$I30')?.value;
    const at = this.recordOffset(dir.number);
    if (!root || root.length < 32) return this.fail(at)(`NTFS directory record ${dir.number} has no $I30 index root`, 0);
    const blockSize = root.readUInt32LE(8);
    if (blockSize < 512 || blockSize > 65536 || (blockSize & (blockSize - 1)) !== 0) this.fail(at)(`NTFS directory record ${dir.number} has an index block size of ${blockSize}`, 0);
    const rootEntries = this.entries(root, 16, dir.number, at);
    const alloc = await this.streamOf(attrs, ATTR.INDEX_ALLOCATION, '$I30', dir);
    const unit = blockSize >= this.g.cluster ? this.g.cluster : 512;
    const block = async (vcn: number): Promise<IndexEntry[]> => {
      const off = vcn * unit;
      if (!alloc || off + blockSize > alloc.size) return this.fail(at)(`NTFS directory record ${dir.number} points to index block ${vcn}, outside its $INDEX_ALLOCATION`, 0);
      const where = alloc.diskOffset(off);
      const b = applyFixups(this.v, await alloc.read(off, blockSize), this.v.offset + where, 'INDX');
      if (!b) return this.fail(where)(`NTFS index block ${vcn} of record ${dir.number} has no INDX signature`, 0);
      return this.entries(b, 0x18, dir.number, where);
    };
    return { rootEntries, block };
  }

  /** Index node header (entries offset 0x00, bytes in use 0x04, relative to the header) and its entries: reference 0x00, length 0x08, key length 0x0A, flags 0x0C (1 subnode, 2 last), $FILE_NAME key at 0x10 (name length 0x40, namespace 0x41, name 0x42), subnode VCN in the last 8 bytes. */
  private entries(b: Buffer, header: number, dir: number, where: number): IndexEntry[] {
    const fail = this.fail(where);
    if (header + 16 > b.length) fail(`NTFS index node of record ${dir} is too short`, header);
    const end = header + b.readUInt32LE(header + 4);
    if (end > b.length) fail(`NTFS index node of record ${dir} says ${end - header} bytes are in use, more than its ${b.length - header}`, header + 4);
    const out: IndexEntry[] = [];
    for (let p = header + b.readUInt32LE(header); ; ) {
      if (p + 16 > end) fail(`NTFS index node of record ${dir} has no last entry`, p);
      const len = b.readUInt16LE(p + 8);
      const keyLen = b.readUInt16LE(p + 10);
      const flags = b.readUInt16LE(p + 12);
      const last = (flags & 2) !== 0;
      if (len < 16 || len % 8 !== 0 || p + len > end || 16 + keyLen > len || (!last && keyLen < 0x42)) fail(`NTFS index entry of length ${len} (key ${keyLen}) at ${p} in record ${dir}'s index does not fit its node`, p + 8);
      const nameLen = last ? 0 : b[p + 16 + 0x40]!;
      if (!last && 0x42 + nameLen * 2 > keyLen) fail(`NTFS index entry name of ${nameLen} characters runs past its key`, p + 16 + 0x40);
      const subnode = flags & 1 ? (len < 24 ? fail('NTFS index entry has a subnode flag but no room for its VCN', p + 12) : Number(b.readBigUInt64LE(p + len - 8))) : undefined;
      const ref = b.readBigUInt64LE(p);
      out.push({ record: Number(ref & 0xffffffffffffn), sequence: Number(ref >> 48n), name: last ? '' : b.toString('utf16le', p + 16 + 0x42, p + 16 + 0x42 + nameLen * 2), namespace: last ? 0 : b[p + 16 + 0x41]!, subnode, last });
      if (last) return out;
      p += len;
    }
  }

  private recordOffset(n: number): number {
    return this.locate(this.mftRuns, n * this.g.record) ?? this.g.mft;
  }

  /** MFT record `n`, fixed up and parsed. */
  private async record(n: number): Promise<FileRecord> {
    if (n >= this.mftRecords) this.fail(this.g.mft)(`NTFS record ${n} is past the MFT's ${this.mftRecords} records`, 0);
    const where = this.recordOffset(n);
    const raw = await this.readRuns(this.mftRuns, n * this.g.record, this.g.record, Infinity);
    const rec = applyFixups(this.v, raw, this.v.offset + where, 'FILE');
    if (!rec) return this.fail(where)(`NTFS MFT record ${n} has no FILE signature`, 0);
    return parseRecord(rec, n, this.g.clusters, this.fail(where));
  }

  /** The record's attributes, with those of its extension records when an $ATTRIBUTE_LIST names them. */
  private async attributes(rec: FileRecord): Promise<Attribute[]> {
    const list = rec.attributes.find((a) => a.type === ATTR.ATTRIBUTE_LIST);
    if (!list) return rec.attributes;
    const where = this.recordOffset(rec.number);
    if (list.dataSize > MAX_ATTRIBUTE_LIST) this.fail(where)(`NTFS attribute list of record ${rec.number} is ${list.dataSize} bytes, over ${MAX_ATTRIBUTE_LIST}`, 0);
    const bytes = list.value ?? (await this.readRuns(list.runs!, 0, list.dataSize, list.dataSize));
    const others = [...new Set(parseAttributeList(bytes, this.fail(where)).map((e) => e.record).filter((r) => r !== rec.number))];
    if (others.length > MAX_EXTENSION_RECORDS) this.fail(where)(`NTFS attribute list of record ${rec.number} names ${others.length} extension records, over ${MAX_EXTENSION_RECORDS}`, 0);
    const out = [...rec.attributes];
    for (const n of others) {
      const ext = await this.record(n);
      if (ext.base !== rec.number) this.fail(this.recordOffset(n))(`NTFS extension record ${n} belongs to record ${ext.base}, not ${rec.number}`, 0x20);
      out.push(...ext.attributes);
    }
    return out;
  }

  private async stream(rec: FileRecord, name: string): Promise<(NtfsStream & { runs?: Run[] | undefined; flags: number }) | undefined> {
    return this.streamOf(await this.attributes(rec), ATTR.DATA, name, rec);
  }

  /** An attribute's value: resident, or its fragments' runs joined in VCN order (the first fragment holds the size). */
  private async streamOf(attrs: Attribute[], type: number, name: string, rec: FileRecord): Promise<(NtfsStream & { runs?: Run[] | undefined; flags: number; diskOffset: (o: number) => number }) | undefined> {
    const parts = attrs.filter((a) => a.type === type && a.name === name).sort((a, b) => a.lowestVcn - b.lowestVcn);
    const first = parts[0];
    if (!first) return undefined;
    if (first.value) {
      const value = first.value;
      return { size: value.length, flags: first.flags, diskOffset: () => this.recordOffset(rec.number), read: async (o, l) => Buffer.from(value.subarray(o, o + l)) };
    }
    const runs = parts.flatMap((p) => p.runs ?? []);
    for (let i = 1; i < runs.length; i++) {
      if (runs[i]!.vcn !== runs[i - 1]!.vcn + runs[i - 1]!.clusters) this.fail(this.recordOffset(rec.number))(`NTFS attribute 0x${type.toString(16)} of record ${rec.number} has fragments that overlap or leave a gap at VCN ${runs[i]!.vcn}`, 0);
    }
    const size = first.dataSize;
    return { size, runs, flags: first.flags, diskOffset: (o) => this.locate(runs, o) ?? 0, read: (o, l) => this.readRuns(runs, o, Math.max(0, Math.min(l, size - o)), size) };
  }

  /** Volume byte offset of stream byte `o`, or undefined in a sparse run or past the runs. */
  private locate(runs: Run[], o: number): number | undefined {
    const vcn = Math.floor(o / this.g.cluster);
    const r = runs.find((x) => vcn >= x.vcn && vcn < x.vcn + x.clusters);
    return r?.lcn === undefined ? undefined : (r.lcn + vcn - r.vcn) * this.g.cluster + (o % this.g.cluster);
  }

  /** Bytes [offset, offset + length) of a non-resident stream; sparse runs read as zeros, bytes past the runs are an error. */
  private async readRuns(runs: Run[], offset: number, length: number, size: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    const c = this.g.cluster;
    for (let pos = offset; pos < offset + length; ) {
      const vcn = Math.floor(pos / c);
      const r = runs.find((x) => vcn >= x.vcn && vcn < x.vcn + x.clusters);
      if (!r) return this.fail(0)(`NTFS stream of ${size} bytes has no data run for byte ${pos} (VCN ${vcn})`, 0);
      const runEnd = (r.vcn + r.clusters) * c;
      const n = Math.min(offset + length, runEnd) - pos;
      if (r.lcn !== undefined) (await this.v.read((r.lcn - r.vcn) * c + pos, n)).copy(out, pos - offset);
      pos += n;
    }
    return out;
  }
}

/** NTFS collates file names by upper-cased UTF-16 code units. */
function fold(s: string): string {
  let out = '';
  for (const ch of s) {
    const u = ch.toUpperCase();
    out += u.length === ch.length ? u : ch;
  }
  return out;
}

function compare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d) return d;
  }
  return a.length - b.length;
}

export { decodeRuns };

import { crc32c } from '@node-rs/crc32';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Test-side VHDX surgery, written independently of agent/formats/vhdx from [MS-VHDX]: locate the
 * structures of a (qemu-made) VHDX and patch them with valid checksums, to build inputs qemu cannot
 * make (logs, differencing disks, corruptions).
 */
export const MiB = 1024 * 1024;
export const HEADERS = [64 * 1024, 128 * 1024];
export const REGION_TABLES = [192 * 1024, 256 * 1024];
const BAT_GUID = '2DC27766-F623-4200-9D64-115E9BFD4A08';
const METADATA_GUID = '8B7CA206-4790-4B9A-B8FE-575F050F886E';

export function guidText(b: Buffer, at = 0): string {
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
  const tail = b.subarray(at + 8, at + 16).toString('hex');
  return `${h(b.readUInt32LE(at), 8)}-${h(b.readUInt16LE(at + 4), 4)}-${h(b.readUInt16LE(at + 6), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}`.toUpperCase();
}

export function guidBytes(text: string): Buffer {
  const [a, b, c, d, e] = text.split('-');
  const out = Buffer.alloc(16);
  out.writeUInt32LE(parseInt(a!, 16), 0);
  out.writeUInt16LE(parseInt(b!, 16), 4);
  out.writeUInt16LE(parseInt(c!, 16), 6);
  Buffer.from(d! + e!, 'hex').copy(out, 8);
  return out;
}

export class VhdxEditor {
  private constructor(readonly fh: FileHandle) {}

  static async open(path: string): Promise<VhdxEditor> {
    return new VhdxEditor(await open(path, 'r+'));
  }

  async read(at: number, length: number): Promise<Buffer> {
    const b = Buffer.alloc(length);
    await this.fh.read(b, 0, length, at);
    return b;
  }

  async write(at: number, data: Buffer): Promise<void> {
    await this.fh.write(data, 0, data.length, at);
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  /** Rewrites a structure's CRC-32C field (at +4) over `length` bytes, as §2.2.2 / §2.2.3 / §2.3.1.1 define. */
  async fixCrc(at: number, length: number): Promise<void> {
    const b = await this.read(at, length);
    b.writeUInt32LE(0, 4);
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(crc32c(b));
    await this.write(at + 4, crc);
  }

  /** Applies `edit` to both headers (4 KiB each) and re-checksums them. */
  async editHeaders(edit: (h: Buffer) => void): Promise<void> {
    for (const at of HEADERS) {
      const h = await this.read(at, 4096);
      edit(h);
      h.writeUInt32LE(0, 4);
      h.writeUInt32LE(crc32c(h), 4);
      await this.write(at, h);
    }
  }

  /** The current header: valid, greatest sequence number. */
  async currentHeader(): Promise<Buffer> {
    const hs = await Promise.all(HEADERS.map((at) => this.read(at, 4096)));
    return hs.sort((x, y) => (y.readBigUInt64LE(8) > x.readBigUInt64LE(8) ? 1 : -1))[0]!;
  }

  async regions(): Promise<{ bat: { offset: number; length: number }; metadata: { offset: number; length: number } }> {
    const t = await this.read(REGION_TABLES[0]!, 64 * 1024);
    const out: Record<string, { offset: number; length: number }> = {};
    for (let i = 0; i < t.readUInt32LE(8); i++) {
      const at = 16 + i * 32;
      out[guidText(t, at)] = { offset: Number(t.readBigUInt64LE(at + 16)), length: t.readUInt32LE(at + 24) };
    }
    return { bat: out[BAT_GUID]!, metadata: out[METADATA_GUID]! };
  }

  /** Metadata items by GUID: absolute file offset and length (§2.6.1). */
  async metadataItems(): Promise<Map<string, { at: number; length: number }>> {
    const { metadata } = await this.regions();
    const t = await this.read(metadata.offset, 64 * 1024);
    const items = new Map<string, { at: number; length: number }>();
    for (let i = 0; i < t.readUInt16LE(10); i++) {
      const e = 32 + i * 32;
      items.set(guidText(t, e), { at: metadata.offset + t.readUInt32LE(e + 16), length: t.readUInt32LE(e + 20) });
    }
    return items;
  }

  async batEntry(index: number): Promise<{ state: number; fileOffset: number }> {
    const { bat } = await this.regions();
    const v = (await this.read(bat.offset + index * 8, 8)).readBigUInt64LE(0);
    return { state: Number(v & 7n), fileOffset: Number(v >> 20n) * MiB };
  }

  async setBatEntry(index: number, state: number, fileOffset: number): Promise<void> {
    const { bat } = await this.regions();
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE((BigInt(fileOffset / MiB) << 20n) | BigInt(state));
    await this.write(bat.offset + index * 8, b);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

export type LogWriteSpec = { kind: 'data'; fileOffset: number; data: Buffer } | { kind: 'zero'; fileOffset: number; length: number };

/**
 * One log entry per [MS-VHDX] §2.3.1: header ("loge", CRC-32C over the whole entry), descriptors
 * ("zero"/"desc"), then one "data" sector per data descriptor whose first 8 and last 4 bytes live in
 * the descriptor (LeadingBytes / TrailingBytes).
 */
export function buildLogEntry(o: { seq: bigint; tail: number; logGuid: Buffer; flushed: number; last: number; writes: LogWriteSpec[] }): Buffer {
  const descSectors = Math.ceil((64 + 32 * o.writes.length) / 4096);
  const dataWrites = o.writes.filter((w) => w.kind === 'data');
  const e = Buffer.alloc((descSectors + dataWrites.length) * 4096);
  e.write('loge', 0, 'latin1');
  e.writeUInt32LE(e.length, 8);
  e.writeUInt32LE(o.tail, 12);
  e.writeBigUInt64LE(o.seq, 16);
  e.writeUInt32LE(o.writes.length, 24);
  o.logGuid.copy(e, 32);
  e.writeBigUInt64LE(BigInt(o.flushed), 48);
  e.writeBigUInt64LE(BigInt(o.last), 56);
  let dataSector = descSectors;
  o.writes.forEach((w, i) => {
    const d = e.subarray(64 + i * 32, 96 + i * 32);
    d.writeBigUInt64LE(BigInt(w.fileOffset), 16);
    d.writeBigUInt64LE(o.seq, 24);
    if (w.kind === 'zero') {
      d.write('zero', 0, 'latin1');
      d.writeBigUInt64LE(BigInt(w.length), 8);
      return;
    }
    d.write('desc', 0, 'latin1');
    w.data.copy(d, 4, 4092, 4096);
    w.data.copy(d, 8, 0, 8);
    const s = e.subarray(dataSector * 4096, ++dataSector * 4096);
    s.write('data', 0, 'latin1');
    s.writeUInt32LE(Number(o.seq >> 32n), 4);
    w.data.copy(s, 8, 8, 4092);
    s.writeUInt32LE(Number(o.seq & 0xffffffffn), 4092);
  });
  e.writeUInt32LE(crc32c(e), 4);
  return e;
}

import type { Readable } from 'node:stream';
import { DEFAULT_MAX_DATA_EXTENT, type DiskInfo, type DiskSource, type ExtentReadOptions } from '../../disk/disk-source.js';
import { dataExtent, emptyExtent, type Extent } from '../../disk/extent.js';
import { throwIfAborted } from '../../core/abort.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import type { StreamDiskReader } from '../stream-reader.js';
import { GRAIN_HEADER_BYTES, checkGrainHeader, inflateGrain, readGrainHeader } from './compressed-grain.js';
import { MAX_DESCRIPTOR_BYTES, parseDescriptor, type VmdkDescriptor } from './descriptor.js';
import { VMDK } from './error-codes.js';
import { GrainLedger } from './grain-ledger.js';
import { SECTOR, gtCount, parseSparseHeader, type SparseHeader } from './sparse-header.js';
import { StreamBytes } from './stream-bytes.js';
import { readHeadGrainLedger } from './stream-head-map.js';
import { MAX_STREAM_TABLES, StreamTrailer } from './stream-trailer.js';
import { vmdkInfo } from './vmdk-info.js';

/**
 * A stream-optimized VMDK read front to back from a non-seekable stream (VMDK 5.0 §"Stream-Optimized
 * Compressed Sparse Extents"): header, embedded descriptor, then markers until end-of-stream. Grains
 * must come in ascending LBA order (qemu and VMware write them so); memory is one grain plus a few
 * numbers per grain table (stream-trailer.ts), bounded by MAX_STREAM_TABLES.
 */
export const vmdkStreamReader: StreamDiskReader = {
  name: 'vmdk',
  async open(stream: Readable, opts) {
    const bytes = new StreamBytes(stream, opts.name);
    try {
      const header = await readStreamHeader(bytes, opts.name);
      const descriptor = await readStreamDescriptor(bytes, header, opts.name);
      const head = await readHeadGrainLedger(bytes, header, opts.name);
      // Grains start after the metadata the header counts (overHead sectors).
      await skipTo(bytes, header.overHead * SECTOR, opts.name, 'the first grain');
      return new StreamVmdkDisk(bytes, header, descriptor, head, opts.name);
    } catch (err) {
      await bytes.close();
      throw err;
    }
  },
};

async function readStreamHeader(bytes: StreamBytes, name: string): Promise<SparseHeader> {
  const header = parseSparseHeader(await bytes.read(SECTOR), name);
  if (!header.hasMarkers || !header.compressed) {
    throw vmxError(VMDK.NOT_STREAM_OPTIMIZED, `a stream can only be read when its header has the markers and compressed-grains flags (flags 0x${header.flags.toString(16)})`, { file: name, offset: 8 });
  }
  if (gtCount(header) > MAX_STREAM_TABLES) {
    throw vmxError(VMDK.TABLE_TOO_LARGE, `capacity ${header.capacitySectors} sectors in grains of ${header.grainSectors} sectors needs ${gtCount(header)} grain tables, over the ${MAX_STREAM_TABLES} a stream is read with`, { file: name, offset: 12 });
  }
  return header;
}

async function readStreamDescriptor(bytes: StreamBytes, h: SparseHeader, name: string): Promise<VmdkDescriptor | undefined> {
  if (h.descriptorOffset === 0 || h.descriptorSectors === 0) return undefined;
  const size = h.descriptorSectors * SECTOR;
  if (size > MAX_DESCRIPTOR_BYTES) throw vmxError(VMDK.MALFORMED_DESCRIPTOR, `embedded descriptor size ${h.descriptorSectors} sectors is over the ${MAX_DESCRIPTOR_BYTES}-byte limit`, { file: name, offset: 36 });
  await skipTo(bytes, h.descriptorOffset * SECTOR, name, 'the embedded descriptor');
  const at = bytes.position;
  const text = await bytes.read(size);
  if (text.length < size) throw vmxError(VMDK.TRUNCATED, `the stream ends inside the embedded descriptor`, { file: name, offset: bytes.position });
  return parseDescriptor(text, name, at);
}

async function skipTo(bytes: StreamBytes, target: number, name: string, what: string): Promise<void> {
  if (target <= bytes.position) return;
  const want = target - bytes.position;
  if ((await bytes.skip(want)) < want) throw vmxError(VMDK.TRUNCATED, `the stream ends before ${what} at byte ${target}`, { file: name, offset: bytes.position });
}

class StreamVmdkDisk implements DiskSource {
  readonly info: DiskInfo;
  readonly virtualSize: number;
  private consumed = false;

  constructor(
    private readonly bytes: StreamBytes,
    private readonly header: SparseHeader,
    descriptor: VmdkDescriptor | undefined,
    private readonly head: GrainLedger | undefined,
    private readonly name: string,
  ) {
    this.virtualSize = header.capacitySectors * SECTOR;
    const subformat = descriptor?.createType ?? 'streamOptimized';
    this.info = { ...vmdkInfo({ subformat, components: [], files: [name], header, descriptor }), virtualSize: this.virtualSize };
    delete this.info.allocatedBytes;
  }

  extents(opts: ExtentReadOptions = {}): AsyncIterable<Extent> {
    if (this.consumed) throw vmxError(CORE.USAGE, 'a VMDK read from a stream can be iterated only once', { file: this.name });
    this.consumed = true;
    return new MarkerWalk(this.bytes, this.header, this.head, this.name, opts).extents();
  }

  close(): Promise<void> {
    return this.bytes.close();
  }
}

/** One pass over the markers, yielding grains and the unallocated gaps between them. */
class MarkerWalk {
  private next = 0;
  private readonly grains = new GrainLedger();
  private readonly trailer: StreamTrailer;
  private readonly grainBytes: number;
  private readonly capacity: number;
  private readonly maxLen: number;

  constructor(
    private readonly bytes: StreamBytes,
    private readonly h: SparseHeader,
    head: GrainLedger | undefined,
    private readonly name: string,
    private readonly opts: ExtentReadOptions,
  ) {
    this.grainBytes = h.grainSectors * SECTOR;
    this.capacity = h.capacitySectors * SECTOR;
    this.maxLen = opts.maxDataLength ?? DEFAULT_MAX_DATA_EXTENT;
    this.trailer = new StreamTrailer(bytes, h, head, name);
  }

  async *extents(): AsyncGenerator<Extent> {
    try {
      for (;;) {
        throwIfAborted(this.opts.signal);
        const at = this.bytes.position;
        const sector = await this.bytes.read(SECTOR);
        if (sector.length === 0) {
          this.trailer.endAtEof(this.grains, at);
          break;
        }
        if (sector.length < SECTOR) throw vmxError(VMDK.MISSING_EOS, `the stream ends at byte ${this.bytes.position} inside a marker, without an end-of-stream marker`, { file: this.name, offset: at });
        if (sector.readUInt32LE(8) !== 0) {
          yield* this.grain(sector, at);
          continue;
        }
        if (await this.trailer.metadata(sector, at, this.grains)) break;
      }
      if (this.next < this.capacity) yield emptyExtent('unallocated', this.next, this.capacity - this.next);
    } finally {
      await this.bytes.close();
    }
  }

  private async *grain(sector: Buffer, at: number): AsyncGenerator<Extent> {
    const where = { file: this.name, offset: at };
    const g = readGrainHeader(sector, 0);
    checkGrainHeader(g, undefined, this.grainBytes, where);
    const lbaBytes = g.lba * SECTOR;
    if (lbaBytes % this.grainBytes !== 0 || lbaBytes >= this.capacity) {
      throw vmxError(VMDK.BAD_GRAIN_MARKER, `grain marker LBA ${g.lba} is not the start of a grain inside the capacity (${this.h.capacitySectors} sectors)`, where);
    }
    if (lbaBytes < this.next) {
      throw vmxError(VMDK.GRAIN_OUT_OF_ORDER, `grain for LBA ${g.lba} comes after data up to sector ${this.next / SECTOR}; a stream is read in one pass and needs ascending LBAs`, where);
    }
    const packed = await this.grainData(sector, g.size, at);
    const tail = Math.min(this.grainBytes, this.capacity - lbaBytes);
    const data = inflateGrain(packed, this.grainBytes, tail, where).subarray(0, tail);
    if (lbaBytes > this.next) yield emptyExtent('unallocated', this.next, lbaBytes - this.next);
    for (let off = 0; off < data.length; off += this.maxLen) {
      const piece = data.subarray(off, Math.min(data.length, off + this.maxLen));
      yield dataExtent(lbaBytes + off, this.opts.allocate ? copyInto(this.opts.allocate(piece.length), piece) : piece);
    }
    this.next = lbaBytes + data.length;
    this.grains.add(lbaBytes / this.grainBytes, at / SECTOR);
  }

  /** The compressed bytes: the rest of the first sector, then whole sectors (grains are sector-padded). */
  private async grainData(sector: Buffer, size: number, at: number): Promise<Buffer> {
    const inFirst = SECTOR - GRAIN_HEADER_BYTES;
    if (size <= inFirst) return sector.subarray(GRAIN_HEADER_BYTES, GRAIN_HEADER_BYTES + size);
    const more = Math.ceil((size - inFirst) / SECTOR) * SECTOR;
    const rest = await this.bytes.read(more);
    if (rest.length < size - inFirst) throw vmxError(VMDK.TRUNCATED, `the stream ends inside the compressed grain that starts at byte ${at}`, { file: this.name, offset: this.bytes.position });
    return Buffer.concat([sector.subarray(GRAIN_HEADER_BYTES), rest]).subarray(0, size);
  }
}

function copyInto(dst: Buffer, src: Buffer): Buffer {
  src.copy(dst);
  return dst;
}

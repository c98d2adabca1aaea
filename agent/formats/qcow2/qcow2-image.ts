import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { QCOW2 } from './error-codes.js';
import { MAX_L1_ENTRIES, type Qcow2Header } from './qcow2-header.js';
import { fixedMetadataRanges, overlappingMetadata, type FileRange } from './metadata-ranges.js';
import { decodeL2Table, l2EntrySize, type L2Context } from './l2-table.js';
import { L2Cache } from './l2-cache.js';
import type { MapPiece } from './map-piece.js';

const TWO32 = 2 ** 32;

/**
 * One qcow2 file's active mapping (qcow2.txt §Cluster mapping): the L1 table held in memory
 * (8 bytes per L2 table, bounded by qemu's 32 MiB limit and the file size) and L2 tables loaded
 * lazily through a bounded cache. Yields the guest disk as MapPieces in offset order.
 */
export class Qcow2Image {
  private readonly ctx: L2Context;
  private readonly cache: L2Cache;
  /** Guest bytes one L2 table maps. */
  readonly l2Span: number;

  private constructor(
    readonly file: RandomAccessFile,
    readonly header: Qcow2Header,
    private readonly l1: Buffer,
    metadata: FileRange[],
  ) {
    this.ctx = { header, path: file.path, fileSize: file.size, metadata };
    this.cache = new L2Cache(header.clusterSize);
    this.l2Span = (header.clusterSize / l2EntrySize(header)) * header.clusterSize;
  }

  static async load(file: RandomAccessFile, header: Qcow2Header): Promise<Qcow2Image> {
    const needed = l1EntriesNeeded(file, header);
    checkTableOffsets(file, header);
    const l1 = await file.read(header.l1TableOffset, needed * 8, 'L1 table');
    return new Qcow2Image(file, header, l1, fixedMetadataRanges(header));
  }

  /** Every piece of [0, virtualSize) in order, one L2 table's worth at a time. */
  async *pieces(signal?: AbortSignal): AsyncGenerator<MapPiece[]> {
    const h = this.header;
    const perTable = h.clusterSize / l2EntrySize(h);
    const clusters = Math.ceil(h.virtualSize / h.clusterSize);
    for (let i = 0; i * perTable < clusters; i++) {
      throwIfAborted(signal);
      const first = i * perTable;
      const count = Math.min(perTable, clusters - first);
      yield await this.tablePieces(i, first, count);
    }
  }

  /** The pieces L2 table `index` maps (random access for the guest inspector, agent/guest/byte-source.ts). */
  piecesOfTable(index: number): Promise<MapPiece[]> {
    const h = this.header;
    const perTable = h.clusterSize / l2EntrySize(h);
    const first = index * perTable;
    return this.tablePieces(index, first, Math.min(perTable, Math.ceil(h.virtualSize / h.clusterSize) - first));
  }

  private async tablePieces(i: number, first: number, count: number): Promise<MapPiece[]> {
    const h = this.header;
    const l2 = this.l2Offset(i);
    if (l2 === 0) {
      const offset = first * h.clusterSize;
      return [{ kind: 'unallocated', offset, length: Math.min(h.virtualSize, (first + count) * h.clusterSize) - offset }];
    }
    const table = await this.cache.get(l2, (at) => this.file.read(at, h.clusterSize, 'L2 table'));
    return decodeL2Table(this.ctx, table, l2, first, count);
  }

  /** qcow2.txt §Cluster mapping, L1 table entry: bits 9-55 the L2 table offset, 0-8 and 56-62 reserved. */
  private l2Offset(index: number): number {
    const hi = this.l1.readUInt32BE(index * 8);
    const lo = this.l1.readUInt32BE(index * 8 + 4);
    const where = { file: this.file.path, offset: this.header.l1TableOffset + index * 8 };
    if ((lo & 0x1ff) !== 0 || (hi & 0x7f000000) !== 0) throw vmxError(QCOW2.BAD_L2_ENTRY, `L1 entry ${index} sets reserved bits 0-8 or 56-62`, where);
    const offset = (hi & 0x00ffffff) * TWO32 + ((lo & 0xfffffe00) >>> 0);
    if (offset === 0) return 0;
    const cs = this.header.clusterSize;
    if (offset % cs !== 0) throw vmxError(QCOW2.L2_UNALIGNED, `L1 entry ${index} points to an L2 table at ${offset}, not aligned to the ${cs}-byte cluster size`, where);
    if (offset + cs > this.file.size) {
      throw vmxError(QCOW2.L2_PAST_EOF, `L1 entry ${index} points to an L2 table at ${offset}..${offset + cs}, past the end of the file (${this.file.size} bytes)`, where);
    }
    const hit = overlappingMetadata(this.ctx.metadata, offset, offset + cs);
    if (hit) throw vmxError(QCOW2.L2_IN_METADATA, `L1 entry ${index} points an L2 table at ${offset} into ${hit.what} (${hit.start}..${hit.end})`, where);
    return offset;
  }
}

/**
 * qcow2.txt §Header size/l1_size: the L1 table must cover the virtual size; both fields are
 * untrusted, so they are bounded by qemu's 32 MiB L1 limit and by the file before any allocation.
 */
function l1EntriesNeeded(file: RandomAccessFile, h: Qcow2Header): number {
  const span = (h.clusterSize / l2EntrySize(h)) * h.clusterSize;
  if (!Number.isSafeInteger(h.virtualSize) || Math.ceil(h.virtualSize / span) > MAX_L1_ENTRIES) {
    throw vmxError(QCOW2.VIRTUAL_SIZE, `virtual size ${h.virtualSize} needs more than ${MAX_L1_ENTRIES} L1 entries with ${h.clusterSize}-byte clusters (qemu's 32 MiB L1 limit)`, {
      file: file.path,
      offset: 24,
    });
  }
  const needed = Math.ceil(h.virtualSize / span);
  const where = { file: file.path, offset: 36 };
  if (h.l1Size > MAX_L1_ENTRIES) throw vmxError(QCOW2.L1_SIZE, `l1_size ${h.l1Size} exceeds qemu's limit of ${MAX_L1_ENTRIES} entries (32 MiB)`, where);
  if (h.l1Size < needed) throw vmxError(QCOW2.L1_SIZE, `l1_size ${h.l1Size} is too small for the virtual size ${h.virtualSize} (needs ${needed} entries)`, where);
  if (h.l1TableOffset + h.l1Size * 8 > file.size) {
    throw vmxError(QCOW2.L1_SIZE, `the L1 table (${h.l1Size} entries at ${h.l1TableOffset}) extends past the end of the file (${file.size} bytes)`, where);
  }
  return needed;
}

function checkTableOffsets(file: RandomAccessFile, h: Qcow2Header): void {
  if (h.l1TableOffset % h.clusterSize !== 0 || (h.l1Size > 0 && h.l1TableOffset === 0)) {
    throw vmxError(QCOW2.BAD_HEADER, `l1_table_offset ${h.l1TableOffset} must be a non-zero multiple of the cluster size`, { file: file.path, offset: 40 });
  }
  if (h.refcountTableOffset % h.clusterSize !== 0 || h.refcountTableOffset === 0) {
    throw vmxError(QCOW2.BAD_HEADER, `refcount_table_offset ${h.refcountTableOffset} must be a non-zero multiple of the cluster size`, { file: file.path, offset: 48 });
  }
}

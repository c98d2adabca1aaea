import { throwIfAborted } from '../../core/abort.js';
import { QCOW2_LEVEL, RAW_DEFLATER } from '../../compression/deflate-raw.js';
import type { DiskSource } from '../../disk/disk-source.js';
import type { DiskWriter, HeadPatch, WriteOptions, WriterOutput } from '../format-writer.js';
import { nonZeroClusters } from './guest-clusters.js';
import { RefcountTracker } from './refcount-tracker.js';
import type { ClusterEncodeResult } from './cluster-encoder.js';
import { encodeChunks } from '../../pipeline/encode-chunks.js';
import { checkClusterSize, encodeHeader, planLayout, type WriterLayout } from './writer-layout.js';

export interface Qcow2WriterOptions {
  /** Store clusters deflate-compressed (qcow2.txt §Compressed Clusters Descriptor). */
  compress: boolean;
  /** Default 64 KiB, qemu's default. */
  clusterSize?: number | undefined;
}

const DEFAULT_CLUSTER_SIZE = 64 * 1024;
/** qcow2.txt §L2 table entry bit 63 ("refcount is exactly one") and bit 62 (compressed). */
const COPIED = 1n << 63n;
const COMPRESSED = 1n << 62n;
const ZERO_CHUNK = Buffer.alloc(1024 * 1024);

/**
 * qcow2 v3 output in one forward pass. Layout choice: the header, L1 table and refcount table are
 * reserved at the start and yielded as HeadPatches at the end, because with compression the host
 * offsets (hence the L1 and refcount tables) depend on compressed sizes known only after the data;
 * one code path serves both modes, and no pre-pass over the source is needed. After the head,
 * each L2 table follows the data clusters it maps, and each refcount block follows the window of
 * clusters it counts, so memory holds one L2 table and at most a few refcount blocks; only the L1
 * and refcount tables (8 bytes per L2 table / per refcount block) grow with the disk.
 * All-zero clusters are left unallocated (no backing file: they read as zero).
 */
export function createQcow2Writer(options: Qcow2WriterOptions): DiskWriter {
  const clusterSize = options.clusterSize ?? DEFAULT_CLUSTER_SIZE;
  checkClusterSize(clusterSize);
  return {
    target: 'qcow2',
    patchableHead: (source) => planLayout(source.virtualSize, clusterSize).headBytes,
    maxOutputSize: (source) => planLayout(source.virtualSize, clusterSize).maxOutputSize,
    write: (source, opts = {}) => writeQcow2(source, planLayout(source.virtualSize, clusterSize), options.compress, opts),
    compressor: options.compress ? RAW_DEFLATER.display : undefined,
    // The raw deflater's level is fixed (QCOW2_LEVEL); its implementation decides the bytes. 2: as vmdk-stream/3.
    encoder: options.compress ? { writer: QCOW2_WRITER_VERSION, compressor: RAW_DEFLATER.name, level: QCOW2_LEVEL } : { writer: QCOW2_WRITER_VERSION },
  };
}

/** Bumped when the same source and settings would give other bytes (2: libdeflate's deflate-or-store answer depends on the stream's length alone). */
export const QCOW2_WRITER_VERSION = 'qcow2/2';

/** The `--to qcow2` writer: uncompressed, 64 KiB clusters. */
export const qcow2Writer: DiskWriter = createQcow2Writer({ compress: false });

async function* writeQcow2(source: DiskSource, layout: WriterLayout, compress: boolean, opts: WriteOptions): AsyncGenerator<WriterOutput> {
  const out = new OutputCursor(layout);
  yield* zeros(layout.headBytes);
  out.refs.addRange(0, layout.headBytes);
  out.position = layout.headBytes;
  const clusters = compress ? compressedClusters(source, layout.clusterSize, opts) : plainClusters(source, layout.clusterSize, opts.signal);
  for await (const c of clusters) {
    throwIfAborted(opts.signal);
    const tableIndex = Math.floor(c.index / layout.l2Entries);
    if (tableIndex !== out.l2Index) yield* out.flushL2(tableIndex);
    const entry = c.index % layout.l2Entries;
    if (c.compressed) {
      out.l2!.writeBigUInt64BE(out.compressedDescriptor(c.data.length), entry * 8);
      out.refs.addRange(out.position - (out.position % 512), out.position + c.data.length);
      yield c.data;
      out.position += c.data.length;
      continue;
    }
    yield* out.align();
    out.l2!.writeBigUInt64BE(BigInt(out.position) | COPIED, entry * 8);
    out.refs.addRange(out.position, out.position + layout.clusterSize);
    yield c.data;
    out.position += layout.clusterSize;
  }
  yield* out.flushL2(-1);
  yield* out.finish();
}

interface OutputCluster {
  index: number;
  data: Buffer;
  compressed: boolean;
}

async function* plainClusters(source: DiskSource, clusterSize: number, signal?: AbortSignal): AsyncGenerator<OutputCluster> {
  for await (const c of nonZeroClusters(source, clusterSize, signal)) yield { index: c.index, data: c.data, compressed: false };
}

/** Deflate runs in the worker pool, a chunk of clusters per task, results in disk order. */
async function* compressedClusters(source: DiskSource, clusterSize: number, opts: WriteOptions): AsyncGenerator<OutputCluster> {
  const wanted = opts.chunkBytes ?? CHUNK_BYTES;
  const chunkBytes = Math.max(clusterSize, wanted - (wanted % clusterSize));
  // The payload never exceeds the chunk: a cluster is stored whole when deflate does not shrink it.
  const chunks = encodeChunks<ClusterEncodeResult>(source, { chunkBytes, outputBytes: chunkBytes, task: 'qcow2-clusters', params: { clusterSize }, pool: opts.pool, signal: opts.signal });
  for await (const chunk of chunks) {
    if (!('result' in chunk)) continue;
    const payload = Buffer.from(chunk.result.payload.buffer, chunk.result.payload.byteOffset, chunk.result.payload.byteLength);
    let at = 0;
    for (const [i, size] of chunk.result.sizes.entries()) {
      if (size === 0) continue;
      const n = Math.abs(size);
      yield { index: chunk.offset / clusterSize + i, data: payload.subarray(at, at + n), compressed: size > 0 };
      at += n;
    }
  }
}

const CHUNK_BYTES = 1024 * 1024;

/** The write position and the tables being built. */
class OutputCursor {
  position = 0;
  l2: Buffer | undefined;
  l2Index = -1;
  readonly l1: bigint[];
  readonly refs: RefcountTracker;

  constructor(private readonly layout: WriterLayout) {
    this.l1 = new Array<bigint>(layout.l1Entries).fill(0n);
    this.refs = new RefcountTracker(layout.clusterSize, layout.refcountBlockEntries);
  }

  /** qcow2.txt §Compressed Clusters Descriptor at the current position, x = 62 - (cluster_bits - 8). */
  compressedDescriptor(length: number): bigint {
    const x = BigInt(62 - (this.layout.clusterBits - 8));
    const extraSectors = Math.floor((this.position + length - 1) / 512) - Math.floor(this.position / 512);
    return COMPRESSED | (BigInt(extraSectors) << x) | BigInt(this.position);
  }

  /** Pads with zeros to the next cluster boundary (standard clusters and tables are aligned). */
  *align(): Generator<Buffer> {
    const rem = this.position % this.layout.clusterSize;
    if (rem === 0) return;
    const pad = this.layout.clusterSize - rem;
    yield Buffer.alloc(pad);
    this.position += pad;
  }

  /** Writes the current L2 table (if any) and the refcount blocks of windows now complete. */
  *flushL2(nextIndex: number): Generator<Buffer> {
    if (this.l2) {
      yield* this.align();
      this.l1[this.l2Index] = BigInt(this.position) | COPIED;
      this.refs.addRange(this.position, this.position + this.layout.clusterSize);
      yield this.l2;
      this.position += this.layout.clusterSize;
      yield* this.finishedBlocks();
    }
    this.l2 = nextIndex >= 0 ? Buffer.alloc(this.layout.clusterSize) : undefined;
    this.l2Index = nextIndex;
  }

  private *finishedBlocks(): Generator<Buffer> {
    for (let done = this.refs.finishedBefore(this.position); done.length > 0; done = this.refs.finishedBefore(this.position)) {
      for (const w of done) {
        this.refs.place(w, this.position);
        yield this.refs.takeBlock(w);
        this.position += this.layout.clusterSize;
      }
    }
  }

  /** Places blocks for every window still open (the blocks count themselves), then the head patches. */
  *finish(): Generator<WriterOutput> {
    yield* this.align();
    const placed: number[] = [];
    for (let open = this.refs.unplaced(); open.length > 0; open = this.refs.unplaced()) {
      for (const w of open) {
        this.refs.place(w, this.position);
        placed.push(w);
        this.position += this.layout.clusterSize;
      }
    }
    for (const w of placed) yield this.refs.takeBlock(w);
    yield headPatch(0, encodeHeader(this.layout));
    if (this.layout.l1Entries > 0) yield headPatch(this.layout.l1Offset, encodeL1(this.l1));
    yield headPatch(this.layout.refcountTableOffset, this.refs.encodeTable(this.layout.refcountTableClusters));
  }
}

function encodeL1(l1: bigint[]): Buffer {
  const b = Buffer.alloc(l1.length * 8);
  l1.forEach((e, i) => b.writeBigUInt64BE(e, i * 8));
  return b;
}

function headPatch(offset: number, data: Buffer): HeadPatch {
  return { kind: 'head-patch', offset, data };
}

function* zeros(n: number): Generator<Buffer> {
  for (let left = n; left > 0; left -= ZERO_CHUNK.length) yield ZERO_CHUNK.subarray(0, Math.min(left, ZERO_CHUNK.length));
}

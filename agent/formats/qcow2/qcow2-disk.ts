import { DEFAULT_MAX_DATA_EXTENT, type DiskInfo, type DiskSource, type ExtentReadOptions } from '../../disk/disk-source.js';
import { dataExtent, emptyExtent, type Extent } from '../../disk/extent.js';
import { throwIfAborted } from '../../core/abort.js';
import { readCompressedCluster } from './compressed-cluster.js';
import type { Qcow2Image } from './qcow2-image.js';
import type { MapPiece } from './map-piece.js';

type Run = { kind: 'data'; offset: number; length: number; host: number } | { kind: 'zero' | 'unallocated'; offset: number; length: number };

/**
 * One qcow2 file as a DiskSource (without its backing file: ChainedDisk adds that). Contiguous
 * data clusters (guest and host) are coalesced into reads of up to maxDataLength; compressed
 * clusters are inflated one at a time; zero and unallocated stretches become single extents.
 */
export class Qcow2Disk implements DiskSource {

  constructor(
    private readonly image: Qcow2Image,
    readonly info: DiskInfo,
  ) {}

  get virtualSize(): number {
    return this.image.header.virtualSize;
  }

  async *extents(opts: ExtentReadOptions = {}): AsyncGenerator<Extent> {
    const max = Math.max(1, opts.maxDataLength ?? DEFAULT_MAX_DATA_EXTENT);
    const allocate = opts.allocate ?? Buffer.allocUnsafe;
    let run: Run | undefined;
    for await (const batch of this.image.pieces(opts.signal)) {
      for (const p of batch) {
        if (run && continues(run, p)) {
          run = { ...run, length: run.length + p.length };
          continue;
        }
        if (run) yield* this.flush(run, max, allocate, opts.signal);
        run = undefined;
        if (p.kind === 'compressed') yield* this.inflate(p, max, allocate);
        else run = p;
      }
    }
    if (run) yield* this.flush(run, max, allocate, opts.signal);
  }

  /** Reads a coalesced run in pieces of at most `max` bytes (one positional read each). */
  private async *flush(run: Run, max: number, allocate: (n: number) => Buffer, signal?: AbortSignal): AsyncGenerator<Extent> {
    if (run.kind !== 'data') {
      yield emptyExtent(run.kind, run.offset, run.length);
      return;
    }
    for (let done = 0; done < run.length; done += max) {
      throwIfAborted(signal);
      const buf = allocate(Math.min(max, run.length - done));
      await this.image.file.readInto(buf, run.host + done, 'data cluster');
      yield dataExtent(run.offset + done, buf);
    }
  }

  private async *inflate(p: Extract<MapPiece, { kind: 'compressed' }>, max: number, allocate: (n: number) => Buffer): AsyncGenerator<Extent> {
    const h = this.image.header;
    const cluster = await readCompressedCluster(this.image.file, p, h.clusterSize, h.compressionType);
    for (let done = 0; done < p.length; done += max) {
      const n = Math.min(max, p.length - done);
      const buf = allocate(n);
      cluster.copy(buf, 0, done, done + n);
      yield dataExtent(p.offset + done, buf);
    }
  }

  /**
   * Random access for the guest inspector (agent/guest/byte-source.ts): the L2 table of each byte's
   * cluster is looked up (through the L2 cache); zero and unallocated clusters read as zeros (a
   * backing file is ChainedDisk's business, which has no random access).
   */
  async readAt(offset: number, buf: Buffer): Promise<void> {
    const end = offset + buf.length;
    for (let pos = offset; pos < end; ) {
      const pieces = await this.image.piecesOfTable(Math.floor(pos / this.image.l2Span));
      const tableEnd = Math.min(end, (Math.floor(pos / this.image.l2Span) + 1) * this.image.l2Span);
      for (const p of pieces) {
        const from = Math.max(pos, p.offset);
        const to = Math.min(tableEnd, p.offset + p.length);
        if (from >= to) continue;
        const dst = buf.subarray(from - offset, to - offset);
        if (p.kind === 'data') await this.image.file.readInto(dst, p.host + (from - p.offset), 'data cluster');
        else if (p.kind === 'compressed') {
          const h = this.image.header;
          (await readCompressedCluster(this.image.file, p, h.clusterSize, h.compressionType)).copy(dst, 0, from - p.offset, to - p.offset);
        } else dst.fill(0);
      }
      pos = tableEnd;
    }
  }

  close(): Promise<void> {
    return this.image.file.close();
  }
}

function continues(run: Run, p: MapPiece): boolean {
  if (run.offset + run.length !== p.offset || run.kind !== p.kind) return false;
  return run.kind !== 'data' || (p.kind === 'data' && run.host + run.length === p.host);
}

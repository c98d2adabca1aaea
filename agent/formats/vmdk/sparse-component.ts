import { dataExtent, emptyExtent, type Extent } from '../../disk/extent.js';
import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import type { ComponentReadOptions, VmdkComponent } from './component.js';
import { GRAIN_HEADER_BYTES, checkGrainHeader, inflateGrain, readGrainHeader } from './compressed-grain.js';
import { VMDK } from './error-codes.js';
import { checkMetadataPlace, grainPieces, type SparseLayout } from './grain-map.js';
import { GrainLookup } from './grain-lookup.js';
import { coalesceGrains, type GrainSlice } from './grain-runs.js';
import { SECTOR, gtCount, parseSparseHeader, type SparseHeader } from './sparse-header.js';

/**
 * A hosted sparse extent file (VMDK 5.0 §"Hosted Sparse Extents"), stream-optimized ones included
 * (§"Stream-Optimized Compressed Sparse Extents"), read through its grain directory.
 */
export class SparseComponent implements VmdkComponent {
  private lastGrain: { filePos: number; data: Buffer } | undefined;
  private readonly lookup: GrainLookup;

  private constructor(
    private readonly layout: SparseLayout,
    readonly allocatedBytes: number,
  ) {
    this.lookup = new GrainLookup(layout);
  }

  /** Opens and validates every table once; `size` is the extent line's size (default: the capacity). */
  static async open(file: RandomAccessFile, size?: number, signal?: AbortSignal): Promise<SparseComponent> {
    const header = await effectiveHeader(file);
    const capacity = header.capacitySectors * SECTOR;
    if (size !== undefined && size > capacity) {
      throw vmxError(VMDK.EXTENT_TOO_SMALL, `the descriptor gives this sparse extent ${size} bytes but its header capacity is ${capacity}`, { file: file.path, offset: 12 });
    }
    const layout: SparseLayout = { file, header, size: size ?? capacity };
    const gtSpan = header.grainSectors * SECTOR * header.numGTEsPerGT;
    const gdBytes = Math.min(gtCount(header), Math.ceil(layout.size / gtSpan)) * 4;
    if (gdBytes > 0) checkMetadataPlace(layout, header.gdOffset * SECTOR, gdBytes, VMDK.GD_OUT_OF_BOUNDS, 'grain directory', 56);
    let allocated = 0;
    for await (const p of grainPieces(layout, signal)) if (p.kind !== 'unallocated') allocated += p.length;
    return new SparseComponent(layout, allocated);
  }

  get size(): number {
    return this.layout.size;
  }

  get header(): SparseHeader {
    return this.layout.header;
  }

  async *extents(opts: ComponentReadOptions): AsyncGenerator<Extent> {
    for await (const run of coalesceGrains(grainPieces(this.layout, opts.signal), opts.maxDataLength)) {
      throwIfAborted(opts.signal);
      if (run.kind !== 'data') {
        yield emptyExtent(run.kind, run.offset, run.length);
        continue;
      }
      const buf = opts.allocate(run.length);
      if (run.compressed) {
        for (const s of run.slices) (await this.inflated(s)).copy(buf, s.offset - run.offset, s.inGrain, s.inGrain + s.length);
      } else {
        await this.layout.file.readInto(buf, run.filePos, 'grain data');
      }
      yield dataExtent(run.offset, buf);
    }
  }

  /**
   * Random access for the guest inspector (agent/guest/byte-source.ts): each grain is looked up
   * through the grain directory and tables, compressed grains inflated (the last one kept).
   */
  async readAt(offset: number, buf: Buffer): Promise<void> {
    const grainBytes = this.lookup.grainBytes;
    const end = offset + buf.length;
    for (let pos = offset; pos < end; ) {
      const p = await this.lookup.piece(Math.floor(pos / grainBytes));
      const to = Math.min(end, p.offset + p.length);
      const dst = buf.subarray(pos - offset, to - offset);
      if (p.kind !== 'data') dst.fill(0);
      else if (p.compressed) (await this.inflated({ ...p, inGrain: 0, grainOffset: p.offset })).copy(dst, 0, pos - p.offset, to - p.offset);
      else await this.layout.file.readInto(dst, p.filePos + (pos - p.offset), 'grain data');
      pos = to;
    }
  }

  close(): Promise<void> {
    return this.layout.file.close();
  }

  /** Reads and inflates one compressed grain; the last one is kept for slices of the same grain. */
  private async inflated(s: GrainSlice): Promise<Buffer> {
    if (this.lastGrain?.filePos === s.filePos) return this.lastGrain.data;
    const { file, header } = this.layout;
    const grainBytes = header.grainSectors * SECTOR;
    const where = { file: file.path, offset: s.filePos };
    const g = readGrainHeader(await file.read(s.filePos, GRAIN_HEADER_BYTES, 'compressed grain header'), 0);
    checkGrainHeader(g, s.grainOffset / SECTOR, grainBytes, where);
    if (s.filePos + GRAIN_HEADER_BYTES + g.size > file.size) {
      throw vmxError(VMDK.GRAIN_OUT_OF_BOUNDS, `compressed grain of ${g.size} bytes runs past the end of the file (${file.size} bytes)`, where);
    }
    const packed = await file.read(s.filePos + GRAIN_HEADER_BYTES, g.size, 'compressed grain');
    const tail = Math.min(grainBytes, header.capacitySectors * SECTOR - s.grainOffset);
    const data = inflateGrain(packed, grainBytes, tail, where);
    this.lastGrain = { filePos: s.filePos, data };
    return data;
  }
}

/**
 * The header that locates the tables: the first sector's, or for gdOffset = GD_AT_END the footer's
 * gdOffset (VMDK 5.0 §"Stream-Optimized Compressed Sparse Extents": footer at end-of-file − 1024,
 * before the end-of-stream marker).
 */
export async function effectiveHeader(file: RandomAccessFile): Promise<SparseHeader> {
  if (file.size < SECTOR) throw vmxError(VMDK.TRUNCATED, `the file is ${file.size} bytes, shorter than the 512-byte sparse extent header`, { file: file.path, offset: 0 });
  const header = parseSparseHeader(await file.read(0, SECTOR, 'sparse extent header'), file.path);
  if (!header.gdAtEnd) return header;
  const at = file.size - 2 * SECTOR;
  if (at < SECTOR) throw vmxError(VMDK.BAD_FOOTER, `gdOffset is GD_AT_END but the file is too short (${file.size} bytes) to hold a footer`, { file: file.path, offset: 56 });
  let footer: SparseHeader;
  try {
    footer = parseSparseHeader(await file.read(at, SECTOR, 'footer'), file.path, at);
  } catch (err) {
    throw vmxError(VMDK.BAD_FOOTER, `gdOffset is GD_AT_END but no valid footer header is at end-of-file − 1024: ${(err as Error).message}`, { file: file.path, offset: at, cause: err });
  }
  if (footer.gdAtEnd) throw vmxError(VMDK.BAD_FOOTER, `the footer's gdOffset is GD_AT_END too, so the grain directory cannot be found`, { file: file.path, offset: at + 56 });
  return { ...header, gdOffset: footer.gdOffset };
}

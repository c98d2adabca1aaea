import type { DiskSource } from '../../disk/disk-source.js';
import { describeEncoder, type DiskWriter, type EncoderSettings, type WriteOptions } from '../format-writer.js';
import { throwIfAborted } from '../../core/abort.js';
import { deflaterFor } from '../../compression/deflate-zlib.js';
import { vmxError } from '../../core/errors.js';
import { VMDKW } from './writer-error-codes.js';
import { MAX_GRAIN_RECORD_BYTES, type GrainEncodeResult } from './grain-encoder.js';
import { encodeChunks } from '../../pipeline/encode-chunks.js';
import { GrainDirectoryBuilder } from './grain-directory-builder.js';
import { buildDescriptor, DESCRIPTOR_OFFSET_SECTORS, DESCRIPTOR_SECTORS, extentNameFor } from './writer-descriptor.js';
import { identityCid, randomCid, resolveOptions, type ResolvedOptions, type StreamOptimizedOptions } from './writer-options.js';
import {
  encodeMetadataMarker,
  encodeSparseHeader,
  GD_AT_END,
  GRAIN_BYTES,
  GRAIN_SECTORS,
  GT_SECTORS,
  GTES_PER_GT,
  MARKER_EOS,
  MARKER_FOOTER,
  SECTOR_BYTES,
  sectorsFor,
  type SparseHeaderFields,
} from './writer-layout.js';

/**
 * The stream-optimized VMDK writer (VMware "Virtual Disk Format 5.0", §Stream-Optimized Compressed
 * Sparse Extents), one forward pass:
 *   sector 0       header, gdOffset = GD_AT_END
 *   sectors 1-20   embedded descriptor; zeros up to overHead (the first grain boundary, sector 128)
 *   ...            per non-zero grain: grain marker + zlib stream, padded to a sector; each grain
 *                  table (GT marker + 4 sectors) as soon as its 32 MiB range is done
 *   end            GD marker + grain directory, footer marker + footer (the header with the real
 *                  gdOffset), end-of-stream marker — the last three sectors, where readers look.
 * Memory: the grain directory (4 bytes per 32 MiB of disk), one grain table, one batch window and
 * its encoded records.
 */
export function createStreamOptimizedWriter(opts: StreamOptimizedOptions = {}): DiskWriter {
  const o = resolveOptions(opts);
  const compressed = o.compressionLevel !== 0;
  return {
    target: 'vmdk',
    patchableHead: () => 0,
    maxOutputSize: (source: DiskSource) => maxStreamOptimizedSize(source.virtualSize),
    write: (source: DiskSource, w: WriteOptions = {}) => writeStreamOptimized(source, o, w),
    compressor: compressed ? o.deflater.name : undefined,
    encoder: { writer: STREAM_OPTIMIZED_VERSION, compressor: compressed ? o.deflater.implementation : undefined, level: compressed ? o.compressionLevel : undefined },
    reproduce: (e) => reproduceStreamOptimized(opts, e),
  };
}

/**
 * Bumped when the same source, identity and settings would give other bytes (2: the CID derives from
 * the identity; 3: libdeflate's deflate-or-store answer depends on the stream's length alone, so the
 * native addon and the WebAssembly build agree, agent/compression/libdeflate-engine.ts).
 */
export const STREAM_OPTIMIZED_VERSION = 'vmdk-stream/3';

/** The writer with `e`'s compressor and level, or a sentence naming what this machine lacks. */
export function reproduceStreamOptimized(opts: StreamOptimizedOptions, e: EncoderSettings, version = STREAM_OPTIMIZED_VERSION, label = 'VMDK'): DiskWriter | string {
  if (e.writer !== version) return `the upload was written by ${describeEncoder(e)}; this vmxfer's ${label} writer is ${version}`;
  if (e.compressor === undefined) return createStreamOptimizedWriter({ ...opts, compressionLevel: 0 });
  if (!deflaterFor(e.compressor)) return missingCompressor(e);
  return createStreamOptimizedWriter({ ...opts, compressor: e.compressor, compressionLevel: e.level });
}

export function missingCompressor(e: EncoderSettings): string {
  const here = resolveOptions({});
  const why = here.deflater.fallbackReason ? ` (the native libdeflate addon is not in use: ${here.deflater.fallbackReason})` : '';
  return `the upload was compressed with ${e.compressor} level ${e.level}, which is not available here; this machine has ${here.deflater.implementation}${why}`;
}

export const streamOptimizedWriter: DiskWriter = createStreamOptimizedWriter();

/** Header + descriptor, padded to the first grain boundary so grains start grain-aligned as VMware's do. */
export const OVERHEAD_SECTORS = Math.ceil((DESCRIPTOR_OFFSET_SECTORS + DESCRIPTOR_SECTORS) / GRAIN_SECTORS) * GRAIN_SECTORS;
/** GD marker is counted with the directory; footer marker, footer and end-of-stream marker follow. */
const TRAILER_SECTORS = 3;

interface ExtentPlan {
  capacitySectors: number;
  totalGrains: number;
}

function planExtent(virtualSize: number): ExtentPlan {
  // A size that is not a whole number of sectors is rounded up: the extra bytes read as zeros.
  const capacitySectors = sectorsFor(virtualSize);
  return { capacitySectors, totalGrains: Math.ceil(capacitySectors / GRAIN_SECTORS) };
}

/** Every grain stored (incompressible), every grain table written: nothing the writer emits is larger. */
export function maxStreamOptimizedSize(virtualSize: number): number {
  const { totalGrains } = planExtent(virtualSize);
  const tables = Math.ceil(totalGrains / GTES_PER_GT);
  const directorySectors = sectorsFor(tables * 4);
  const sectors = OVERHEAD_SECTORS + tables * (1 + GT_SECTORS) + 1 + directorySectors + TRAILER_SECTORS;
  return sectors * SECTOR_BYTES + totalGrains * MAX_GRAIN_RECORD_BYTES;
}

async function* writeStreamOptimized(source: DiskSource, o: ResolvedOptions, w: WriteOptions): AsyncGenerator<Buffer> {
  checkCapacity(source.virtualSize, o);
  const plan = planExtent(source.virtualSize);
  const header: SparseHeaderFields = {
    capacitySectors: plan.capacitySectors,
    descriptorOffsetSectors: DESCRIPTOR_OFFSET_SECTORS,
    descriptorSectors: DESCRIPTOR_SECTORS,
    gdOffset: GD_AT_END,
    overHeadSectors: OVERHEAD_SECTORS,
  };
  yield encodeHead(header, plan, o, w);
  const gd = new GrainDirectoryBuilder(plan.totalGrains);
  let sector = OVERHEAD_SECTORS;
  const chunkBytes = w.chunkBytes ?? o.batchBytes;
  const batches = encodeChunks<GrainEncodeResult>(source, {
    chunkBytes,
    outputBytes: Math.ceil(chunkBytes / GRAIN_BYTES) * MAX_GRAIN_RECORD_BYTES,
    task: 'vmdk-grains',
    params: { level: o.compressionLevel, compressor: o.deflater.implementation },
    pool: w.pool,
    signal: w.signal,
  });
  for await (const batch of batches) {
    throwIfAborted(w.signal);
    if (!('result' in batch)) continue;
    const encoded = { ...batch.result, records: asBuffer(batch.result.records) };
    if (gd.openTableIndex !== -1 && gd.openTableIndex !== Math.floor(encoded.firstGrain / GTES_PER_GT)) {
      const gt = gd.closeTable(sector);
      sector += gt.length / SECTOR_BYTES;
      yield gt;
    }
    sector = placeGrains(gd, encoded, sector);
    if (encoded.records.length > 0) yield encoded.records;
    const end = encoded.firstGrain + encoded.recordBytes.length;
    if (gd.openTableIndex !== -1 && (end % GTES_PER_GT === 0 || end === plan.totalGrains)) {
      const gt = gd.closeTable(sector);
      sector += gt.length / SECTOR_BYTES;
      yield gt;
    }
  }
  if (gd.openTableIndex !== -1) {
    const gt = gd.closeTable(sector);
    sector += gt.length / SECTOR_BYTES;
    yield gt;
  }
  yield encodeTrailer(gd, sector, header);
}

function checkCapacity(virtualSize: number, o: ResolvedOptions): void {
  if (virtualSize <= 0) {
    throw vmxError(VMDKW.ZERO_CAPACITY, 'the disk is 0 bytes; a sparse extent header with capacity 0 denotes a descriptor file (VMDK 5.0 §Hosted Sparse Extent Header), so no stream-optimized VMDK can hold it');
  }
  if (virtualSize > o.maxCapacityBytes) {
    throw vmxError(VMDKW.CAPACITY_TOO_LARGE, `the disk is ${virtualSize} bytes, more than the configured maximum of ${o.maxCapacityBytes} bytes`);
  }
}

/** Sector 0 header, the descriptor from sector 1, zeros to the first grain boundary. */
function encodeHead(header: SparseHeaderFields, plan: ExtentPlan, o: ResolvedOptions, w: WriteOptions): Buffer {
  const head = Buffer.alloc(OVERHEAD_SECTORS * SECTOR_BYTES);
  encodeSparseHeader(header).copy(head, 0);
  const descriptor = buildDescriptor({
    capacitySectors: plan.capacitySectors,
    cid: o.cid ?? (w.identity ? identityCid(w.identity.uniqueId) : randomCid()),
    extentName: extentNameFor(w.outputName),
    adapterType: o.adapterType,
    virtualHWVersion: o.virtualHWVersion,
  });
  // extentNameFor bounds the name, so the descriptor always fits its reserved sectors.
  head.write(descriptor, DESCRIPTOR_OFFSET_SECTORS * SECTOR_BYTES, DESCRIPTOR_SECTORS * SECTOR_BYTES, 'utf8');
  return head;
}

/** Gives each encoded grain its sector (records are written back to back); returns the next free sector. */
function placeGrains(gd: GrainDirectoryBuilder, encoded: GrainEncodeResult, sector: number): number {
  for (let i = 0; i < encoded.recordBytes.length; i++) {
    const bytes = encoded.recordBytes[i]!;
    if (bytes === 0) continue;
    gd.setGrain(encoded.firstGrain + i, sector);
    sector += bytes / SECTOR_BYTES;
  }
  return sector;
}

/** GD marker + directory, footer marker + footer (header with the directory's sector), end-of-stream. */
function encodeTrailer(gd: GrainDirectoryBuilder, sector: number, header: SparseHeaderFields): Buffer {
  const directory = gd.encodeDirectory(sector);
  const footer = encodeSparseHeader({ ...header, gdOffset: BigInt(sector + 1) });
  return Buffer.concat([directory, encodeMetadataMarker(MARKER_FOOTER, 1), footer, encodeMetadataMarker(MARKER_EOS, 0)]);
}


/** Results cross the worker boundary as plain Uint8Arrays (structured clone drops the Buffer prototype). */
function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

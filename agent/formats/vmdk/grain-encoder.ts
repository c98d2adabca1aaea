import { ZLIB_DEFLATER, type ZlibDeflater } from '../../compression/deflate-zlib.js';
import { GRAIN_BYTES, GRAIN_MARKER_BYTES, GRAIN_SECTORS, SECTOR_BYTES, writeGrainMarker } from './writer-layout.js';
import { writeZlibStored, zlibStoredLength } from './zlib-stored.js';

/**
 * The per-grain work of the stream-optimized writer, as one pure function over plain data: no
 * closures, no shared state, inputs and outputs are typed arrays and numbers, so a worker pool can
 * run it on transferred buffers.
 *
 * Each non-zero grain becomes its on-disk record (VMDK 5.0 §Stream-Optimized Compressed Sparse
 * Extents, "Grain Marker"): uint64 LBA, uint32 compressed size, the zlib stream, zeros to the next
 * sector boundary. All-zero grains get no record.
 *
 * Incompressible grains are detected before paying for a deflate: the Shannon entropy of every 16th
 * byte (4096 samples) above ENTROPY_LIMIT_BITS means random or already-compressed data, stored as-is.
 * Measured on 3027 non-zero grains of the 4 GiB bench disk (bench/README.md), against a level-4
 * zlib deflate of every grain (the compressor is now libdeflate where its addon loads, see
 * agent/compression/deflate-zlib.ts; the check is still far cheaper than any deflate): the check
 * costs ~20 us per grain (a level-4 deflate ~1700 us, a level-1 deflate of three 1 KiB samples
 * ~140 us) and stores 665 grains, losing 0.12% of output size to grains deflate could have shrunk a
 * little (the deflated-samples check lost 1.05%). Random grains that would have gone through a full deflate (~36 MB/s here, saving nothing) now cost the check and a copy.
 * A grain whose deflate output is not smaller than the stored form is stored too, which bounds every
 * record at MAX_GRAIN_RECORD_BYTES.
 */

export interface GrainEncodeRequest {
  /** Index of the first grain; grain g covers sectors [g*128, (g+1)*128). */
  readonly firstGrain: number;
  /** Whole 64 KiB grains (length a multiple of GRAIN_BYTES). */
  readonly data: Uint8Array;
  /** zlib level 1..9 for compressible grains; 0 stores every grain. */
  readonly level: number;
  /** Where to write the records (at least grains × MAX_GRAIN_RECORD_BYTES); absent: a fresh buffer. */
  readonly into?: Buffer | undefined;
}

export interface GrainEncodeResult {
  readonly firstGrain: number;
  /** The records of the non-zero grains back to back, in grain order. */
  readonly records: Buffer;
  /** Per grain of the request: the byte length of its record (a multiple of 512), 0 for a zero grain. */
  readonly recordBytes: Uint32Array;
  /** How many grains went out as stored blocks. */
  readonly storedGrains: number;
}

const ENTROPY_STRIDE = 16;
/** Random bytes measure ~7.955 bits over 4096 samples (the estimate is biased low); text ~4.5-5, code ~6. */
const ENTROPY_LIMIT_BITS = 7.9;
/** n * log2(n) for every count a sample can reach. */
const N_LOG2_N = Float64Array.from({ length: GRAIN_BYTES / ENTROPY_STRIDE + 1 }, (_, n) => (n === 0 ? 0 : n * Math.log2(n)));
const ZERO_GRAIN = Buffer.alloc(GRAIN_BYTES);

/** The largest record one grain can produce: marker + stored zlib stream, padded to a sector. */
export const MAX_GRAIN_RECORD_BYTES = padToSector(GRAIN_MARKER_BYTES + zlibStoredLength(GRAIN_BYTES));

export function encodeGrains(req: GrainEncodeRequest, deflater: ZlibDeflater = ZLIB_DEFLATER): GrainEncodeResult {
  const count = req.data.length / GRAIN_BYTES;
  if (!Number.isInteger(count)) throw new RangeError(`grain batch of ${req.data.length} bytes is not a whole number of 64 KiB grains`);
  const view = Buffer.from(req.data.buffer, req.data.byteOffset, req.data.length);
  if (req.into && req.into.length < count * MAX_GRAIN_RECORD_BYTES) {
    throw new RangeError(`${req.into.length} output bytes cannot hold the records of ${count} grains (${count * MAX_GRAIN_RECORD_BYTES})`);
  }
  const out = req.into ?? scratchFor(count * MAX_GRAIN_RECORD_BYTES);
  const recordBytes = new Uint32Array(count);
  let at = 0;
  let storedGrains = 0;
  for (let i = 0; i < count; i++) {
    const grain = view.subarray(i * GRAIN_BYTES, (i + 1) * GRAIN_BYTES);
    if (grain.equals(ZERO_GRAIN)) continue;
    const dataAt = at + GRAIN_MARKER_BYTES;
    let zlibBytes = deflateGrainInto(grain, out, dataAt, req.level, deflater);
    if (zlibBytes === 0) {
      zlibBytes = writeZlibStored(grain, out, dataAt);
      storedGrains++;
    }
    writeGrainMarker(out, at, (req.firstGrain + i) * GRAIN_SECTORS, zlibBytes);
    const end = padToSector(dataAt + zlibBytes);
    out.fill(0, dataAt + zlibBytes, end);
    recordBytes[i] = end - at;
    at = end;
  }
  // Into the caller's memory: a view. Otherwise a copy of exactly the records: the scratch is reused,
  // and a view would carry (and, across threads, clone) the whole scratch.
  const records = req.into ? out.subarray(0, at) : Buffer.from(out.subarray(0, at));
  return { firstGrain: req.firstGrain, records, recordBytes, storedGrains };
}

/** zlib bytes for a grain, or 'stored' when stored blocks are at least as small. */
export function compressGrain(grain: Buffer, level: number, deflater: ZlibDeflater = ZLIB_DEFLATER): Buffer | 'stored' {
  const out = Buffer.allocUnsafe(zlibStoredLength(grain.length));
  const n = deflateGrainInto(grain, out, 0, level, deflater);
  return n === 0 ? 'stored' : out.subarray(0, n);
}

/**
 * Deflates a grain into out[at...] when that beats the stored form; 0 means "store it": level 0,
 * a grain that looks incompressible, or a zlib stream not shorter than the stored one (the
 * compressor is given one byte less than the stored length, so it gives up rather than overrun).
 */
function deflateGrainInto(grain: Buffer, out: Buffer, at: number, level: number, deflater: ZlibDeflater): number {
  if (level === 0 || looksIncompressible(grain)) return 0;
  return deflater.compressInto(grain, out.subarray(at, at + zlibStoredLength(grain.length) - 1), level);
}

/**
 * Output scratch reused across batches of this thread (a worker thread runs one task at a time):
 * allocating a fresh multi-MiB buffer per batch costs page faults on every batch. Bounded by the
 * largest batch the writer options allow (32 MiB of grains).
 */
let scratch: Buffer | undefined;

function scratchFor(bytes: number): Buffer {
  if (scratch === undefined || scratch.length < bytes) scratch = Buffer.allocUnsafe(bytes);
  return scratch;
}

/** Sampled byte entropy above the limit: random or already-compressed data that deflate cannot shrink. */
export function looksIncompressible(grain: Buffer): boolean {
  const counts = new Uint32Array(256);
  let n = 0;
  for (let i = 0; i < grain.length; i += ENTROPY_STRIDE, n++) counts[grain[i]!]!++;
  let sum = 0;
  for (let b = 0; b < 256; b++) sum += N_LOG2_N[counts[b]!]!;
  return Math.log2(n) - sum / n > ENTROPY_LIMIT_BITS;
}

function padToSector(n: number): number {
  return Math.ceil(n / SECTOR_BYTES) * SECTOR_BYTES;
}

import { createHash, randomInt } from 'node:crypto';
import { deflaterFor, ZLIB_DEFLATER, type ZlibDeflater } from '../../compression/deflate-zlib.js';
import { vmxError } from '../../core/errors.js';
import { VMDKW } from './writer-error-codes.js';
import { ADAPTER_TYPES, type AdapterType } from './writer-descriptor.js';
import { GRAIN_BYTES, GTES_PER_GT } from './writer-layout.js';

export interface StreamOptimizedOptions {
  /**
   * Deflate level for compressible grains, 0 (store all) to 9, for the compressor in use
   * (agent/compression/deflate-zlib.ts). Default: the cheapest level whose output stays within 5% of
   * qemu-img's (zlib level 6) on the 4 GiB bench disk (bench/README.md, "Compression"):
   * with libdeflate (native addon or WebAssembly), level 2 (+1.9%; level 1 is +5.4%), at 86 MB per
   * CPU-second native, 3.0x qemu's level 6; with VMXFER_DEFLATE=node:zlib, level 4 (+3.0%; level 3
   * is +5.2%), at 48 MB per CPU-second.
   */
  compressionLevel?: number;
  /** ddb.adapterType; default lsilogic. */
  adapterType?: AdapterType;
  /** ddb.virtualHWVersion; default 4 (what qemu writes; every ESXi and cloud importer accepts it). */
  virtualHWVersion?: number;
  /** Bytes per encoding batch: a power of two from 64 KiB to 32 MiB (one grain table's span). Default 4 MiB. */
  batchBytes?: number;
  /** Largest disk accepted; bounds the in-memory grain directory (4 bytes per 32 MiB). Default 64 TiB. */
  maxCapacityBytes?: number;
  /** Fixed content ID; by default derived from WriteOptions.identity, random without one. */
  cid?: number;
  /**
   * The deflate implementation (ZlibDeflater.implementation) to use, for a resume that must
   * reproduce bytes written with it; default the one VMXFER_DEFLATE picks on this thread (libdeflate).
   */
  compressor?: string;
}

export type ResolvedOptions = Required<Omit<StreamOptimizedOptions, 'cid' | 'compressor'>> & { cid: number | undefined; deflater: ZlibDeflater };

const GT_SPAN_BYTES = GRAIN_BYTES * GTES_PER_GT;
export const DEFAULT_COMPRESSION_LEVEL = ZLIB_DEFLATER.defaultLevel;

export function resolveOptions(o: StreamOptimizedOptions): ResolvedOptions {
  const deflater = o.compressor === undefined ? ZLIB_DEFLATER : deflaterFor(o.compressor);
  requireOption(deflater !== undefined, `compressor "${o.compressor}" is not available here (${ZLIB_DEFLATER.implementation} is in use${ZLIB_DEFLATER.fallbackReason ? `: ${ZLIB_DEFLATER.fallbackReason}` : ''})`);
  const r: ResolvedOptions = {
    deflater: deflater!,
    compressionLevel: o.compressionLevel ?? deflater!.defaultLevel,
    adapterType: o.adapterType ?? 'lsilogic',
    virtualHWVersion: o.virtualHWVersion ?? 4,
    batchBytes: o.batchBytes ?? 4 * 1024 * 1024,
    maxCapacityBytes: o.maxCapacityBytes ?? 64 * 2 ** 40,
    cid: o.cid,
  };
  requireOption(Number.isInteger(r.compressionLevel) && r.compressionLevel >= 0 && r.compressionLevel <= 9, `compressionLevel ${r.compressionLevel} is not an integer from 0 to 9`);
  requireOption(ADAPTER_TYPES.includes(r.adapterType), `adapterType "${r.adapterType}" is not one of ${ADAPTER_TYPES.join(', ')}`);
  requireOption(Number.isInteger(r.virtualHWVersion) && r.virtualHWVersion >= 3 && r.virtualHWVersion <= 99, `virtualHWVersion ${r.virtualHWVersion} is not an integer from 3 to 99`);
  requireOption(isPowerOfTwo(r.batchBytes) && r.batchBytes >= GRAIN_BYTES && r.batchBytes <= GT_SPAN_BYTES, `batchBytes ${r.batchBytes} is not a power of two from ${GRAIN_BYTES} to ${GT_SPAN_BYTES}`);
  requireOption(Number.isSafeInteger(r.maxCapacityBytes) && r.maxCapacityBytes > 0, `maxCapacityBytes ${r.maxCapacityBytes} is not a positive integer`);
  requireOption(r.cid === undefined || (Number.isInteger(r.cid) && r.cid >= 0 && r.cid < 0xffffffff), `cid ${r.cid} is not a uint32 below 0xffffffff`);
  return r;
}

/**
 * The content ID of disk `index` of an output with identity `uniqueId`: a regenerated stream (an
 * upload's resume) must carry the same CID. Never 0xffffffff, which parentCID uses for "no parent".
 */
export function identityCid(uniqueId: string, index = 0): number {
  const n = createHash('sha256').update(`vmdk-cid\0${uniqueId}\0${index}`).digest().readUInt32BE(0);
  return n === 0xffffffff ? 0xfffffffe : n;
}

/** A random content ID; 0xffffffff is excluded because parentCID uses it for "no parent". */
export function randomCid(): number {
  return randomInt(0, 0xffffffff);
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && Number.isInteger(Math.log2(n));
}

function requireOption(ok: boolean, sentence: string): void {
  if (!ok) throw vmxError(VMDKW.BAD_OPTION, `stream-optimized VMDK writer: ${sentence}`);
}

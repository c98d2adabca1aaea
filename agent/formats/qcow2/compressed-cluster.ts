import { constants, inflateRawSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { QCOW2 } from './error-codes.js';
import type { CompressionType } from './qcow2-header.js';
import { scanZstdFrame } from './zstd-frame.js';

export interface CompressedRef {
  host: number;
  byteLength: number;
  l2EntryOffset: number;
}

/** A zstd window larger than this is not one qemu writes for a single cluster; refuse the allocation. */
const MAX_ZSTD_WINDOW = 8 * 1024 * 1024;

/**
 * Reads and inflates one compressed cluster to exactly `clusterSize` bytes.
 * qcow2.txt §Compressed Clusters Descriptor: the last sector may extend past what was written
 * (qemu does not pad the file), so the read stops at end of file; "decompression stops when it has
 * produced a cluster of data". zlib clusters are raw deflate (qemu: deflateInit2 with -12 window
 * bits); zstd clusters one zstd frame (compression_type 1).
 */
export async function readCompressedCluster(file: RandomAccessFile, ref: CompressedRef, clusterSize: number, type: CompressionType): Promise<Buffer> {
  const available = Math.min(ref.byteLength, file.size - ref.host);
  const clipped = available < ref.byteLength;
  const input = await file.read(ref.host, available, 'compressed cluster');
  const out = type === 'zstd' ? inflateZstd(file, ref, input, clipped, clusterSize) : inflateZlib(file, ref, input, clusterSize);
  if (out.length !== clusterSize) {
    const code = clipped ? QCOW2.COMPRESSED_TRUNCATED : QCOW2.COMPRESSED_CORRUPT;
    const why = clipped ? `the file ends ${ref.byteLength - available} bytes before the compressed data does` : 'the compressed stream ends early';
    throw vmxError(code, `compressed cluster at ${ref.host} inflates to ${out.length} bytes instead of ${clusterSize}: ${why}`, { file: file.path, offset: ref.l2EntryOffset });
  }
  return out;
}

function inflateZlib(file: RandomAccessFile, ref: CompressedRef, input: Buffer, clusterSize: number): Buffer {
  try {
    // Z_SYNC_FLUSH returns what a cut-short stream yields instead of throwing, so the length check
    // above can tell truncation apart; maxOutputLength bounds memory at one cluster.
    return inflateRawSync(input, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: clusterSize });
  } catch (err) {
    throw vmxError(QCOW2.COMPRESSED_CORRUPT, `compressed cluster at ${ref.host} is not a valid raw deflate stream of one cluster: ${(err as Error).message}`, {
      file: file.path,
      offset: ref.l2EntryOffset,
      cause: err,
    });
  }
}

function inflateZstd(file: RandomAccessFile, ref: CompressedRef, input: Buffer, clipped: boolean, clusterSize: number): Buffer {
  const where = { file: file.path, offset: ref.l2EntryOffset };
  const frame = scanZstdFrame(input, Math.max(MAX_ZSTD_WINDOW, clusterSize), clusterSize);
  if (!frame.ok) {
    const code = frame.truncated && clipped ? QCOW2.COMPRESSED_TRUNCATED : QCOW2.COMPRESSED_CORRUPT;
    throw vmxError(code, `compressed cluster at ${ref.host}: ${frame.reason}`, where);
  }
  let out: Uint8Array;
  try {
    out = zstdDecompress(input.subarray(0, frame.length));
  } catch (err) {
    throw vmxError(QCOW2.COMPRESSED_CORRUPT, `compressed cluster at ${ref.host} is not a valid zstd frame: ${(err as Error).message}`, { ...where, cause: err });
  }
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

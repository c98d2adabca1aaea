import { vmxError } from '../../core/errors.js';
import type { DiskSource } from '../../disk/disk-source.js';
import type { Extent } from '../../disk/extent.js';
import { VHD } from './error-codes.js';

/** qemu's and Hyper-V's limit for VHD disks: 0xff000000 sectors (2040 GiB). */
export const MAX_VHD_SIZE = 0xff000000 * 512;

const ZEROS = Buffer.alloc(1024 * 1024);

/** Refuses disks a VHD cannot describe, before the first byte is written. */
export function checkVhdSize(size: number, source: DiskSource): void {
  if (size > MAX_VHD_SIZE) {
    throw vmxError(VHD.TOO_LARGE, `a ${size}-byte disk exceeds the ${MAX_VHD_SIZE}-byte (2040 GiB) VHD limit; write VHDX instead`, { file: source.info.files[0] });
  }
}

/** `n` zero bytes as views of one shared buffer (never written to). */
export function* zeroBytes(n: number): Generator<Buffer> {
  for (let left = n; left > 0; left -= ZEROS.length) yield ZEROS.subarray(0, Math.min(left, ZEROS.length));
}

/** An extent's bytes: its data, or zeros for zero and unallocated extents. */
export function* extentBytes(e: Extent): Generator<Buffer> {
  if (e.kind === 'data') yield e.data;
  else yield* zeroBytes(e.length);
}

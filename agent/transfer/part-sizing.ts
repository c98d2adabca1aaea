import { vmxError } from '../core/errors.js';
import { MiB, formatBytes } from '../core/units.js';
import type { StoreLimits } from '../sinks/object-sink.js';
import { TRANSFER } from './error-codes.js';

export const DEFAULT_PART_SIZE = 16 * MiB;
/**
 * vmxfer's own ceiling, below S3's 5 GiB and OSS's 5 GB: a part is read, hashed and sent as one
 * buffer; Node 20 reads at most 2 GiB - 1 bytes in one fs read (kIoMaxLength), a Buffer holds at
 * most 4 GiB, and the page-aligned part buffers are WebAssembly memories of at most 4 GiB (a 5 GiB
 * part failed there with a RangeError, issue 13).
 */
export const MAX_PART_SIZE = 2047 * MiB;

/**
 * Chooses the part size before the first byte is sent, from the largest output the source can
 * produce, so the object never needs more than `maxParts` parts: at least the store's minimum,
 * at least the default, and large enough that maxOutput / partSize <= maxParts (whole MiB).
 */
export function choosePartSize(maxOutput: number, limits: StoreLimits, requested?: number): number {
  if (maxOutput > limits.maxObjectSize) {
    throw vmxError(TRANSFER.TOO_LARGE, `the output may reach ${formatBytes(maxOutput)}, over the store's object limit of ${formatBytes(limits.maxObjectSize)}`);
  }
  const exact = Math.ceil(maxOutput / limits.maxParts);
  const needed = Math.ceil(exact / MiB) * MiB;
  const maxPartSize = Math.min(limits.maxPartSize, MAX_PART_SIZE);
  if (requested !== undefined) {
    if (requested < limits.minPartSize || requested > maxPartSize) {
      const whose = requested > MAX_PART_SIZE && requested <= limits.maxPartSize ? `vmxfer's limit of ${MAX_PART_SIZE / MiB} MiB (a part is read and hashed in one buffer; the store would allow ${formatBytes(limits.maxPartSize)})` : `the store's limits ${formatBytes(limits.minPartSize)}..${formatBytes(limits.maxPartSize)}`;
      throw vmxError(TRANSFER.PART_SIZE, `part size ${formatBytes(requested)} is outside ${whose}`);
    }
    if (requested < exact) {
      throw vmxError(TRANSFER.PART_SIZE, `part size ${formatBytes(requested)} would need more than ${limits.maxParts} parts for up to ${formatBytes(maxOutput)}; use at least ${formatBytes(needed)}`);
    }
    return requested;
  }
  const size = Math.max(limits.minPartSize, DEFAULT_PART_SIZE, needed);
  if (size > maxPartSize) {
    const most = maxPartSize === MAX_PART_SIZE ? `${MAX_PART_SIZE / MiB} MiB (vmxfer's ceiling: a part is read and hashed in one buffer)` : formatBytes(maxPartSize);
    throw vmxError(TRANSFER.TOO_LARGE, `up to ${formatBytes(maxOutput)} cannot fit in ${limits.maxParts} parts of at most ${most}`);
  }
  return size;
}

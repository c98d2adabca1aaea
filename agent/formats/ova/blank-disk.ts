import type { DiskInfo, DiskSource } from '../../disk/disk-source.js';
import { emptyExtent, type Extent } from '../../disk/extent.js';

/** A Disk with no ovf:fileRef (DSP0243 §9.1): an empty disk of its capacity, created at import. */
export function blankDisk(capacityBytes: number, name: string): DiskSource {
  const info: DiskInfo = { format: 'blank', virtualSize: capacityBytes, allocatedBytes: 0, files: [name], warnings: [] };
  return {
    virtualSize: capacityBytes,
    info,
    async *extents(): AsyncGenerator<Extent> {
      if (capacityBytes > 0) yield emptyExtent('unallocated', 0, capacityBytes);
    },
    async close() {},
  };
}

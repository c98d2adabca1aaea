import type { DiskSource, ExtentReadOptions } from '../../agent/disk/disk-source.js';
import type { Extent } from '../../agent/disk/extent.js';

/** A DiskSource from a literal list of extents, for unit tests of generic pipeline pieces. */
export function memoryDisk(virtualSize: number, extents: Extent[]): DiskSource {
  return {
    virtualSize,
    info: { format: 'memory', virtualSize, files: [], warnings: [] },
    async *extents(_opts?: ExtentReadOptions) {
      yield* extents;
    },
    async close() {},
  };
}

/** Renders a source's extents to one Buffer (small disks only). */
export async function renderDisk(source: DiskSource): Promise<Buffer> {
  const out = Buffer.alloc(source.virtualSize);
  for await (const e of source.extents()) if (e.kind === 'data') e.data.copy(out, e.offset);
  return out;
}

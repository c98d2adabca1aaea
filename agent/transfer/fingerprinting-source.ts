import type { DiskSource, ExtentReadOptions } from '../disk/disk-source.js';
import type { Extent } from '../disk/extent.js';
import type { SourceFingerprints } from './source-fingerprints.js';

/**
 * Decorator: feeds every extent the writer pulls to the upload's source fingerprints, data as
 * bytes and zero/unallocated extents as runs. Each pass over the extents starts the fingerprints
 * over, as HashingSource does for the SHA-256 (the OVA writer reads its source twice).
 */
export function withFingerprints(source: DiskSource, fingerprints: SourceFingerprints): DiskSource {
  return Object.create(source, {
    extents: {
      value: async function* (opts?: ExtentReadOptions): AsyncGenerator<Extent> {
        fingerprints.restart();
        let end = 0;
        for await (const e of source.extents(opts)) {
          if (e.kind === 'data') fingerprints.data(e.data);
          else fingerprints.zeros(e.length);
          end = e.offset + e.length;
          yield e;
        }
        if (end === source.virtualSize) fingerprints.end();
      },
    },
  }) as DiskSource;
}

import { throwIfAborted } from '../../core/abort.js';
import { alignUp, MiB } from '../../core/units.js';
import type { DiskSource } from '../../disk/disk-source.js';
import type { DiskWriter, WriteOptions } from '../format-writer.js';
import { encodeFooter, FOOTER_SIZE } from './footer.js';
import { chsForSectors } from './geometry.js';
import { checkVhdSize, extentBytes, zeroBytes } from './writer-common.js';

/** Azure and Hyper-V accept fixed VHDs whose size is a whole number of MiB: the disk is padded with zeros up to one. */
export function fixedVhdSize(source: DiskSource): number {
  return alignUp(source.virtualSize, MiB);
}

/** VHD spec, "Fixed Hard Disk Image": the disk's bytes, then the 512-byte footer. A pure forward stream. */
export const vhdFixedWriter: DiskWriter = {
  target: 'vhd-fixed',
  encoder: { writer: 'vhd-fixed/1' },
  patchableHead: () => 0,
  maxOutputSize: (source) => fixedVhdSize(source) + FOOTER_SIZE,
  async *write(source: DiskSource, opts: WriteOptions = {}) {
    const size = fixedVhdSize(source);
    checkVhdSize(size, source);
    for await (const e of source.extents({ signal: opts.signal })) {
      throwIfAborted(opts.signal);
      yield* extentBytes(e);
    }
    yield* zeroBytes(size - source.virtualSize);
    yield encodeFooter({ diskType: 'fixed', size, geometry: chsForSectors(size / 512), identity: opts.identity });
  },
};

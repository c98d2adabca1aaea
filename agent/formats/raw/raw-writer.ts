import type { DiskSource } from '../../disk/disk-source.js';
import type { DiskWriter, WriteOptions } from '../format-writer.js';
import { throwIfAborted } from '../../core/abort.js';

const ZEROS = Buffer.alloc(1024 * 1024);

/** Raw output: the virtual disk's bytes, zeros written out (a byte stream cannot hold holes). */
export const rawWriter: DiskWriter = {
  target: 'raw',
  encoder: { writer: 'raw/1' },
  patchableHead: () => 0,
  maxOutputSize: (source) => source.virtualSize,
  async *write(source: DiskSource, opts: WriteOptions = {}) {
    for await (const e of source.extents({ signal: opts.signal })) {
      throwIfAborted(opts.signal);
      if (e.kind === 'data') {
        yield e.data;
        continue;
      }
      for (let left = e.length; left > 0; left -= ZEROS.length) yield ZEROS.subarray(0, Math.min(left, ZEROS.length));
    }
  },
};

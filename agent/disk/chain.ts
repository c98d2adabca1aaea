import type { DiskSource, ExtentReadOptions, DiskInfo } from './disk-source.js';
import { emptyExtent, sliceExtent, type Extent, type ExtentRange } from './extent.js';

/**
 * A child disk over its parent (VMDK delta, differencing VHD/VHDX, qcow2 backing file):
 * the child's unallocated ranges read from the parent; its data and zero extents win.
 * Both sides are ordered streams, so the merge needs no random access and no buffering
 * beyond one parent extent.
 */
export class ChainedDisk implements DiskSource {
  readonly info: DiskInfo;

  constructor(
    private readonly child: DiskSource,
    private readonly parent: DiskSource,
  ) {
    this.info = { ...child.info, parent: parent.info, files: [...child.info.files, ...parent.info.files] };
  }

  get virtualSize(): number {
    return this.child.virtualSize;
  }

  extents(opts: ExtentReadOptions = {}): AsyncIterable<Extent> {
    return mergeChain(this.child.extents(opts), this.parent.extents(opts), this.parent.virtualSize);
  }

  async close(): Promise<void> {
    await Promise.all([this.child.close(), this.parent.close()]);
  }
}

async function* mergeChain<T extends ExtentRange>(
  child: AsyncIterable<T>,
  parent: AsyncIterable<T>,
  parentSize: number,
): AsyncGenerator<T> {
  const below = parent[Symbol.asyncIterator]();
  let pending: T | undefined;
  try {
    for await (const e of child) {
      if (e.kind !== 'unallocated') {
        yield e;
        continue;
      }
      const end = e.offset + e.length;
      let pos = e.offset;
      while (pos < end) {
        if (pos >= parentSize) {
          yield emptyExtent('unallocated', pos, end - pos) as unknown as T;
          break;
        }
        if (!pending || pending.offset + pending.length <= pos) {
          const r = await below.next();
          if (r.done) {
            yield emptyExtent('unallocated', pos, end - pos) as unknown as T;
            break;
          }
          pending = r.value;
          continue;
        }
        const piece = sliceRange(pending, pos, end);
        yield piece;
        pos = piece.offset + piece.length;
      }
    }
  } finally {
    await below.return?.();
  }
}

function sliceRange<T extends ExtentRange>(e: T, from: number, to: number): T {
  if ('data' in e) return sliceExtent(e as unknown as Extent, from, to) as unknown as T;
  const start = Math.max(from, e.offset);
  return { kind: e.kind, offset: start, length: Math.min(to, e.offset + e.length) - start } as T;
}

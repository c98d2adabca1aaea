import { DEFAULT_MAX_DATA_EXTENT, type DiskInfo, type DiskSource, type ExtentReadOptions } from '../../disk/disk-source.js';
import { dataExtent, emptyExtent, type Extent } from '../../disk/extent.js';
import type { ComponentReadOptions, VmdkComponent } from './component.js';

/** A VMDK's extents laid end to end, as the descriptor orders them (VMDK 5.0 §"Extent Descriptions"). */
export class VmdkDisk implements DiskSource {
  readonly virtualSize: number;

  constructor(
    private readonly components: readonly VmdkComponent[],
    readonly info: DiskInfo,
  ) {
    this.virtualSize = components.reduce((n, c) => n + c.size, 0);
  }

  async *extents(opts: ExtentReadOptions = {}): AsyncGenerator<Extent> {
    const copts: ComponentReadOptions = {
      signal: opts.signal,
      maxDataLength: opts.maxDataLength ?? DEFAULT_MAX_DATA_EXTENT,
      allocate: opts.allocate ?? Buffer.allocUnsafe,
    };
    let base = 0;
    for (const c of this.components) {
      for await (const e of c.extents(copts)) yield e.kind === 'data' ? dataExtent(base + e.offset, e.data) : emptyExtent(e.kind, base + e.offset, e.length);
      base += c.size;
    }
  }

  /** Random access for the guest inspector (agent/guest/byte-source.ts), component by component. */
  async readAt(offset: number, buf: Buffer): Promise<void> {
    const end = offset + buf.length;
    let base = 0;
    for (const c of this.components) {
      const from = Math.max(offset, base);
      const to = Math.min(end, base + c.size);
      if (from < to) await c.readAt(from - base, buf.subarray(from - offset, to - offset));
      base += c.size;
      if (base >= end) break;
    }
    if (end > base) buf.subarray(Math.max(0, base - offset)).fill(0);
  }

  async close(): Promise<void> {
    await Promise.all(this.components.map((c) => c.close()));
  }
}

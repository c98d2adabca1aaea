import { emptyExtent, type Extent } from '../../disk/extent.js';
import type { VmdkComponent } from './component.js';

/** A ZERO extent (VMDK 5.0 §"Extent Descriptions", type ZERO): reads as zeros, stores nothing. */
export class ZeroComponent implements VmdkComponent {
  readonly allocatedBytes = 0;

  constructor(readonly size: number) {}

  async *extents(): AsyncGenerator<Extent> {
    yield emptyExtent('zero', 0, this.size);
  }

  async readAt(_offset: number, buf: Buffer): Promise<void> {
    buf.fill(0);
  }

  async close(): Promise<void> {}
}

import type { Extent } from '../../disk/extent.js';

/** How a component reads: the caller's bounds, already defaulted. */
export interface ComponentReadOptions {
  signal: AbortSignal | undefined;
  maxDataLength: number;
  allocate: (length: number) => Buffer;
}

/**
 * One extent line of a VMDK (VMDK 5.0 §"Extent Descriptions"): a FLAT/VMFS file, a hosted
 * sparse file or a ZERO range. Offsets it yields are relative to its own start; the disk
 * shifts them by the sizes of the components before it.
 */
export interface VmdkComponent {
  /** Bytes of the virtual disk this component covers (the extent line's size). */
  readonly size: number;
  /** Bytes it stores itself (data grains and zeroed grains; whole size for flat files). */
  readonly allocatedBytes: number;
  extents(opts: ComponentReadOptions): AsyncIterable<Extent>;
  /** Fills `buf` with the bytes at `offset` (relative to this component), zeros where nothing is stored. */
  readAt(offset: number, buf: Buffer): Promise<void>;
  close(): Promise<void>;
}

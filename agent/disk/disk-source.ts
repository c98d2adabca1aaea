import type { Extent } from './extent.js';

/** What `vmxfer inspect` reports about an opened disk. */
export interface DiskInfo {
  /** Format family: raw, vmdk, vhd, vhdx, qcow2, vdi. */
  format: string;
  /** Variant within the family (e.g. streamOptimized, monolithicSparse, dynamic, fixed). */
  subformat?: string;
  virtualSize: number;
  /** Bytes of the virtual disk the image itself stores (data and explicit zeros excluded from parents). */
  allocatedBytes?: number;
  /** Every file this disk reads: descriptor, extents, parents. */
  files: string[];
  warnings: string[];
  /** Format-specific facts (header version, grain size, adapter type, ...). */
  details?: Record<string, unknown>;
  /** For delta / differencing / backing chains: what lies beneath. */
  parent?: DiskInfo;
}

export interface ExtentReadOptions {
  signal?: AbortSignal | undefined;
  /** Upper bound on one data extent's length (memory bound per extent). Default DEFAULT_MAX_DATA_EXTENT. */
  maxDataLength?: number | undefined;
  /**
   * Where data extents' buffers come from (default Buffer.allocUnsafe). A consumer that passes a
   * pool's acquire function returns each buffer to the pool once it is done with the extent.
   */
  allocate?: ((length: number) => Buffer) | undefined;
}

export const DEFAULT_MAX_DATA_EXTENT = 4 * 1024 * 1024;

/**
 * A readable virtual disk. `extents()` yields extents in offset order covering [0, virtualSize)
 * exactly; data extents are at most `maxDataLength` bytes and are owned by the consumer.
 * Seekable sources may be iterated more than once; a source read from a stream only once.
 */
export interface DiskSource {
  readonly virtualSize: number;
  readonly info: DiskInfo;
  extents(opts?: ExtentReadOptions): AsyncIterable<Extent>;
  close(): Promise<void>;
}

/** What the preflight knows about the local image, gathered from `inspect` (DiskInfo) without reading data. */
export interface DiskFacts {
  path: string;
  /** raw, vmdk, vhd, vhdx, qcow2, vdi (DiskInfo.format). */
  format: string;
  /** streamOptimized, monolithicSparse, fixed, dynamic, differencing, ... (DiskInfo.subformat). */
  subformat?: string | undefined;
  virtualSize: number;
}

export interface ImageFacts {
  /** 'ova' when the source is an OVA package; its disks are listed in `disks`. */
  container?: 'ova' | undefined;
  /** An OVA whose disks are split into chunks (OVF 2.0 §5.3 "chunkSize"), which AWS refuses. */
  ovaChunked?: boolean | undefined;
  disks: DiskFacts[];
}

export const TiB = 1024 ** 4;
export const GiB = 1024 ** 3;

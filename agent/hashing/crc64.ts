import { combineCrc64 } from './crc64-combine.js';
import { crc64ToOss, crc64ToS3 } from './crc64-format.js';
import { CRC64_PARAMS, type Crc64Variant } from './crc64-params.js';
import { crc64Kernel, crc64Windowed } from './crc64-wasm.js';

export { combineCrc64 } from './crc64-combine.js';
export { crc64ToOss, crc64ToS3, parseOssCrc64, parseS3Crc64 } from './crc64-format.js';
export { CRC64_PARAMS, CRC64_VARIANTS, type Crc64Variant } from './crc64-params.js';

/**
 * Incremental CRC-64 (CRC-64/XZ for OSS, CRC-64/NVME for S3) on the WebAssembly kernel.
 * Objects are independent (the kernel keeps no state between calls), so any number may be
 * interleaved on one thread; `length` is what combineCrc64 needs to fold parts together.
 */
export class Crc64 {
  private crc = 0n;
  private bytes = 0;

  constructor(readonly variant: Crc64Variant) {}

  update(data: Uint8Array): this {
    this.crc = crc64Windowed(crc64Kernel(), CRC64_PARAMS[this.variant].kernelIndex, this.crc, data);
    this.bytes += data.length;
    return this;
  }

  /** Appends a part whose CRC was computed elsewhere (another worker, another upload part). */
  appendPart(partCrc: bigint, partLength: number): this {
    this.crc = combineCrc64(this.variant, this.crc, partCrc, partLength);
    this.bytes += partLength;
    return this;
  }

  /** Bytes hashed so far. */
  get length(): number {
    return this.bytes;
  }

  /** The CRC of everything so far; the object stays usable (digest is not final). */
  digest(): bigint {
    return this.crc;
  }

  /** OSS x-oss-hash-crc64ecma spelling (decimal). */
  digestOss(): string {
    return crc64ToOss(this.crc);
  }

  /** S3 x-amz-checksum-crc64* spelling (base64 of big-endian bytes). */
  digestS3(): string {
    return crc64ToS3(this.crc);
  }
}

/** One-shot CRC-64 of `data`. */
export function crc64(variant: Crc64Variant, data: Uint8Array): bigint {
  return new Crc64(variant).update(data).digest();
}

/** CRC-64/XZ (OSS crc64ecma) as OSS spells it. */
export function crc64Oss(data: Uint8Array): string {
  return crc64ToOss(crc64('xz', data));
}

/** CRC-64/NVME as S3's x-amz-checksum-crc64nvme spells it. */
export function crc64NvmeS3(data: Uint8Array): string {
  return crc64ToS3(crc64('nvme', data));
}

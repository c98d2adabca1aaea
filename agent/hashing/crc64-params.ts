/**
 * The CRC-64 variants object stores use, in the Rocksoft/Williams parameter model (the "CRC RevEng"
 * catalogue names): reflected input and output, init = xorout = all ones, width 64.
 * - 'xz':   CRC-64/XZ, ECMA-182 polynomial 0x42F0E1EBA9EA3693; OSS calls it crc64ecma
 *           (x-oss-hash-crc64ecma), check("123456789") = 0x995DC9BBDF1939FA.
 * - 'nvme': CRC-64/NVME, polynomial 0xAD93D23594C93659 (the 64b CRC guard of NVM Express end-to-end
 *           protection information); S3's x-amz-checksum-crc64nvme, check = 0xAE8B14860A799888.
 */
export type Crc64Variant = 'xz' | 'nvme';

export const CRC64_VARIANTS: readonly Crc64Variant[] = ['xz', 'nvme'];

export interface Crc64Params {
  readonly polynomial: bigint;
  /** The polynomial bit-reversed: the constant a reflected (LSB-first) shift register XORs in. */
  readonly reflectedPolynomial: bigint;
  readonly check: bigint;
  /** The variant's index in the WebAssembly kernel (native-wasm/crc64.c REFLECTED_POLYS). */
  readonly kernelIndex: number;
}

export const CRC64_PARAMS: Readonly<Record<Crc64Variant, Crc64Params>> = {
  xz: { polynomial: 0x42f0e1eba9ea3693n, reflectedPolynomial: 0xc96c5795d7870f42n, check: 0x995dc9bbdf1939fan, kernelIndex: 0 },
  nvme: { polynomial: 0xad93d23594c93659n, reflectedPolynomial: 0x9a6c9329ac4bc9b5n, check: 0xae8b14860a799888n, kernelIndex: 1 },
};

export const MASK64 = (1n << 64n) - 1n;

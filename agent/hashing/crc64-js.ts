import { CRC64_PARAMS, type Crc64Variant } from './crc64-params.js';

/**
 * A pure-JS CRC-64 (slicing-by-8 tables held as 32-bit halves, since JS bit operators are 32-bit
 * and BigInt is ~100x slower). Not used in production: it is the independent reference the tests
 * cross-check the WebAssembly kernel against, and the "pure JS" row of bench/README.md.
 */
interface HalfTables {
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;
}

const SLICES = 8;
const cache = new Map<Crc64Variant, HalfTables>();

/** lo/hi[k*256 + b]: register after byte b and k zero bytes (Sarwate table extended, as in crc64.c). */
function tablesFor(variant: Crc64Variant): HalfTables {
  let t = cache.get(variant);
  if (t !== undefined) return t;
  const poly = CRC64_PARAMS[variant].reflectedPolynomial;
  const full: bigint[] = [];
  for (let b = 0; b < 256; b++) {
    let r = BigInt(b);
    for (let bit = 0; bit < 8; bit++) r = (r & 1n) !== 0n ? (r >> 1n) ^ poly : r >> 1n;
    full.push(r);
  }
  for (let i = 256; i < SLICES * 256; i++) full.push((full[i - 256]! >> 8n) ^ full[Number(full[i - 256]! & 0xffn)]!);
  t = { lo: Uint32Array.from(full, (v) => Number(v & 0xffffffffn)), hi: Uint32Array.from(full, (v) => Number(v >> 32n)) };
  cache.set(variant, t);
  return t;
}

/** Continues finished CRC `crc` (0n to start) over `data`. */
export function crc64Js(variant: Crc64Variant, data: Uint8Array, crc = 0n): bigint {
  const { lo: TL, hi: TH } = tablesFor(variant);
  const inverted = ~BigInt.asUintN(64, crc);
  let lo = Number(inverted & 0xffffffffn) >>> 0;
  let hi = Number((inverted >> 32n) & 0xffffffffn) >>> 0;
  let i = 0;
  for (const end8 = data.length - (data.length % 8); i < end8; i += 8) {
    const a = (lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    const b = (hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24))) >>> 0;
    const i7 = 1792 + (a & 255), i6 = 1536 + ((a >>> 8) & 255), i5 = 1280 + ((a >>> 16) & 255), i4 = 1024 + (a >>> 24);
    const i3 = 768 + (b & 255), i2 = 512 + ((b >>> 8) & 255), i1 = 256 + ((b >>> 16) & 255), i0 = b >>> 24;
    lo = TL[i7]! ^ TL[i6]! ^ TL[i5]! ^ TL[i4]! ^ TL[i3]! ^ TL[i2]! ^ TL[i1]! ^ TL[i0]!;
    hi = TH[i7]! ^ TH[i6]! ^ TH[i5]! ^ TH[i4]! ^ TH[i3]! ^ TH[i2]! ^ TH[i1]! ^ TH[i0]!;
  }
  for (; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 255;
    lo = ((lo >>> 8) | (hi << 24)) ^ TL[idx]!;
    hi = (hi >>> 8) ^ TH[idx]!;
  }
  return ~((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)) & ((1n << 64n) - 1n);
}

/**
 * CRC-64/XZ (a.k.a. CRC-64/ECMA-182 reflected, init and xorout all ones), the checksum OSS reports
 * in `x-oss-hash-crc64ecma`. A plain table-driven JavaScript implementation kept deliberately
 * independent of the product's, so the OSS protocol fake is a second opinion, not an echo.
 * The 64-bit register is held as two unsigned 32-bit halves to avoid BigInt in the byte loop.
 * Check value (Rocksoft catalogue, CRC-64/XZ): "123456789" -> 0x995DC9BBDF1939FA.
 */

const POLY_HI = 0xc96c5795; // reflected ECMA-182 polynomial 0xC96C5795D7870F42
const POLY_LO = 0xd7870f42;

const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      lo = (lo ^ POLY_LO) >>> 0;
      hi = (hi ^ POLY_HI) >>> 0;
    }
  }
  TABLE_HI[i] = hi;
  TABLE_LO[i] = lo;
}

/** Incremental CRC-64/XZ; `digest()` gives the unsigned decimal string OSS puts in its header. */
export class FakeCrc64Ecma {
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(data: Uint8Array): this {
    let hi = this.hi;
    let lo = this.lo;
    for (let i = 0; i < data.length; i++) {
      const idx = (lo ^ data[i]!) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx]!) >>> 0;
      hi = ((hi >>> 8) ^ TABLE_HI[idx]!) >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  digestBigInt(): bigint {
    return (BigInt((this.hi ^ 0xffffffff) >>> 0) << 32n) | BigInt((this.lo ^ 0xffffffff) >>> 0);
  }

  digest(): string {
    return this.digestBigInt().toString();
  }
}

export function fakeCrc64Ecma(...chunks: Uint8Array[]): string {
  const crc = new FakeCrc64Ecma();
  for (const c of chunks) crc.update(c);
  return crc.digest();
}

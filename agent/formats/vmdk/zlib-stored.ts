/**
 * A zlib stream made of stored (uncompressed) deflate blocks: what an incompressible grain becomes.
 * Written by hand rather than by zlib level 0 so that its size is exact and known in advance
 * (maxOutputSize relies on it) and no deflate state is set up for bytes that will not shrink.
 *   RFC 1950 §2.2: CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (FCHECK makes CMF*256+FLG a
 *   multiple of 31, no dictionary, fastest level), then the deflate data, then Adler-32 big-endian.
 *   RFC 1951 §3.2.4: a stored block is a 3-bit header (BFINAL, BTYPE=00) padded to a byte,
 *   LEN and NLEN (one's complement) as uint16 little-endian, then LEN bytes; LEN <= 65535.
 */

const MAX_STORED_BLOCK = 65535;
const ZLIB_HEADER = [0x78, 0x01] as const;
const BLOCK_HEADER_BYTES = 5;
const ADLER_BYTES = 4;

/** Exact size of zlibStored(n bytes). An empty input still needs one (final, empty) block. */
export function zlibStoredLength(n: number): number {
  const blocks = Math.max(1, Math.ceil(n / MAX_STORED_BLOCK));
  return ZLIB_HEADER.length + blocks * BLOCK_HEADER_BYTES + n + ADLER_BYTES;
}

/** Writes the stored zlib stream of `data` into `target` at `at`; returns the bytes written. */
export function writeZlibStored(data: Uint8Array, target: Buffer, at: number): number {
  let p = at;
  target[p++] = ZLIB_HEADER[0];
  target[p++] = ZLIB_HEADER[1];
  let done = 0;
  do {
    const len = Math.min(MAX_STORED_BLOCK, data.length - done);
    const final = done + len === data.length;
    target[p++] = final ? 1 : 0;
    target.writeUInt16LE(len, p);
    target.writeUInt16LE(~len & 0xffff, p + 2);
    p += 4;
    target.set(data.subarray(done, done + len), p);
    p += len;
    done += len;
  } while (done < data.length);
  target.writeUInt32BE(adler32(data), p);
  return p + ADLER_BYTES - at;
}

export function zlibStored(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(zlibStoredLength(data.length));
  writeZlibStored(data, out, 0);
  return out;
}

/** Adler-32 (RFC 1950 §8.2): sums modulo 65521, reduced every 5552 bytes so they stay below 2^32. */
const ADLER_MOD = 65521;
const ADLER_NMAX = 5552;

export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let start = 0; start < data.length; start += ADLER_NMAX) {
    const end = Math.min(data.length, start + ADLER_NMAX);
    for (let i = start; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= ADLER_MOD;
    b %= ADLER_MOD;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * The byte length of the single Zstandard frame at the start of `buf` (RFC 8878 §3.1.1), or why it
 * cannot be found. qcow2 compressed clusters end inside a 512-byte sector whose tail may hold the
 * next cluster's data, and fzstd reads every frame it is given, so the frame is cut out first.
 * Also bounds the window the decoder would allocate (an untrusted field).
 */
export type FrameScan = { ok: true; length: number } | { ok: false; truncated: boolean; reason: string };

const ZSTD_MAGIC = 0xfd2fb528;
const BLOCK_HEADER = 3;

export function scanZstdFrame(buf: Buffer, maxWindow: number, maxContent: number): FrameScan {
  if (buf.length < 6) return { ok: false, truncated: true, reason: 'the zstd frame header is cut short' };
  if (buf.readUInt32LE(0) !== ZSTD_MAGIC) return { ok: false, truncated: false, reason: 'the data does not start with the zstd frame magic' };
  const fhd = buf[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const checksum = (fhd >> 2) & 1;
  const dictIdBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  let pos = 5;
  let window = maxContent;
  // RFC 8878 §3.1.1.1.2 Window_Descriptor: absent in single-segment frames.
  if (!singleSegment) {
    const wd = buf[pos]!;
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
    if (window > maxWindow) return { ok: false, truncated: false, reason: `the zstd window exceeds ${maxWindow} bytes` };
    pos += 1;
  }
  pos += dictIdBytes;
  // RFC 8878 §3.1.1.1.4 Frame_Content_Size: fzstd allocates this much, so it must fit one cluster.
  if (fcsBytes > 0) {
    if (pos + fcsBytes > buf.length) return { ok: false, truncated: true, reason: 'the zstd frame header is cut short' };
    const fcs = fcsBytes === 8 ? Number(buf.readBigUInt64LE(pos)) : buf.readUIntLE(pos, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
    if (fcs > maxContent) return { ok: false, truncated: false, reason: `the zstd frame declares ${fcs} bytes of content, more than one cluster (${maxContent})` };
  }
  pos += fcsBytes;
  // RFC 8878 §3.1.1.2 Block_Header: Last_Block bit 0, Block_Type bits 1-2, Block_Size bits 3-23.
  // Each block regenerates at most min(window, 128 KiB) bytes (§3.1.1.2.4): bound the decoder's output.
  const blockMax = Math.min(window, 128 * 1024);
  let outputBound = 0;
  for (;;) {
    if (pos + BLOCK_HEADER > buf.length) return { ok: false, truncated: true, reason: 'a zstd block header is cut short' };
    const bh = buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16);
    const type = (bh >> 1) & 3;
    if (type === 3) return { ok: false, truncated: false, reason: 'a zstd block has the reserved block type 3' };
    const size = bh >>> 3;
    outputBound += type === 2 ? blockMax : size;
    if (outputBound > 2 * maxContent + blockMax) return { ok: false, truncated: false, reason: `the zstd frame regenerates more than one cluster (${maxContent} bytes)` };
    pos += BLOCK_HEADER + (type === 1 ? 1 : size);
    if (pos > buf.length) return { ok: false, truncated: true, reason: 'a zstd block is cut short' };
    if (bh & 1) break;
  }
  pos += checksum * 4;
  if (pos > buf.length) return { ok: false, truncated: true, reason: 'the zstd content checksum is cut short' };
  return { ok: true, length: pos };
}

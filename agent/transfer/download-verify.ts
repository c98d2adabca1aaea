import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { throwIfAborted } from '../core/abort.js';
import { vmxError } from '../core/errors.js';
import { combineCrc64 } from '../hashing/crc64.js';
import type { ObjectInfo } from '../sinks/object-sink.js';
import type { RangeDigest } from './download-checkpoint.js';
import { TRANSFER } from './error-codes.js';
import { multipartEtag, stripQuotes } from './multipart-etag.js';
import { recordedPartSize, rangeBounds } from './range-plan.js';

export type DownloadVerification = 'crc64' | 'etag' | 'md5' | 'size';

export interface VerifyInput {
  where: string;
  info: ObjectInfo;
  rangeSize: number;
  /** Digests of every range, in index order. */
  digests: RangeDigest[];
  /** Reads the downloaded bytes again when the ranges do not line up with the object's parts. */
  file?: FileHandle | undefined;
  signal?: AbortSignal | undefined;
}

const MULTIPART = /^([0-9a-f]{32})-(\d+)$/;
const PLAIN_MD5 = /^[0-9a-f]{32}$/;

/**
 * Compares what arrived with the store's whole-object checksum: OSS's CRC-64 (folded from the
 * ranges' CRCs), an S3 multipart ETag (MD5 of the parts' MD5s, "-N", from the part size vmxfer
 * recorded at upload), or a single-part ETag (MD5 of the object). Returns which one vouched, or
 * 'size' when the store gives nothing comparable (opaque SSE-KMS ETags, foreign multipart uploads).
 */
export async function verifyDownloaded(v: VerifyInput): Promise<DownloadVerification> {
  const size = v.digests.length === 0 ? 0 : rangeBounds(v.digests.length - 1, v.info.size, v.rangeSize).end;
  if (size !== v.info.size) throw failed(v, `${size} bytes arrived, the store reports ${v.info.size}`);
  if (size === 0) return 'size';
  if (v.info.crc64ecma !== undefined && v.digests.every((d) => d.crc64 !== undefined)) {
    const whole = v.digests.reduce((acc, d) => combineCrc64('xz', acc, BigInt(d.crc64!), rangeLength(v, d.index)), 0n).toString();
    if (whole !== v.info.crc64ecma) throw failed(v, `the CRC-64 of the bytes is ${whole}, the store's is ${v.info.crc64ecma}`);
    return 'crc64';
  }
  const etag = stripQuotes(v.info.etag);
  const multi = MULTIPART.exec(etag);
  if (multi) return verifyMultipartEtag(v, etag, Number(multi[2]));
  if (PLAIN_MD5.test(etag)) {
    const md5 = v.digests.length === 1 ? Buffer.from(v.digests[0]!.md5, 'base64').toString('hex') : v.file ? await fileMd5s(v.file, v.info.size, v.info.size, v.signal).then((m) => Buffer.from(m[0] ?? '', 'base64').toString('hex')) : undefined;
    if (md5 === undefined) return 'size';
    if (md5 !== etag) throw failed(v, `the MD5 of the bytes is ${md5}, the store's ETag is ${etag}`);
    return 'md5';
  }
  return 'size';
}

async function verifyMultipartEtag(v: VerifyInput, etag: string, parts: number): Promise<DownloadVerification> {
  const partSize = parts === 1 ? v.info.size : recordedPartSize(v.info);
  if (partSize === undefined || Math.max(1, Math.ceil(v.info.size / partSize)) !== parts) return 'size';
  let md5s: string[] | undefined;
  if (partSize === v.rangeSize) md5s = v.digests.map((d) => d.md5);
  else if (v.file) md5s = await fileMd5s(v.file, v.info.size, partSize, v.signal);
  if (!md5s) return 'size';
  const want = multipartEtag(md5s);
  if (want !== etag) throw failed(v, `the multipart ETag of the bytes is ${want}, the store's is ${etag}`);
  return 'etag';
}

function rangeLength(v: VerifyInput, index: number): number {
  const b = rangeBounds(index, v.info.size, v.rangeSize);
  return b.end - b.start;
}

/** MD5 (base64) of each `partSize` piece of the file, read sequentially through one 4 MiB buffer. */
async function fileMd5s(fh: FileHandle, size: number, partSize: number, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (let partStart = 0; partStart < size; partStart += partSize) {
    const h = createHash('md5');
    const partEnd = Math.min(size, partStart + partSize);
    for (let pos = partStart; pos < partEnd; ) {
      throwIfAborted(signal);
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, partEnd - pos), pos);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    out.push(h.digest('base64'));
  }
  return out;
}

function failed(v: VerifyInput, rule: string) {
  return vmxError(TRANSFER.VERIFY_FAILED, `downloaded object does not match the store: ${rule}`, { file: v.where });
}

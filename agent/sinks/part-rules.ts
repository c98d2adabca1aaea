import { createHash } from 'node:crypto';
import { vmxError } from '../core/errors.js';
import { STORE } from './error-codes.js';
import type { PartRef, StoreLimits } from './object-sink.js';

/** MD5 of a part body, as S3 wants it in Content-MD5 (base64) and returns it in the ETag (hex). */
export function partMd5(body: Buffer): { base64: string; hex: string } {
  const digest = createHash('md5').update(body).digest();
  return { base64: digest.toString('base64'), hex: digest.toString('hex') };
}

/** Strips the quotes S3 puts around ETags. */
export function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^"+|"+$/g, '');
}

/** Rejects part numbers outside 1..maxParts and bodies over maxPartSize before anything is sent. */
export function checkPartShape(limits: StoreLimits, partNumber: number, size: number, where: string): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > limits.maxParts) {
    throw vmxError(STORE.BAD_PART_NUMBER, `part number ${partNumber} is outside 1..${limits.maxParts}`, { file: where });
  }
  if (size > limits.maxPartSize) {
    throw vmxError(STORE.BAD_PART_NUMBER, `part ${partNumber} has ${size} bytes, over the store's maximum part size ${limits.maxPartSize}`, { file: where });
  }
}

/** Rejects ranges that are not 0 <= start <= end (<= size when the size is known). */
export function checkRange(start: number, end: number, where: string, size?: number): void {
  const ok = Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end;
  if (!ok || (size !== undefined && end > size)) {
    const limit = size === undefined ? '' : ` of an object of ${size} bytes`;
    throw vmxError(STORE.BAD_RANGE, `byte range [${start}, ${end})${limit} is not a valid range`, { file: where, offset: start });
  }
}

/** S3 CompleteMultipartUpload: at least one part, part numbers strictly ascending (InvalidPartOrder). */
export function checkCompleteOrder(parts: PartRef[], where: string): void {
  if (parts.length === 0) throw vmxError(STORE.INVALID_PART, 'complete needs at least one part', { file: where });
  for (let i = 1; i < parts.length; i++) {
    if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) {
      throw vmxError(STORE.INVALID_PART_ORDER, `complete lists part ${parts[i]!.partNumber} after part ${parts[i - 1]!.partNumber}: part numbers must ascend strictly`, { file: where });
    }
  }
}

/** The ETag S3 gives a multipart object: MD5 of the concatenated binary part MD5s, "-", part count. */
export function multipartEtag(partMd5Hexes: string[]): string {
  const md5 = createHash('md5');
  for (const hex of partMd5Hexes) md5.update(Buffer.from(hex, 'hex'));
  return `${md5.digest('hex')}-${partMd5Hexes.length}`;
}

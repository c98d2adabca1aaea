import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { VHD } from './error-codes.js';
import { DISK_TYPE, FOOTER_FIELDS, FOOTER_SIZE, hasFooterCookie, parseFooter, type VhdFooter } from './footer.js';

/**
 * Finds and verifies the footer. VHD spec, "Hard Disk Footer Format": every VHD ends with the footer;
 * dynamic and differencing disks ("Dynamic Disk Header Format") also start with a copy of it, which
 * must be identical — a mismatch means a truncated or half-updated file.
 */
export async function readFooter(file: RandomAccessFile): Promise<VhdFooter> {
  if (file.size < FOOTER_SIZE) {
    throw vmxError(VHD.BAD_COOKIE, `a ${file.size}-byte file cannot hold the 512-byte VHD footer`, { file: file.path, offset: 0 });
  }
  const tailAt = file.size - FOOTER_SIZE;
  const tail = await file.read(tailAt, FOOTER_SIZE, 'hard disk footer');
  const head = await file.read(0, FOOTER_SIZE, 'footer copy');
  if (!hasFooterCookie(tail) && hasFooterCookie(head)) {
    const copy = parseFooter(head, file.path, 0);
    throw vmxError(VHD.BAD_COOKIE, `the last 512 bytes are not a VHD footer (cookie ${JSON.stringify(tail.toString('latin1', 0, 8))}) although the footer copy at offset 0 describes a ${typeName(copy.diskType)} disk: the file is truncated or its footer overwritten`, { file: file.path, offset: tailAt });
  }
  const footer = parseFooter(tail, file.path, tailAt);
  if (footer.diskType === DISK_TYPE.fixed) return footer;
  if (footer.diskType !== DISK_TYPE.dynamic && footer.diskType !== DISK_TYPE.differencing) {
    throw vmxError(VHD.BAD_DISK_TYPE, `footer Disk Type ${footer.diskType} is none of fixed (2), dynamic (3), differencing (4)`, { file: file.path, offset: tailAt + 60 });
  }
  checkCopy(head, tail, file.path);
  return footer;
}

function checkCopy(head: Buffer, tail: Buffer, file: string): void {
  if (head.equals(tail)) return;
  let i = 0;
  while (head[i] === tail[i]) i++;
  const field = [...FOOTER_FIELDS].reverse().find(([, at]) => at <= i)?.[0] ?? 'reserved';
  throw vmxError(VHD.FOOTER_COPY_MISMATCH, `the footer copy at offset 0 differs from the footer at the end of the file in field ${field} (byte ${i}); a dynamic VHD's two footers must be identical`, { file, offset: i });
}

export function typeName(diskType: number): string {
  return Object.entries(DISK_TYPE).find(([, v]) => v === diskType)?.[0] ?? `type-${diskType}`;
}

import { vmxError } from '../../core/errors.js';
import { INCR } from '../error-codes.js';
import { checkChangedExtentList, type ChangedExtentList } from './extent-list.js';

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * VMware's QueryChangedDiskAreas answer (vSphere API, DiskChangeInfo): `startOffset` and `length`
 * of the range queried and `changedArea[]` of `{start, length}` byte ranges. The disk's size is
 * `virtualSize` when given, else the queried range's end (a query from 0 over the whole disk).
 */
export function fromVmwareChangeInfo(x: unknown, where: string, virtualSize?: number): ChangedExtentList {
  const info = x as { startOffset?: unknown; length?: unknown; changedArea?: unknown };
  const bad = (field: string, rule: string) => vmxError(INCR.CHANGED_BLOCKS, `field ${field}: ${rule}`, { file: where });
  if (typeof info !== 'object' || info === null || !Array.isArray(info.changedArea)) throw bad('changedArea', 'must be an array of {start, length} (DiskChangeInfo)');
  const start = info.startOffset ?? 0;
  if (!isCount(start)) throw bad('startOffset', 'must be a non-negative integer');
  if (virtualSize === undefined && !isCount(info.length)) throw bad('length', 'must be a non-negative integer (or give --size)');
  const size = virtualSize ?? start + (info.length as number);
  const extents = info.changedArea.map((a: unknown, i: number) => {
    const { start: s, length: l } = (a ?? {}) as { start?: unknown; length?: unknown };
    if (!isCount(s) || !isCount(l)) throw bad(`changedArea[${i}]`, 'start and length must be non-negative integers');
    return { offset: s, length: l };
  });
  return checkChangedExtentList({ version: 1, virtualSize: size, extents: extents.filter((e) => e.length > 0) }, where);
}

/**
 * `qemu-img map --output=json` of an overlay: the entries whose data the top layer holds (depth 0,
 * data true) are what was written since the overlay was made; the last entry's end is the disk size.
 */
export function fromQemuMap(x: unknown, where: string): ChangedExtentList {
  const bad = (field: string, rule: string) => vmxError(INCR.CHANGED_BLOCKS, `field ${field}: ${rule}`, { file: where });
  if (!Array.isArray(x)) throw bad('(top level)', 'must be the array qemu-img map --output=json prints');
  let size = 0;
  const extents: Array<{ offset: number; length: number }> = [];
  x.forEach((e: unknown, i) => {
    const m = (e ?? {}) as { start?: unknown; length?: unknown; depth?: unknown; data?: unknown };
    if (!isCount(m.start) || !isCount(m.length)) throw bad(`[${i}]`, 'start and length must be non-negative integers');
    if (m.start !== size) throw bad(`[${i}].start`, `must be ${size}, where the previous entry ended`);
    size = m.start + m.length;
    if (m.depth === 0 && m.data === true && m.length > 0) extents.push({ offset: m.start, length: m.length });
  });
  return checkChangedExtentList({ version: 1, virtualSize: size, extents }, where);
}

import { readFile, stat } from 'node:fs/promises';
import { vmxError } from '../../core/errors.js';
import { MiB } from '../../core/units.js';
import { fsError } from '../../io/random-access-file.js';
import { INCR } from '../error-codes.js';

/**
 * The `--changed-blocks` file (docs/warm-migration.md, "Changed-block inputs"):
 * `{"version":1,"virtualSize":N,"extents":[{"offset":O,"length":L},...]}`, byte offsets into the
 * virtual disk of every range written since the pass whose manifest the next upload starts from.
 */
export interface ChangedExtentList {
  version: 1;
  virtualSize: number;
  /** Sorted by offset, non-overlapping, non-adjacent (normalized on read). */
  extents: Array<{ offset: number; length: number }>;
}

/** 1,000,000 extents of ~40 bytes of JSON; a larger file is not a change list. */
const MAX_LIST_BYTES = 64 * MiB;

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Reads and checks a change list; `where` names it in errors. */
export async function readChangedExtentList(path: string): Promise<ChangedExtentList> {
  const st = await stat(path).catch((err) => {
    throw fsError(err, path);
  });
  if (st.size > MAX_LIST_BYTES) throw vmxError(INCR.CHANGED_BLOCKS, `the list has ${st.size} bytes, more than the ${MAX_LIST_BYTES} a change list may have`, { file: path });
  const text = await readFile(path, 'utf8').catch((err) => {
    throw fsError(err, path);
  });
  return parseJson(text, path, checkChangedExtentList);
}

export function parseJson<T>(text: string, where: string, check: (x: unknown, where: string) => T): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw vmxError(INCR.CHANGED_BLOCKS, `not JSON: ${(err as Error).message}`, { file: where });
  }
  return check(parsed, where);
}

/** Every field checked; extents sorted and merged, each inside [0, virtualSize). */
export function checkChangedExtentList(x: unknown, where: string): ChangedExtentList {
  const m = x as Partial<ChangedExtentList>;
  const bad = (field: string, rule: string) => vmxError(INCR.CHANGED_BLOCKS, `field ${field}: ${rule}`, { file: where });
  if (typeof m !== 'object' || m === null || m.version !== 1) throw bad('version', 'must be 1');
  if (!isCount(m.virtualSize)) throw bad('virtualSize', 'must be a non-negative integer (bytes)');
  if (!Array.isArray(m.extents)) throw bad('extents', 'must be an array of {offset, length}');
  const size = m.virtualSize;
  const extents = m.extents.map((e: unknown, i) => {
    const { offset, length } = (e ?? {}) as { offset?: unknown; length?: unknown };
    if (!isCount(offset)) throw bad(`extents[${i}].offset`, 'must be a non-negative integer');
    if (!isCount(length) || length === 0) throw bad(`extents[${i}].length`, 'must be a positive integer');
    if (offset + length > size) throw bad(`extents[${i}]`, `[${offset}, ${offset + length}) extends past virtualSize ${size}`);
    return { offset, length };
  });
  return { version: 1, virtualSize: size, extents: normalizeExtents(extents) };
}

/** Sorted by offset, overlapping and touching extents merged. */
export function normalizeExtents(extents: Array<{ offset: number; length: number }>): Array<{ offset: number; length: number }> {
  const sorted = [...extents].sort((a, b) => a.offset - b.offset);
  const out: Array<{ offset: number; length: number }> = [];
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last && e.offset <= last.offset + last.length) last.length = Math.max(last.length, e.offset + e.length - last.offset);
    else out.push({ ...e });
  }
  return out;
}

/** The 1-based numbers of the parts of `partSize` that an extent touches: the only parts read. */
export function changedParts(list: ChangedExtentList, partSize: number): Set<number> {
  const parts = new Set<number>();
  for (const e of list.extents) {
    const first = Math.floor(e.offset / partSize);
    const last = Math.floor((e.offset + e.length - 1) / partSize);
    for (let p = first; p <= last; p++) parts.add(p + 1);
  }
  return parts;
}

import { vmxError } from '../../core/errors.js';
import { VHDX } from './error-codes.js';
import { readGuid, VHDX_PARENT_LOCATOR_TYPE } from './guid.js';

/**
 * [MS-VHDX] §2.6.2.6 Parent Locator: LocatorType GUID, Reserved (2), KeyValueCount (2), then 12-byte
 * entries (KeyOffset 4, ValueOffset 4, KeyLength 2, ValueLength 2) whose offsets are relative to the
 * item's start and whose strings are UTF-16LE. §2.6.2.6.1 defines the VHDX locator's keys:
 * parent_linkage (required), parent_linkage2, relative_path, volume_path, absolute_win32_path.
 */
export type ParentLocator = ReadonlyMap<string, string>;

const ENTRY_SIZE = 12;

export function parseParentLocator(item: Buffer, path: string, itemOffset: number): ParentLocator {
  const fail = (rule: string, at = 0) => vmxError(VHDX.BAD_PARENT_LOCATOR, `parent locator ${rule} (MS-VHDX §2.6.2.6)`, { file: path, offset: itemOffset + at });
  if (item.length < 20) throw fail(`is ${item.length} bytes, shorter than its 20-byte header`);
  const type = readGuid(item, 0);
  if (type !== VHDX_PARENT_LOCATOR_TYPE) throw fail(`has LocatorType ${type}, not the VHDX type ${VHDX_PARENT_LOCATOR_TYPE}`);
  const count = item.readUInt16LE(18);
  if (20 + count * ENTRY_SIZE > item.length) throw fail(`KeyValueCount ${count} does not fit in the item`, 18);
  const out = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const at = 20 + i * ENTRY_SIZE;
    const key = utf16(item, item.readUInt32LE(at), item.readUInt16LE(at + 8), () => fail(`entry ${i} key lies outside the item`, at));
    const value = utf16(item, item.readUInt32LE(at + 4), item.readUInt16LE(at + 10), () => fail(`entry ${i} value lies outside the item`, at));
    if (out.has(key)) throw fail(`repeats key "${key}"`, at);
    out.set(key, value);
  }
  if (!out.has('parent_linkage')) throw fail('lacks the required parent_linkage key');
  return out;
}

function utf16(item: Buffer, offset: number, length: number, fail: () => Error): string {
  if (length === 0 || length % 2 !== 0 || offset + length > item.length) throw fail();
  return item.toString('utf16le', offset, offset + length);
}

/** GUID text as parent_linkage stores it ("{...}"), normalised for comparison. */
export function normaliseGuidText(s: string): string {
  return s.replace(/[{}]/g, '').trim().toUpperCase();
}

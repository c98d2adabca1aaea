import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';
import { parseDecimal } from './tar-numbers.js';

/** Pax extended header bodies are read into memory: bounded so a hostile size cannot exhaust it. */
export const MAX_PAX_BYTES = 1024 * 1024;

/**
 * Parses pax extended header records (IEEE Std 1003.1-2017, pax, "pax Extended Header"): each
 * record is "LENGTH KEY=VALUE\n", LENGTH in decimal counting the whole record including itself.
 */
export function parsePaxRecords(body: Buffer, where: { file: string; offset: number }): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    const length = space === -1 ? undefined : parseDecimal(body.toString('latin1', pos, space));
    if (length === undefined || length <= space - pos + 1 || pos + length > body.length) {
      throw vmxError(OVA.TAR_BAD_PAX, `pax record at byte ${pos} of the extended header has no valid length`, where);
    }
    const record = body.subarray(space + 1, pos + length);
    if (record[record.length - 1] !== 0x0a) throw vmxError(OVA.TAR_BAD_PAX, `pax record at byte ${pos} does not end with a newline`, where);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw vmxError(OVA.TAR_BAD_PAX, `pax record at byte ${pos} has no KEY=VALUE`, where);
    records.set(record.toString('utf8', 0, eq), record.toString('utf8', eq + 1, record.length - 1));
    pos += length;
  }
  return records;
}

/** The pax "size" keyword overrides the header's size field (how members over 8 GiB are stored). */
export function paxSize(records: Map<string, string>, where: { file: string; offset: number }): number | undefined {
  const text = records.get('size');
  if (text === undefined) return undefined;
  const size = parseDecimal(text);
  if (size === undefined) throw vmxError(OVA.TAR_BAD_PAX, `pax size "${text.slice(0, 40)}" is not a decimal number below 2^53`, where);
  return size;
}

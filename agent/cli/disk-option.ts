import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';

/** `--disk N`: a 1-based disk number of a multi-disk package (OVA, OVF). */
export function parseDiskOption(value: string | undefined, usage: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,5}$/.test(value)) throw vmxError(CORE.USAGE, `--disk "${value}" is not a disk number (1, 2, ...)\n\n${usage}`);
  return Number(value);
}

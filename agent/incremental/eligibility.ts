import { vmxError } from '../core/errors.js';
import { detectFormat } from '../formats/detect.js';
import { INCR } from './error-codes.js';

/** Outputs whose byte at offset N is the disk's byte at offset N (plus a trailing footer for vhd-fixed). */
export const OFFSET_FIXED_OUTPUTS = ['raw', 'vhd-fixed'] as const;

const QUALIFYING = 'raw, vhd-fixed, or original of a raw/flat file';

/**
 * Refuses an output whose layout moves with the content: there an unchanged disk block can land in a
 * different part on the next pass, so comparing parts would copy nothing and could not be trusted.
 */
export async function checkIncrementalLayout(source: string, as: string, from: string | undefined): Promise<void> {
  if ((OFFSET_FIXED_OUTPUTS as readonly string[]).includes(as)) return;
  if (as === 'original') {
    const format = from ?? (await detectFormat(source)).name;
    if (format === 'raw') return;
    throw vmxError(INCR.LAYOUT, `--incremental with --to original uploads the file's own bytes, and a ${format} file's layout moves with its content; use --to raw or --to vhd-fixed (qualifying outputs: ${QUALIFYING})`, { file: source });
  }
  throw vmxError(INCR.LAYOUT, `--incremental cannot upload as ${as}: its layout moves with the content, so unchanged blocks do not stay in the same parts; qualifying outputs: ${QUALIFYING}`, { file: source });
}

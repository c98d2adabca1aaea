import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses durations such as `90s`, `30m`, `24h`, `7d` (a bare number is seconds) into milliseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(text);
  if (!m) throw vmxError(CORE.USAGE, `${what} "${text}" is not a duration (examples: 90s, 30m, 24h, 7d)`);
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] || 's').toLowerCase()]!);
}

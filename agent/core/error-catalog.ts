import type { ErrorCodeDef } from './errors.js';
import { CORE } from './error-codes.js';
import { VMDKW } from '../formats/vmdk/writer-error-codes.js';

/**
 * Every error code family. A family is registered here once; `vmxfer errors` prints the table and
 * test/core/error-catalog.test.ts keeps docs/errors.md identical to it.
 */
const FAMILIES: ReadonlyArray<Record<string, ErrorCodeDef>> = [
  CORE,
  VMDKW,
];

export function allErrorCodes(): ErrorCodeDef[] {
  const all = FAMILIES.flatMap((f) => Object.values(f));
  return all.sort((a, b) => a.code.localeCompare(b.code));
}

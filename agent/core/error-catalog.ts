import type { ErrorCodeDef } from './errors.js';
import { CORE } from './error-codes.js';
import { CONFIG } from '../config/error-codes.js';
import { TRANSFER } from '../transfer/error-codes.js';
import { HASH } from '../hashing/error-codes.js';
import { CLOUD } from '../cloud/error-codes.js';

/**
 * Every error code family. A family is registered here once; `vmxfer errors` prints the table and
 * test/core/error-catalog.test.ts keeps docs/errors.md identical to it.
 */
const FAMILIES: ReadonlyArray<Record<string, ErrorCodeDef>> = [
  CORE,
  CONFIG,
  TRANSFER,
  HASH,
  CLOUD,
];

export function allErrorCodes(): ErrorCodeDef[] {
  const all = FAMILIES.flatMap((f) => Object.values(f));
  return all.sort((a, b) => a.code.localeCompare(b.code));
}

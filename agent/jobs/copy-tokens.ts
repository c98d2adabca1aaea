import { randomUUID } from 'node:crypto';
import type { ImportOptions } from '../cloud/upload-import/import-options.js';

/**
 * One ClientToken per copy destination, fixed when the job is submitted and persisted with it: a
 * CopyImage retried or repeated after a restart returns the same copy (EC2 and ECS idempotency).
 */
export function withCopyTokens(o: ImportOptions): ImportOptions {
  return o.copy ? { ...o, copy: o.copy.map((c) => ({ ...c, clientToken: c.clientToken ?? randomUUID() })) } : o;
}

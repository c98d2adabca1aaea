import type { Readable } from 'node:stream';
import { vmxError, type ErrorCodeDef } from '../../core/errors.js';

/** Reads a small member (descriptor, manifest) whole, refusing it past `limit` before reading. */
export async function readSmallMember(body: Readable, size: number, limit: number, code: ErrorCodeDef, where: { file: string; offset: number }, what: string): Promise<Buffer> {
  if (size > limit) {
    body.destroy();
    throw vmxError(code, `${what} is ${size} bytes, over the ${limit}-byte limit`, where);
  }
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

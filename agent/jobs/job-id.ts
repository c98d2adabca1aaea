import { randomBytes } from 'node:crypto';

/**
 * A UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, version 7, 12 random bits, variant 10, 62 random
 * bits. 128 bits in all, sortable by creation time as text.
 */
export function newJobId(nowMs = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Ids before UUIDv7 (`j-YYYYMMDD-xxxxxx`): records that carry them still load. */
const LEGACY = /^j-\d{8}-[0-9a-f]{6}$/;

export function isJobId(s: string): boolean {
  return UUID_V7.test(s) || LEGACY.test(s);
}

/** The creation time a UUIDv7 carries in its first 48 bits (RFC 9562 §5.7). */
export function jobIdTime(id: string): number | undefined {
  return UUID_V7.test(id) ? parseInt(id.slice(0, 8) + id.slice(9, 13), 16) : undefined;
}

import { randomBytes } from 'node:crypto';

/** `j-YYYYMMDD-xxxxxx` (docs/api.md): sortable by day, 24 random bits against collisions within it. */
export function newJobId(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  return `j-${day}-${randomBytes(3).toString('hex')}`;
}

export function isJobId(s: string): boolean {
  return /^j-\d{8}-[0-9a-f]{6}$/.test(s);
}

import { randomBytes, randomInt } from 'node:crypto';
import { open } from 'node:fs/promises';

/** A sparse raw disk of `size` bytes with `extents` random extents of `extentBytes` at random aligned offsets. */
export async function writeSparseDisk(path: string, size: number, extents: number, extentBytes: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.truncate(size);
    for (let i = 0; i < extents; i++) await fh.write(randomBytes(extentBytes), 0, extentBytes, randomInt(0, size / extentBytes) * extentBytes);
  } finally {
    await fh.close();
  }
}

/**
 * Overwrites `count` distinct random blocks of `blockBytes` with new random bytes, as a running VM
 * would between two passes; returns the changed offsets.
 */
export async function changeBlocks(path: string, size: number, count: number, blockBytes: number): Promise<number[]> {
  const blocks = new Set<number>();
  while (blocks.size < count) blocks.add(randomInt(0, size / blockBytes));
  const fh = await open(path, 'r+');
  try {
    for (const b of blocks) await fh.write(randomBytes(blockBytes), 0, blockBytes, b * blockBytes);
  } finally {
    await fh.close();
  }
  return [...blocks].map((b) => b * blockBytes).sort((a, b) => a - b);
}

/** The part numbers (1-based) the changed blocks fall in. */
export function touchedParts(offsets: number[], blockBytes: number, partSize: number): Set<number> {
  const parts = new Set<number>();
  for (const o of offsets) for (let at = o; at < o + blockBytes; at += Math.min(blockBytes, partSize)) parts.add(Math.floor(at / partSize) + 1);
  return parts;
}


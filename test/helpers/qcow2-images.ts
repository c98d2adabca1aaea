import { open } from 'node:fs/promises';
import { run } from './run-command.js';
import { qemuImg } from './qemu.js';
import type { DiskSource, ExtentReadOptions } from '../../agent/disk/disk-source.js';

/** `qemu-io -f FORMAT -c CMD ... IMAGE`: qemu's own writes, zero-writes and discards. */
export async function qemuIo(image: string, commands: string[], format = 'qcow2'): Promise<void> {
  await run('qemu-io', ['-f', format, ...commands.flatMap((c) => ['-c', c]), image]);
}

export async function qemuCreate(image: string, args: string[], size?: number): Promise<string> {
  await qemuImg(['create', '-q', '-f', 'qcow2', ...args, image, ...(size === undefined ? [] : [String(size)])]);
  return image;
}

/** The facts of a qcow2 header a test needs to find tables, read independently of the reader under test. */
export interface RawQcow2Layout {
  clusterSize: number;
  l1Offset: number;
  l1Size: number;
  refcountTableOffset: number;
  fileSize: number;
}

export async function readLayout(path: string): Promise<RawQcow2Layout> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(72);
    await fh.read(b, 0, 72, 0);
    return {
      clusterSize: 2 ** b.readUInt32BE(20),
      l1Size: b.readUInt32BE(36),
      l1Offset: Number(b.readBigUInt64BE(40)),
      refcountTableOffset: Number(b.readBigUInt64BE(48)),
      fileSize: (await fh.stat()).size,
    };
  } finally {
    await fh.close();
  }
}

export async function readU64(path: string, at: number): Promise<bigint> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(8);
    await fh.read(b, 0, 8, at);
    return b.readBigUInt64BE(0);
  } finally {
    await fh.close();
  }
}

export async function writeBytes(path: string, at: number, bytes: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(bytes, 0, bytes.length, at);
  } finally {
    await fh.close();
  }
}

export function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

/** File offset of the L2 table L1 entry `index` points to (bits 9-55). */
export async function l2TableOffset(path: string, index = 0): Promise<number> {
  const l = await readLayout(path);
  return Number((await readU64(path, l.l1Offset + index * 8)) & 0x00fffffffffffe00n);
}

/** The same disk with every data extent cut to at most `max` bytes. */
export function withMaxDataLength(disk: DiskSource, max: number): DiskSource {
  return {
    virtualSize: disk.virtualSize,
    info: disk.info,
    extents: (opts: ExtentReadOptions = {}) => disk.extents({ ...opts, maxDataLength: max }),
    close: () => disk.close(),
  };
}

/** qcow2.txt §Header extensions: renames extension `type` to an unknown type, which readers must skip. */
export async function hideHeaderExtension(path: string, type: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const head = Buffer.alloc(4096);
    await fh.read(head, 0, head.length, 0);
    for (let pos = head.readUInt32BE(100); pos + 8 <= head.length; ) {
      const t = head.readUInt32BE(pos);
      if (t === 0) break;
      if (t === type) {
        await fh.write(u32(0x7a7a7a7a), 0, 4, pos);
        return;
      }
      pos += 8 + Math.ceil(head.readUInt32BE(pos + 4) / 8) * 8;
    }
    throw new Error(`no header extension 0x${type.toString(16)} in ${path}`);
  } finally {
    await fh.close();
  }
}

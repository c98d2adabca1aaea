import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../tmp.js';

/**
 * CRC-64/XZ of some bytes as computed by liblzma: `xz --check=crc64` stores the CRC-64 of the
 * uncompressed data in each block, and `xz --robot -lvv` prints it (xz file format 1.0.4 §3.4
 * "Check"). One block (-T1), so the block check is the CRC of everything. An oracle independent of
 * both the OSS protocol fake and the product.
 */
export async function xzCrc64(data: Buffer): Promise<bigint> {
  const compressed = await pipeThrough('xz', ['--format=xz', '--check=crc64', '-0', '-T1', '--stdout'], data);
  // xz --list reads files only, not standard input.
  const { dir, cleanup } = await tempDir('vmxfer-xz-crc-');
  let listing: string;
  try {
    const file = join(dir, 'data.xz');
    await writeFile(file, compressed);
    listing = (await pipeThrough('xz', ['--robot', '-lvv', file], Buffer.alloc(0))).toString('utf8');
  } finally {
    await cleanup();
  }
  const block = listing.split('\n').find((l) => l.startsWith('block\t'));
  const hex = block?.split('\t').find((f) => /^[0-9a-f]{16}$/.test(f));
  if (!hex) throw new Error(`xz printed no CRC64 check value:\n${listing}`);
  return BigInt(`0x${hex}`);
}

function pipeThrough(cmd: string, args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
    // A reader that exits without reading (xz --list) must not turn into an EPIPE crash.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/**
 * Hashing throughput on this machine: `npx tsc -p . && node dist/bench/hashing.js [repetitions]`.
 * Every implementation hashes the same 4 MiB random buffer once per round; rounds interleave the
 * implementations so that noise from other tenants hits all of them alike; the table shows medians.
 * Prints a Markdown table (bench/README.md "## Hashing" records one run).
 */
import { createHash, randomBytes } from 'node:crypto';
import { crc32c as nodeRsCrc32c } from '@node-rs/crc32';
import { Crc64NvmeJs } from '@aws-sdk/checksums/crc';
import { createCRC32, createCRC64, createMD5, createSHA1, createSHA256, createXXHash3, createXXHash64, type IHasher } from 'hash-wasm';
import { CRC64_PARAMS, type Crc64Variant } from '../agent/hashing/crc64-params.js';
import { crc64Js } from '../agent/hashing/crc64-js.js';
import { crc64Windowed, loadCrc64Kernel, type Crc64Kernel } from '../agent/hashing/crc64-wasm.js';

const BUFFER_BYTES = 4 * 1024 * 1024;

interface Candidate {
  readonly algorithm: string;
  readonly implementation: string;
  readonly run: (data: Buffer) => unknown;
}

function hashWasm(h: IHasher): (data: Buffer) => unknown {
  return (data) => {
    h.init();
    h.update(data);
    return h.digest('binary');
  };
}

const nodeCrypto = (alg: string) => (data: Buffer) => createHash(alg).update(data).digest();

/** The kernel over data already in its window: what the copy-in costs is the difference. */
function kernelOnly(kernel: Crc64Kernel, variant: number): (data: Buffer) => unknown {
  return (data) => {
    let crc = 0n;
    for (let off = 0; off < data.length; off += kernel.window.length) crc = kernel.update(variant, crc, Math.min(kernel.window.length, data.length - off));
    return crc;
  };
}

function copyOnly(kernel: Crc64Kernel): (data: Buffer) => unknown {
  return (data) => {
    for (let off = 0; off < data.length; off += kernel.window.length) kernel.window.set(data.subarray(off, off + kernel.window.length));
    return kernel.window[0];
  };
}

async function crc64Candidates(variant: Crc64Variant, slice16: Crc64Kernel, slice8: Crc64Kernel): Promise<Candidate[]> {
  const index = CRC64_PARAMS[variant].kernelIndex;
  const algorithm = `crc64 ${variant}`;
  const list: Candidate[] = [
    { algorithm, implementation: 'vmxfer wasm slicing-by-16 (incl. copy)', run: (d) => crc64Windowed(slice16, index, 0n, d) },
    { algorithm, implementation: 'vmxfer wasm slicing-by-8 (incl. copy)', run: (d) => crc64Windowed(slice8, index, 0n, d) },
    { algorithm, implementation: 'vmxfer wasm slicing-by-16, kernel only', run: kernelOnly(slice16, index) },
    { algorithm, implementation: 'pure JS slicing-by-8 (crc64-js.ts)', run: (d) => crc64Js(variant, d) },
    { algorithm, implementation: 'hash-wasm crc64', run: hashWasm(await createCRC64(CRC64_PARAMS[variant].reflectedPolynomial.toString(16))) },
  ];
  if (variant === 'nvme') {
    const aws = new Crc64NvmeJs();
    list.push({ algorithm, implementation: 'AWS SDK Crc64NvmeJs (pure JS)', run: (d) => (aws.reset(), aws.update(d)) });
  }
  return list;
}

async function candidates(): Promise<Candidate[]> {
  const slice16 = loadCrc64Kernel('slice16');
  const slice8 = loadCrc64Kernel('slice8');
  return [
    { algorithm: 'sha256', implementation: 'node:crypto', run: nodeCrypto('sha256') },
    { algorithm: 'sha256', implementation: 'hash-wasm', run: hashWasm(await createSHA256()) },
    { algorithm: 'sha1', implementation: 'node:crypto', run: nodeCrypto('sha1') },
    { algorithm: 'sha1', implementation: 'hash-wasm', run: hashWasm(await createSHA1()) },
    { algorithm: 'md5', implementation: 'node:crypto', run: nodeCrypto('md5') },
    { algorithm: 'md5', implementation: 'hash-wasm', run: hashWasm(await createMD5()) },
    { algorithm: 'xxhash64', implementation: 'hash-wasm', run: hashWasm(await createXXHash64()) },
    { algorithm: 'xxh3', implementation: 'hash-wasm', run: hashWasm(await createXXHash3()) },
    { algorithm: 'crc32c', implementation: '@node-rs/crc32', run: (d) => nodeRsCrc32c(d) },
    { algorithm: 'crc32c', implementation: 'hash-wasm', run: hashWasm(await createCRC32(0x82f63b78)) },
    ...(await crc64Candidates('xz', slice16, slice8)),
    ...(await crc64Candidates('nvme', slice16, slice8)),
    { algorithm: 'copy into wasm window', implementation: '1 MiB Uint8Array.set x4', run: copyOnly(slice16) },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const repetitions = Number(process.argv[2] ?? 21);
  const data = randomBytes(BUFFER_BYTES);
  const list = await candidates();
  const seconds = list.map(() => [] as number[]);
  const cpuSeconds = list.map(() => [] as number[]);
  for (const c of list) c.run(data); // warm-up: JIT and wasm tier-up
  for (let round = 0; round < repetitions; round++) {
    list.forEach((c, i) => {
      const cpuStart = process.cpuUsage();
      const start = process.hrtime.bigint();
      c.run(data);
      seconds[i]!.push(Number(process.hrtime.bigint() - start) / 1e9);
      const cpu = process.cpuUsage(cpuStart);
      cpuSeconds[i]!.push(Math.max(1e-6, (cpu.user + cpu.system) / 1e6));
    });
  }
  console.log(`${repetitions} rounds of a ${BUFFER_BYTES / 1048576} MiB buffer, medians; node ${process.version}\n`);
  // Wall time suffers when other tenants take the CPU; CPU time (user+sys of this process) less so.
  console.log('| algorithm | implementation | GB/s wall (median) | GB per CPU-second (median) | ms per 4 MiB (median) |');
  console.log('|---|---|---:|---:|---:|');
  list.forEach((c, i) => {
    const s = median(seconds[i]!);
    const cpu = median(cpuSeconds[i]!);
    console.log(`| ${c.algorithm} | ${c.implementation} | ${(BUFFER_BYTES / s / 1e9).toFixed(2)} | ${(BUFFER_BYTES / cpu / 1e9).toFixed(2)} | ${(s * 1e3).toFixed(2)} |`);
  });
}

await main();

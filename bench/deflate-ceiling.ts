/**
 * The machine's compression ceiling, measured in the same run as the tools: single-thread zlib
 * level-1 throughput on the source's own non-zero grains, times the cores actually available
 * (measured: N threads deflating the same sample, throughput relative to one thread). On a box
 * whose two vCPUs often deliver about one core, the second factor is what makes the ceiling honest.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';

const GRAIN = 65536;

export interface Ceiling {
  singleThreadMBps: number;
  threads: number;
  effectiveCores: number;
  ceilingMBps: number;
}

/** Up to `limit` bytes of non-zero 64 KiB grains of a raw file, as one buffer. */
export function sampleGrains(path: string, limit: number): Buffer {
  const fd = openSync(path, 'r');
  const out = Buffer.allocUnsafe(limit);
  const zero = Buffer.alloc(GRAIN);
  let filled = 0;
  try {
    for (let pos = 0; filled < limit; pos += GRAIN) {
      const n = readSync(fd, out, filled, GRAIN, pos);
      if (n < GRAIN) break;
      if (!out.subarray(filled, filled + GRAIN).equals(zero)) filled += GRAIN;
    }
  } finally {
    closeSync(fd);
  }
  return out.subarray(0, filled);
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { deflateSync } = require('node:zlib');
const buf = Buffer.from(workerData.sample);
const t0 = performance.now();
for (let r = 0; r < workerData.rounds; r++)
  for (let o = 0; o < buf.length; o += 65536) deflateSync(buf.subarray(o, o + 65536), { level: 1 });
parentPort.postMessage(performance.now() - t0);
`;

function deflateAll(sample: Buffer): number {
  const t0 = performance.now();
  for (let o = 0; o < sample.length; o += GRAIN) deflateSync(sample.subarray(o, o + GRAIN), { level: 1 });
  return performance.now() - t0;
}

async function parallelMs(sample: Buffer, threads: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
      const w = new Worker(WORKER, { eval: true, workerData: { sample, rounds: 1 } });
      w.once('message', resolve);
      w.once('error', reject);
    })),
  );
  return performance.now() - t0;
}

export async function measureCeiling(sample: Buffer): Promise<Ceiling> {
  deflateAll(sample.subarray(0, Math.min(sample.length, 4 * GRAIN))); // warm-up
  const oneMs = deflateAll(sample);
  const threads = availableParallelism();
  const allMs = await parallelMs(sample, threads);
  const singleThreadMBps = sample.length / 1e6 / (oneMs / 1000);
  const effectiveCores = Math.max(1, Math.min(threads, (threads * oneMs) / allMs));
  return { singleThreadMBps, threads, effectiveCores, ceilingMBps: singleThreadMBps * effectiveCores };
}

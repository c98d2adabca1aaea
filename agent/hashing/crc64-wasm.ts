import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { vmxError } from '../core/errors.js';
import { HASH } from './error-codes.js';

/**
 * The CRC-64 WebAssembly kernel (native-wasm/crc64.c, slicing-by-16), loaded synchronously from the
 * package once per thread. Why this one (bench/README.md "## Hashing", per CPU-second on this box;
 * nothing here computes CRC-64 natively): 1.13 GB per CPU-s (0.88 CPU-s per GB) copy into the window
 * included, against slicing-by-8 0.99, hash-wasm's crc64 0.97, pure JS tables 0.32 and the AWS SDK's
 * JS CRC-64/NVME 0.21; MD5 (node:crypto), the part checksum it replaces, does 0.48 (2.1 CPU-s per GB).
 * WebAssembly has no carry-less multiply, so PCLMUL folding is out of reach.
 * The module owns a fixed 1 MiB input window; callers copy data in window by window, so the
 * kernel's memory stays constant whatever the buffer sizes are.
 */
export interface Crc64Kernel {
  /** Continues finished CRC `crc` over window[0, length) for kernel variant index `variant`. */
  update(variant: number, crc: bigint, length: number): bigint;
  /** A view of the input window inside the module's memory. */
  readonly window: Uint8Array;
}

export const KERNEL_FILES = { slice8: 'crc64-slice8.wasm', slice16: 'crc64-slice16.wasm' } as const;
export type KernelName = keyof typeof KERNEL_FILES;
export const DEFAULT_KERNEL: KernelName = 'slice16';

/** dist/agent/hashing/ → repository (package) root → native-wasm/. */
export function kernelPath(name: KernelName): string {
  return fileURLToPath(new URL(`../../../native-wasm/${KERNEL_FILES[name]}`, import.meta.url));
}

interface KernelExports {
  memory: WebAssembly.Memory;
  crc64_init: () => void;
  crc64_window: () => number;
  crc64_window_bytes: () => number;
  crc64_update: (variant: number, crc: bigint, length: number) => bigint;
}

export function loadCrc64Kernel(name: KernelName): Crc64Kernel {
  const file = kernelPath(name);
  let exports: Record<string, unknown>;
  try {
    exports = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {}).exports;
  } catch (cause) {
    throw vmxError(HASH.KERNEL_LOAD, `the CRC-64 kernel could not be compiled or instantiated: ${String(cause)}`, { file, cause });
  }
  const k = checkExports(exports, file);
  k.crc64_init();
  const window = new Uint8Array(k.memory.buffer, k.crc64_window(), k.crc64_window_bytes());
  const update = k.crc64_update;
  return { window, update: (variant, crc, length) => BigInt.asUintN(64, update(variant, crc, length)) };
}

function checkExports(e: Record<string, unknown>, file: string): KernelExports {
  const functions = ['crc64_init', 'crc64_window', 'crc64_window_bytes', 'crc64_update'];
  const missing = functions.filter((f) => typeof e[f] !== 'function');
  if (!(e.memory instanceof WebAssembly.Memory)) missing.push('memory');
  if (missing.length > 0) throw vmxError(HASH.KERNEL_LOAD, `the CRC-64 kernel lacks the exports ${missing.join(', ')}`, { file });
  return e as unknown as KernelExports;
}

let shared: Crc64Kernel | undefined;

/** The default kernel, loaded on first use. */
export function crc64Kernel(): Crc64Kernel {
  shared ??= loadCrc64Kernel(DEFAULT_KERNEL);
  return shared;
}

/** Runs `kernel` over all of `data`, one window-sized copy at a time; returns the continued CRC. */
export function crc64Windowed(kernel: Crc64Kernel, variant: number, crc: bigint, data: Uint8Array): bigint {
  const size = kernel.window.length;
  for (let off = 0; off < data.length; off += size) {
    const piece = data.subarray(off, Math.min(off + size, data.length));
    kernel.window.set(piece);
    crc = kernel.update(variant, crc, piece.length);
  }
  return crc;
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { vmxError } from '../core/errors.js';
import { DEFLATE } from './error-codes.js';

/**
 * libdeflate 1.14's compressor in WebAssembly (native-wasm/deflate.c, built by
 * scripts/build-wasm-deflate.sh), one instance per thread. The module is the same file on every
 * machine and runs no code that depends on the CPU, so its output for an input and level is the
 * same everywhere, unlike a native library whose version and build vary by system.
 *
 * Cost (bench/README.md, "Compression in WebAssembly", 2026-12-07, bench disk grains, CPU-seconds per GB
 * of input, wasm / native addon / node:zlib): level 1 7.16 / 5.66 / 9.80; level 2 (VMDK default)
 * 9.96 / 7.47 / 10.94; level 4 12.63 / 10.08 / 14.51; level 6 16.99 / 14.56 / 21.86. Whole 4 GiB bench
 * disk to VMDK: 7.13 / 5.54 / 7.89 CPU-s, 206,932,992 bytes from wasm and native alike.
 *
 * Memory: one WebAssembly.Memory of WASM_DEFLATE_MEMORY_BYTES per thread, fixed at creation (its
 * maximum is its initial size): the module's stack and tables, an input window of
 * WASM_DEFLATE_MAX_INPUT bytes, an output window of the worst-case stream of that input, and one
 * libdeflate compressor (the one of the level last used; 0.3-0.6 MiB at levels 1-9).
 */
export interface WasmDeflate {
  /**
   * The zlib (RFC 1950) or raw deflate (RFC 1951) stream of `input` written at the start of
   * `output`; its length, or 0 when it is longer than `output` (the caller then stores the data).
   */
  compress(format: 'zlib' | 'raw', input: Uint8Array, output: Uint8Array, level: number): number;
}

/** The largest input one call takes: a qcow2 cluster of qemu's maximum size (2 MiB) or any VMDK grain. */
export const WASM_DEFLATE_MAX_INPUT = 2 * 1024 * 1024;
/**
 * Stack and data (~0.1 MiB), the two windows (~4.1 MiB) and a level 1-9 compressor (<= 0.6 MiB):
 * level 9 measured to fit in 4.75 MiB; rounded up to whole MiB with room to spare.
 */
export const WASM_DEFLATE_MEMORY_BYTES = 6 * 1024 * 1024;
/**
 * The writers' levels. libdeflate's 10-12 (near-optimal parsing) need an 8 MiB compressor (12.75 MiB
 * of memory measured) for ~1% smaller output at a fifth of the speed; the fixed memory leaves them out.
 */
export const WASM_DEFLATE_MAX_LEVEL = 9;
/** The libdeflate version of native-wasm/libdeflate (Debian source package libdeflate 1.14-1). */
export const WASM_LIBDEFLATE_VERSION = '1.14';

const PAGE = 65536;

/** dist/agent/compression/ → repository (package) root → native-wasm/. */
export const WASM_DEFLATE_PATH = fileURLToPath(new URL('../../../native-wasm/deflate.wasm', import.meta.url));

interface DeflateExports {
  vx_reserve(size: number): number;
  vx_compress(format: number, level: number, input: number, inputLength: number, output: number, outputCapacity: number): number;
  vx_bound(format: number, inputLength: number): number;
}

/**
 * Compiles and instantiates the module synchronously (Node allows it for any size; the file is
 * ~50 KiB and compiles in milliseconds), so that a thread's deflater is ready at import.
 */
export function loadWasmDeflate(file = WASM_DEFLATE_PATH, memoryBytes = WASM_DEFLATE_MEMORY_BYTES): WasmDeflate {
  const pages = Math.ceil(memoryBytes / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  let exports: Record<string, unknown>;
  try {
    exports = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), { env: { memory } }).exports;
  } catch (cause) {
    throw vmxError(DEFLATE.WASM_LOAD, `the deflate WebAssembly module could not be read, compiled or instantiated: ${String(cause)}`, { file, cause });
  }
  const k = checkExports(exports, file);
  const bound = k.vx_bound(1, WASM_DEFLATE_MAX_INPUT);
  const inAt = k.vx_reserve(WASM_DEFLATE_MAX_INPUT);
  const outAt = k.vx_reserve(bound);
  if (inAt === 0 || outAt === 0) throw vmxError(DEFLATE.WASM_MEMORY, `${memoryBytes} bytes of WebAssembly memory cannot hold the deflate windows (${WASM_DEFLATE_MAX_INPUT} + ${bound} bytes)`, { file });
  const heap = new Uint8Array(memory.buffer);
  return {
    compress: (format, input, output, level) => {
      if (!Number.isInteger(level) || level < 1 || level > WASM_DEFLATE_MAX_LEVEL) throw new RangeError(`deflate level ${level} is not an integer from 1 to ${WASM_DEFLATE_MAX_LEVEL}`);
      if (input.length > WASM_DEFLATE_MAX_INPUT) throw new RangeError(`deflate input of ${input.length} bytes exceeds the ${WASM_DEFLATE_MAX_INPUT}-byte window`);
      heap.set(input, inAt);
      // The whole worst-case window, then the length check here: libdeflate refuses a stream that fits
      // but leaves less than a machine word of room, so the answer for a tight `output` would depend
      // on the word size; this way it depends on the stream's length alone.
      const n = k.vx_compress(format === 'zlib' ? 1 : 0, level, inAt, input.length, outAt, bound);
      if (n < 0) throw vmxError(DEFLATE.WASM_MEMORY, `${memoryBytes} bytes of WebAssembly memory cannot hold a level ${level} compressor`, { file });
      if (n === 0 || n > output.length) return 0;
      output.set(heap.subarray(outAt, outAt + n));
      return n;
    },
  };
}

function checkExports(e: Record<string, unknown>, file: string): DeflateExports {
  const missing = ['vx_reserve', 'vx_compress', 'vx_bound'].filter((f) => typeof e[f] !== 'function');
  if (missing.length > 0) throw vmxError(DEFLATE.WASM_LOAD, `the deflate WebAssembly module lacks the exports ${missing.join(', ')}`, { file });
  return e as unknown as DeflateExports;
}

import { vmxError } from '../core/errors.js';
import { DEFLATE } from './error-codes.js';
import { loadLibdeflate, type LibdeflateAddon } from './libdeflate-addon.js';
import { loadWasmDeflate, WASM_DEFLATE_PATH, WASM_LIBDEFLATE_VERSION } from './wasm-deflate.js';

/**
 * libdeflate, run either by the native addon (native/libdeflate, the system library) or by the
 * WebAssembly build shipped in the package (native-wasm/deflate.wasm). The two give the same bytes
 * for the same input and level when the system library is the version the WebAssembly build was
 * made from (test/compression/wasm-deflate.test.ts compares them), so writers record one
 * implementation, "libdeflate 1.14", whichever ran: the output does not depend on whether the
 * addon built. The addon costs 0.75-0.85x the CPU (bench/README.md, "Compression in WebAssembly") and is
 * used where it loads and is that version; elsewhere the WebAssembly build.
 */
export interface LibdeflateEngine {
  readonly kind: 'native' | 'wasm';
  /** libdeflate's version, e.g. "1.14". */
  readonly version: string;
  /**
   * The zlib (RFC 1950) or raw deflate (RFC 1951) stream of `input` at the start of `output`; its
   * length, or 0 when it is longer than `output`. Decided on the stream's length alone: libdeflate
   * itself refuses a stream that leaves less than a machine word of room, which would make the
   * answer for a tight `output` depend on the word size (8 bytes native, 4 in wasm32).
   */
  compress(format: 'zlib' | 'raw', input: Uint8Array, output: Uint8Array, level: number): number;
}

/**
 * VMXFER_DEFLATE: which deflate the writers use.
 *   auto (default)  the addon when it loads and is libdeflate 1.14, else the WebAssembly build;
 *   wasm            the WebAssembly build, even where the addon loads;
 *   native          the addon, whatever libdeflate version it was built against;
 *   node:zlib       Node's zlib (other bytes, slower).
 * A setting that cannot be honoured is an error, never a silent switch to another compressor.
 */
export const DEFLATE_SETTINGS = ['auto', 'wasm', 'native', 'node:zlib'] as const;
export type DeflateSetting = (typeof DEFLATE_SETTINGS)[number];

export function deflateSetting(env: NodeJS.ProcessEnv): DeflateSetting {
  const v = env.VMXFER_DEFLATE === undefined || env.VMXFER_DEFLATE === '' ? 'auto' : env.VMXFER_DEFLATE;
  if (!(DEFLATE_SETTINGS as readonly string[]).includes(v)) {
    throw vmxError(DEFLATE.SETTING, `VMXFER_DEFLATE="${v}" is not one of ${DEFLATE_SETTINGS.join(', ')}`);
  }
  return v as DeflateSetting;
}

export function nativeEngine(addon: LibdeflateAddon): LibdeflateEngine {
  let scratch = new Uint8Array(0);
  return {
    kind: 'native',
    version: addon.version,
    compress: (format, input, output, level) => {
      // zlibCompressBound covers the raw stream too (the zlib wrapper adds 6 bytes to it).
      const bound = addon.zlibCompressBound(input.length);
      if (scratch.length < bound) scratch = new Uint8Array(bound);
      const room = scratch.subarray(0, bound);
      const n = format === 'zlib' ? addon.zlibCompress(input, room, level) : addon.deflateCompress(input, room, level);
      if (n === 0 || n > output.length) return 0;
      output.set(room.subarray(0, n));
      return n;
    },
  };
}

export function wasmEngine(file = WASM_DEFLATE_PATH): LibdeflateEngine {
  const k = loadWasmDeflate(file);
  return { kind: 'wasm', version: WASM_LIBDEFLATE_VERSION, compress: k.compress };
}

/** The engine `setting` (not node:zlib) asks for on this thread, and why the addon is not it. */
export function chooseEngine(setting: Exclude<DeflateSetting, 'node:zlib'>, env: NodeJS.ProcessEnv, wasmFile = WASM_DEFLATE_PATH): { engine: LibdeflateEngine; notNative: string | undefined } {
  if (setting === 'wasm') return { engine: wasmEngine(wasmFile), notNative: 'VMXFER_DEFLATE=wasm' };
  const load = loadLibdeflate(env);
  if (setting === 'native') {
    if (!('addon' in load)) throw vmxError(DEFLATE.NATIVE_MISSING, `VMXFER_DEFLATE=native, but the libdeflate addon did not load: ${load.reason}`);
    return { engine: nativeEngine(load.addon), notNative: undefined };
  }
  if (!('addon' in load)) return { engine: wasmEngine(wasmFile), notNative: load.reason };
  if (load.addon.version !== WASM_LIBDEFLATE_VERSION) {
    return { engine: wasmEngine(wasmFile), notNative: `the addon is libdeflate ${load.addon.version}, whose bytes may differ from ${WASM_LIBDEFLATE_VERSION}'s` };
  }
  return { engine: nativeEngine(load.addon), notNative: undefined };
}

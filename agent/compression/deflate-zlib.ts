import { deflateSync } from 'node:zlib';
import { chooseEngine, deflateSetting, type LibdeflateEngine } from './libdeflate-engine.js';
import { WASM_DEFLATE_PATH, WASM_LIBDEFLATE_VERSION } from './wasm-deflate.js';

/**
 * zlib-wrapped deflate (RFC 1950) of whole buffers, as stream-optimized VMDK grains need: libdeflate
 * (native addon or WebAssembly, same bytes: libdeflate-engine.ts) unless VMXFER_DEFLATE=node:zlib.
 * Both emit standard zlib streams any inflater reads; the bytes differ, so the default level is
 * chosen per compressor (bench/README.md, "Compression").
 */
export interface ZlibDeflater {
  /** "libdeflate 1.14 (native)", "libdeflate 1.14 (wasm)" or "node:zlib": what `vmxfer convert --json` reports as `compressor`. */
  readonly name: string;
  /**
   * What decides the bytes, as an upload's checkpoint and the writer identity record it: deflate
   * output differs between implementations and may between their versions ("libdeflate 1.14",
   * "node:zlib 1.3.0.1-motley"); the addon and the WebAssembly build of one libdeflate version
   * share it because they give the same bytes.
   */
  readonly implementation: string;
  /** The cheapest level whose VMDK output stays within 5% of qemu-img's on the bench disk. */
  readonly defaultLevel: number;
  /** Why the native libdeflate addon is not in use; undefined when it is. */
  readonly fallbackReason: string | undefined;
  /**
   * Writes the zlib stream of `input` at the start of `output` with `level` (1-9); returns the bytes
   * written, or 0 when the stream is longer than `output` (the caller then stores the data).
   */
  compressInto(input: Uint8Array, output: Uint8Array, level: number): number;
}

/**
 * The cheapest level whose VMDK output is at most 5% larger than qemu-img's (zlib level 6), measured
 * on the 4 GiB bench disk (bench/README.md, "Compression"): libdeflate level 2 (+1.9%, 86 MB per
 * CPU-second; level 1 is +5.4%), zlib level 4 (+3.0%, 48 MB per CPU-second; level 3 is +5.2%).
 */
export const LIBDEFLATE_DEFAULT_LEVEL = 2;
export const ZLIB_DEFAULT_LEVEL = 4;
/**
 * zlib's default memLevel: memLevel 9 measured +1% speed at level 4 (+7% at level 1, +11% at 6) with
 * +0.1% output, within the noise of this machine, so it buys nothing at the level used.
 */
export const ZLIB_MEM_LEVEL = 8;

export function libdeflateDeflater(engine: LibdeflateEngine, notNative: string | undefined = undefined): ZlibDeflater {
  return {
    name: `libdeflate ${engine.version} (${engine.kind})`,
    implementation: `libdeflate ${engine.version}`,
    defaultLevel: LIBDEFLATE_DEFAULT_LEVEL,
    fallbackReason: engine.kind === 'native' ? undefined : notNative,
    compressInto: (input, output, level) => engine.compress('zlib', input, output, level),
  };
}

export function nodeZlibDeflater(fallbackReason: string): ZlibDeflater {
  return {
    name: 'node:zlib',
    implementation: `node:zlib ${process.versions.zlib}`,
    defaultLevel: ZLIB_DEFAULT_LEVEL,
    fallbackReason,
    compressInto: (input, output, level) => {
      const z = deflateSync(input, { level, memLevel: ZLIB_MEM_LEVEL });
      if (z.length > output.length) return 0;
      output.set(z);
      return z.length;
    },
  };
}

/**
 * Chosen once per thread at load (each worker thread loads its own addon or module instance) from
 * VMXFER_DEFLATE (libdeflate-engine.ts); throws when the setting cannot be honoured.
 */
export function chooseDeflater(env: NodeJS.ProcessEnv = process.env, wasmFile = WASM_DEFLATE_PATH): ZlibDeflater {
  const setting = deflateSetting(env);
  if (setting === 'node:zlib') return nodeZlibDeflater('VMXFER_DEFLATE=node:zlib');
  const { engine, notNative } = chooseEngine(setting, env, wasmFile);
  return libdeflateDeflater(engine, notNative);
}

export const ZLIB_DEFLATER: ZlibDeflater = chooseDeflater();

/** node:zlib, always available: what a resume of an upload written with it uses. */
const NODE_ZLIB_DEFLATER = nodeZlibDeflater('asked for by name');
let wasmDeflater: ZlibDeflater | undefined;

/** The deflater whose `implementation` is `implementation`, when it is available on this thread. */
export function deflaterFor(implementation: string): ZlibDeflater | undefined {
  if (implementation === ZLIB_DEFLATER.implementation) return ZLIB_DEFLATER;
  if (implementation === NODE_ZLIB_DEFLATER.implementation) return NODE_ZLIB_DEFLATER;
  // The WebAssembly build reproduces libdeflate 1.14 wherever another compressor is configured.
  if (implementation === `libdeflate ${WASM_LIBDEFLATE_VERSION}`) {
    wasmDeflater ??= chooseDeflater({ VMXFER_DEFLATE: 'wasm' });
    return wasmDeflater;
  }
  return undefined;
}

import { deflateSync } from 'node:zlib';
import { loadLibdeflate, type LibdeflateAddon } from './libdeflate-addon.js';

/**
 * zlib-wrapped deflate (RFC 1950) of whole buffers, as stream-optimized VMDK grains need: libdeflate
 * when its addon loads, node:zlib otherwise. Both emit standard zlib streams any inflater reads; the
 * bytes differ, so the default level is chosen per compressor (bench/README.md, "Compression").
 */
export interface ZlibDeflater {
  /** "libdeflate 1.14" or "node:zlib": what `vmxfer convert --json` reports as `compressor`. */
  readonly name: string;
  /**
   * The exact implementation, as an upload's checkpoint records it: deflate output differs between
   * implementations and may between their versions ("libdeflate 1.14", "node:zlib 1.3.0.1-motley").
   */
  readonly implementation: string;
  /** The cheapest level whose VMDK output stays within 5% of qemu-img's on the bench disk. */
  readonly defaultLevel: number;
  /** Why libdeflate is not in use; undefined when it is. */
  readonly fallbackReason: string | undefined;
  /**
   * Writes the zlib stream of `input` at the start of `output` with `level` (1-9); returns the bytes
   * written, or 0 when the stream is longer than `output` (the caller then stores the data).
   * libdeflate also answers 0 when fewer than ~9 bytes of room would be left after the stream.
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

export function libdeflateDeflater(addon: LibdeflateAddon): ZlibDeflater {
  return {
    name: `libdeflate ${addon.version}`,
    implementation: `libdeflate ${addon.version}`,
    defaultLevel: LIBDEFLATE_DEFAULT_LEVEL,
    fallbackReason: undefined,
    compressInto: (input, output, level) => addon.zlibCompress(input, output, level),
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

/** Chosen once per thread at load (each worker thread loads its own copy of the addon). */
export function chooseDeflater(env: NodeJS.ProcessEnv = process.env): ZlibDeflater {
  const load = loadLibdeflate(env);
  return 'addon' in load ? libdeflateDeflater(load.addon) : nodeZlibDeflater(load.reason);
}

export const ZLIB_DEFLATER: ZlibDeflater = chooseDeflater();

/** node:zlib, always available: what a resume of an upload written with it uses even where libdeflate loads. */
const NODE_ZLIB_DEFLATER = nodeZlibDeflater('asked for by name');

/** The deflater whose `implementation` is `implementation`, when it is available on this thread. */
export function deflaterFor(implementation: string): ZlibDeflater | undefined {
  if (implementation === ZLIB_DEFLATER.implementation) return ZLIB_DEFLATER;
  if (implementation === NODE_ZLIB_DEFLATER.implementation) return NODE_ZLIB_DEFLATER;
  return undefined;
}

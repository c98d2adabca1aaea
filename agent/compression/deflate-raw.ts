import { deflateRawSync } from 'node:zlib';
import { chooseEngine, deflateSetting, type LibdeflateEngine } from './libdeflate-engine.js';

/**
 * Raw deflate (RFC 1951) of one qcow2 cluster (qcow2.txt §Compressed Clusters Descriptor): libdeflate
 * when its addon loads, node:zlib otherwise.
 *
 * Window: qemu's writer limits itself to a 4 KiB window (deflateInit2(-12)) and its reader inflates
 * with inflateInit2(-12). libdeflate's window is fixed at 32 KiB and its streams for real clusters do
 * refer back further than 4 KiB; qemu still reads them because it inflates a whole cluster in one
 * inflate() call into a cluster-sized buffer, and zlib resolves distances inside the output of that
 * call without its window (test/compression/qcow2-window.test.ts checks both facts and qemu-img
 * compare on such an image). node:zlib keeps the 4 KiB window.
 */
export interface RawDeflater {
  /** What decides the bytes, as the writer identity records it: "libdeflate 1.14" or "node:zlib". */
  readonly name: string;
  /** How it runs, as `convert --json` reports it: "libdeflate 1.14 (wasm)", "libdeflate 1.14 (native)", "node:zlib". */
  readonly display: string;
  /** The deflate stream of `input` when it is at most `limit` bytes; undefined otherwise (store the cluster). */
  compress(input: Uint8Array, limit: number): Buffer | undefined;
}

/**
 * Level 1 for both: qcow2 -c is chosen for size on disk rather than a target ratio, and level 1 is the
 * cheapest; libdeflate's level 1 is both faster and smaller than zlib's level 1 on real grains
 * (bench/README.md, "Compression").
 */
export const QCOW2_LEVEL = 1;
/** zlib: qemu's 4 KiB window, see above. */
export const QCOW2_ZLIB_OPTIONS = { windowBits: 12, level: QCOW2_LEVEL } as const;

export function libdeflateRawDeflater(engine: LibdeflateEngine): RawDeflater {
  let scratch = Buffer.alloc(0);
  return {
    name: `libdeflate ${engine.version}`,
    display: `libdeflate ${engine.version} (${engine.kind})`,
    compress: (input, limit) => {
      if (scratch.length < limit) scratch = Buffer.allocUnsafe(limit);
      const n = engine.compress('raw', input, scratch.subarray(0, limit), QCOW2_LEVEL);
      // A copy: the stream is handed to the output, the scratch is reused for the next cluster.
      return n === 0 ? undefined : Buffer.from(scratch.subarray(0, n));
    },
  };
}

export const nodeZlibRawDeflater: RawDeflater = {
  name: 'node:zlib',
  display: 'node:zlib',
  compress: (input, limit) => {
    const packed = deflateRawSync(input, QCOW2_ZLIB_OPTIONS);
    return packed.length <= limit ? packed : undefined;
  },
};

/** VMXFER_DEFLATE picks it as for VMDK grains (libdeflate-engine.ts); throws when it cannot be honoured. */
export function chooseRawDeflater(env: NodeJS.ProcessEnv = process.env): RawDeflater {
  const setting = deflateSetting(env);
  return setting === 'node:zlib' ? nodeZlibRawDeflater : libdeflateRawDeflater(chooseEngine(setting, env).engine);
}

export const RAW_DEFLATER: RawDeflater = chooseRawDeflater();

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The API of native/libdeflate (vmxfer_libdeflate.c), a Node-API binding over the system libdeflate. */
export interface LibdeflateAddon {
  /** zlib stream (RFC 1950) of `input` at the start of `output`; bytes written, 0 when it does not fit. */
  zlibCompress(input: Uint8Array, output: Uint8Array, level: number): number;
  /** The same as a raw DEFLATE stream (RFC 1951): what qcow2 compressed clusters hold. */
  deflateCompress(input: Uint8Array, output: Uint8Array, level: number): number;
  /** Worst-case zlib stream size for `length` input bytes at any level. */
  zlibCompressBound(length: number): number;
  /** libdeflate's version string, e.g. "1.14". */
  readonly version: string;
}

export type AddonLoad = { readonly addon: LibdeflateAddon } | { readonly reason: string };

/** Built by scripts/build-native.mjs; this file compiles to dist/agent/compression/, three levels below the root. */
export const ADDON_PATH = fileURLToPath(new URL('../../../native/libdeflate/build/Release/vmxfer_libdeflate.node', import.meta.url));

/**
 * Loads the addon unless VMXFER_NO_NATIVE=1. Never throws: a missing or unloadable addon (not built,
 * libdeflate0 absent, another Node ABI) is a reason, and the caller falls back to node:zlib.
 */
export function loadLibdeflate(env: NodeJS.ProcessEnv = process.env): AddonLoad {
  if (env.VMXFER_NO_NATIVE === '1') return { reason: 'VMXFER_NO_NATIVE=1' };
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as LibdeflateAddon;
    if (typeof addon.zlibCompress !== 'function' || typeof addon.deflateCompress !== 'function' || typeof addon.version !== 'string') return { reason: `${ADDON_PATH} is not the vmxfer libdeflate addon` };
    return { addon };
  } catch (err) {
    return { reason: (err as Error).message.split('\n')[0]! };
  }
}

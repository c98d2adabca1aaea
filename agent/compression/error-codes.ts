import { defineErrorCodes } from '../core/errors.js';

/** Codes of the compression module (the deflate implementations behind the writers). */
export const DEFLATE = defineErrorCodes('DEFLATE', {
  WASM_LOAD: {
    category: 'internal',
    summary: 'The deflate WebAssembly module shipped with vmxfer (native-wasm/deflate.wasm) is missing, does not compile or lacks the expected exports.',
  },
  SETTING: {
    category: 'usage',
    summary: 'VMXFER_DEFLATE is not one of auto, wasm, native, node:zlib.',
  },
  NATIVE_MISSING: {
    category: 'io',
    summary: 'VMXFER_DEFLATE=native, but the native libdeflate addon is not built or does not load on this machine.',
  },
  WASM_MEMORY: {
    category: 'internal',
    summary: "The deflate WebAssembly module's fixed memory cannot hold its windows or a compressor for the level asked for (a bug).",
  },
});

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The API of native/sparse-file (vmxfer_sparse_file.c): lseek(2) SEEK_DATA / SEEK_HOLE. */
export interface SparseFileAddon {
  /** First offset >= `offset` inside data, or -1 when only a hole follows. Throws (err.code = errno name) when unsupported. */
  nextData(fd: number, offset: number): number;
  /** First offset >= `offset` inside a hole; the end of the file counts as one. */
  nextHole(fd: number, offset: number): number;
}

/** Built by scripts/build-native.mjs; this file compiles to dist/agent/io/, three levels below the root. */
export const SPARSE_ADDON_PATH = fileURLToPath(new URL('../../../native/sparse-file/build/Release/vmxfer_sparse_file.node', import.meta.url));

let cached: SparseFileAddon | null | undefined;

/** The addon, or null when it is not built, does not load, or VMXFER_NO_NATIVE=1; never throws. */
export function sparseFileAddon(env: NodeJS.ProcessEnv = process.env): SparseFileAddon | null {
  if (env.VMXFER_NO_NATIVE === '1') return null;
  if (cached !== undefined) return cached;
  try {
    const addon = createRequire(import.meta.url)(SPARSE_ADDON_PATH) as SparseFileAddon;
    cached = typeof addon.nextData === 'function' && typeof addon.nextHole === 'function' ? addon : null;
  } catch {
    cached = null;
  }
  return cached;
}

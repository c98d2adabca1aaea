/**
 * Page-aligned buffers. Reads into a buffer that starts a few bytes into a page run about four
 * times slower here (shared/docs/field-notes.md); WebAssembly memories are page-aligned mappings,
 * so a slab carved from one gives aligned views without copying.
 */
const PAGE = 4096;
const WASM_PAGE = 65536;

export function allocAligned(size: number): Buffer {
  if (size < 64 * 1024) return Buffer.allocUnsafeSlow(size);
  const mem = new WebAssembly.Memory({ initial: Math.ceil(size / WASM_PAGE) });
  return Buffer.from(mem.buffer, 0, size);
}

export function isPageMultiple(n: number): boolean {
  return n % PAGE === 0;
}

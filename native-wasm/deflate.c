/*
 * vmxfer's deflate in WebAssembly: libdeflate 1.14's compressor (native-wasm/libdeflate, Debian's
 * source package libdeflate 1.14-1, MIT, see its COPYING) built freestanding for wasm32 by
 * scripts/build-wasm-deflate.sh. The same module runs on every machine, so the same input and level
 * give the same bytes everywhere.
 *
 * Memory is imported: the host gives one fixed-size WebAssembly.Memory per thread. Everything this
 * module allocates comes from a bump allocator between __heap_base and the end of that memory:
 *   vx_reserve(n)          the host's input and output buffers, once, before any compression;
 *   one compressor         for the level last used; a call at another level frees it (the bump
 *                          pointer goes back to where the compressor started) and allocates anew.
 * So the memory a thread uses is bounded by the size the host chose, and an allocation that does
 * not fit fails (vx_compress returns -1) instead of growing it.
 *
 *   vx_compress(format, level, in, in_len, out, out_cap)
 *     format 0: raw DEFLATE (RFC 1951), 1: zlib (RFC 1950). Returns the stream's length, 0 when it
 *     does not fit in out_cap (libdeflate's contract), -1 when no compressor could be allocated.
 *   vx_bound(format, in_len)   the worst-case stream length, for an out_cap that always fits.
 */
#include "libdeflate/lib/lib_common.h"
#include "libdeflate/libdeflate.h"

extern unsigned char __heap_base;

static size_t heap_top;          /* next free byte */
static size_t compressor_start;  /* where the current compressor's allocation began */
static struct libdeflate_compressor *compressor;
static int compressor_level = -1;

static void *bump(size_t size) {
  size_t limit = __builtin_wasm_memory_size(0) * 65536;
  size_t at = (heap_top + 15) & ~(size_t)15;
  if (at > limit || size > limit - at) return NULL;
  heap_top = at + size;
  return (void *)at;
}

/* libdeflate frees only the compressor, which vx_compress releases by resetting the bump pointer. */
static void no_free(void *p) { (void)p; }

__attribute__((export_name("vx_reserve"))) void *vx_reserve(size_t size) {
  if (heap_top == 0) heap_top = (size_t)&__heap_base;
  void *p = bump(size);
  compressor_start = heap_top;
  return p;
}

static struct libdeflate_compressor *compressor_for(int level) {
  if (level == compressor_level) return compressor;
  if (heap_top == 0) heap_top = (size_t)&__heap_base;
  if (compressor_start == 0) compressor_start = heap_top;
  heap_top = compressor_start;
  libdeflate_set_memory_allocator(bump, no_free);
  compressor = libdeflate_alloc_compressor(level);
  compressor_level = compressor == NULL ? -1 : level;
  return compressor;
}

__attribute__((export_name("vx_compress"))) int vx_compress(int format, int level, const void *in, size_t in_len, void *out, size_t out_cap) {
  struct libdeflate_compressor *c = compressor_for(level);
  if (c == NULL) return -1;
  if (format == 1) return (int)libdeflate_zlib_compress(c, in, in_len, out, out_cap);
  return (int)libdeflate_deflate_compress(c, in, in_len, out, out_cap);
}

__attribute__((export_name("vx_bound"))) size_t vx_bound(int format, size_t in_len) {
  return format == 1 ? libdeflate_zlib_compress_bound(NULL, in_len) : libdeflate_deflate_compress_bound(NULL, in_len);
}

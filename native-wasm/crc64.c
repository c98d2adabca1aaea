/*
 * CRC-64 kernels for WebAssembly (built by build.sh; the .wasm files are checked in).
 *
 * Two reflected CRC-64 variants share one table-driven kernel (Rocksoft/Williams model:
 * refin = refout = true, init = xorout = 0xFFFFFFFFFFFFFFFF):
 *   variant 0, CRC-64/XZ   (OSS x-oss-hash-crc64ecma): ECMA-182 polynomial 0x42F0E1EBA9EA3693,
 *              reflected 0xC96C5795D7870F42, check("123456789") = 0x995DC9BBDF1939FA;
 *   variant 1, CRC-64/NVME (S3 x-amz-checksum-crc64nvme): polynomial 0xAD93D23594C93659,
 *              reflected 0x9A6C9329AC4BC9B5, check("123456789") = 0xAE8B14860A799888.
 *
 * Slicing-by-N ("Sarwate" tables extended to N bytes, as in Intel's slicing-by-8): table[k][b] is
 * the CRC register after byte b followed by k zero bytes, so N input bytes fold into the register
 * with N independent lookups. SLICES (8 or 16) is chosen at build time by measurement.
 *
 * Memory: the module owns its memory. The caller copies at most WINDOW_BYTES into the window
 * (address from crc64_window()) and calls crc64_update on it; nothing is allocated at run time.
 */
#include <stdint.h>

#ifndef SLICES
#define SLICES 16
#endif
#if SLICES != 8 && SLICES != 16
#error "SLICES must be 8 or 16"
#endif

#define EXPORT(name) __attribute__((export_name(name)))
#define WINDOW_BYTES (1u << 20)
#define VARIANTS 2

static const uint64_t REFLECTED_POLYS[VARIANTS] = {
  0xC96C5795D7870F42ull, /* CRC-64/XZ (ECMA-182) */
  0x9A6C9329AC4BC9B5ull, /* CRC-64/NVME */
};

static uint64_t tables[VARIANTS][SLICES][256];
static uint8_t window[WINDOW_BYTES] __attribute__((aligned(16)));

static void build_tables(uint64_t (*t)[256], uint64_t poly) {
  for (uint32_t b = 0; b < 256; b++) {
    uint64_t r = b;
    for (int bit = 0; bit < 8; bit++) r = (r & 1) ? (r >> 1) ^ poly : r >> 1;
    t[0][b] = r;
  }
  for (int k = 1; k < SLICES; k++)
    for (uint32_t b = 0; b < 256; b++) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
}

/* Fills the tables of both variants; call once before crc64_update. */
EXPORT("crc64_init") void crc64_init(void) {
  for (int v = 0; v < VARIANTS; v++) build_tables(tables[v], REFLECTED_POLYS[v]);
}

/* Address of the input window in this module's memory (WINDOW_BYTES long). */
EXPORT("crc64_window") uint8_t *crc64_window(void) { return window; }

EXPORT("crc64_window_bytes") uint32_t crc64_window_bytes(void) { return WINDOW_BYTES; }

static inline uint64_t load_le64(const uint8_t *p) {
  uint64_t v;
  __builtin_memcpy(&v, p, 8); /* wasm32 is little-endian: byte 0 is the low byte */
  return v;
}

static inline uint64_t fold8(const uint64_t (*t)[256], uint64_t v, int base) {
  return t[base + 7][v & 0xFF] ^ t[base + 6][(v >> 8) & 0xFF] ^ t[base + 5][(v >> 16) & 0xFF] ^
         t[base + 4][(v >> 24) & 0xFF] ^ t[base + 3][(v >> 32) & 0xFF] ^ t[base + 2][(v >> 40) & 0xFF] ^
         t[base + 1][(v >> 48) & 0xFF] ^ t[base + 0][v >> 56];
}

/* One step of a reflected register through SLICES input bytes starting at p. */
static inline uint64_t fold_step(const uint64_t (*t)[256], uint64_t reg, const uint8_t *p) {
#if SLICES == 16
  return fold8(t, reg ^ load_le64(p), 8) ^ fold8(t, load_le64(p + 8), 0);
#else
  return fold8(t, reg ^ load_le64(p), 0);
#endif
}

/*
 * The kernel, inlined once per variant so each copy addresses its tables at a constant address
 * (folded into each lookup by clang and V8) instead of adding a variable base on every lookup.
 */
static inline __attribute__((always_inline)) uint64_t update_variant(int v, uint64_t crc, uint32_t len) {
  const uint64_t (*t)[256] = tables[v];
  const uint8_t *p = window;
  uint64_t reg = ~crc;
  for (; len >= SLICES; p += SLICES, len -= SLICES) reg = fold_step(t, reg, p);
  for (; len > 0; p++, len--) reg = t[0][(reg ^ *p) & 0xFF] ^ (reg >> 8);
  return ~reg;
}

/*
 * Continues a finished CRC value `crc` (0 for a fresh computation) over the first `len` bytes of the
 * window and returns the finished CRC of the longer message; `len` above WINDOW_BYTES is clamped.
 */
EXPORT("crc64_update") uint64_t crc64_update(uint32_t variant, uint64_t crc, uint32_t len) {
  if (len > WINDOW_BYTES) len = WINDOW_BYTES;
  return (variant & 1) ? update_variant(1, crc, len) : update_variant(0, crc, len);
}

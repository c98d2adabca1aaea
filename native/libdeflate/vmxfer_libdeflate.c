/*
 * Node-API binding over the system libdeflate (Debian libdeflate-dev), for vmxfer's zlib-wrapped
 * grain compression. libdeflate is linked, not vendored.
 *
 *   zlibCompress(input: Uint8Array, output: Uint8Array, level: number): number
 *     RFC 1950 zlib stream of `input` written at the start of `output`; returns the bytes written,
 *     or 0 when the stream does not fit in output.length (libdeflate_zlib_compress's contract).
 *     libdeflate 1.14 writes whole machine words, so it answers 0 unless a few bytes (9 measured)
 *     of room follow the stream's end: callers treat 0 as "store instead", never as an error.
 *   deflateCompress(input: Uint8Array, output: Uint8Array, level: number): number
 *     The same as a raw DEFLATE stream (RFC 1951, no wrapper), as qcow2 compressed clusters hold.
 *   zlibCompressBound(length: number): number
 *     Worst-case zlib stream size for `length` input bytes at any level.
 *   version: string
 *     LIBDEFLATE_VERSION_STRING of the headers built against.
 *
 * A libdeflate compressor is not safe for concurrent use by several threads (libdeflate.h), and
 * allocating one costs more than compressing a 64 KiB grain at low levels, so one compressor per
 * level is created on first use and cached in the Node-API instance data of the calling
 * environment: every worker thread has its own environment, hence its own compressors, freed
 * when that environment is torn down.
 */
#include <libdeflate.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_LEVEL 12

typedef struct {
  struct libdeflate_compressor *by_level[MAX_LEVEL + 1];
} compressor_cache;

static void free_cache(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  compressor_cache *cache = data;
  for (int i = 0; i <= MAX_LEVEL; i++) {
    if (cache->by_level[i] != NULL) libdeflate_free_compressor(cache->by_level[i]);
  }
  free(cache);
}

/* Throws a JS error and returns NULL, so callers can `return fail(...)`. */
static napi_value fail(napi_env env, const char *code, const char *message, int range) {
  if (range) napi_throw_range_error(env, code, message);
  else napi_throw_type_error(env, code, message);
  return NULL;
}

static int get_bytes(napi_env env, napi_value value, void **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == napi_uint8_array;
}

static struct libdeflate_compressor *compressor_for(napi_env env, int level) {
  compressor_cache *cache = NULL;
  if (napi_get_instance_data(env, (void **)&cache) != napi_ok || cache == NULL) return NULL;
  if (cache->by_level[level] == NULL) cache->by_level[level] = libdeflate_alloc_compressor(level);
  return cache->by_level[level];
}

typedef size_t (*compress_fn)(struct libdeflate_compressor *, const void *, size_t, void *, size_t);

/* compress(input, output, level) for one of libdeflate's stream formats. */
static napi_value compress_with(napi_env env, napi_callback_info info, compress_fn fn, const char *name) {
  char message[96];
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  snprintf(message, sizeof message, "%s(input, output, level) takes 3 arguments", name);
  if (argc < 3) return fail(env, "ERR_INVALID_ARG_COUNT", message, 0);
  void *in = NULL, *out = NULL;
  size_t in_len = 0, out_len = 0;
  snprintf(message, sizeof message, "%s: input and output must be Uint8Arrays", name);
  if (!get_bytes(env, argv[0], &in, &in_len) || !get_bytes(env, argv[1], &out, &out_len)) return fail(env, "ERR_INVALID_ARG_TYPE", message, 0);
  double level_number = -1;
  snprintf(message, sizeof message, "%s: level must be a number", name);
  if (napi_get_value_double(env, argv[2], &level_number) != napi_ok) return fail(env, "ERR_INVALID_ARG_TYPE", message, 0);
  int level = (int)level_number;
  snprintf(message, sizeof message, "%s: level must be an integer from 0 to 12", name);
  if (!(level_number >= 0 && level_number <= MAX_LEVEL) || level != level_number) return fail(env, "ERR_OUT_OF_RANGE", message, 1);
  struct libdeflate_compressor *c = compressor_for(env, level);
  if (c == NULL) {
    napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "libdeflate_alloc_compressor failed");
    return NULL;
  }
  /* libdeflate needs some output room even for empty input; an empty output simply does not fit. */
  size_t written = out_len == 0 ? 0 : fn(c, in, in_len, out, out_len);
  napi_value result;
  napi_create_double(env, (double)written, &result);
  return result;
}

static napi_value zlib_compress(napi_env env, napi_callback_info info) {
  return compress_with(env, info, libdeflate_zlib_compress, "zlibCompress");
}

static napi_value deflate_compress(napi_env env, napi_callback_info info) {
  return compress_with(env, info, libdeflate_deflate_compress, "deflateCompress");
}

static napi_value zlib_compress_bound(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  double length = -1;
  if (argc < 1 || napi_get_value_double(env, argv[0], &length) != napi_ok) return fail(env, "ERR_INVALID_ARG_TYPE", "zlibCompressBound(length): length must be a number", 0);
  if (!(length >= 0 && length <= 9007199254740991.0) || length != (double)(size_t)length) {
    return fail(env, "ERR_OUT_OF_RANGE", "zlibCompressBound: length must be a non-negative safe integer", 1);
  }
  /* A NULL compressor gives the bound over every level (libdeflate.h, *_compress_bound). */
  napi_value result;
  napi_create_double(env, (double)libdeflate_zlib_compress_bound(NULL, (size_t)length), &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  compressor_cache *cache = calloc(1, sizeof *cache);
  if (cache == NULL || napi_set_instance_data(env, cache, free_cache, NULL) != napi_ok) {
    free(cache);
    napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "vmxfer_libdeflate: cannot set up the compressor cache");
    return NULL;
  }
  napi_value version;
  napi_create_string_utf8(env, LIBDEFLATE_VERSION_STRING, NAPI_AUTO_LENGTH, &version);
  napi_property_descriptor props[] = {
    {"zlibCompress", NULL, zlib_compress, NULL, NULL, NULL, napi_enumerable, NULL},
    {"deflateCompress", NULL, deflate_compress, NULL, NULL, NULL, napi_enumerable, NULL},
    {"zlibCompressBound", NULL, zlib_compress_bound, NULL, NULL, NULL, napi_enumerable, NULL},
    {"version", NULL, NULL, NULL, NULL, version, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE_INIT() {
  return init(env, exports);
}

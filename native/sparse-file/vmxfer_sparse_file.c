/*
 * Node-API binding over lseek(2)'s SEEK_DATA and SEEK_HOLE, which Node's fs does not expose, so a
 * sparse raw image's holes are skipped instead of read (qemu-img does the same through
 * bdrv_co_block_status): a 4 GiB disk with 0.5 GB of data then costs a 0.5 GB read, not 4 GiB.
 *
 *   nextData(fd: number, offset: number): number
 *     The first offset >= `offset` inside data, or -1 when only a hole follows (ENXIO).
 *   nextHole(fd: number, offset: number): number
 *     The first offset >= `offset` inside a hole; the end of the file counts as one (lseek(2)).
 *
 * Both throw an Error whose `code` is the errno name (EINVAL where the file system or the file type,
 * e.g. a pipe, does not support the operation) so the caller can fall back to reading everything.
 * File systems without real support treat the whole file as data, which is still correct.
 * lseek moves the descriptor's position; vmxfer reads only with pread (positional reads), which
 * neither uses nor changes it.
 */
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char message[128];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  const char *code = err == EINVAL ? "EINVAL" : err == EBADF ? "EBADF" : err == ESPIPE ? "ESPIPE" : err == ENXIO ? "ENXIO" : "EIO";
  napi_throw_error(env, code, message);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, int *fd, off_t *offset) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return 0;
  double off = 0;
  if (napi_get_value_int32(env, argv[0], fd) != napi_ok || napi_get_value_double(env, argv[1], &off) != napi_ok) return 0;
  if (!(off >= 0) || off > 9007199254740991.0) return 0;
  *offset = (off_t)off;
  return 1;
}

static napi_value seek_with(napi_env env, napi_callback_info info, int whence, const char *name) {
  int fd = -1;
  off_t offset = 0;
  if (!get_args(env, info, &fd, &offset)) {
    char message[96];
    snprintf(message, sizeof message, "%s(fd, offset) takes an int32 fd and a non-negative safe-integer offset", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return NULL;
  }
  off_t found = lseek(fd, offset, whence);
  napi_value result;
  if (found < 0) {
    if (whence == SEEK_DATA && errno == ENXIO) {
      napi_create_double(env, -1, &result);
      return result;
    }
    return throw_errno(env, errno, name);
  }
  napi_create_double(env, (double)found, &result);
  return result;
}

static napi_value next_data(napi_env env, napi_callback_info info) {
  return seek_with(env, info, SEEK_DATA, "nextData");
}

static napi_value next_hole(napi_env env, napi_callback_info info) {
  return seek_with(env, info, SEEK_HOLE, "nextHole");
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    {"nextData", NULL, next_data, NULL, NULL, NULL, napi_enumerable, NULL},
    {"nextHole", NULL, next_hole, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

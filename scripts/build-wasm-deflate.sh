#!/usr/bin/env bash
# Builds native-wasm/deflate.wasm (libdeflate 1.14's compressor, see native-wasm/deflate.c) with
# Debian's clang + lld. Usage: scripts/build-wasm-deflate.sh [OUTDIR]  (default: native-wasm, the
# checked-in file). Reproducible: no debug info, symbols stripped, source paths mapped to ".", so
# the same clang gives the same bytes (test/compression/wasm-deflate-build.test.ts rebuilds and
# compares); native-wasm/TOOLCHAIN records the clang of the checked-in file.
set -euo pipefail
src="$(cd "$(dirname "$0")/../native-wasm" && pwd)"
mkdir -p "${1:-$src}"
out="$(cd "${1:-$src}" && pwd)"
cd "$src"
lib=libdeflate/lib
clang --target=wasm32 -O3 -msimd128 -nostdlib -nostdlibinc -ffreestanding -DFREESTANDING -Ilibdeflate -g0 \
  -ffile-prefix-map="$src"=. -fno-ident \
  -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all -Wl,-z,stack-size=65536 \
  -o "$out/deflate.wasm" \
  deflate.c $lib/deflate_compress.c $lib/zlib_compress.c $lib/adler32.c $lib/utils.c
if [ "$out" = "$src" ]; then
  clang --version | head -n1 > deflate.TOOLCHAIN
  # What the checked-in module was built from: a source edited without a rebuild no longer matches.
  sha256sum deflate.c libdeflate/*.h libdeflate/lib/* ../scripts/build-wasm-deflate.sh deflate.wasm > deflate.sha256
fi

#!/usr/bin/env bash
# Builds the CRC-64 WebAssembly kernels from crc64.c with Debian's clang + lld.
# Usage: native-wasm/build.sh [OUTDIR]   (default: this folder, i.e. the checked-in files)
# Reproducible: no debug info, symbols stripped, no paths or timestamps in the output; the
# toolchain version is recorded in TOOLCHAIN so a rebuild can be compared byte for byte.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "${1:-$here}"
out="$(cd "${1:-$here}" && pwd)"
cd "$here"
for kernel in slice8:8 slice16:16; do
  IFS=: read -r name slices <<<"$kernel"
  clang --target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding -g0 \
    -ffile-prefix-map="$here"=. -DSLICES="$slices" \
    -Wl,--no-entry -Wl,--strip-all -Wl,-z,stack-size=4096 \
    -o "$out/crc64-$name.wasm" crc64.c
done
if [ "$out" = "$here" ]; then clang --version | head -n1 > TOOLCHAIN; fi

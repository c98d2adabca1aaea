#!/usr/bin/env bash
# Builds vmxfer and runs the stream-optimized VMDK benchmark against qemu-img (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
node dist/bench/vmdk-convert.js "$@"
# Transfer: vmxfer upload vs rclone copyto and aws s3 cp on the loopback RGW (bench/README.md "Transfer");
# VMXFER_BENCH_SKIP_TRANSFER=1 skips it.
[ -n "${VMXFER_BENCH_SKIP_TRANSFER:-}" ] || node dist/bench/transfer.js

#!/usr/bin/env bash
# Builds vmxfer and runs the stream-optimized VMDK benchmark against qemu-img (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
exec node dist/bench/vmdk-convert.js "$@"

#!/usr/bin/env bash
# The main job on an embedded default, no cloud account needed: installs what it needs, builds a
# demo disk with a real ext4 filesystem, converts it to a stream-optimized VMDK and uploads it as a
# multipart object to a local directory store (file://), then checks the result with qemu-img.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
if [ ! -d node_modules ] || ! npm ls --silent >/dev/null 2>&1; then npm ci --no-audit --no-fund; fi
npx tsc -p tsconfig.json
exec node dist/scripts/demo.js "$@"

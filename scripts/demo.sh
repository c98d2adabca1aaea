#!/usr/bin/env bash
# The main job on an embedded default, no cloud account needed: installs what it needs, builds a
# demo disk with a real ext4 filesystem, starts `vmxfer daemon` with a local directory store
# (file://) under a temporary state directory, submits a conversion + multipart upload job to VMDK,
# shows it live with `vmxfer jobs watch`, then checks the object with qemu-img (scripts/demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
if [ ! -d node_modules ] || ! npm ls --silent >/dev/null 2>&1; then npm ci --no-audit --no-fund; fi
npx tsc -p tsconfig.json
exec node dist/scripts/demo.js "$@"

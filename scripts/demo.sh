#!/usr/bin/env bash
# The main job on an embedded default, no cloud account needed: installs what it needs, builds a
# demo disk with a real ext4 filesystem, starts `vmxfer daemon` with a local directory store
# (file://) under a temporary state directory, submits a conversion + multipart upload job to VMDK,
# shows it live with `vmxfer jobs watch`, then checks the object with qemu-img (scripts/demo.ts).
# `npm run demo -- --keep` leaves the daemon and dashboard up until Ctrl-C. One build: npm ci's install
# hook only builds the optional native addons.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh --core
if [ ! -e node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
npm run --silent build
exec node dist/scripts/demo.js "$@"

#!/usr/bin/env bash
# The whole test suite: installs what it needs (Debian tools, npm packages), builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=(); [ -x /usr/bin/chromium ] || extra+=(chromium)   # the dashboard tests drive Debian's Chromium
bash scripts/install-test-deps.sh "${extra[@]}"
if [ ! -e node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
node scripts/build-native.mjs   # optional native addons (libdeflate, sparse-file); one line each, goes on without them
npx tsc -p tsconfig.json
node scripts/build-dashboard.mjs
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ -n "${VMXFER_TEST_FILTER:-}" ]; then mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$VMXFER_TEST_FILTER"); fi
exec node --test --test-concurrency="${VMXFER_TEST_CONCURRENCY:-2}" --test-reporter=spec "${files[@]}"

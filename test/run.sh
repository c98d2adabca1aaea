#!/usr/bin/env bash
# The whole test suite: installs everything any test needs (Debian tools, npm packages) before the first
# test, builds, runs every test, and stops the Ceph RGW that the tests started (one already running is kept).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
if [ ! -e node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
npx eslint .                    # eslint.config.js: typescript-eslint's recommended rules, the whole tree
node scripts/build-native.mjs   # optional native addons (libdeflate, sparse-file); one line each, goes on without them
npx tsc -p tsconfig.json
node scripts/build-dashboard.mjs
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ -n "${VMXFER_TEST_FILTER:-}" ]; then mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$VMXFER_TEST_FILTER"); fi
# The test gateway's state directory (test/helpers/rgw.ts): stopped at exit when no gateway answered before.
RGW_STATE=.tmp/rgw
rgw_answers() {
  local endpoint
  endpoint=$(sed -n 's/^ENDPOINT=//p' "$RGW_STATE/env" 2>/dev/null) || return 1
  [ -n "$endpoint" ] && curl -fsS -o /dev/null --max-time 2 "$endpoint/" 2>/dev/null
}
# The fleet tests' Redis (test/helpers/redis.ts) is throw-away: always stopped at exit.
stop_servers() {
  bash scripts/redis/stop.sh .tmp/redis
  for d in .tmp/redis-*; do [ -d "$d" ] && bash scripts/redis/stop.sh "$d" && rm -rf "$d"; done
  if [ "$stop_rgw" = 1 ]; then bash scripts/rgw/stop.sh "$RGW_STATE"; fi
}
stop_rgw=0
if ! rgw_answers; then stop_rgw=1; fi
trap stop_servers EXIT
node --test --test-concurrency="${VMXFER_TEST_CONCURRENCY:-2}" --test-reporter=spec "${files[@]}"

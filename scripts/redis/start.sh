#!/usr/bin/env bash
# Starts a throw-away Redis on loopback for the fleet tests (the shared job store): no persistence
# beyond an append-only file in STATE_DIR, bound to 127.0.0.1, a free port unless REDIS_PORT is set.
# Writes STATE_DIR/env with URL=redis://127.0.0.1:PORT and PORT=PORT. Idempotent: when the Redis of
# STATE_DIR already answers, it exits 0 at once. Restarting on the same port (fault tests): stop.sh
# then start.sh with REDIS_PORT set to the old port keeps the append-only data.
# Usage: scripts/redis/start.sh [STATE_DIR]
set -euo pipefail

STATE=$(mkdir -p "${1:-.tmp/redis}" && cd "${1:-.tmp/redis}" && pwd)
ENV_FILE="$STATE/env"
log() { echo "redis: $*" >&2; }

answers() {
  [ -f "$ENV_FILE" ] || return 1
  local port
  port=$(sed -n 's/^PORT=//p' "$ENV_FILE")
  [ -n "$port" ] && [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]
}

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  # Installing is scripts/install-test-deps.sh's job, before any test starts (test/run.sh).
  log "missing: redis-server; run: bash scripts/install-test-deps.sh"
  exit 1
fi
answers && exit 0

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
PORT=${REDIS_PORT:-$(free_port)}
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
  --dir "$STATE" --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" --daemonize yes --protected-mode yes
for _ in $(seq 100); do
  [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ] && break
  sleep 0.1
done
[ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ] || { log "did not answer on $PORT; see $STATE/redis.log"; exit 1; }
printf 'URL=redis://127.0.0.1:%s\nPORT=%s\n' "$PORT" "$PORT" > "$ENV_FILE"
log "ready on 127.0.0.1:$PORT"

#!/usr/bin/env bash
# Stops the Redis that scripts/redis/start.sh started for STATE_DIR (by its pid file, never by name).
# `--keep-data` leaves the append-only file for a restart on the same port (fault tests).
# Usage: scripts/redis/stop.sh [STATE_DIR] [--keep-data]
set -euo pipefail

STATE=${1:-.tmp/redis}
[ -d "$STATE" ] || exit 0
pidfile="$STATE/redis.pid"
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
fi
if [ "${2:-}" = --keep-data ]; then rm -f "$pidfile"; else rm -rf "${STATE:?}"/{env,redis.pid,redis.log,appendonlydir,appendonly.aof}; fi

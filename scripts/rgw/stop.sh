#!/usr/bin/env bash
# Stops the gateway, OSD and monitor that scripts/rgw/start.sh started for STATE_DIR (by the pids in
# its pid files, never by name) and removes the state: memstore data dies with the OSD anyway.
# Usage: scripts/rgw/stop.sh [STATE_DIR]
set -euo pipefail

STATE=${1:-.tmp/rgw}
[ -d "$STATE" ] || exit 0

# The gateway first, the monitor last, so nothing waits on a dead peer.
for name in client.rgw osd.0 mon.a; do
  pidfile="$STATE/run/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
done
rm -rf "${STATE:?}"/{ceph.conf,env,keyring,monmap,run,log,mon,osd}

#!/usr/bin/env bash
# Starts a throw-away Ceph RADOS Gateway on loopback, without systemd, for the S3 sink tests:
# one monitor, one OSD on memstore (data lives in RAM), one radosgw (beast frontend), no cephx.
# Modelled on ceph's src/vstart.sh. Everything lives under STATE_DIR (default .tmp/rgw):
# ceph.conf, keyring, mon/osd data, logs, pid files, admin sockets, and `env` with
#   ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, KMS_KEY_ID (SSE-KMS via RGW's testing backend)
# Idempotent: when the gateway of STATE_DIR already answers, it exits 0 at once.
# Usage: scripts/rgw/start.sh [STATE_DIR]     (RGW_PORT=N picks the S3 port, default: a free one)
set -euo pipefail

STATE=$(mkdir -p "${1:-.tmp/rgw}" && cd "${1:-.tmp/rgw}" && pwd)
CONF="$STATE/ceph.conf"
ENV_FILE="$STATE/env"
HERE=$(cd "$(dirname "$0")" && pwd)
KMS_KEY_ID=vmxfer-test-key

log() { echo "rgw: $*" >&2; }

s3_answers() {
  [ -f "$ENV_FILE" ] || return 1
  local endpoint
  endpoint=$(sed -n 's/^ENDPOINT=//p' "$ENV_FILE")
  [ -n "$endpoint" ] || return 1
  # An anonymous ListBuckets answers 200 with an empty list from a healthy gateway.
  curl -fsS -o /dev/null --max-time 2 "$endpoint/" 2>/dev/null
}

require_packages() {
  local missing=()
  local cmd
  for cmd in ceph-mon ceph-osd radosgw ceph monmaptool curl flock; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  # Installing is scripts/install-test-deps.sh's job, before any test starts (test/run.sh).
  log "missing: ${missing[*]}; run: bash scripts/install-test-deps.sh"
  exit 1
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

random_token() { { head -c 4096 /dev/urandom | LC_ALL=C tr -dc "$1" | head -c "$2"; } || true; }

write_conf() {
  local fsid=$1 mon_port=$2 rgw_port=$3 kms_key
  kms_key=$(head -c 32 /dev/urandom | base64)
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
run dir = $STATE/run
pid file = $STATE/run/\$name.pid
admin socket = $STATE/run/\$name.asok
log file = $STATE/log/\$name.log
keyring = $STATE/keyring
; no cephx: a loopback test cluster
auth cluster required = none
auth service required = none
auth client required = none
; the monitor only accepts clients in crc mode once cephx is off
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon allow pool delete = true
mon data avail warn = 2
mon data avail crit = 1

[mon]
mon data = $STATE/mon/\$cluster-\$id

[osd]
osd data = $STATE/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd max object size = 134217728

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw dns name = localhost
rgw enable usage log = false
rgw max chunk size = 4194304
; deleted objects' data goes to RGW's garbage collector, by default after 2 hours: with memstore
; that is RAM held for nothing, so collect it within seconds
rgw gc obj min wait = 5
rgw gc processor period = 10
rgw gc processor max time = 10
; SSE-KMS through RGW's built-in "testing" key backend (a random key per cluster; never for real data)
rgw crypt require ssl = false
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = $KMS_KEY_ID=$kms_key
EOF
}

wait_for() {
  local what=$1 tries=$2; shift 2
  for _ in $(seq "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "timed out waiting for $what (logs in $STATE/log)"
  return 1
}

start_cluster() {
  local fsid mon_port rgw_port osd_uuid access secret
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  mon_port=$(free_port)
  rgw_port=${RGW_PORT:-$(free_port)}
  mkdir -p "$STATE/run" "$STATE/log" "$STATE/mon/ceph-a" "$STATE/osd/ceph-0"
  write_conf "$fsid" "$mon_port" "$rgw_port"

  ceph-authtool --create-keyring --gen-key --name=mon. --cap mon 'allow *' "$STATE/keyring" >/dev/null
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$STATE/monmap" >/dev/null
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$STATE/monmap" --keyring "$STATE/keyring"
  # 9>&-: the daemons must not inherit the lock's descriptor, or they would hold the lock for their
  # whole life and a later start.sh waiting on it would wait forever.
  ceph-mon -c "$CONF" -i a 2>>"$STATE/log/daemons.stderr" 9>&-
  wait_for "the monitor" 60 ceph -c "$CONF" --connect-timeout 2 mon stat

  local osd_id
  osd_id=$(ceph -c "$CONF" osd new "$osd_uuid")
  ceph-osd -c "$CONF" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" 2>>"$STATE/log/daemons.stderr"
  ceph-osd -c "$CONF" -i "$osd_id" 2>>"$STATE/log/daemons.stderr" 9>&-
  wait_for "the OSD to come up" 60 osd_is_up "$osd_id"

  radosgw -c "$CONF" -n client.rgw 2>>"$STATE/log/daemons.stderr" 9>&-
  access=$(random_token 'A-Z0-9' 20)
  secret=$(random_token 'A-Za-z0-9' 40)
  wait_for "the gateway's user store" 60 radosgw-admin -c "$CONF" user create --uid=vmxfer-test \
    --display-name="vmxfer tests" --access-key="$access" --secret="$secret"
  printf 'ENDPOINT=http://127.0.0.1:%s\nAWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nKMS_KEY_ID=%s\n' \
    "$rgw_port" "$access" "$secret" "$KMS_KEY_ID" >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  wait_for "S3 to answer" 60 s3_answers
}

osd_is_up() {
  ceph -c "$CONF" --connect-timeout 2 osd dump 2>/dev/null | grep -q "^osd.$1 up "
}

require_packages
if s3_answers; then
  exit 0
fi
# Test files start in parallel: one starts the cluster, the others wait for it here.
exec 9>"$STATE/.lock"
flock 9
if s3_answers; then
  exit 0
fi
# Leftovers of a cluster that no longer answers (memstore lost its data with the process): start over.
if [ -e "$CONF" ]; then
  bash "$HERE/stop.sh" "$STATE"
fi
started=$(date +%s.%N)
start_cluster
log "S3 answers at $(sed -n 's/^ENDPOINT=//p' "$ENV_FILE") after $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"

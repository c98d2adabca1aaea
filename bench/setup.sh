#!/usr/bin/env bash
# The bench's own tools (not the test suite's): Debian's rclone and awscli for bench/cost.ts and
# bench/transfer.ts, plus GNU time and qemu-img. Run as root; apt's configured sources are used.
set -euo pipefail
missing=()
for pair in rclone:rclone aws:awscli time:time qemu-img:qemu-utils; do
  [ -x "/usr/bin/${pair%%:*}" ] || missing+=("${pair#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

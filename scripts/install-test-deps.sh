#!/usr/bin/env bash
# Installs, before the first test runs, every Debian tool any test (or its helpers and scripts) uses,
# only when missing, so that no test installs anything on its own: a fresh machine runs the README's
# test command like a developer machine. `--core` installs only what the demo needs (scripts/demo.sh).
# Extra package names may follow. apt waits for the dpkg lock (another apt run) instead of failing.
# Usage: scripts/install-test-deps.sh [--core] [PACKAGE...]
set -euo pipefail
core=0
if [ "${1:-}" = "--core" ]; then core=1; shift; fi

need=()
# want COMMAND-OR-PATH PACKAGE: the package when the command (or absolute path) is missing.
want() {
  case "$1" in
    /*) [ -e "$1" ] && return 0 ;;
    *) command -v "$1" >/dev/null 2>&1 && return 0 ;;
  esac
  case " ${need[*]:-} " in *" $2 "*) ;; *) need+=("$2") ;; esac
}

# Oracles and fixture builders (formats, demo).
want qemu-img qemu-utils
want qemu-io qemu-utils
want bzip2 bzip2
want gzip gzip
want xz xz-utils                  # CRC-64/XZ oracle of the OSS protocol fake
want tar tar
want sgdisk gdisk
want mkfs.ext4 e2fsprogs
want mkfs.vfat dosfstools
want mcopy mtools
want xxd xxd
want /usr/bin/time time           # peak-RSS test
want /usr/include/libdeflate.h libdeflate-dev   # native/libdeflate (optional addon)
want cc build-essential           # native addons (scripts/build-native.mjs) through node-gyp
want c++ build-essential
want make build-essential
want python3 python3              # node-gyp; the slow feed client
if [ "$core" = 0 ]; then
  want promtool prometheus          # /metrics lint (daemon tests)
  want systemd-analyze systemd      # config/vmxfer.service verification
  want clang clang                  # native-wasm CRC-64 build test
  want wasm-ld lld
  want openssl openssl
  want curl curl                    # scripts/rgw/start.sh health probe
  want ceph-mon ceph-mon            # scripts/rgw/start.sh: the S3 server of the sink tests
  want ceph-osd ceph-osd
  want radosgw radosgw
  want redis-server redis-server    # scripts/redis/start.sh: the shared job store of the fleet tests
  want redis-cli redis-tools
  want ceph ceph-common
  want monmaptool ceph-base
  want flock util-linux
  want mount mount                  # the disk-full and read-only cases of cli-errors (tmpfs, as root)
  want umount mount
  want script bsdutils              # a terminal for the progress-bar test
  want which debianutils
  want touch coreutils
  want cmp diffutils                # byte-identical checks of downloaded objects
  want /usr/bin/chromium chromium   # the dashboard tests drive Debian's Chromium
  # The guest inspector tests (test/guest): real guests built in image files, blkid as the oracle.
  want debootstrap debootstrap
  want mkfs.xfs xfsprogs
  want mkfs.btrfs btrfs-progs
  want mkntfs ntfs-3g
  want ntfscat ntfs-3g              # ntfscat, ntfsls, ntfsinfo: the oracle of the NTFS reader
  want ntfsls ntfs-3g
  want ntfsinfo ntfs-3g
  want wimcapture wimtools          # a Windows-like tree applied onto an unmounted NTFS volume (wimapply)
  want wimapply wimtools
  want hivexget libhivex-bin        # the oracle of the registry hive reader
  want cryptsetup cryptsetup-bin
  want sfdisk fdisk
  want blkid util-linux
  want mkswap util-linux
  want mkfs.fat dosfstools
  want debugfs e2fsprogs
  want dumpe2fs e2fsprogs
  want mmd mtools
fi
for extra in "$@"; do need+=("$extra"); done

if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  LOCK=(-o DPkg::Lock::Timeout=600)
  $SUDO apt-get "${LOCK[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${LOCK[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

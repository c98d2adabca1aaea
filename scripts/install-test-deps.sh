#!/usr/bin/env bash
# Installs the Debian tools the tests use as oracles and fixture builders, only when missing.
set -euo pipefail
need=()
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v bzip2 >/dev/null || need+=(bzip2)
command -v sgdisk >/dev/null || need+=(gdisk)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v mkfs.vfat >/dev/null || need+=(dosfstools)
command -v mcopy >/dev/null || need+=(mtools)
command -v xxd >/dev/null || need+=(xxd)
[ -x /usr/bin/time ] || need+=(time)
[ -e /usr/include/libdeflate.h ] || need+=(libdeflate-dev)   # native/libdeflate (optional addon)
# --- guest inspector tests (test/guest): real guests built in image files, blkid as the oracle ---
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v mkfs.xfs >/dev/null || need+=(xfsprogs)
command -v mkfs.btrfs >/dev/null || need+=(btrfs-progs)
command -v mkntfs >/dev/null || need+=(ntfs-3g)
command -v cryptsetup >/dev/null || need+=(cryptsetup-bin)
command -v sfdisk >/dev/null || need+=(fdisk)
command -v blkid >/dev/null || need+=(util-linux)
command -v mkswap >/dev/null || need+=(util-linux)
# --- end guest inspector tests ---
for extra in "$@"; do need+=("$extra"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

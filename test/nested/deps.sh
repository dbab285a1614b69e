#!/bin/bash
# deps.sh - install the Debian packages that building and testing kvmini
# need, only those that are missing, so a second run costs a second.
# Runs apt-get update at most once, and only when something is missing.
set -euo pipefail

pkgs=(
	gcc make libc6-dev linux-libc-dev binutils musl-tools nasm file # build
	perl                                # prove, for the TAP tests
	python3-jsonschema                  # the report schema test (/usr/bin/python3)
	man-db groff-base                   # make install: kvmini(1) rendered by man -l
	clang-14 libclang-rt-14-dev         # the fuzz targets (libFuzzer, ASan, UBSan)
	libtsan2                            # make tsan: gcc's ThreadSanitizer runtime
	qemu-system-x86                     # the cross-check and the nested L1
	busybox-static cpio gzip kmod xz-utils zstd # the L1 initramfs
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "# deps: all ${#pkgs[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "# deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null

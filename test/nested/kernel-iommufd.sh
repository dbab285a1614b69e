#!/bin/bash
# kernel-iommufd.sh - make sure the L1 kernel with IOMMUFD is built and
# cached, and print the directory that holds it (bzImage, .config,
# include/ with the uAPI headers for reference).
#
# Debian's own kernels have CONFIG_IOMMUFD off, so the IOMMUFD backend
# (issue 9) is tested on a kernel built here from Debian's
# linux-source-6.12 package with test/nested/iommufd.config merged onto
# tinyconfig.  The build takes about 15 minutes on two cores, once: the
# result is cached in $KVMINI_CACHE/kernel-iommufd/<version>-<hash>/, keyed
# by the source package's version and a hash of the config fragment, so a
# change to either builds anew and every other run costs nothing.
# Progress is printed every 30 s while it builds.
#
# Usage: kernel-iommufd.sh     prints the directory on stdout
# Env:   KVMINI_CACHE          default /var/cache/kvmini
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
frag=$here/iommufd.config
cache=${KVMINI_CACHE:-/var/cache/kvmini}/kernel-iommufd
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/kvmini/kernel-iommufd
	mkdir -p "$cache"
fi
log() { echo "# kernel-iommufd: $*" >&2; }

pkg=linux-source-6.12
ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
	# Lists empty (fresh machine): a cached build of any version will do.
	cached=$(ls -1d "$cache"/*/.done 2>/dev/null | sort -V | tail -n1 || true)
	if [ -n "$cached" ]; then
		dirname "$cached"
		exit 0
	fi
	log "apt lists empty: apt-get update"
	apt-get update -qq >&2
	ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: *//p')
fi
[ -n "$ver" ] && [ "$ver" != "(none)" ] || { log "no $pkg in the apt sources"; exit 1; }
key=$ver-$(sha256sum "$frag" | cut -c1-12)
dir=$cache/$key
if [ -e "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

exec 9>"$cache/.lock"
flock 9
if [ -e "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

t0=$(date +%s)
log "building the IOMMUFD L1 kernel ($pkg $ver), once: about 15 min on 2 cores; cached in $dir"
need=(bc flex bison libelf-dev libssl-dev xz-utils gcc make)
missing=()
for p in "${need[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing build dependencies: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >&2 ||
		{ apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >&2; }
fi

work=$cache/.build-$key
rm -rf "$work"
mkdir -p "$work"
chown _apt "$work" 2>/dev/null || true
log "fetching $pkg=$ver"
(cd "$work" && apt-get download -q "$pkg=$ver" >&2)
dpkg-deb -x "$work"/*.deb "$work/pkg"
tarball=$(ls "$work"/pkg/usr/src/linux-source-*.tar.xz)
log "unpacking $(basename "$tarball")"
tar -C "$work" -xJf "$tarball"
src=$(ls -d "$work"/linux-source-*/)
rm -rf "$work/pkg" "$work"/*.deb

cd "$src"
make -s tinyconfig >&2
./scripts/kconfig/merge_config.sh -m .config "$frag" >/dev/null
make -s olddefconfig >&2
# Every line of the fragment must have survived olddefconfig (a missing
# dependency drops an option silently).
bad=0
while read -r line; do
	case $line in CONFIG_*=y) grep -qx "$line" .config || { log "config lost $line"; bad=1; } ;; esac
done <"$frag"
[ $bad = 0 ] || { log "the config fragment does not hold: see above"; exit 1; }

jobs=$(nproc)
log "make -j$jobs bzImage (log in $src/build.log)"
nice -n 10 make -j"$jobs" bzImage >build.log 2>&1 &
mk=$!
while kill -0 $mk 2>/dev/null; do
	sleep 30
	kill -0 $mk 2>/dev/null || break
	log "still building: $(find . -name '*.o' | wc -l) objects, $(( ($(date +%s) - t0) / 60 )) min"
done
if ! wait $mk; then
	tail -n 30 build.log >&2
	log "build failed (log: $src/build.log)"
	exit 1
fi
make -s headers >&2

out=$cache/.out-$key
rm -rf "$out"
mkdir -p "$out"
cp arch/x86/boot/bzImage .config "$out/"
cp -r usr/include "$out/include"
echo "$pkg $ver" >"$out/source"
touch "$out/.done"
rm -rf "$dir"
mv "$out" "$dir"
cd /
rm -rf "$work"
log "built in $(( ($(date +%s) - t0) / 60 )) min: $dir"
echo "$dir"

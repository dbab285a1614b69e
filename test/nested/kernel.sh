#!/bin/bash
# kernel.sh - make sure a Debian kernel for the nested L1 is unpacked in the
# cache, and print its directory (the root of the unpacked package).
#
# The kernel is never installed: the versioned linux-image package that
# linux-image-amd64 points at is fetched with `apt-get download` and
# unpacked with `dpkg-deb -x` into $KVMINI_CACHE/kernel/<package>/, where
# later runs (and other clones) find it again.  depmod runs on the copy,
# because modules.dep is made by the package's postinst, not shipped in it.
#
# Usage: kernel.sh            prints the directory on stdout
# Env:   KVMINI_CACHE         default /var/cache/kvmini (~/.cache/kvmini when
#                             that is not writable)
#        KVMINI_KERNEL_PKG    force a package (e.g. linux-image-6.1.0-56-amd64)
set -euo pipefail

cache=${KVMINI_CACHE:-/var/cache/kvmini}/kernel
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
	# Not root: a per-user cache does as well.
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/kvmini/kernel
	mkdir -p "$cache"
fi

log() { echo "# kernel: $*" >&2; }

# Which package does linux-image-amd64 depend on right now?  Needs the apt
# lists; on a fresh machine they may be empty, in which case a kernel that
# is already cached is good enough, and otherwise we update them once.
want_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}

pkg=${KVMINI_KERNEL_PKG:-}
if [ -z "$pkg" ]; then
	pkg=$(want_pkg || true)
fi
if [ -z "$pkg" ]; then
	cached=$(ls -1d "$cache"/linux-image-*/.done 2>/dev/null | sort -V | tail -n1 || true)
	if [ -n "$cached" ]; then
		dirname "$cached"
		exit 0
	fi
	log "apt lists empty: apt-get update"
	apt-get update -qq >&2
	pkg=$(want_pkg)
fi
[ -n "$pkg" ] || { log "cannot tell which kernel linux-image-amd64 wants"; exit 1; }

dir=$cache/$pkg
if [ -e "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

# One fetch at a time (two clones testing at once share the cache).
exec 9>"$cache/.lock"
flock 9
if [ -e "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

log "fetching $pkg with apt-get download (once; cached in $cache)"
tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt drops privileges to _apt for downloads; let it write here.
chown _apt "$tmp" 2>/dev/null || true
if ! (cd "$tmp" && apt-get download -q "$pkg" >&2); then
	# Stale lists name a package the mirror no longer has: refresh them
	# and ask again which kernel linux-image-amd64 wants now.
	log "apt-get download failed; trying again after apt-get update"
	apt-get update -qq >&2
	[ -n "${KVMINI_KERNEL_PKG:-}" ] || pkg=$(want_pkg)
	dir=$cache/$pkg
	(cd "$tmp" && apt-get download -q "$pkg" >&2)
fi
deb=$(ls "$tmp"/*.deb)
log "unpacking $(basename "$deb")"
mkdir -p "$tmp/root"
dpkg-deb -x "$deb" "$tmp/root"
kver=$(ls "$tmp/root/lib/modules")
depmod -b "$tmp/root" "$kver"
touch "$tmp/root/.done"
rm -rf "$dir"
mv "$tmp/root" "$dir"
echo "$dir"

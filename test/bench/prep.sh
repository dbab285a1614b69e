#!/bin/bash
# prep.sh - the host side of the start-up benchmark (test/nested/bench/startup.sh
# names it in its "# l1-prep:" line): build the bench programs and gather
# into $BUILD/bench/tree what L1 needs beyond kvmini, to be copied into the
# L1 initramfs (l1.sh --tree):
#   /bench/{floor,floor-irq,timeit,exit.elf}  test/bench/bench.mk
#   /bench/kvmini-base                  BENCH_BASELINE=PATH: an earlier kvmini,
#                                       timed beside this one (before/after)
#   /usr/bin/qemu-system-x86_64 + libs  Debian's QEMU, the peer (ldd)
#   /usr/share/qemu/*                   the firmware it loads (-L)
#   /usr/bin/strace + libs              to break kvmini's start-up down
#   /l2/{vmlinuz,initrd.cpio}           the L2 Linux (test/nested/linux-l2.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
tree=$build/bench/tree

make -C "$root" --no-print-directory BUILD="$build" bench-tools >&2
rm -rf "$tree"
mkdir -p "$tree/bench" "$tree/usr/bin" "$tree/usr/share/qemu" "$tree/l2"
cp "$build/bench/floor" "$build/bench/floor-irq" "$build/bench/timeit" "$build/bench/exit.elf" \
	"$build/guest.elf" "$tree/bench/"
if [ -n "${BENCH_BASELINE:-}" ]; then
	cp "$BENCH_BASELINE" "$tree/bench/kvmini-base"
fi

# A dynamic program and every library ldd finds for it, at the same paths.
with_libs() {
	local bin=$1 lib
	cp "$bin" "$tree/usr/bin/"
	for lib in $(ldd "$bin" | awk '/=> \//{print $3} /^\t\/[^ ]*ld-linux/{print $1}'); do
		mkdir -p "$tree$(dirname "$lib")"
		cp -L "$lib" "$tree$lib"
	done
}
if command -v qemu-system-x86_64 >/dev/null; then
	with_libs "$(command -v qemu-system-x86_64)"
	# q35: SeaBIOS, the -kernel option ROMs; microvm: qboot.
	for f in bios-256k.bin bios-microvm.bin qboot.rom linuxboot_dma.bin pvh.bin kvmvapic.bin \
		multiboot_dma.bin; do
		for d in /usr/share/qemu /usr/share/seabios; do
			[ -e "$d/$f" ] && { cp -L "$d/$f" "$tree/usr/share/qemu/$f"; break; }
		done
	done
else
	echo "prep.sh: no qemu-system-x86_64 on the host: the QEMU cases will SKIP" >&2
fi
command -v strace >/dev/null && with_libs "$(command -v strace)"

BUILD="$build" "$root/test/nested/linux-l2.sh" >&2
cp "$build/nested/linux-l2/vmlinuz" "$build/nested/linux-l2/initrd.cpio" "$tree/l2/"
du -sh "$tree" >&2

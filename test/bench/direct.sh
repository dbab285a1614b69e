#!/bin/bash
# direct.sh - the start-up benchmark (test/nested/bench/startup.sh) run
# directly on this machine's /dev/kvm, no L1, when that KVM runs kvmini:
# `make bench` calls it after the L1 scenarios.  It prints the same "@@@"
# lines the L1 console carries (test/nested/lib.sh's helpers, sourced
# here), with BENCH_HOST=direct in every table row.
#
#   test/bench/direct.sh LOGFILE
#
# Exit status: 0 after a run, 3 when there is nothing to run here (no
# /dev/kvm, or kvmini cannot run the exit image on it: the reason is
# printed), else 1.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
log=${1:?usage: direct.sh LOGFILE}
tree=$build/bench/tree

if [ ! -c /dev/kvm ]; then
	echo "direct: no /dev/kvm on this machine: the direct rows are not measured"
	exit 3
fi
# The tree prep.sh gathered for L1 holds the same programs and the L2 kernel.
[ -x "$tree/bench/timeit" ] || "$root/test/bench/prep.sh" >&2 || exit 1
out=$("$build/kvmini" --kernel "$tree/bench/exit.elf" 2>&1)
rc=$?
if [ $rc != 8 ]; then
	echo "direct: /dev/kvm is there but kvmini cannot run the exit image on it (exit $rc):"
	echo "$out" | head -n 3 | sed 's/^/direct:   /'
	exit 3
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(
	# shellcheck source=../nested/lib.sh
	. "$root/test/nested/lib.sh"
	export BENCH_DIR=$tree/bench L2_DIR=$tree/l2 KVMINI=$build/kvmini BENCH_HOST=direct \
		BENCH_TMP=$tmp L1_KVM=1
	echo "@@@ NOTE direct: $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
	# shellcheck source=../nested/bench/startup.sh
	. "$root/test/nested/bench/startup.sh"
) >"$log" 2>&1

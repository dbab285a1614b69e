#!/bin/bash
# verdict.t - on this host, no guest: `kvmini check OPTIONS` ends with the
# exit status and the words a run with the same OPTIONS ends its setup
# with, whatever stops it first (the command line, the kernel image, KVM,
# a device), since check's verdict is that setup, run up to the guest's
# first instruction.  Without /dev/kvm here most stop at KVM (3) for both;
# the nested smoke scenario has the cases that need KVM (KVM refusing to
# create a VM or an irqchip, --vfio-backend iommufd without IOMMUFD).
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
kvmini=$build/kvmini
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { # STATUS TEXT
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

printf 'not a kernel\n' >"$tmp/junk"
: >"$tmp/empty"
cases=(
	"--kernel /nonexistent"
	"--kernel $tmp/junk"
	"--kernel $tmp/empty"
	"--kernel $build/guest.elf --initrd $tmp/junk"
	"--kernel $build/guest.elf --initrd /nonexistent"
	"--initrd $tmp/junk"
	"--mem 1M"
	"--net bogus"
	"--net tap=abcdefghijklmnopqrst"
	"--vfio 0000:00:00.0"
	"--vfio 0000:00:00.0 --vfio-backend iommufd"
	"--vfio zz"
	"--no-seccomp"
	""
)
for c in "${cases[@]}"; do
	# shellcheck disable=SC2086 # the options are words
	"$kvmini" check $c >"$tmp/check" 2>&1
	crc=$?
	# shellcheck disable=SC2086
	timeout 60 "$kvmini" $c >"$tmp/run" 2>&1 </dev/null
	rrc=$?
	run_line=$(grep '^kvmini: ' "$tmp/run" | tail -1 | sed 's/^kvmini: //')
	check_line=$(sed -n 's/^kvmini check: NOT READY, exit [0-9]*: //p' "$tmp/check")
	# A usage error found while reading the command line stops check
	# where it stops the run: the same one line, no items.
	[ -z "$check_line" ] && check_line=$(sed -n 's/^kvmini: //p' "$tmp/check" | tail -1)
	[ "$crc" = "$rrc" ] && [ "$crc" != 0 ] && [ "$check_line" = "$run_line" ]
	ok $? "check ${c:-(no options)}: exit $crc and the run's exit $rrc, in the same words ($run_line)"
	[ "$check_line" = "$run_line" ] || {
		echo "#   check: $check_line"
		echo "#   run:   $run_line"
	}
done

# Which VFIO node the run needs follows --vfio-backend.
"$kvmini" check --vfio 0000:00:00.0 --vfio-backend iommufd >"$tmp/check" 2>&1
grep -Eq '^(ok|missing|not permitted) +/dev/iommu \(IOMMUFD\): [^(]*$' "$tmp/check" &&
	grep -Eq '^(ok|missing|not permitted) +/dev/vfio/vfio .*\(not needed for this run\)$|^ok +/dev/vfio/vfio' "$tmp/check"
ok $? "--vfio-backend iommufd: /dev/iommu is needed, /dev/vfio/vfio is not"
"$kvmini" check --vfio 0000:00:00.0 --vfio-backend container >"$tmp/check" 2>&1
grep -Eq '^(ok|missing|not permitted) +/dev/vfio/vfio \(VFIO container\): [^(]*$' "$tmp/check" &&
	grep -Eq '^(ok|missing|not permitted) +/dev/iommu .*\(not needed for this run\)$|^ok +/dev/iommu' "$tmp/check"
ok $? "--vfio-backend container: /dev/vfio/vfio is needed, /dev/iommu is not"
echo "1..$n"

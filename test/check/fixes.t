#!/bin/bash
# fixes.t - every `fix:` line `kvmini check` prints is a command line a
# root shell takes as printed: valid sh, no $USER (unset in many root
# shells), prose only after a '#'.  Collected from check runs with options
# that make this host (no /dev/kvm, no IOMMU, no VFIO) miss many items.
# The IOMMU line, the one that edits a file, is also run against a stock
# Debian /etc/default/grub in a private mount namespace (root; else SKIP),
# with update-grub standing in.  The tap fix lines are run for real in
# tap.t; the nested smoke scenario prints those of a host with KVM.
set -uo pipefail
cd "$(dirname "$0")/../.."
kvmini=${BUILD:-build}/kvmini
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { # STATUS TEXT
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

for opts in "" "--vfio 0000:00:00.0" "--vfio 0000:00:00.0 --vfio-backend iommufd" \
	"--vfio 0000:ff:1f.7" "--net tap=kvmnosuchtap" "--net tap=lo"; do
	# shellcheck disable=SC2086 # the options are words
	"$kvmini" check $opts 2>/dev/null | sed -n 's/^ *fix: //p'
done | sort -u >"$tmp/fixes"
[ -s "$tmp/fixes" ]
ok $? "check printed fix lines here ($(wc -l <"$tmp/fixes"))"
while IFS= read -r fix; do
	err=$(sh -n -c "$fix" 2>&1)
	[ -z "$err" ] && ! printf '%s' "$fix" | grep -q '\$USER'
	ok $? "a shell takes it as printed: $fix${err:+ ($err)}"
done <"$tmp/fixes"

iommu=$(grep '/etc/default/grub' "$tmp/fixes" | head -1)
if [ -z "$iommu" ]; then
	n=$((n + 1))
	echo "ok $n # SKIP no IOMMU fix line here (this host has an IOMMU)"
elif [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	n=$((n + 1))
	echo "ok $n # SKIP the IOMMU fix line's run needs root and unshare -m"
else
	mkdir -p "$tmp/default" "$tmp/bin"
	# As Debian 12 installs it.
	printf '%s\n' 'GRUB_DEFAULT=0' 'GRUB_TIMEOUT=5' \
		'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`' \
		'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' 'GRUB_CMDLINE_LINUX=""' >"$tmp/default/grub"
	printf '#!/bin/sh\necho update-grub ran >"%s/ran"\n' "$tmp" >"$tmp/bin/update-grub"
	chmod +x "$tmp/bin/update-grub"
	unshare -m sh -c 'mount --bind "$1" /etc/default && PATH="$2:$PATH" sh -c "$3"' sh \
		"$tmp/default" "$tmp/bin" "$iommu"
	grep -Eq '^GRUB_CMDLINE_LINUX="(intel|amd)_iommu=on "$' "$tmp/default/grub" &&
		[ -f "$tmp/ran" ]
	ok $? "the IOMMU fix line puts the parameter on a stock Debian's kernel command line and runs update-grub"
	sed 's/^/#   /' "$tmp/default/grub" | grep CMDLINE_LINUX=
fi
echo "1..$n"

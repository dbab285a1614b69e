#!/bin/bash
# nested.t - the nested KVM test: boot the L1 once per scenario in
# test/nested/scenarios/ and report everything as one TAP stream.
#
# Add a scenario by dropping test/nested/scenarios/NAME.sh (see lib.sh for
# what it can say, and foundation.sh for an example); "# l1: --no-iommu"
# in it boots that one without the IOMMU.  Run a subset with
#     NESTED_SCENARIOS="foundation pci" test/nested/nested.t
# Console logs: $BUILD/nested/NAME.log (kept for diagnosis).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
build=${BUILD:-build}

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "1..0 # SKIP qemu-system-x86_64 is not installed (make deps)"
	exit 0
fi

if [ -n "${NESTED_SCENARIOS:-}" ]; then
	scenarios=()
	for s in $NESTED_SCENARIOS; do scenarios+=("$here/scenarios/${s%.sh}.sh"); done
else
	scenarios=("$here"/scenarios/*.sh)
fi

n=0
fail=0
for sc in "${scenarios[@]}"; do
	name=$(basename "$sc" .sh)
	log=$build/nested/$name.log
	if [ ! -r "$sc" ]; then
		n=$((n + 1))
		echo "not ok $n - scenario $name exists"
		fail=1
		continue
	fi
	echo "# nested: scenario $name" >&2
	t0=$(date +%s)
	"$here/l1.sh" "$sc" "$log" --dmesg
	rc=$?
	echo "# nested: scenario $name: L1 status $rc, $(($(date +%s) - t0)) s" >&2
	[ -s "$log" ] || : >"$log"
	# Number the parser's lines; remember any failure.
	while IFS= read -r line; do
		case $line in
		"ok - "*) n=$((n + 1)); echo "ok $n ${line#ok }" ;;
		"not ok - "*) n=$((n + 1)); echo "not ok $n ${line#not ok }"; fail=1 ;;
		*) echo "$line" ;;
		esac
	done < <(
		awk -v scenario="$name" -f "$here/tap.awk" "$log"
		# Host-side checks of what the boot printed (scenarios/NAME.post).
		if [ -x "$here/scenarios/$name.post" ]; then "$here/scenarios/$name.post" "$log"; fi
	)
	if [ $rc != 0 ]; then
		n=$((n + 1))
		[ $rc = 124 ] && why="timed out" || why="status $rc"
		echo "not ok $n - $name: L1 powered itself off ($why; console in $log)"
		fail=1
	fi
done

if [ $n = 0 ]; then
	echo "1..1"
	echo "not ok 1 - at least one nested scenario ran"
	exit 1
fi
echo "1..$n"
exit $fail

# lib.sh - sourced by the test-kernel checks under QEMU (multiboot.t,
# smptest.t, s3test.t): the setup they share, TAP's emit, and one boot of
# a test kernel under QEMU's q35 machine (TCG) with its console lines
# parsed.  Each .t keeps its own kernels, arguments and expectations.
#
# The sourcing script sets tmo (the QEMU timeout in seconds) before
# sourcing it, and log (its console log, under $build/qemu) before the first
# boot_kernel.  Without qemu-system-x86_64 the script skips here.
set -uo pipefail

cd "$(dirname "$0")/../.."
build=${BUILD:-build}
mkdir -p "$build/qemu"

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "1..0 # SKIP qemu-system-x86_64 is not installed (make deps)"
	exit 0
fi
n=0
fail=0
emit() {
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

# boot_kernel NAME QEMU-ARGS...: boot a test kernel whose lines start with
# NAME (mbtest, ...) under QEMU, its console appended to $log.  Sets rc
# (QEMU's status; 124 on timeout), done_line (its "NAME: done, ..." line)
# and, one element per "ok N - what" / "not ok N - what" line it printed,
# check_res (ok or not-ok, emit's words) and check_what.
boot_kernel() {
	local name=$1 line
	shift
	local qemu=(qemu-system-x86_64 -M q35 -accel tcg -m 128M -nographic -nic none -no-reboot
		"$@")
	echo "# ${qemu[*]}" >>"$log"
	timeout -k 5 "$tmo" "${qemu[@]}" </dev/null >"$log.one" 2>&1
	rc=$?
	cat "$log.one" >>"$log"
	done_line=
	check_res=()
	check_what=()
	while IFS= read -r line; do
		line=${line//$'\r'/}
		# SeaBIOS's banner shares the line with the kernel's first output.
		line=${line##*Booting from ROM..}
		if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ (.*)$ ]]; then
			[ -z "${BASH_REMATCH[1]}" ] && check_res+=(ok) || check_res+=(not-ok)
			check_what+=("${BASH_REMATCH[2]}")
		elif [[ $line =~ ^$name:\ done ]]; then
			done_line=$line
		fi
	done <"$log.one"
	rm -f "$log.one"
}

# emit_checks PREFIX: one TAP line per check of the last boot_kernel.
emit_checks() {
	local i
	for i in "${!check_what[@]}"; do
		emit "${check_res[i]}" "$1${check_what[i]}"
	done
}

# finish TITLE: the tail of the console after a failure, the plan, the status.
finish() {
	if [ $fail = 1 ]; then
		echo "# $1 (last 30 lines of $log):"
		tail -n 30 "$log" | sed 's/\r//g; s/^/#   | /'
	fi
	echo "1..$n"
	exit $fail
}

#!/bin/bash
# s3test.t - the S3 test kernel (test/multiboot/s3test.asm) under QEMU's
# own machine (qemu-system-x86_64 -kernel, TCG): it suspends to ACPI S3
# with the RTC alarm armed, QEMU wakes it at the FACS waking vector, and
# its verdict goes through isa-debug-exit (status 1 when every check
# passed).  kvmini must agree: test/nested/scenarios/testkernels.sh,
# case s3-wake.
#
# Env: S3TEST (default build/test/s3test.elf), QEMU_TIMEOUT (default 90 s).
set -uo pipefail

cd "$(dirname "$0")/../.."
build=${BUILD:-build}
kernel=${S3TEST:-$build/test/s3test.elf}
tmo=${QEMU_TIMEOUT:-90}
log=$build/qemu/s3test.log
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
if [ ! -r "$kernel" ]; then
	emit not-ok "$kernel exists (run make)"
	echo "1..$n"
	exit 1
fi
qemu=(qemu-system-x86_64 -M q35 -accel tcg -m 128M -nographic -nic none -no-reboot
	-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$kernel")
echo "# ${qemu[*]}" >"$log"
timeout -k 5 "$tmo" "${qemu[@]}" </dev/null >"$log.one" 2>&1
rc=$?
cat "$log.one" >>"$log"
nchecks=0
done_line=
while IFS= read -r line; do
	line=${line//$'\r'/}
	line=${line##*Booting from ROM..}
	if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ (.*)$ ]]; then
		nchecks=$((nchecks + 1))
		[ -z "${BASH_REMATCH[1]}" ] && emit ok "under QEMU: ${BASH_REMATCH[2]}" ||
			emit not-ok "under QEMU: ${BASH_REMATCH[2]}"
	elif [[ $line =~ ^s3test:\ done ]]; then
		done_line=$line
	fi
done <"$log.one"
rm -f "$log.one"
[ $nchecks = 6 ] && emit ok "the kernel printed its 6 checks" ||
	emit not-ok "the kernel printed its 6 checks (saw $nchecks)"
[ "$done_line" = "s3test: done, 0 failed" ] && emit ok "done, 0 failed" ||
	emit not-ok "done, 0 failed (got '${done_line:-nothing}')"
[ $rc = 1 ] && emit ok "QEMU exited 1 through isa-debug-exit" ||
	emit not-ok "QEMU exited 1 through isa-debug-exit (status $rc)"
if [ $fail = 1 ]; then
	echo "# console (last 30 lines of $log):"
	tail -n 30 "$log" | sed 's/\r//g; s/^/#   | /'
fi
echo "1..$n"
exit $fail

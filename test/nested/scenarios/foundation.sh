# foundation.sh - issue 2: kvmini boots its embedded guest under KVM in L1,
# reports the guest's checks, and turns bad input into clear exit codes.
# Runs inside the nested L1 (see test/nested/lib.sh for the helpers).

# The embedded guest with no options: its banner on stdout, every check it
# reports becomes a TAP line, exit status = the guest's status.
case_run default checks 'match=^kvmini tiny guest' -- kvmini

# --stats prints the exit counts at the end.
case_run stats checks 'match=^kvmini: stats' 'match=VM exits: [1-9]' -- kvmini --stats

case_run version lines=1 'match=^kvmini [0-9]' -- kvmini --version
case_run help 'match=--stats' -- kvmini --help

# Bad input: one line saying what is wrong, and the documented exit code
# (vmm/trace.h): 2 usage, 3 no /dev/kvm, 5 bad --kernel.
case_run bad-option rc=2 lines=1 'match=^kvmini: ' -- kvmini --no-such-option
case_run bad-mem-small rc=2 lines=1 'match=^kvmini: ' -- kvmini --mem 1K
case_run bad-mem-large rc=2 lines=1 'match=^kvmini: ' -- kvmini --mem 4G
case_run kernel-missing rc=5 lines=1 'match=^kvmini: ' -- kvmini --kernel /nonexistent
echo 'not an ELF file' >/tmp/notelf
case_run kernel-not-elf rc=5 lines=1 'match=^kvmini: ' -- kvmini --kernel /tmp/notelf
# An ELF without a PVH note: busybox itself.
case_run kernel-no-pvh rc=5 lines=1 'match=^kvmini: ' -- kvmini --kernel /bin/busybox

# Without /dev/kvm (moved away for one case; root ignores file modes).
mv /dev/kvm /dev/kvm.away
case_run no-kvm rc=3 lines=1 'match=^kvmini: ' -- kvmini
mv /dev/kvm.away /dev/kvm

# foundation.sh - issue 2: kvmini boots its embedded guest under KVM in L1.
# Runs inside the nested L1 (see test/nested/lib.sh for the helpers).

# The embedded guest with no options: exit status = the guest's status,
# every check it reports becomes a TAP line.
case_run default checks -- kvmini

# --stats prints the exit counts at the end.
case_run stats checks 'match=^kvmini: stats' -- kvmini --stats

# --version: one line, status 0.
case_run version lines=1 'match=kvmini' -- kvmini --version

# A usage error: status 2 and exactly one line saying what is wrong.
case_run bad-option rc=2 lines=1 'match=^kvmini: ' -- kvmini --no-such-option

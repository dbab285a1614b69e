# startup.sh - how long one kvmini run of the embedded guest takes in L1,
# from exec to exit (VM creation, load, guest checks, teardown), and how
# many VM exits it needed.  Median of 5 runs; TCG makes times noisy.
runs=5
times=
i=0
while [ $i -lt $runs ]; do
	t0=$(uptime_ms)
	kvmini --stats >/tmp/out.$i 2>&1
	rc=$?
	times="$times $(($(uptime_ms) - t0))"
	i=$((i + 1))
done
# One run through case_run too, so a broken kvmini fails the benchmark.
case_run startup-check checks -- kvmini
median=$(echo $times | tr ' ' '\n' | sort -n | sed -n "$(((runs + 1) / 2))p")
note "startup times (ms):$times"
bench kvmini_run_median "$median" ms
# Exits per run as --stats counts them ("VM exits: N"): a stable figure.
exits=$(sed -n 's/^ *VM exits: *\([0-9][0-9]*\).*/\1/p' /tmp/out.0 | head -n1)
if [ -n "$exits" ]; then
	bench kvmini_vm_exits "$exits" exits
else
	note "no 'VM exits:' line in kvmini --stats"
fi

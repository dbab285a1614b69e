# tap.awk - turn the console log of one nested L1 boot into TAP lines.
#
# Input: the L1 console log (kernel messages, "@@@ " markers from init and
# lib.sh, and the output of the cases).  Output: unnumbered TAP lines
# ("ok - ...", "not ok - ...", "# ...") prefixed with the scenario name;
# the caller numbers them and prints the plan.  Never passes silently: an
# L1 that did not boot, had no /dev/kvm, ran no case, or stopped in the
# middle of a case gives "not ok" lines.
#
# Variables: -v scenario=NAME
#
# Markers are found anywhere on a line, because the output before them may
# lack its final newline (or a kernel message may have cut in).

function tap(ok, desc) {
	print (ok ? "ok" : "not ok") " - " scenario ": " desc
	if (!ok)
		nfail++
	ntests++
}

function comment(s) {
	print "# " s
}

# Show the output of a case that failed, for diagnosis from a CI log.
function dump(name,   i, from) {
	from = nout > 60 ? nout - 60 : 0
	comment("output of " name (from ? " (last 60 lines)" : "") ":")
	for (i = from + 1; i <= nout; i++)
		comment("  | " out[i])
}

function add_output(s) {
	if (cur == "")
		return
	# Kernel messages ("[    2.345678] ...") are not the case's output.
	if (s ~ /^\[ *[0-9]+\.[0-9]+\] /)
		return
	out[++nout] = s
}

function finish_case(name, rc, ms,   i, k, kind, arg, ok, n, seen, done, st, line) {
	comment(name ": exit status " rc " after " ms " ms")
	failed_before = nfail
	if (timedout[name])
		tap(0, name ": finished within its timeout")
	for (k = 1; k <= nexp[name]; k++) {
		kind = expk[name, k]
		arg = expa[name, k]
		if (kind == "rc") {
			tap(rc == arg, name ": exit status " rc (rc == arg ? "" : ", expected " arg))
		} else if (kind == "match") {
			ok = 0
			for (i = 1; i <= nout; i++)
				if (out[i] ~ arg) { ok = 1; break }
			tap(ok, name ": output matches /" arg "/")
		} else if (kind == "nomatch") {
			ok = 1
			for (i = 1; i <= nout; i++)
				if (out[i] ~ arg) { ok = 0; break }
			tap(ok, name ": output does not match /" arg "/")
		} else if (kind == "lines") {
			n = 0
			for (i = 1; i <= nout; i++)
				if (out[i] != "")
					n++
			tap(n == arg, name ": " n " output line(s), expected " arg)
		} else if (kind == "checks") {
			seen = 0
			done = ""
			for (i = 1; i <= nout; i++) {
				line = out[i]
				if (match(line, /kvmini: check [0-9]+ (passed|FAILED): /)) {
					st = substr(line, RSTART + 14)
					n = st
					sub(/ .*/, "", n)
					ok = (st ~ /^[0-9]+ passed: /)
					sub(/^[0-9]+ (passed|FAILED): /, "", st)
					tap(ok, name ": guest check " n ": " st)
					seen++
				}
				if (match(line, /kvmini: guest done, status [0-9]+/))
					done = substr(line, RSTART + 27, RLENGTH - 27)
			}
			if (!seen)
				tap(0, name ": the guest reported checks (none seen)")
			tap(done != "", name ": the guest reported it was done" (done != "" ? " (status " done ")" : " (no \"kvmini: guest done\" line)"))
		} else {
			tap(0, name ": unknown expectation '" kind "'")
		}
	}
	if (nfail > failed_before)
		dump(name)
	ncases++
	cur = ""
}

BEGIN {
	cur = ""
	nout = 0
	ntests = nfail = ncases = 0
	l1_up = kvm_seen = sc_begin = sc_end = l1_done = 0
	indmesg = 0
}

{
	gsub(/\r/, "")
	line = $0
	p = index(line, "@@@ ")
	if (p == 0) {
		if (!indmesg)
			add_output(line)
		next
	}
	if (p > 1) {
		if (!indmesg)
			add_output(substr(line, 1, p - 1))
		line = substr(line, p)
	}
	nf = split(line, f, " ")
	m = f[2]
	rest = line
	sub(/^@@@ [A-Z0-9]+ ?/, "", rest)
}

indmesg && m != "DMESG" { next }

m == "DMESG" { indmesg = (f[3] == "BEGIN"); next }

m == "L1" && f[3] == "UP" { l1_up = 1; comment("L1 " rest); next }

m == "L1" && f[3] == "KVM" {
	kvm_seen = 1
	why = rest
	sub(/^KVM [a-z]+ ?/, "", why)
	tap(f[4] == "yes", "L1 has /dev/kvm " why)
	next
}

m == "L1" && f[3] == "DONE" { l1_done = 1; comment("L1 " rest); next }

m == "L1" { comment("L1 " rest); next }

m == "SCENARIO" && f[3] == "BEGIN" { sc_begin = 1; next }

m == "SCENARIO" && f[3] == "END" {
	sc_end = 1
	comment("scenario script finished, " f[4])
	next
}

m == "EXPECT" {
	name = f[3]
	kind = f[4]
	arg = rest
	sub(/^[^ ]+ [^ ]+ ?/, "", arg)
	k = ++nexp[name]
	expk[name, k] = kind
	expa[name, k] = arg
	next
}

m == "BEGIN" {
	if (cur != "") {
		tap(0, cur ": ended before the next case began")
		dump(cur)
	}
	cur = f[3]
	sub(/:$/, "", cur)
	nout = 0
	comment(rest)
	next
}

m == "TIMEOUT" { timedout[f[3]] = 1; next }

m == "END" {
	name = f[3]
	rc = f[4]
	sub(/^rc=/, "", rc)
	ms = f[5]
	sub(/^ms=/, "", ms)
	if (name == cur)
		finish_case(name, rc, ms)
	next
}

m == "CHECK" {
	name = rest
	sub(/^[^ ]+ /, "", name)
	tap(f[3] == "ok", name)
	next
}

m == "NOTE" { comment(rest); next }

m == "BENCH" { comment("bench " rest); next }

{ add_output(line) }

END {
	if (!l1_up)
		tap(0, "L1 booted to its init (see the console log)")
	else if (!kvm_seen)
		tap(0, "L1 has /dev/kvm (no report from init)")
	if (cur != "") {
		tap(0, cur ": ran to completion (L1 stopped or timed out during it)")
		dump(cur)
	}
	if (l1_up && !sc_end)
		tap(0, "scenario ran to its end")
	if (l1_up && ncases == 0)
		tap(0, "scenario ran at least one case")
	if (l1_up && !l1_done)
		comment("L1 did not reach its power-off")
}

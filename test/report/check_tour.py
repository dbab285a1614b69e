#!/usr/bin/python3
# check_tour.py TOUR LOG CASE - every line quoted in a ```trace block of
# docs/tour.md must appear in the output of case CASE of the L1 log.  In a
# quoted line, <...> (anything in angle brackets) stands for a part that
# varies: numbers, addresses, sizes, BDFs.  Prints TAP lines without
# numbers.
import re
import sys

import console

tour = open(sys.argv[1]).read()
cases, _ = console.read(sys.argv[2])
t = console.Tap("tour")
out = cases.get(sys.argv[3], {}).get("out", [])
if not t(bool(out), f"the tour's command ran in L1 (case {sys.argv[3]})"):
    sys.exit(0)
quoted = []
for block in re.findall(r"```trace\n(.*?)```", tour, re.S):
    quoted += [l.rstrip() for l in block.splitlines() if l.strip()]
t(len(quoted) >= 10, f"docs/tour.md quotes {len(quoted)} trace lines")


def pattern(q):
    parts = re.split(r"<[^<>]*>", q)
    return re.compile("^" + ".+?".join(re.escape(p) for p in parts) + "$")


missing = [q for q in quoted if not any(pattern(q).match(l.rstrip()) for l in out)]
t(not missing, f"all {len(quoted)} quoted lines still appear in the output",
  "\n".join("gone: " + m for m in missing))

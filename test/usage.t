#!/bin/bash
# usage.t - the three texts of kvmini's usage agree.  `kvmini --help`
# (vmm/cli.c) is the source; the README's usage block is its output
# verbatim (between <!-- usage:begin --> and <!-- usage:end -->), and each
# option's entry in kvmini(1)'s OPTIONS begins with --help's description of
# it (and may say more after).  Whoever adds or changes an option changes
# all three; this names the option that is missing or differs (to refresh
# the README's block, paste `build/kvmini --help` between the markers).  Needs no
# /dev/kvm; the man page part needs groff (make deps).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
if ! "$build/kvmini" --help >/dev/null 2>&1; then
	echo "1..1"
	echo "not ok 1 - $build/kvmini --help runs (build it first)"
	exit 0
fi
man_txt=
if command -v groff >/dev/null; then
	# One line per paragraph (a very long line length, no hyphenation),
	# plain ASCII, no overstriking: easy to compare.
	man_txt=$(groff -man -Tascii -P-cbou -rLL=4000n -rHY=0 docs/kvmini.1 2>&1)
fi
/usr/bin/python3 - README.md "$man_txt" "$("$build/kvmini" --help; echo .)" <<'PY'
import re
import sys

help_txt = sys.argv[3][:-1]  # the "." keeps the output's last newline
readme = open(sys.argv[1]).read()
man = sys.argv[2]
n = 0


def tap(ok, desc, why=""):
    global n
    n += 1
    print(("ok" if ok else "not ok") + f" {n} - {desc}")
    if not ok and why:
        for line in str(why).splitlines()[:30]:
            print("#   " + line)


def norm(s):
    s = re.sub(r"\s+", " ", s).strip().rstrip(".")
    return s[:1].lower() + s[1:]


# --help: "  [-x, ]--name [ARG]   description" and its indented continuations.
opts = []  # (header, description)
for line in help_txt.splitlines():
    m = re.match(r"^  ((?:-[A-Za-z], )?--[a-z][a-z-]*(?: [A-Z]+)?)(?: {2,}(.*))?$", line)
    if m:
        opts.append([m.group(1), m.group(2) or ""])
    elif opts and re.match(r"^ {6,}\S", line):
        opts[-1][1] += " " + line.strip()
    elif line.strip() == "" or not line.startswith("  "):
        if opts and line.strip() == "":
            pass
tap(len(opts) >= 10, f"--help lists its options ({len(opts)} found)")
names = [re.search(r"--[a-z-]+", h).group(0) for h, _ in opts]

# README: the block between the markers is --help's output, verbatim.
m = re.search(r"<!-- usage:begin -->\n```\n(.*?)```\n<!-- usage:end -->", readme, re.S)
block = m.group(1) if m else ""
tap(bool(m), "README.md has the usage block (<!-- usage:begin --> ... <!-- usage:end -->)")
missing = [h for h, _ in opts if not re.search(r"(?m)^  " + re.escape(h) + r"( |$)", block)]
tap(not missing, "every option of --help is in the README's usage block"
    + (f" (missing or spelled differently: {', '.join(missing)})" if missing else ""))
if block != help_txt:
    import difflib
    diff = "\n".join(difflib.unified_diff(block.splitlines(), help_txt.splitlines(),
                                          "README.md usage block", "kvmini --help", lineterm="", n=1))
else:
    diff = ""
tap(bool(m) and block == help_txt, "the README's usage block is `kvmini --help`, verbatim", diff)

# kvmini(1): OPTIONS entries, header at 7 spaces, text at 14.
if not man:
    print(f"ok {n + 1} # SKIP groff is not installed (make deps): kvmini(1) not compared")
    n += 1
else:
    sec = re.search(r"(?ms)^OPTIONS\n(.*?)(?=^\S)", man)
    entries, cur = {}, None
    for line in (sec.group(1) if sec else "").splitlines():
        if re.match(r"^ {7}-", line):
            cur = re.sub(r"\s+", " ", line.strip())
            entries[cur] = ""
        elif cur and line.strip():
            entries[cur] += " " + line.strip()
    tap(bool(entries), f"kvmini(1) has an OPTIONS section ({len(entries)} entries)")
    heads = {h: h for h in entries}
    missing = [h for h, _ in opts if h not in heads]
    tap(not missing, "every option of --help has an entry in kvmini(1) OPTIONS, spelled alike"
        + (f" (missing: {', '.join(missing)})" if missing else ""),
        "kvmini(1) has: " + ", ".join(entries))
    extra = [h for h in entries if h not in [o for o, _ in opts]]
    tap(not extra, "kvmini(1) OPTIONS has no option --help lacks"
        + (f" (extra: {', '.join(extra)})" if extra else ""))
    for h, d in opts:
        if h not in entries:
            continue
        want, have = norm(d), norm(entries[h])
        tap(have.startswith(want),
            f"kvmini(1)'s {h} begins with --help's description",
            f"--help:    {want}\nkvmini(1): {have}")
print(f"1..{n}")
PY

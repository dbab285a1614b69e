# console.py - read a nested L1 console log (test/nested/init, lib.sh):
# the output and status of each case_run, and the "@@@ JSON NAME {...}"
# lines of scenarios/smoke.sh.
import json
import re

KERNEL = re.compile(r"^\[ *[0-9]+\.[0-9]+\] ")


def read(path):
    cases, reports, cur = {}, {}, None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n").replace("\r", "")
            p = line.find("@@@ ")
            head, marker = (line, None) if p < 0 else (line[:p], line[p:])
            if cur is not None and head and not KERNEL.match(head):
                cases[cur]["out"].append(head)
            if marker is None:
                continue
            f2 = marker.split(" ", 3)
            if f2[1] == "BEGIN":
                cur = f2[2].rstrip(":")
                cases[cur] = {"out": [], "rc": None}
            elif f2[1] == "END" and cur is not None:
                m = re.search(r"rc=(\d+)", marker)
                cases[cur]["rc"] = int(m.group(1)) if m else None
                cur = None
            elif f2[1] == "JSON" and len(f2) == 4:
                try:
                    reports[f2[2]] = json.loads(f2[3])
                except ValueError as e:
                    reports[f2[2]] = e
    return cases, reports


class Tap:
    def __init__(self, prefix):
        self.prefix, self.failed = prefix, 0

    def __call__(self, ok, desc, why=""):
        print(("ok" if ok else "not ok") + " - " + self.prefix + ": " + desc)
        if not ok:
            self.failed += 1
            for w in str(why).splitlines()[:20]:
                print("#   " + w)
        return ok

#!/usr/bin/python3
# check_reports.py SCHEMA LOG [NAME...] - the --report files of
# scenarios/smoke.sh against docs/report.schema.json, and against what
# kvmini printed in the same case: status, check items, guest checks,
# devices.  NAMEs limit it to those reports (test/report/report.t checks a
# "check" report made on this host).  Prints TAP lines without numbers.
import re
import sys

import jsonschema

import console

schema = __import__("json").load(open(sys.argv[1]))
cases, reports = console.read(sys.argv[2])
t = console.Tap("report")

validator = jsonschema.Draft7Validator(schema)
t(True, "schema is a valid draft-07 schema") if not list(
    jsonschema.Draft7Validator(jsonschema.Draft7Validator.META_SCHEMA).iter_errors(schema)
) else t(False, "schema is a valid draft-07 schema")

WANT = sys.argv[3:] or ["check", "check-no-tap", "recipe-check", "recipe-run"]
for name in WANT:
    r = reports.get(name)
    if not isinstance(r, dict) or not r:
        t(False, f"{name}: report present and JSON", r)
        continue
    errs = sorted(validator.iter_errors(r), key=str)
    t(not errs, f"{name}: valid against docs/report.schema.json",
      "\n".join(f"{list(e.path)}: {e.message}" for e in errs[:5]))


def item_lines(r):
    out = []
    for it in r.get("items", []):
        bad = it["state"] in ("missing", "not permitted")
        out.append(f"{it['state']:<14} {it['text']}" +
                   (" (not needed for this run)" if bad and not it["needed"] else ""))
        if bad and "fix" in it:
            out.append(f"{'':<14} fix: {it['fix']}")
    return out


def in_order(want, have):
    i = 0
    for line in have:
        if i < len(want) and line == want[i]:
            i += 1
    return i == len(want), (want[i] if i < len(want) else "")


def check_mode(rname, cname):
    r, c = reports.get(rname), cases.get(cname)
    if not isinstance(r, dict) or not c:
        return t(False, f"{rname}: report and case {cname} both there")
    if cname == rname:
        t(r["status"] == c["rc"], f"{rname}: status {r['status']} is the exit status {c['rc']}")
    ok, miss = in_order(item_lines(r), c["out"])
    t(ok and len(r["items"]) > 0, f"{rname}: its {len(r['items'])} items are the lines printed",
      "first not printed: " + miss)
    if r["status"]:
        t(any(l.startswith(f"kvmini check: NOT READY, exit {r['status']}: {r['reason']}")
              for l in c["out"]), f"{rname}: reason is the NOT READY line")
    h = r["host"]
    kvm_line = any(l.startswith("ok ") and "/dev/kvm: opened" in l for l in c["out"])
    t((h["kvm"] == "ok") == kvm_line, f"{rname}: host.kvm agrees with the /dev/kvm line")
    io_line = any(re.match(r"^ok +IOMMU: ", l) for l in c["out"])
    t(h["iommu"]["active"] == io_line, f"{rname}: host.iommu.active agrees with the IOMMU line")


for rname in WANT:
    if rname != "recipe-run" and isinstance(reports.get(rname), dict):
        check_mode(rname, "recipe" if rname == "recipe-check" else rname)

r, c = reports.get("recipe-run"), cases.get("recipe")
if "recipe-run" not in WANT:
    pass
elif isinstance(r, dict) and c:
    t(r["mode"] == "run" and r["status"] == c["rc"],
      f"recipe-run: status {r.get('status')} is the recipe's exit status {c['rc']}")
    printed = [(int(m.group(1)), m.group(2) == "passed", m.group(3)) for m in
               (re.match(r"^kvmini: check (\d+) (passed|FAILED): (.*)$", l) for l in c["out"]) if m]
    got = [(x["id"], x["passed"], x["name"]) for x in r["checks"]]
    t(got == printed and r["checks_total"] == len(printed),
      f"recipe-run: the {len(got)} checks are the {len(printed)} lines printed")
    devs = {d["name"].split(" ")[0]: d for d in r["devices"]}
    v = devs.get("vfio", {})
    bar0 = [b for b in v.get("bars", []) if b["bar"] == "BAR0"]
    t(v.get("vendor") == "1234" and v.get("device") == "11e8" and v.get("backend") == "container",
      "recipe-run: edu is a device, backend container", v)
    t(bar0 and bar0[0]["size"] == 0x100000 and bar0[0]["path"] == "mmap" and bar0[0]["mapped"],
      "recipe-run: edu BAR0 1 MiB, mmap path, placed", bar0)
    tour = cases.get("tour", {"out": []})["out"]
    t(any(re.search(r"bars: BAR0: mmapped at .*fast path", l) for l in tour) == (
        bool(bar0) and bar0[0]["path"] == "mmap"),
      "recipe-run: BAR0 path agrees with the tour's trace (mmapped, fast path)")
    t(devs.get("virtio-net", {}).get("backend") == "tap", "recipe-run: virtio-net backend tap")
    tm = r["timings_ms"]
    t(tm["setup"] > 0 and tm["run"] > 0, f"recipe-run: timings setup {tm['setup']} ms, run {tm['run']} ms")
    t(r["reason"] == "the guest reported success" and r["status"] == 0,
      "recipe-run: reason says the guest reported success")
else:
    t(False, "recipe-run: report and the recipe case both there")
sys.exit(0)

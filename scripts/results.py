#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge cowswap QEMU console logs and summarise runs.

  results.py judge --arch A --variant V --log console.log --json out.json ...
      Parse one console log: /init markers, TAP from each test binary,
      kernel splats, the DEBUG_VM_PGTABLE boot check. Print a verdict and
      exit 0 only if the outcome equals --expect.

  results.py summary <results-dir> [--timings file --since epoch]
      Collect every */result.json below the directory into summary.json
      and summary.md (architecture x variant x test). Exit 0 only if every
      baseline run reproduced the bug and every other run passed.

Outcomes: "pass" (healthy boot, every TAP line ok or SKIP), "reproduced"
(healthy boot, the O_DIRECT reproducer failed), "fail" (another test
failed), "error" (no usable result: panic, Oops, BUG, WARNING, timeout,
missing or truncated TAP, test binary crashed).
"""
import argparse
import glob
import json
import os
import re
import sys
import time

REPRODUCER = "odirect_inflight/"

SPLATS = [
    (re.compile(r"Kernel panic"), "kernel panic"),
    (re.compile(r"\bOops\b|Unable to handle kernel|general protection fault"), "kernel Oops"),
    (re.compile(r"\bBUG:|kernel BUG at"), "kernel BUG"),
    (re.compile(r"WARNING:"), "kernel WARNING"),
    # SLUB debugging: "BUG kmalloc-64 (Not tainted): Redzone overwritten"
    (re.compile(r"^BUG [\w.:-]+ \("), "slab corruption"),
    (re.compile(r"INFO: .*detected stalls?|INFO: task .* blocked for more than"), "stall"),
    (re.compile(r"Out of memory"), "OOM kill"),
    (re.compile(r"\bRIP: |Call [Tt]race:"), "kernel stack trace"),
]
TAP = re.compile(r"^(not ok|ok)\s+(\d+)\s*(?:-\s*)?(.*?)\s*(?:#\s*(SKIP|TODO|XFAIL|XPASS)\b\s*(.*))?$",
                 re.IGNORECASE)
PLAN = re.compile(r"^1\.\.(\d+)")
PGTABLE = re.compile(r"debug_vm_pgtable.*Validating architecture page table helpers")
# printk timestamps, "[    1.234567] "
STAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")


def judge(args):
    with open(args.log, "rb") as f:
        text = f.read().decode("utf-8", "replace").replace("\r", "")
    lines = text.split("\n")
    problems = []
    tests = []
    binaries = {}
    splats = []
    started = done = pgtable = False
    current = None
    diag = []

    for raw in lines:
        line = STAMP.sub("", raw)
        for rx, what in SPLATS:
            if rx.search(line):
                splats.append(f"{what}: {line.strip()[:160]}")
                break
        if PGTABLE.search(line):
            pgtable = True
        if line.startswith("COWSWAP-INIT start"):
            started = True
        elif line.startswith("COWSWAP-DONE"):
            done = True
        elif line.startswith("COWSWAP-BEGIN "):
            current = line.split()[1]
            binaries[current] = {"plan": None, "seen": 0, "exit": None}
        elif line.startswith("COWSWAP-END ") and current:
            m = re.search(r"exit=(\S+)", line)
            binaries[current]["exit"] = m.group(1) if m else "?"
            current = None
        elif current:
            if line.startswith("# ") and not line.startswith("# Totals"):
                diag.append(line[2:].strip())
                continue
            m = PLAN.match(line)
            if m:
                binaries[current]["plan"] = int(m.group(1))
                continue
            m = TAP.match(line)
            if m:
                ok, num, name, directive, reason = m.groups()
                directive = (directive or "").upper()
                reason = (reason or "").strip()
                if not name and reason:
                    # kselftest.h prints skips as "ok N # SKIP <message>":
                    # our tests start the message with the test's name.
                    name, _, reason = reason.partition(" ")
                    name = name.rstrip(":")
                if directive == "SKIP":
                    result = "SKIP"
                elif ok == "ok" or directive in ("TODO", "XFAIL"):
                    result = "PASS"
                else:
                    result = "FAIL"
                binaries[current]["seen"] += 1
                tests.append({"binary": current, "name": name or f"test{num}",
                              "result": result, "reason": reason.strip(),
                              "diag": diag[-6:]})
                diag = []

    if not text.strip():
        problems.append(f"console log is empty: QEMU printed nothing (exit {args.qemu_exit}); "
                        "is the kernel's console driver configured?")
    if args.qemu_exit in (124, 137):
        problems.append(f"guest timed out after {args.timeout}s (no COWSWAP-DONE)")
    # QEMU's stderr is in the log too: when QEMU itself gave up (bad
    # option, missing file) before the guest said anything, name its
    # complaint instead of blaming the guest.
    qemu_said = [ln.strip() for ln in text.splitlines()
                 if re.match(r"qemu-system-\S+: ", ln.strip())]
    if not started and args.qemu_exit not in (0, 124, 137) and qemu_said:
        problems.append(f"QEMU exited with status {args.qemu_exit} before the kernel ran: "
                        f"{qemu_said[0]}")
    elif not started:
        problems.append("/init never started (no COWSWAP-INIT line on the console)")
    elif not done and args.qemu_exit not in (124, 137):
        problems.append("guest stopped before /init finished: TAP truncated")
    if not binaries and started:
        problems.append("no test binary ran: TAP missing")
    for name, b in binaries.items():
        if b["exit"] is None:
            problems.append(f"{name}: no end marker, TAP truncated")
            continue
        if b["plan"] is None:
            problems.append(f"{name}: no TAP plan line")
        elif b["seen"] != b["plan"]:
            problems.append(f"{name}: TAP plan says {b['plan']} tests, {b['seen']} reported")
        if b["exit"] not in ("0", "1", "4"):
            problems.append(f"{name}: exited with {b['exit']} (crash or setup failure)")
    problems += splats[:5]
    if started:
        tests.append({"binary": "kernel", "name": "debug_vm_pgtable",
                      "result": "PASS" if pgtable and not splats else "FAIL",
                      "reason": "" if pgtable else "no 'Validating architecture page table helpers' line"})

    failed = [t["name"] for t in tests if t["result"] == "FAIL"]
    exit_fail = [n for n, b in binaries.items() if b["exit"] == "1"]
    if exit_fail and not failed:
        problems.append(f"{', '.join(exit_fail)}: exit code KSFT_FAIL without a failing TAP line")
    if problems:
        outcome = "error"
    elif any(n.startswith(REPRODUCER) for n in failed):
        outcome = "reproduced"
    elif failed:
        outcome = "fail"
    else:
        outcome = "pass"

    prefixes = args.must_fail.split()
    missing = [p for p in prefixes if not any(n.startswith(p) for n in failed)]
    # A deliberate bug must be caught by the checks written for it, and
    # by no other: anything else failing means a check is not specific.
    extra = [n for n in failed if prefixes and not any(n.startswith(p) for p in prefixes)]
    ok = outcome == args.expect and not missing and not extra
    if missing:
        problems = problems + [f"expected these tests to fail: {', '.join(missing)}"]
    if extra:
        problems = problems + [f"failed beyond the deliberate bug: {', '.join(extra)}"]
    result = {
        "arch": args.arch, "variant": args.variant, "outcome": outcome,
        "expected": args.expect, "ok": ok,
        "seconds": args.seconds, "problems": problems, "failed": failed,
        "tests": tests, "log": os.path.abspath(args.log),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    counts = {r: sum(1 for t in tests if t["result"] == r) for r in ("PASS", "FAIL", "SKIP")}
    tag = "as expected" if result["ok"] else f"EXPECTED {args.expect.upper()}"
    if args.must_fail and result["ok"]:
        tag += f", caught: {args.must_fail.strip()}"
    print(f"{args.arch}/{args.variant}: {outcome.upper()} ({tag}) in {args.seconds}s: "
          f"{counts['PASS']} pass, {counts['FAIL']} fail, {counts['SKIP']} skip")
    for p in problems:
        print(f"  problem: {p}")
    for n in failed:
        print(f"  failed: {n}")
    return 0 if result["ok"] else 1


def summary(args):
    runs = []
    for path in sorted(glob.glob(os.path.join(args.dir, "*", "result.json"))):
        with open(path) as f:
            runs.append(json.load(f))
    if not runs:
        print(f"no results under {args.dir}", file=sys.stderr)
        return 1
    cols = [f"{r['arch']}/{r['variant']}" for r in runs]
    names = []
    for r in runs:
        for t in r["tests"]:
            if t["name"] not in names:
                names.append(t["name"])
    md = ["| test | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    md.append("| **outcome** | " + " | ".join(
        f"**{r['outcome'].upper()}**" + ("" if r["ok"] else " (unexpected)") for r in runs) + " |")
    md.append("| time (s) | " + " | ".join(str(r["seconds"]) for r in runs) + " |")
    for n in names:
        cells = []
        for r in runs:
            res = [t["result"] for t in r["tests"] if t["name"] == n]
            cells.append(res[0] if res else "–")
        md.append(f"| {n} | " + " | ".join(cells) + " |")
    evidence = []
    for r in runs:
        for t in r["tests"]:
            summary_lines = [d for d in t.get("diag", []) if "iterations lost" in d]
            if t["name"].startswith(REPRODUCER) and summary_lines:
                evidence.append(f"- {r['arch']}/{r['variant']} {t['name']} {t['result']}: "
                                + summary_lines[0])
    if evidence:
        md += ["", "Evidence (reproducer diagnostics):", ""] + evidence
    problems = [f"- {r['arch']}/{r['variant']}: {p}" for r in runs for p in r["problems"]]
    if problems:
        md += ["", "Problems:", ""] + problems
    if args.timings and os.path.exists(args.timings):
        md += ["", "| stage | seconds | status |", "|---|---|---|"]
        with open(args.timings) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 4:
                    continue
                stamp, name, secs, rc = parts
                if stamp >= args.since:
                    md.append(f"| {name} | {secs} | {'ok' if rc == '0' else 'FAILED'} |")
    ok = all(r["ok"] for r in runs)
    verdict = "MATRIX OK" if ok else "MATRIX FAILED"
    md += ["", f"{verdict}: baseline must be REPRODUCED, upstream and patched PASS"
           + (", mutant FAIL in the tests its bugs target." if any(r["variant"].startswith("mutant") for r in runs) else ".")]
    with open(os.path.join(args.dir, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(args.dir, "summary.json"), "w") as f:
        json.dump({"ok": ok, "runs": runs}, f, indent=1)
    print("\n".join(md))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    j = sub.add_parser("judge")
    j.add_argument("--arch", required=True)
    j.add_argument("--variant", required=True)
    j.add_argument("--expect", default="pass", choices=["pass", "reproduced", "fail", "error"])
    j.add_argument("--must-fail", default="", help="test name prefixes that must fail")
    j.add_argument("--qemu-exit", type=int, default=0)
    j.add_argument("--timeout", type=int, default=0)
    j.add_argument("--seconds", type=int, default=0)
    j.add_argument("--log", required=True)
    j.add_argument("--json", required=True)
    s = sub.add_parser("summary")
    s.add_argument("dir")
    s.add_argument("--timings")
    s.add_argument("--since", default="")
    a = p.parse_args()
    sys.exit(judge(a) if a.cmd == "judge" else summary(a))


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: GPL-2.0
"""6.1's own mm selftests (tools/testing/selftests/vm) as a regression
suite: the judge of the vmtests boots (scripts/vmtests.sh, docs/vmtests.md).

A vmtests boot runs the runner scripts/guest/vmtests.c (COWSWAP-BEGIN
vmtests), which prints one TAP line per test of scripts/guest/vmtests.list
and the test's own output before it as "# " lines:

  judge_log     one console log -> the kernel's result: per test PASS,
                FAIL or SKIP with its reason and output; problems (the
                boot went wrong, a kernel splat, a test missing, reported
                twice or not in the list, a SKIP without a reason)
  compare       the kernels of each record: a test that passes on a
                kernel without the series (baseline, upstream; stock) and
                fails or SKIPs on the one with it (patched; fixed) is a
                regression; a test failing on both is "fails on both"
  render        the Markdown table, test x kernel, and what the
                comparison found
  report        a run directory's vmtests/<record>-<variant>/console.log
                files -> <run>/vmtests.json and <run>/vmtests.md

The suite FAILs on a regression, on a kernel whose boot has problems, and
on a failure of a series kernel that no reference kernel of its record
was run to compare with.
"""
import argparse
import glob
import json
import os
import re
import sys

from cowswap import TOP, console
from cowswap.judge import boot_problems, parse_console

LIST = os.path.join(TOP, "scripts", "guest", "vmtests.list")
BINARY = "vmtests"
# The kernels with the series and, for each, the kernels without it that
# it is compared with (main series: the pre-fix baseline and the shipped
# upstream code; 6.1-LTS: stock 6.1).
REFERENCES = {"patched": ("baseline", "upstream"), "fixed": ("stock",)}
VARIANT_ORDER = ("baseline", "patched", "upstream", "stock", "fixed")
RESULT = re.compile(r"^(not ok|ok) (\d+) (\S+)(?: # (SKIP)\b ?(.*)| # (.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)$")
# the colours some tests print (khugepaged's OK / Fail)
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
# lines of a test's output kept in the report (the last ones), and of
# each line its end (khugepaged's progress is one long line)
KEEP = 12
WIDTH = 240
# Console lines that a test asks the kernel for, and so no splat:
# gup_test -ct -F 0x1 (DUMP_USER_PAGES_TEST) has the kernel dump_page()
# the pages it pinned, which prints "page dumped because: <reason>".
INTENDED = [re.compile(r"page dumped because: gup_test: dump_pages\(\) test")]


def catalogue(path=LIST):
    """The test names of vmtests.list, in order."""
    names = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                names.append(line.split("|", 1)[0].strip())
    return names


def parse_tests(text):
    """(tests, plan, exit) of the runner's part of a console log: tests is
    a list of {name, result, reason, output, seconds} in the order seen."""
    tests, out, plan, exit_code, inside = [], [], None, None, False
    for line in console.plain(text):
        line = line.rstrip()
        if line == f"COWSWAP-BEGIN {BINARY}":
            inside = True
            continue
        if not inside:
            continue
        if line.startswith(f"COWSWAP-END {BINARY} "):
            m = re.search(r"exit=(\S+)", line)
            exit_code = m.group(1) if m else "?"
            break
        if PLAN.match(line):
            plan = int(PLAN.match(line).group(1))
            continue
        m = RESULT.match(line)
        if m:
            ok, _, name, skip, reason, why = m.groups()
            seconds = None
            if out and out[-1].startswith(f"{name}: "):
                s = re.search(r", ([\d.]+) s$", out[-1])
                seconds = float(s.group(1)) if s else None
            result = "SKIP" if skip else ("PASS" if ok == "ok" else "FAIL")
            tests.append({"name": name, "result": result,
                          "reason": (reason if skip else why or "").strip(),
                          "output": out[-KEEP:], "seconds": seconds})
            out = []
        elif line.startswith("# ") or line == "#":
            text = COLOUR.sub("", line[2:])
            out.append(text if len(text) <= WIDTH else "..." + text[-WIDTH:])
    return tests, plan, exit_code


def judge_log(text, record, variant, names, qemu_exit=0, timeout=900):
    """The result of one kernel: {record, variant, tests: {name: test},
    problems, ok}."""
    con = parse_console(text)
    problems = boot_problems(con, qemu_exit, timeout)
    problems += sorted({s for s in con.splats if not any(rx.search(s) for rx in INTENDED)})
    found, plan, exit_code = parse_tests(text)
    if BINARY not in con.binaries:
        problems.append(f"the {BINARY} runner did not start (no COWSWAP-BEGIN {BINARY})")
    elif exit_code is None:
        problems.append(f"{BINARY}: no end marker, its TAP is truncated")
    elif exit_code not in ("0", "1"):
        problems.append(f"{BINARY}: the runner exited with {exit_code}")
    if plan is not None and plan != len(found):
        problems.append(f"{BINARY}: plan says {plan} tests, {len(found)} reported")
    tests = {}
    for t in found:
        if t["name"] in tests:
            problems.append(f"{t['name']}: reported twice")
        elif t["name"] not in names:
            problems.append(f"{t['name']}: not a test of vmtests.list")
        tests[t["name"]] = t
        if t["result"] == "SKIP" and not t["reason"]:
            problems.append(f"{t['name']}: SKIP without a reason")
    missing = [n for n in names if n not in tests]
    if missing and BINARY in con.binaries:
        problems.append(f"not reported: {', '.join(missing)}")
    return {"record": record, "variant": variant, "tests": tests,
            "problems": problems, "ok": not problems}


def kernel_key(k):
    v = k["variant"]
    return (k["record"], VARIANT_ORDER.index(v) if v in VARIANT_ORDER else len(VARIANT_ORDER), v)


def label(k):
    return f"{k['record']} {k['variant']}"


def compare(kernels):
    """What the kernels of each record say together: a dict with lists
    regressions, fails_on_both, unjudged, fixed_by_series (each entry:
    record, test, with, without and the series kernel's output) and
    errors (kernels whose boot had problems), and the verdict."""
    by = {(k["record"], k["variant"]): k for k in kernels}
    found = {"regressions": [], "fails_on_both": [], "unjudged": [], "fixed_by_series": []}
    for k in sorted(kernels, key=kernel_key):
        refs = [by[(k["record"], r)] for r in REFERENCES.get(k["variant"], ())
                if (k["record"], r) in by]
        if k["variant"] not in REFERENCES:
            continue
        for name, t in k["tests"].items():
            entry = {"record": k["record"], "test": name, "with": k["variant"],
                     "reason": t["reason"], "output": t["output"]}
            ref_results = {r["variant"]: r["tests"].get(name, {}).get("result", "MISSING")
                           for r in refs}
            passed = [v for v, res in ref_results.items() if res == "PASS"]
            failed = [v for v, res in ref_results.items() if res == "FAIL"]
            if t["result"] in ("FAIL", "SKIP") and passed:
                found["regressions"].append(dict(entry, without=passed, result=t["result"]))
            elif t["result"] == "FAIL" and failed:
                found["fails_on_both"].append(dict(entry, without=failed))
            elif t["result"] == "FAIL":
                found["unjudged"].append(dict(entry, without=sorted(ref_results)))
            elif t["result"] == "PASS" and failed:
                found["fixed_by_series"].append(dict(entry, without=failed))
    found["errors"] = [{"kernel": label(k), "problems": k["problems"]}
                       for k in sorted(kernels, key=kernel_key) if k["problems"]]
    bad = found["regressions"] or found["unjudged"] or found["errors"] or not kernels
    found["verdict"] = "FAIL" if bad else "PASS"
    return found


def cell(t, reasons):
    if t is None:
        return "–"
    if t["result"] == "SKIP":
        if t["reason"] not in reasons:
            reasons.append(t["reason"])
        return f"skip [{reasons.index(t['reason']) + 1}]"
    if t["result"] == "PASS":
        # the runner's retry=: "passed after K failed run(s)"
        return "pass (retried)" if t["reason"] else "pass"
    return "**FAIL**"


def render(data):
    """The Markdown lines of a report (data: report()'s dict)."""
    kernels = sorted(data["kernels"], key=kernel_key)
    names = list(data["names"])
    for k in kernels:
        names += [n for n in k["tests"] if n not in names]
    reasons = []
    head = ["test"] + [label(k) for k in kernels]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n in names:
        lines.append("| " + " | ".join([f"`{n}`"] + [cell(k["tests"].get(n), reasons)
                                                      for k in kernels]) + " |")
    counts = []
    for k in kernels:
        c = {r: sum(1 for t in k["tests"].values() if t["result"] == r)
             for r in ("PASS", "FAIL", "SKIP")}
        counts.append(f"{label(k)} {c['PASS']}/{c['FAIL']}/{c['SKIP']}")
    # notes as "- " lines: report.py's HTML keeps those under the table
    lines += ["", "- pass/fail/skip: " + ", ".join(counts) + "."]
    lines += [f"- skip [{i}]: {r}" for i, r in enumerate(reasons, 1)]
    c = data["comparison"]
    lines.append(f"- **{c['verdict']}**: "
                 + (f"{len(c['regressions'])} regression(s)" if c["regressions"]
                    else "no test that passes without the series fails or SKIPs with it")
                 + f"; {len(c['fails_on_both'])} test(s) fail on both.")
    for what, title in (("regressions", "regression (passes without the series, not with it)"),
                        ("unjudged", "fails, and no kernel without the series to compare with"),
                        ("fails_on_both", "fails on both (not a regression)"),
                        ("fixed_by_series", "fails without the series, passes with it")):
        for e in c[what]:
            lines.append(f"- {title}: `{e['test']}` on {e['record']}, {e.get('result', 'FAIL')} "
                         f"on {e['with']}, {'/'.join(e['without']) or 'not run'} without"
                         + (f" ({e['reason']})" if e["reason"] else ""))
            if what != "fixed_by_series" and e["output"]:
                lines += ["", "  ```"] + [f"  {ln}" for ln in e["output"][-6:]] + ["  ```", ""]
    for k in kernels:
        for n, t in k["tests"].items():
            if t["result"] == "PASS" and t["reason"]:
                lines.append(f"- retried: `{n}` on {label(k)}: {t['reason']}")
    for e in c["errors"]:
        lines.append(f"- problems of {e['kernel']}: " + "; ".join(e["problems"]))
    return lines


def guest_dirs(run_dir):
    return sorted(d for d in glob.glob(os.path.join(run_dir, BINARY, "*"))
                  if os.path.isfile(os.path.join(d, "console.log")))


def judge_dir(d, names):
    """judge_log of one guest directory (<record>-<variant>/: console.log
    and run-qemu.sh's qemu.exit)."""
    record, variant = os.path.basename(d).rsplit("-", 1)
    rc, timeout = 0, 900
    try:
        with open(os.path.join(d, "qemu.exit")) as f:
            rc = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        rc = -1
    return judge_log(console.read(os.path.join(d, "console.log")), record, variant, names, rc, timeout)


def report(run_dir, names=None):
    """The report dict of a run: {names, kernels, comparison}."""
    names = names or catalogue()
    kernels = [judge_dir(d, names) for d in guest_dirs(run_dir)]
    return {"names": names, "kernels": kernels, "comparison": compare(kernels)}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m cowswap.vmtests",
                                 description="judge and tabulate the vmtests boots of a run")
    ap.add_argument("run_dir", help="out/results/<run>: its vmtests/<record>-<variant>/ boots")
    ap.add_argument("--list", default=LIST, help="the test list (default scripts/guest/vmtests.list)")
    args = ap.parse_args(argv)
    if not guest_dirs(args.run_dir):
        print(f"vmtests: no {BINARY}/<record>-<variant>/console.log under {args.run_dir}",
              file=sys.stderr)
        return 2
    data = report(args.run_dir, catalogue(args.list))
    md = render(data)
    with open(os.path.join(args.run_dir, "vmtests.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.run_dir, "vmtests.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    return 0 if data["comparison"]["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())

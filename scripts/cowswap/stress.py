# SPDX-License-Identifier: GPL-2.0
"""Tabulate scripts/stress.sh runs.

  stress_report.py <results-dir> --runs <run>[:pass|fail|caught] ... [--fragments "debug"]

<run> is a run directory (<arch>-<variant>[-debug]); "fail" is what the
baseline must show, "caught" what a mutant must. Runs already in
<results-dir>/stress.json that are not named again are kept (the exit
status covers only the named ones).

For each run directory (console.log, result.json from run-qemu.sh) read the
COWSWAP-STRESS line of stress/swap_stress.c and scan the console for kernel
splats with a wider set of patterns than the judge (results.py) uses, so
that a debug report the judge would not notice is shown as such. Writes
stress.json and stress.md into the results directory and exits 0 when
every run is as expected: "pass" = judged pass, no corruption, no splat;
"fail" (the baseline) = corruptions found, no splat, no crash or hang;
"caught" (a mutant) = its deliberate bug noticed, by corrupted data or by
a kernel splat (the kernel's own sanity checks count).
A run whose race worker ran but never saw its two faulters overlap did
not test the races and is not as expected either.
"""
import argparse
import json
import os
import re
import sys

from cowswap import console
from cowswap.judge import SPLATS as JUDGE_SPLATS  # the judge's own splat patterns
from cowswap.judge import ExpectWindows

# What the debug options of configs/debug.config print. The first match of
# a line names it; "judged" tells whether results.py's SPLATS match it too.
DEBUG_SPLATS = [
    (re.compile(r"BUG: KASAN:"), "KASAN"),
    (re.compile(r"BUG: KFENCE:"), "KFENCE"),
    (re.compile(r"WARNING: .*(locking|lock state|lock order|lock inversion|unlock balance"
                r"|locks held|held lock freed|lock held when returning|suspicious RCU usage"
                r"|Nested lock)"), "lockdep"),
    (re.compile(r"INFO: trying to register non-static key"), "lockdep"),
    (re.compile(r"BUG: (sleeping function called|scheduling while atomic)"), "atomic sleep"),
    (re.compile(r"kernel BUG at mm/page_table_check\.c"), "page_table_check"),
    (re.compile(r"BUG: Bad (page state|page map|rss-counter|page cache)"), "mm state"),
    (re.compile(r"(list_add|list_del) corruption"), "DEBUG_LIST"),
    (re.compile(r"^BUG [\w.:-]+ \(.*\): "), "SLUB debug"),
    (re.compile(r"rcu: INFO: |INFO: rcu_\w+ (self-)?detected stall"), "RCU stall"),
    (re.compile(r"INFO: task .* blocked for more than"), "hung task"),
    (re.compile(r"BUG: soft lockup|BUG: workqueue lockup|hard LOCKUP"), "lockup"),
    (re.compile(r"Out of memory|invoked oom-killer"), "OOM"),
    (re.compile(r"Call trace:"), "stack trace (arm64)"),
] + [(rx, what) for rx, what in JUDGE_SPLATS]
# Stack traces follow a report's header line; alone they are a splat.
TRACES = ("stack trace (arm64)", "kernel stack trace")
# What the debug options say at boot when they are really on: evidence
# that a "+debug" run was not a plain kernel (build.sh checks the .config;
# this checks the kernel that ran). KASAN stays off on ppc64 with the hash
# MMU and says so; DEBUG_PAGEALLOC and PAGE_TABLE_CHECK print nothing.
ACTIVE = [
    # arm64, x86 and s390 "KernelAddressSanitizer initialized", arm "kasan:
    # Kernel address sanitizer initialized", powerpc "KASAN init done";
    # 6.1's riscv prints nothing (its row then shows no KASAN)
    (re.compile(r"KernelAddressSanitizer initialized|Kernel address sanitizer initialized"
                r"|KASAN init done"), "KASAN"),
    (re.compile(r"Lock dependency validator"), "lockdep"),
    (re.compile(r"kfence: initialized"), "KFENCE"),
    (re.compile(r"page owner found early allocated"), "page_owner"),
]


def judged(line):
    return any(rx.search(line) for rx, _ in JUDGE_SPLATS)


def scan(log):
    stress, splats, corrupt, tap, active = None, [], [], [], []
    last_header = -1000
    expect = ExpectWindows()
    for n, line in enumerate(console.plain(console.read(log))):
        if expect.feed(line):
            continue
        if line.startswith("COWSWAP-STRESS "):
            try:
                stress = json.loads(line[len("COWSWAP-STRESS "):])
            except ValueError:
                stress = {"unparsable": line[:200]}
            continue
        if "CORRUPTION" in line and line.startswith("# "):
            corrupt.append(line[2:].strip())
        if re.match(r"^(not )?ok \d+ stress/", line):
            tap.append(line.strip())
        for rx, what in ACTIVE:
            if what not in active and rx.search(line):
                active.append(what)
        for rx, what in DEBUG_SPLATS:
            if not rx.search(line):
                continue
            if expect.allows(what):
                break   # provoked on purpose: the fault worker's failing swap area
            if what not in TRACES:
                last_header = n
            elif n - last_header < 80:
                break   # the stack trace of a report already counted
            splats.append({"what": what, "line": line.strip()[:200],
                           "judged": judged(line)})
            break
    return stress, splats, corrupt, tap, active, expect.seen


def read_run(d, run, expect, fragments):
    """One run directory: its result.json, its console's COWSWAP-STRESS
    line, splats and corruption messages."""
    r = {"run": run, "fragments": fragments, "expected": expect,
         "outcome": "error", "problems": [], "log": os.path.join(d, "console.log")}
    if os.path.exists(os.path.join(d, "build-failed")):
        with open(os.path.join(d, "build-failed")) as f:
            r["problems"].append(f.read().strip())
    if os.path.exists(os.path.join(d, "result.json")):
        with open(os.path.join(d, "result.json")) as f:
            j = json.load(f)
        r.update(arch=j["arch"], variant=j["variant"], outcome=j["outcome"],
                 wall_seconds=j["seconds"])
        r["problems"] += j["problems"]
    if not os.path.exists(r["log"]):
        r["splats"] = []
        return r
    stress, splats, corrupt, tap, active, provoked = scan(r["log"])
    r.update(splats=splats, corruption_messages=corrupt[:20], tap=tap,
             debug_active=active, provoked=provoked)
    if stress:
        r.update(stress=stress, seconds=stress.get("seconds"),
                 ops=stress.get("ops", {}),
                 pages_verified=stress.get("pages_verified"),
                 corruptions=stress.get("corruptions"),
                 errors=stress.get("errors"))
    else:
        r["problems"].append("no COWSWAP-STRESS line: the stress test did not finish")
    return r


def why_not(r, expect):
    """Why the run is not what it should be, one reason each."""
    nsplat = len(r.get("splats", []))
    bad = r.get("corruptions")
    st = r.get("stress") or {}
    why = []
    if expect == "pass":
        if r["outcome"] != "pass":
            why.append(f"judged {r['outcome'].upper()}, expected PASS")
        if bad != 0:
            why.append(f"{bad if bad is not None else 'unknown'} corruptions, expected 0")
    elif expect == "caught":
        # A mutant: either symptom of its bug will do, the report says which.
        if not bad and not nsplat:
            why.append("the mutant went unnoticed: no data lost, no kernel splat")
    else:
        # The baseline: data lost, but nothing else wrong.
        if r["outcome"] != "fail":
            why.append(f"judged {r['outcome'].upper()}, expected FAIL (data loss)")
        if not bad:
            why.append("no data lost: the stress did not reproduce the bug")
        if r.get("errors"):
            why.append(f"{r['errors']} errors of the test machinery")
        for what in ("hung", "crashed"):
            if st.get(what):
                why.append(f"a worker {what}")
    if nsplat and expect != "caught":
        why.append(f"{nsplat} kernel splats")
    ops = r.get("ops", {})
    if ops.get("race_iterations") and not ops.get("race_overlapped"):
        why.append(f"the race worker's two faulters never overlapped in "
                   f"{ops['race_iterations']} iterations")
    kinds = st.get("kinds", {})
    if kinds.get("fault", {}).get("workers") and not ops.get("faults_injected"):
        why.append("the fault worker injected no fault")
    elif ops.get("faults_injected") and not (ops.get("fault_writes_failed")
                                             or ops.get("fault_reads_failed")):
        why.append(f"{ops['faults_injected']} fault windows, but no write or read of the "
                   "fault worker's pages failed: the faults hit nothing")
    if ops.get("memcg_touches") and not ops.get("memcg_high_events"):
        why.append("the memcg worker never went over its memory.high: no reclaim by the limit")
    return why


def faults_cell(r):
    """The fault and memcg workers' counters, for the table."""
    ops = r.get("ops", {})
    if "faults_injected" not in ops:
        return "–"
    return ("{} injected ({} writes failed, reads made to fail under {} pages), {} SIGBUS, "
            "{} swapoffs; memcg {} high events").format(
                ops["faults_injected"], ops.get("fault_writes_failed", 0),
                ops.get("fault_reads_failed", 0), ops.get("sigbus_seen", 0),
                ops.get("fault_swapoffs", 0), ops.get("memcg_high_events", 0))


def table_row(r, d):
    """The Markdown line of one run."""
    ops = r.get("ops", {})
    total = sum(v for k, v in ops.items() if k != "ksm_pages_sharing_max")
    key = ", ".join(f"{k} {ops[k]}" for k in (
        "pageout", "page_writes", "odirect_reads", "odirect_slow_reads", "odirect_raced",
        "forks", "race_forks", "swapoff", "ksm_pages_sharing_max", "pressure_sweeps",
        "pressure_pages") if k in ops)
    if r.get("stress", {}).get("swap_used_max_kb") is not None:
        key += f", max swap used {r['stress']['swap_used_max_kb'] >> 10} MiB"
    if "race_iterations" in ops:
        races = "{} of {} ({} read/write)".format(
            ops["race_overlapped"], ops["race_iterations"], ops.get("race_read_overlapped", 0))
        forks = "{} of {}".format(ops.get("race_fork_overlapped", 0), ops.get("race_forks", 0))
    else:
        races = forks = "–"
    vm = r.get("stress", {}).get("vmstat", {})
    thp = "–"
    if vm:
        thp = "{} faulted, {} swapped out whole, {} split".format(
            vm.get("thp_fault_alloc", "?"), vm.get("thp_swpout", "?"),
            vm.get("thp_split_page", "?"))
        if "race_thp" in ops:
            thp += ", {} in the race region".format(ops["race_thp"])
    spl = r.get("splats", [])
    spl_txt = str(len(spl))
    if spl:
        kinds = sorted({s["what"] for s in spl})
        spl_txt += " (" + ", ".join(kinds) + ")"
    kernel = ("+" + r["fragments"] if r["fragments"] else "plain") + (
        " ({})".format(", ".join(r["debug_active"])) if r.get("debug_active") else "")
    return ("| {} | {} | {} | **{}**{} | {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} "
            "| {} | {} |".format(
                r.get("arch", r["run"]), r.get("variant", "?"), kernel,
                r["outcome"].upper(), "" if r["ok"] else " (unexpected)",
                r.get("seconds", "–"), r.get("wall_seconds", "–"), total, key,
                races, forks, thp, faults_cell(r), r.get("pages_verified", "–"),
                r.get("corruptions", "–"), spl_txt, os.path.relpath(r["log"], d)))


def report_md(out, d, ok):
    """stress.md: the table, the details, the verdict."""
    md = ["| arch | variant | kernel (active at boot) | outcome | stress s | wall s | ops "
          "| races overlapped | forks raced | THP | faults | pages verified | corruptions "
          "| splats | log |", "|---" * 15 + "|"]
    md += [table_row(r, d) for r in out]
    notes = []
    for r in out:
        for w in r.get("why", []):
            notes.append(f"- {r['run']}: not as expected: {w}")
        for p in r["problems"]:
            notes.append(f"- {r['run']}: {p}")
        for m in r.get("corruption_messages", [])[:5]:
            notes.append(f"- {r['run']}: {m}")
        if r.get("provoked"):
            notes.append(f"- {r['run']}: provoked on purpose (cowswap: expect windows): "
                         + ", ".join(f"{n} {w}" for w, n in sorted(r["provoked"].items())))
        for s in r.get("splats", [])[:10]:
            notes.append(f"- {r['run']}: {s['what']}{'' if s['judged'] else ' (NOT matched by results.py)'}: "
                         f"`{s['line']}`")
    if notes:
        md += ["", "Details:", ""] + notes
    md += ["", ("STRESS OK" if ok else "STRESS FAILED") +
           ": every kernel must come out without corruption and without a kernel splat, "
           "except the baseline, which must lose O_DIRECT data (FAIL) with nothing else "
           "going wrong, and a mutant, whose bug must be noticed (corrupted data or a "
           "kernel splat)."]
    return md


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--fragments", default="debug")
    a = p.parse_args()

    out = []
    for spec in a.runs:
        run, _, expect = spec.partition(":")
        expect = expect or "pass"
        if expect not in ("pass", "fail", "caught"):
            p.error(f"{spec}: expected outcome must be pass, fail or caught")
        r = read_run(os.path.join(a.dir, run), run, expect, a.fragments)
        r["why"] = why_not(r, expect)
        r["ok"] = not r["why"]
        out.append(r)

    ok = all(r["ok"] for r in out)
    path = os.path.join(a.dir, "stress.json")
    named = {r["run"] for r in out}
    if os.path.exists(path):
        with open(path) as f:
            out = [r for r in json.load(f).get("runs", []) if r["run"] not in named] + out
    with open(path, "w") as f:
        json.dump({"ok": all(r["ok"] for r in out), "runs": out}, f, indent=1)

    md = report_md(out, a.dir, ok)
    with open(os.path.join(a.dir, "stress.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

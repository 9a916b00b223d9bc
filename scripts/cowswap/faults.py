# SPDX-License-Identifier: GPL-2.0
"""The fault checks and the stress test's fault and memcg workers, as data
and as tables (docs/faults.md).

A "faults" snapshot (cowswap.rundata) is made from one or more run
directories:

- a boot of the selftest (<guest>/result.json, written by the judge)
  gives one entry of "boots": its kernel, verdict and command, the
  judge's splats and the messages it let by on purpose, and for each
  fault check (the memcg and faulty setups, swapoff_writeback,
  fork_odirect_inflight) its verdict, its failure message and what its
  TAP diagnostic lines counted (iterations that lost data, writes that
  failed, SIGBUS, wrong pages, pages under writeback);
- a stress run (stress.json, written by stress_report.py) gives one
  entry of "stress" per kernel it ran: runs, operations, fault windows,
  the fault worker's own failed writes, SIGBUS, swapoffs, corruptions,
  splats.

A number the run did not print is None, shown as "not recorded": a
table cell is never made up.
"""
import json
import os
import re
import shlex

from cowswap.judge import SPLATS, run_label
from cowswap.rundata import column_key
from cowswap.tables import table

# Which checks are the fault checks: every check of these setups, and
# these checks in whichever setup they run.
FAULT_SETUPS = ("memcg", "faulty")
FAULT_CHECKS = ("swapoff_writeback", "fork_odirect_inflight", "memcg_oom_swapin")
NOT_RECORDED = "not recorded"

# What the selftest prints before a fault check's TAP line (ksft_print_msg
# in selftests/swap_exclusive/{faults,odirect,stable_writes,memcg}.c).
COUNTERS = [
    (re.compile(r"writes failed for (?P<writes_failed>\d+) of (?P<paged_out>\d+) pages paged out"),
     int),
    (re.compile(r"(?P<intact>\d+) of (?P<pages>\d+) pages intact, (?P<sigbus>\d+) SIGBUS, "
                r"(?P<wrong>\d+) wrong; after swapoff: (?P<intact_after>\d+) intact, "
                r"(?P<sigbus_after>\d+) SIGBUS, (?P<wrong_after>\d+) wrong; "
                r"SwapTotal (?P<total0>\d+) -> (?P<total1>\d+) kB, "
                r"SwapFree (?P<free0>\d+) -> (?P<free1>\d+) kB"), int),
    (re.compile(r"(?P<lost>\d+) of (?P<iterations>\d+) iterations lost data; "
                r"(?P<raced>\d+) raced"), int),
    (re.compile(r"swapoff with (?P<writeback>\d+) of (?P<wb_pages>\d+) pages under writeback: "
                r"(?P<not_back>\d+) not back or wrong, (?P<copied>\d+) copied"), int),
    (re.compile(r"read (?P<read>in flight|already done) when the child wrote; "
                r"child (?P<child>(?:exited with|killed by signal) \d+)"), str),
    (re.compile(r"victim (?P<victim>(?:killed by signal|exited with) \d+); memory\.events of its "
                r"cgroup: max (?P<max_events>\d+), oom_kill (?P<oom_kill>\d+)"), str),
]
SPLAT_KINDS = {what for _, what in SPLATS}


def is_fault_check(name):
    check, _, setup = name.partition("/")
    return setup in FAULT_SETUPS or check in FAULT_CHECKS


def counters(diag):
    """The numbers one check's diagnostic lines print."""
    out = {}
    for line in diag:
        for rx, conv in COUNTERS:
            m = rx.search(line)
            if m:
                out.update({k: conv(v) if v.isdigit() else v for k, v in m.groupdict().items()})
    return out


def message(t):
    """Why a check failed or was skipped, as it said so ('<name>: ...')."""
    if t["result"] == "SKIP":
        return t.get("reason") or ""
    for line in reversed(t.get("diag", [])):
        if line.startswith(t["name"] + ": "):
            return line[len(t["name"]) + 2:]
    return t.get("lost") or t.get("reason") or ""


def check_entry(t):
    return {"name": t["name"], "result": t["result"], "message": message(t)
            if t["result"] != "PASS" else "", "counts": counters(t.get("diag", []))}


def default_expect(variant):
    """run-qemu.sh's EXPECT when none is given."""
    if variant.startswith("mutant"):
        return "fail"
    return "reproduced" if variant in ("baseline", "stock") else "pass"


def boot_command(run, r):
    """The command that writes <run>/<guest>/result.json with these
    settings (run-qemu.sh's environment, from what the judge recorded)."""
    env = [f"RUN_ID={run}"]
    if r["variant"].startswith("mutant-"):
        env.append(f"MUTATION={r['variant'][len('mutant-'):]}")
    if r.get("disks", "full") != "full":
        env.append(f"DISKS={r['disks']}")
    runner = {"kselftest": "1", "kselftest-tree": "tree"}.get(r.get("runner", "direct"))
    if runner:
        env.append(f"KSFT_RUNNER={runner}")
    if r.get("selftest_args", "").strip():
        env.append("SELFTEST_ARGS=" + shlex.quote(r["selftest_args"].strip()))
    if r.get("expected") and r["expected"] != default_expect(r["variant"]):
        env.append(f"EXPECT={r['expected']}")
    return " ".join(env + ["scripts/run-qemu.sh", "<record>", "<variant>"])


def judge_splats(r):
    """The splats the judge counted against the boot (its problems
    '<kind>: <line>'; it keeps the first five)."""
    return [p for p in r.get("problems", []) if p.split(":", 1)[0] in SPLAT_KINDS]


BAIL = re.compile(r"^swap_exclusive: Bail out! (\S+) (.*)$")


def bailed(r, reported):
    """A fault check the selftest's supervisor gave up on (it hung: no
    TAP line, a 'Bail out!' naming it, which the judge keeps)."""
    out = []
    for p in r.get("problems", []):
        m = BAIL.match(p)
        if m and is_fault_check(m.group(1)) and m.group(1) not in reported:
            out.append({"name": m.group(1), "result": "BAIL", "message": m.group(2),
                        "counts": {}})
    return out


def boot_entry(run, guest, r):
    """One selftest boot's fault checks; None when it ran none."""
    checks = [check_entry(t) for t in r.get("tests", [])
              if t.get("binary") == "swap_exclusive" and is_fault_check(t["name"])]
    checks += bailed(r, {c["name"] for c in checks})
    if not checks:
        return None
    return {"run": run, "guest": guest, "record": r["arch"], "variant": r["variant"],
            "column": run_label(r).split("/", 1)[1], "outcome": r["outcome"],
            "expected": r.get("expected", ""), "ok": r["ok"], "date": r.get("date", ""),
            "command": boot_command(run, r), "splats": judge_splats(r),
            "problems": [p for p in r.get("problems", []) if p not in judge_splats(r)
                         and not any(BAIL.match(p) and BAIL.match(p).group(1) == c["name"]
                                     for c in checks)],
            "provoked": r.get("expected_kernel_messages") or {}, "checks": checks}


STRESS_OPS = ("faults_injected", "fault_writes_failed", "fault_reads_failed", "sigbus_seen",
              "fault_swapoffs", "memcg_touches", "memcg_high_events")


STRESS_HEADER = re.compile(r"^# swap_stress: (\d+) s,", re.M)


def stress_seconds(d, r):
    """The stress phase's length: from its COWSWAP-STRESS line, else from
    the header swap_stress prints first (a run that froze has only that)."""
    if (r.get("stress") or {}).get("seconds") is not None:
        return r["stress"]["seconds"]
    log = os.path.join(d, r["run"], "console.log")
    if os.path.exists(log):
        with open(log, "rb") as f:
            m = STRESS_HEADER.search(f.read().decode("utf-8", "replace"))
        if m:
            return int(m.group(1))
    return None


def stress_command(run, r, seconds):
    """The stress.sh command of one stress run, from what it recorded.
    STRESS_ARGS is not recorded anywhere: the workers it ran are."""
    env = [f"RUN_ID={run}", "STRESS_FRAGMENTS=" + shlex.quote(r.get("fragments", "")),
           f"STRESS_SECONDS={'?' if seconds is None else seconds}"]
    return " ".join(env + ["scripts/stress.sh", "<record>", "<variant>"])


def stress_entry(run, r, d):
    """One kernel's run of a stress.json, cut to the fault columns."""
    ops = r.get("ops")
    kinds = (r.get("stress") or {}).get("kinds", {})
    e = {"run": run, "guest": r["run"], "record": r.get("arch", r["run"]),
         "variant": r.get("variant", "?"), "fragments": r.get("fragments", ""),
         "expected": r["expected"], "outcome": r["outcome"], "ok": r["ok"],
         "seconds": r.get("seconds"), "command": stress_command(run, r, stress_seconds(d, r)),
         # the same sum as stress_report.py's "ops" column
         "operations": None if ops is None else sum(v for k, v in ops.items()
                                                    if k != "ksm_pages_sharing_max"),
         "workers": {k: kinds[k].get("workers") for k in ("fault", "memcg") if k in kinds},
         "corruptions": r.get("corruptions"), "pages_verified": r.get("pages_verified"),
         # which workers found them
         "corrupted_by": {k: v["corruptions"] for k, v in sorted(kinds.items())
                          if v.get("corruptions")},
         "splats": sorted(s["what"] for s in r.get("splats", [])),
         "provoked": r.get("provoked") or {}, "why": r.get("why", []),
         "problems": r.get("problems", [])}
    e.update({k: None if ops is None else ops.get(k) for k in STRESS_OPS})
    return e


def run_data(run):
    """A loaded run's fault data: {"boots": [...], "stress": [...]}. A
    stress run's own result.json holds no selftest check: it gives no boot."""
    boots = [e for e in (boot_entry(run["run"], guest, r)
                         for guest, r in sorted(run["results"].items())) if e]
    # x86_64 first, as the other tables have it; then by variant
    boots.sort(key=lambda b: (b["record"] != "x86_64", b["record"], column_key(b["column"])))
    path = os.path.join(run["dir"], "stress.json")
    stress = []
    if os.path.exists(path):
        with open(path) as f:
            stress = [stress_entry(run["run"], r, run["dir"]) for r in json.load(f)["runs"]]
    return {"boots": boots, "stress": stress}


def data(runs):
    """The fault data of several loaded runs, in the order given."""
    out = {"boots": [], "stress": []}
    for run in runs:
        d = run_data(run)
        out["boots"] += d["boots"]
        out["stress"] += d["stress"]
    if not out["boots"] and not out["stress"]:
        raise ValueError(", ".join(r["dir"] for r in runs) + ": no fault check in any "
                         "result.json and no stress.json")
    return out


def commands(d):
    """The distinct commands of the snapshot's boots and stress runs; one
    that several runs share says RUN_ID=<run> (the provenance names the
    runs)."""
    rests = {}
    for e in d["boots"] + d["stress"]:
        rest = e["command"].split(" ", 1)[1]
        rests.setdefault(rest, [])
        if e["run"] not in rests[rest]:
            rests[rest].append(e["run"])
    return "; ".join(f"RUN_ID={runs[0] if len(runs) == 1 else '<run>'} {rest}"
                     for rest, runs in rests.items())


# ---- tables ----

def nr(v):
    return NOT_RECORDED if v is None else v


def kernel(e):
    return f"{e['record']} {e['column'] if 'column' in e else e['variant']}"


def verdict(e):
    word = e["outcome"].upper()
    if e["ok"]:
        return word
    if e["outcome"] == e["expected"]:
        return f"**{word}**, not as expected"   # the reasons say why
    return f"**{word}** (expected {e['expected'].upper()})"


def total(checks, key):
    """The sum of a counter over the checks that print it, else None."""
    vals = [c["counts"][key] for c in checks if key in c["counts"]]
    return sum(vals) if vals else None


def lost_cell(checks):
    """The checks that lost data, with their iterations where counted."""
    out = []
    for c in checks:
        n = c["counts"]
        if c["result"] == "FAIL" and ("lost" in c["message"] or n.get("lost")):
            short = c["name"]
            if "iterations" in n:
                short += f" ({n['lost']} of {n['iterations']} iterations)"
            out.append(short)
    return ", ".join(out) or "none"


def of(checks, part, whole):
    p, w = total(checks, part), total(checks, whole)
    return NOT_RECORDED if p is None else f"{p} of {w}"


def splats_cell(splats):
    """'1 kernel BUG (kernel BUG at mm/memory.c:4105!), 3 kernel stack trace'."""
    kinds = []
    for sp in splats:
        what, _, line = sp.partition(": ")
        if what not in [k[0] for k in kinds]:
            kinds.append((what, line))
    return ", ".join(
        f"{sum(1 for sp in splats if sp.startswith(what + ':'))} {what}"
        + ("" if what == "kernel stack trace" else f" (`{line}`)")
        for what, line in kinds) or "none"


def provoked_cell(p):
    return ", ".join(f"{n} {what}" for what, n in sorted(p.items())) or "none"


def kernels_table(boots):
    """One row per boot: its fault checks summed."""
    rows = []
    for b in boots:
        cs = b["checks"]
        counts = "{} pass, {} fail, {} skip".format(
            *(sum(1 for c in cs if c["result"] == r) for r in ("PASS", "FAIL", "SKIP")))
        hung = sum(1 for c in cs if c["result"] == "BAIL")
        if hung:
            counts += f", {hung} hung (Bail out!)"
        wrong = [total(cs, k) for k in ("wrong", "wrong_after", "not_back")]
        wrong = None if all(w is None for w in wrong) else sum(w or 0 for w in wrong)
        sigbus = total(cs, "sigbus")
        if sigbus is not None:
            sigbus = f"{sigbus} ({total(cs, 'sigbus_after')} after swapoff)"
        rows.append([kernel(b), b["run"], verdict(b), counts, lost_cell(cs),
                     of(cs, "writes_failed", "paged_out"), nr(sigbus), nr(wrong),
                     splats_cell(b["splats"]), provoked_cell(b["provoked"])])
    return table(["kernel", "run", "boot verdict", "fault checks", "data lost in",
                  "writes failed (pages)", "SIGBUS seen", "wrong pages (no SIGBUS)",
                  "splats (judge)", "provoked on purpose (let by)"], rows)


def check_cell(c):
    """A check's verdict and what it counted, in a few words."""
    n = c["counts"]
    parts = []
    if "iterations" in n:
        parts.append(f"{n['lost']} of {n['iterations']} lost, {n['raced']} raced")
    if "writes_failed" in n:
        parts.append(f"{n['writes_failed']} of {n['paged_out']} writes failed")
    if "pages" in n:
        parts.append(f"{n['intact']} intact, {n['sigbus']} SIGBUS, {n['wrong']} wrong")
        back = n["total0"] == n["total1"] and n["free0"] == n["free1"]
        parts.append("counters back" if back else "counters NOT back")
    if "writeback" in n:
        parts.append(f"{n['writeback']} of {n['wb_pages']} under writeback, "
                     f"{n['not_back']} not back")
    if "read" in n:
        parts.append(f"read {n['read']}, child {n['child']}")
    if "victim" in n:
        parts.append(f"victim {n['victim']}, oom_kill {n['oom_kill']}")
    word = c["result"] if c["result"] == "PASS" else f"**{c['result']}**"
    return word + (": " + "; ".join(parts) if parts else "")


def checks_table(boots):
    """Check down, the boots of one run across."""
    names = []
    for b in boots:
        names += [c["name"] for c in b["checks"] if c["name"] not in names]
    rows = []
    for name in names:
        row = [name]
        for b in boots:
            c = next((c for c in b["checks"] if c["name"] == name), None)
            row.append(check_cell(c) if c else "not run")
        rows.append(row)
    return table(["check"] + [kernel(b) for b in boots], rows)


def messages(boots):
    """Each check that did not pass, with its own message, and what else
    the judge found wrong with the boot."""
    out = []
    for b in boots:
        out += [f"- {b['run']} {kernel(b)}, {c['name']}: {c['result']}: "
                f"{c['message'] or '(no message printed)'}"
                for c in b["checks"] if c["result"] != "PASS"]
        out += [f"- {b['run']} {kernel(b)}, the boot: {p}" for p in b["problems"]]
    return out


def stress_kernels_table(runs):
    """Per kernel: how many runs, and their fault counters summed."""
    keys = []
    for r in runs:
        k = (r["record"], r["variant"], r["fragments"])
        if k not in keys:
            keys.append(k)
    rows = []
    for k in keys:
        rs = [r for r in runs if (r["record"], r["variant"], r["fragments"]) == k]
        done = [r for r in rs if r["operations"] is not None]

        def s(key, rs=rs, done=done):
            vals = [r[key] for r in done if r[key] is not None]
            missing = len(rs) - len(vals)
            txt = str(sum(vals)) if vals else NOT_RECORDED
            return txt + (f" ({missing} not recorded)" if vals and missing else "")
        splats = [w for r in rs for w in r["splats"]]
        rows.append([f"{k[0]} {k[1]}", "+" + k[2] if k[2] else "plain",
                     f"{len(rs)} ({sum(1 for r in rs if r['ok'])} as expected)",
                     s("seconds"), s("operations"), s("faults_injected"),
                     s("fault_writes_failed"), s("sigbus_seen"), s("fault_swapoffs"),
                     s("memcg_high_events"), s("corruptions"),
                     f"{len(splats)}" + (f" ({', '.join(sorted(set(splats)))})" if splats else "")])
    return table(["kernel", "build", "runs", "stress s", "operations", "fault windows",
                  "own writes failed", "SIGBUS", "swapoffs after faults", "memcg high events",
                  "corruptions", "splats"], rows)


def corrupted(r):
    """'851 (odirect 851)': the corruptions and the workers that found them."""
    if r["corruptions"] is None:
        return NOT_RECORDED
    by = ", ".join(f"{k} {n}" for k, n in r.get("corrupted_by", {}).items())
    return f"{r['corruptions']}" + (f" ({by})" if by else "")


def workers(r):
    w = r["workers"]
    if not w:
        return NOT_RECORDED
    return f"{w.get('fault', 0)}, {w.get('memcg', 0)}"


def stress_runs_table(runs):
    """One row per kernel of each stress run; why one is not as expected
    (stress_report.py's reasons, then the judge's first problem)."""
    rows = [[r["run"], f"{r['record']} {r['variant']}", verdict(r), workers(r), nr(r["seconds"]),
             nr(r["operations"]), nr(r["faults_injected"]), nr(r["fault_writes_failed"]),
             nr(r["sigbus_seen"]), nr(r["fault_swapoffs"]), corrupted(r),
             len(r["splats"]), "; ".join(r["why"] + r["problems"][:1]) or "–"] for r in runs]
    return table(["run", "kernel", "verdict", "fault, memcg workers", "stress s", "operations",
                  "fault windows", "own writes failed", "SIGBUS", "swapoffs", "corruptions",
                  "splats", "not as expected because"], rows)


def faults_table(d):
    """The whole block of a faults snapshot."""
    out = []
    if d["boots"]:
        out += kernels_table(d["boots"]) + [""]
        runs = []
        for b in d["boots"]:
            if b["run"] not in runs:
                runs.append(b["run"])
        for run in runs:
            out += [f"Each fault check in run {run}:", ""]
            out += checks_table([b for b in d["boots"] if b["run"] == run]) + [""]
        msgs = messages(d["boots"])
        if msgs:
            out += ["What each check that did not pass said:", ""] + msgs + [""]
    if d["stress"]:
        out += stress_kernels_table(d["stress"]) + [""]
        out += ["Each run:", ""] + stress_runs_table(d["stress"]) + [""]
    return out[:-1]


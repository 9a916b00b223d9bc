# SPDX-License-Identifier: GPL-2.0
"""results.py summary: every */result.json of one run directory in one table
(summary.md, summary.json), with the reproducer's evidence, the race
checks' overlaps, the problems and the stage timings."""
import glob
import json
import os
import sys

from cowswap.judge import REPRODUCER, overlap_counts, run_label
from cowswap.resume import result_commit


# The race checks end with "<N> iterations, <M> overlapped (...)"
# (judge.overlap_counts): how many iterations really had both sides in
# the kernel at the same time.
RACE_CHECKS = ("race_", "fork_race_")


def overlap_table(runs):
    """Markdown lines: per run, 'overlapped of iterations' for each race
    check that ran (a SKIP says why, e.g. none overlapped)."""
    names = []
    for r in runs:
        for t in r["tests"]:
            if t["name"].startswith(RACE_CHECKS) and t["name"] not in names:
                names.append(t["name"])
    if not names:
        return []
    md = ["", "Race checks, iterations that overlapped (of all iterations):", "",
          "| run | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for r in runs:
        cells = []
        for n in names:
            t = next((t for t in r["tests"] if t["name"] == n), None)
            counts = overlap_counts(t)
            if t is None:
                cells.append("–")
            elif counts:
                cells.append(f"{counts[1]} of {counts[0]}")
            else:
                cells.append(t["result"])
        md.append(f"| {run_label(r)} | " + " | ".join(cells) + " |")
    return md


def commit_lines(commits):
    """Markdown lines naming the commit the results were made on, and
    which results each commit made when there are several."""
    if len(commits) == 1:
        return ["", f"Made on commit {next(iter(commits))}."]
    if not commits:
        return []
    md = ["", f"MIXED COMMITS: these results were made on {len(commits)} commits:", ""]
    for c, labels in sorted(commits.items(), key=lambda kv: -len(kv[1])):
        md.append(f"- {c}: {len(labels)} result(s): {', '.join(labels)}")
    return md


def problems(args):
    """results.py problems: each run of a directory that did not come out as
    expected, with its problems, the diagnostics of the checks they name and
    the end of its console. check.sh prints this last, so the evidence is in
    the tail of a CI log even when the runner keeps nothing else."""
    bad = 0
    for path in sorted(glob.glob(os.path.join(args.dir, "*", "result.json"))):
        with open(path) as f:
            r = json.load(f)
        if r["ok"]:
            continue
        bad += 1
        print(f"{run_label(r)}: {r['outcome'].upper()}, expected {r['expected'].upper()}")
        for p in r["problems"]:
            print(f"  problem: {p}")
        named = [t for t in r["tests"] if t["name"] in " ".join(r["problems"])]
        for t in named[:args.tests]:
            print(f"  {t['name']}: {t['result']} {t.get('reason') or ''}".rstrip())
            for d in t.get("diag", [])[-args.diag:]:
                print(f"    # {d}")
        log = os.path.join(os.path.dirname(path), "console.log")
        if not os.path.exists(log):
            log = r.get("log") or log
        if args.console and os.path.exists(log):
            with open(log, errors="replace") as f:
                tail = f.read().splitlines()[-args.console:]
            print(f"  last {len(tail)} console lines ({log}):")
            for line in tail:
                print(f"    | {line}")
    if not bad:
        print(f"every run under {args.dir} came out as expected")
    return 1 if bad else 0


def summary(args):
    runs = []
    commits = {}
    for path in sorted(glob.glob(os.path.join(args.dir, "*", "result.json"))):
        with open(path) as f:
            runs.append(json.load(f))
        c = result_commit(args.dir, os.path.basename(os.path.dirname(path)))
        commits.setdefault(c, []).append(run_label(runs[-1]))
    if not runs:
        print(f"no results under {args.dir}", file=sys.stderr)
        return 1
    cols = [run_label(r) for r in runs]
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
                evidence.append(f"- {run_label(r)} {t['name']} {t['result']}: "
                                + summary_lines[0])
    if evidence:
        md += ["", "Evidence (reproducer diagnostics):", ""] + evidence
    md += overlap_table(runs)
    problems = [f"- {run_label(r)}: {p}" for r in runs for p in r["problems"]]
    if problems:
        md += ["", "Problems:", ""] + problems
    md += commit_lines(commits)
    # A continued run (matrix.sh MATRIX_RESUME=1) keeps the results of
    # earlier sittings; the stage timings below are this sitting's only.
    earlier = [r for r in runs if args.since and r.get("date") and r["date"] < args.since]
    if earlier:
        md += ["", f"{len(earlier)} of {len(runs)} results are from earlier sittings "
               f"({min(r['date'] for r in earlier)} to {max(r['date'] for r in earlier)}); "
               f"the stage timings are those since {args.since}."]
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
           + (", stock (6.1 LTS) REPRODUCED, fixed PASS" if any(r["variant"] in ("stock", "fixed") for r in runs) else "")
           + (", mutant FAIL in the tests its bugs target." if any(r["variant"].startswith("mutant") for r in runs) else ".")]
    with open(os.path.join(args.dir, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(args.dir, "summary.json"), "w") as f:
        json.dump({"ok": ok, "runs": runs, "commits": commits}, f, indent=1)
    print("\n".join(md))
    return 0 if ok else 1

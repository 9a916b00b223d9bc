# SPDX-License-Identifier: GPL-2.0
"""Compare swap_bench results of the kernels of one record.

  bench_report.py [--arch x86_64] [--variants "baseline patched upstream"] <run-dir>

Reads <run-dir>/<arch>-<variant>/console.log (and result.json) for every
variant, collects the `COWSWAP-BENCH {json}` lines that bench/swap_bench.c
prints and writes <run-dir>/bench-<arch>.json and bench-<arch>.md: one row
per metric and size with each kernel's median (min-max), each median as a
ratio to the reference kernel's (upstream for the main series, stock for a
6.1-LTS record), and whether the kernel with the series (patched, fixed)
matches the reference (within 2% or inside its min-max).
Every metric is "lower is better" (microseconds, copied pages).
"""
import argparse
import json
import os
import re
import sys
import time

from cowswap import console

LINE = re.compile(r"COWSWAP-BENCH (\{.*\})")
KERNEL = re.compile(r"# swap_bench on (\S+) ([^\s,]+)")
TOLERANCE = 0.02

DESCRIPTIONS = {
    "copies_held_ref": "pages copied on the write fault although exclusive: extra reference held across the fault",
    "copies_held_noref": "the other pages of that test (no extra reference)",
    "copies_dropped_ref": "extra reference dropped after the pageout, before the fault",
    "copies_dropped_noref": "the other pages of that test",
    "copies_wb_writeback": "no extra reference, faulted while the page was still under writeback (throttled disk; MiB column 0: a few pages)",
    "copies_wb_clean": "no extra reference, writeback already done at the fault",
    "fork_us": "fork() with the region swapped out, first fork after the pageout (markers set)",
    "fork_again_us": "further forks (markers already cleared)",
    "swapin_cache_us": "write fault per page, page still in the swap cache",
    "swapin_disk_us": "write fault per page, page read from the swap disk (includes waiting for the disk)",
    "swapin_disk_cpu_us": "the same, CPU time of the faulting thread only",
    "clock_step_us": "smallest CLOCK_MONOTONIC step seen in the guest",
}


def parse_log(path):
    """Results and the kernel release from one console log."""
    results, kernel, bad = [], None, 0
    for line in console.plain(console.read(path)):
        m = KERNEL.search(line)
        if m and not kernel:
            kernel = f"{m.group(1)} {m.group(2)}"
        m = LINE.search(line)
        if not m:
            continue
        try:
            r = json.loads(m.group(1))
        except ValueError:
            r = None
        if not isinstance(r, dict) or not all(k in r for k in ("metric", "size_mib", "median",
                                                                 "min", "max")):
            # a kernel message may have cut the line in two
            bad += 1
            continue
        results.append(r)
    return results, kernel, bad


def ratio(a, b):
    if a is None or b is None:
        return None
    if b == 0:
        return 1.0 if a == 0 else None
    return a / b


def fmt_num(v, unit):
    if v is None:
        return "–"
    if unit == "pages":
        return f"{v:.0f}"
    if v >= 1000:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_cell(r):
    if not r:
        return "–"
    u = r.get("unit", "")
    cell = f"{fmt_num(r['median'], u)} ({fmt_num(r['min'], u)}–{fmt_num(r['max'], u)})"
    if u == "pages" and "of" in r:
        cell += f" of {r['of']}"
    if "mib_s" in r:
        cell += f", {r['mib_s']:.0f} MiB/s"
    return cell


def fmt_ratio(x):
    return "–" if x is None else f"{x:.3f}"


def load_runs(d, arch, variants):
    """{variant: its COWSWAP-BENCH results, kernel, outcome, problems}."""
    runs = {}
    for v in variants:
        vdir = os.path.join(d, f"{arch}-{v}")
        log = os.path.join(vdir, "console.log")
        info = {"outcome": "missing", "kernel": None, "results": [], "problems": []}
        if os.path.exists(log):
            info["results"], info["kernel"], bad = parse_log(log)
            if bad:
                info["problems"].append(f"{bad} garbled COWSWAP-BENCH line(s) ignored")
            info["outcome"] = "no result.json"
        try:
            with open(os.path.join(vdir, "result.json")) as f:
                res = json.load(f)
            info["outcome"] = res.get("outcome", "?")
            info["problems"] += res.get("problems", [])
            info["skipped"] = [f"{t['name']}: {t.get('reason', '')}" for t in res.get("tests", [])
                               if t.get("result") == "SKIP"]
            info["failed"] = res.get("failed", [])
        except (OSError, ValueError):
            pass
        runs[v] = info
    return runs


def roles(variants):
    """The kernel that carries a series and the one it is compared with."""
    subject = next((v for v in ("patched", "fixed") if v in variants), None)
    reference = next((v for v in ("upstream", "stock") if v in variants), None)
    return subject, reference


def compare_rows(runs, variants):
    """One row per (metric, size): each kernel's result and the ratios."""
    subject, reference = roles(variants)
    keys = []
    for v in variants:
        for r in runs[v]["results"]:
            k = (r["metric"], r["size_mib"])
            if k not in keys:
                keys.append(k)
    rows = []
    for metric, size in keys:
        row = {"metric": metric, "size_mib": size, "unit": None}
        for v in variants:
            found = [r for r in runs[v]["results"] if (r["metric"], r["size_mib"]) == (metric, size)]
            row[v] = found[-1] if found else None
            if found:
                row["unit"] = found[-1].get("unit")
        med = {v: (row[v]["median"] if row.get(v) else None) for v in variants}
        row["ratio"] = {v: ratio(med[v], med.get(reference)) for v in variants
                        if reference and v != reference}
        ref, sub = row.get(reference), row.get(subject)
        # "the same as the reference": within TOLERANCE of its median, or
        # inside its min-max (icount makes ranges narrow, a few
        # instructions per page are a real but irrelevant difference)
        row["matches_reference"] = (
            None if not (ref and sub) else
            ref["min"] <= sub["median"] <= ref["max"] or
            abs(sub["median"] - ref["median"]) <= TOLERANCE * abs(ref["median"]))
        rows.append(row)
    return rows


def metrics_table(rows, variants):
    """Markdown lines: one per metric and size, each kernel's cell and the ratios."""
    subject, reference = roles(variants)
    others = [v for v in variants if reference and v != reference]
    hdr = ["metric", "MiB", "unit"] + variants + [f"{v}/{reference}" for v in others]
    if subject and reference:
        hdr.append(f"≈ {reference}")
    md = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    for row in rows:
        if row["metric"] == "clock_step_us":
            continue
        cells = [row["metric"], str(row["size_mib"]), row["unit"] or ""]
        cells += [fmt_cell(row.get(v)) for v in variants]
        cells += [fmt_ratio(row["ratio"][v]) for v in others]
        if subject and reference:
            w = row["matches_reference"]
            cells.append("–" if w is None else ("yes" if w else "**no**"))
        md.append("| " + " | ".join(cells) + " |")
    return md


def kernels_and_notes(runs, variants):
    """Markdown lines: the kernels' outcomes and clocks, then the notes."""
    md = ["", "| kernel | outcome | release | clock step |", "|---|---|---|---|"]
    notes = []
    for v in variants:
        step = [r for r in runs[v]["results"] if r["metric"] == "clock_step_us"]
        md.append(f"| {v} | {runs[v]['outcome']} | {runs[v]['kernel'] or '–'} | "
                  + (f"{step[0]['median']:.3f} µs" if step else "–") + " |")
        notes += [f"- {v}: SKIP {s}" for s in runs[v].get("skipped", [])]
        notes += [f"- {v}: FAILED {s}" for s in runs[v].get("failed", [])]
        notes += [f"- {v}: problem: {s}" for s in runs[v]["problems"]]
        if step and step[0]["median"] > 100:
            notes.append(f"- {v}: the guest clock moves in {step[0]['median']:.0f} µs steps: "
                         "times are not trustworthy")
    if notes:
        md += ["", "Notes:", ""] + notes
    return md


def report_md(out, runs, rows, variants):
    md = [f"# swap_bench: {out['arch']}, run {out['run']}", ""]
    if out["clock"] or out["args"]:
        md.append(f"Guest clock: {out['clock'] or '?'}; swap_bench options: "
                  f"`{out['args'] or '(defaults)'}`.")
        md.append("")
    subject, reference = roles(variants)
    md.append("Median (min–max) of each measurement; lower is better everywhere.")
    if subject and reference:
        md[-1] += (f" Ratios are of the medians, to {reference}'s. \"≈ {reference}\": the "
                   f"{subject} median is within {TOLERANCE:.0%} of {reference}'s or inside "
                   "its min–max.")
    md.append("")
    md += metrics_table(rows, variants)
    md += kernels_and_notes(runs, variants)
    md += ["", "Metrics:", ""]
    seen = []
    for row in rows:
        m = row["metric"]
        if m not in seen and m in DESCRIPTIONS:
            seen.append(m)
            md.append(f"- `{m}`: {DESCRIPTIONS[m]}")
    return md


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("--arch", default="x86_64")
    p.add_argument("--variants", default="baseline patched upstream")
    p.add_argument("--clock", default="", help="how the guest clock ran (for the header)")
    p.add_argument("--args", default="", help="swap_bench options used (for the header)")
    a = p.parse_args()
    variants = a.variants.split()
    runs = load_runs(a.dir, a.arch, variants)
    if not any(r["results"] for r in runs.values()):
        print(f"bench_report.py: no COWSWAP-BENCH results under {a.dir} for {a.arch}", file=sys.stderr)
        return 1
    rows = compare_rows(runs, variants)
    subject, reference = roles(variants)
    out = {"arch": a.arch, "run": os.path.basename(os.path.normpath(a.dir)),
           "clock": a.clock, "args": a.args, "subject": subject, "reference": reference,
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "variants": runs, "rows": rows}
    with open(os.path.join(a.dir, f"bench-{a.arch}.json"), "w") as f:
        json.dump(out, f, indent=1)
    md = report_md(out, runs, rows, variants)
    with open(os.path.join(a.dir, f"bench-{a.arch}.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    return 0

if __name__ == "__main__":
    sys.exit(main())

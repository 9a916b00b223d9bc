# SPDX-License-Identifier: GPL-2.0
"""results.py compare: two runs of the same rows, the same verdicts and checks?"""
import json
import os
import sys


def guest_results(d):
    """{guest directory name: result.json} of one matrix run directory."""
    out = {}
    if not os.path.isdir(d):
        return out
    for name in sorted(os.listdir(d)):
        f = os.path.join(d, name, "result.json")
        if os.path.isfile(f):
            with open(f) as fh:
                out[name] = json.load(fh)
    return out


def compare(args):
    """Two runs of the same rows (e.g. JOBS=1 and JOBS=2): every guest's
    verdict and every check's result must be the same. Prints one line per
    guest with both verdicts and times, and each check that differs."""
    a, b = guest_results(args.a), guest_results(args.b)
    if not a or not b:
        print(f"error: no result.json under {args.a if not a else args.b}", file=sys.stderr)
        return 2
    same = True
    ta = tb = 0
    print(f"| guest | {os.path.basename(args.a.rstrip('/'))} | {os.path.basename(args.b.rstrip('/'))} | checks |")
    print("|---|---|---|---|")
    for g in sorted(set(a) | set(b)):
        if g not in a or g not in b:
            same = False
            print(f"| {g} | {'missing' if g not in a else a[g]['outcome'].upper()} | "
                  f"{'missing' if g not in b else b[g]['outcome'].upper()} | guest in one run only |")
            continue
        ra = {t["name"]: t["result"] for t in a[g]["tests"]}
        rb = {t["name"]: t["result"] for t in b[g]["tests"]}
        diff = [f"{n}: {ra.get(n, '-')} vs {rb.get(n, '-')}"
                for n in sorted(set(ra) | set(rb)) if ra.get(n) != rb.get(n)]
        if diff or a[g]["outcome"] != b[g]["outcome"]:
            same = False
        ta += a[g]["seconds"]
        tb += b[g]["seconds"]
        cell = f"{len(ra)} the same" if not diff else \
            f"{len(diff)} of {len(ra | rb)} differ: {'; '.join(diff)}"
        print(f"| {g} | {a[g]['outcome'].upper()} {a[g]['seconds']} s | "
              f"{b[g]['outcome'].upper()} {b[g]['seconds']} s | {cell} |")
    print(f"\nguest seconds in all: {ta} vs {tb}; "
          + ("every verdict and every check the same" if same else "the runs DIFFER"))
    return 0 if same else 1

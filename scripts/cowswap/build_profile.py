# SPDX-License-Identifier: GPL-2.0
"""build-profile.py <profile.tsv> [--top N] [--depth D]: where a build's
compile time went, from the lines scripts/cc-time.sh wrote (PROFILE=1
build.sh): per directory (the first D path components), and the N
costliest objects. Times are the compilers' CPU seconds (user + system),
which do not depend on what else the machine was doing; with make -jN on
N idle cores the build takes about total / N."""
import argparse
import collections
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--depth", type=int, default=1)
    a = ap.parse_args()
    objs = []
    with open(a.profile) as f:
        for line in f:
            f = line.rstrip("\n").split("\t")
            if len(f) != 3 or not f[0].isdigit():
                continue
            objs.append((int(f[0]) / 1e3, os.path.normpath(f[2])))
    if not objs:
        sys.exit(f"build-profile.py: no compiler runs in {a.profile}")
    total = sum(t for t, _ in objs)
    per = collections.Counter()
    count = collections.Counter()
    for t, o in objs:
        parts = o.split(os.sep)
        key = os.sep.join(parts[:a.depth]) if len(parts) > a.depth else "(top)"
        per[key] += t
        count[key] += 1
    print(f"{len(objs)} compiler runs, {total:.0f} s of compiler CPU time\n")
    print("| directory | objects | seconds | share |")
    print("|---|---|---|---|")
    for key, t in per.most_common(a.top):
        print(f"| {key} | {count[key]} | {t:.0f} | {100 * t / total:.1f}% |")
    print(f"\ncostliest {a.top} objects:\n")
    print("| object | seconds |")
    print("|---|---|")
    for t, o in sorted(objs, reverse=True)[:a.top]:
        print(f"| {o} | {t:.1f} |")


if __name__ == "__main__":
    main()

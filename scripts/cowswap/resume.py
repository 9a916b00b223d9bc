# SPDX-License-Identifier: GPL-2.0
"""Continuing a matrix run (matrix.sh with MATRIX_RESUME=1), and which
commit made each of its results.

  python3 -m cowswap.resume <run dir> <result name>...

prints one line per boot of the run that need not be booted again,
"<name>\\t<verdict>\\t<date>\\t<commit>", in the order given; the other
names are left out. A boot is kept when its <name>/result.json holds a
verdict the judge gave on a console log: pass, reproduced, fail, and
also error (a panic, a hang, a missing check: that is what the kernel
did). It is booted again when it has no result.json, one that cannot be
read, or an "error" result matrix.sh wrote for a boot that never gave a
console to judge: its kernel did not build, or run-qemu.sh ended without
a result (record_error: "booted": false; older runs only say so in the
problem line).

The commit of a result: <name>/commit (matrix.sh writes it before each
boot), else the run's own commit file (run-qemu.sh writes it at the
first boot of a run), else "unknown".
"""
import json
import os
import sys
import time

# What record_error's problem line starts with, for results written
# before it added "booted": false.
NOT_BOOTED = ("kernel build failed", "QEMU run produced no result")


def read_commit(path):
    try:
        with open(path) as f:
            return f.read().strip() or None
    except OSError:
        return None


def result_commit(run_dir, name):
    """The commit the result <run_dir>/<name> was made on."""
    return (read_commit(os.path.join(run_dir, name, "commit"))
            or read_commit(os.path.join(run_dir, "commit")) or "unknown")


def booted(result):
    """Did a guest give this result (a console the judge read)?"""
    if result.get("booted") is False:
        return False
    return not (result.get("outcome") == "error"
                and any(p.startswith(NOT_BOOTED) for p in result.get("problems", [])))


def kept(run_dir, name):
    """(verdict, date, commit) if the boot <name> of the run keeps its
    result, else None."""
    path = os.path.join(run_dir, name, "result.json")
    try:
        with open(path) as f:
            r = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(r, dict) or "outcome" not in r or not booted(r):
        return None
    verdict = r["outcome"] + ("" if r.get("ok") else ", unexpected")
    date = r.get("date") or time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                          time.gmtime(os.path.getmtime(path)))
    return verdict, date, result_commit(run_dir, name)


def main(argv):
    if len(argv) < 1:
        print("usage: python3 -m cowswap.resume <run dir> <result name>...", file=sys.stderr)
        return 2
    run_dir, names = argv[0], argv[1:]
    if not os.path.isdir(run_dir):
        print(f"resume: {run_dir}: no such run directory", file=sys.stderr)
        return 1
    for name in names:
        k = kept(run_dir, name)
        if k:
            print("\t".join((name,) + k))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

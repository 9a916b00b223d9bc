# SPDX-License-Identifier: GPL-2.0
"""The table of scripts/defconfig-build.sh: the 6.1-LTS series on the
kernel's own configurations.

  python3 -m cowswap.defconfig <result dir> <commit> <objects>

reads <result dir>/rows.tsv (one line per configuration: record, kernel
architecture, configuration, vmlinux ok|fail, W=1 warnings of stock and
of fixed, verdict, seconds) and <record>-<configuration>.new (the W=1
warnings fixed has and stock has not), writes defconfig.json and
defconfig.md there and prints the table.
"""
import json
import os
import sys

FIELDS = ("record", "karch", "defconfig", "vmlinux", "w1_stock", "w1_fixed", "verdict", "seconds")


def load_rows(res):
    rows = []
    with open(os.path.join(res, "rows.tsv")) as f:
        for line in f:
            row = dict(zip(FIELDS, line.rstrip("\n").split("\t")))
            if len(row) != len(FIELDS):
                raise ValueError(f"rows.tsv: bad line {line!r}")
            row["seconds"] = int(row["seconds"])
            new = os.path.join(res, f"{row['record']}-{row['defconfig'].replace('+', '-')}.new")
            with open(new) as n:
                row["new_warnings"] = [w for w in n.read().splitlines() if w]
            rows.append(row)
    return rows


def table(rows):
    out = ["| record | configuration | fixed vmlinux | W=1 warnings stock | fixed | new | verdict | seconds |",
           "|---|---|---|---|---|---|---|---|"]
    out += [f"| {r['record']} | {r['defconfig']} | {r['vmlinux']} | {r['w1_stock']} | {r['w1_fixed']} "
            f"| {len(r['new_warnings'])} | **{r['verdict']}** | {r['seconds']} |" for r in rows]
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    res, commit, objects = argv
    rows = load_rows(res)
    with open(os.path.join(res, "defconfig.json"), "w") as f:
        json.dump({"run": os.path.basename(os.path.normpath(res)), "commit": commit,
                   "w1_objects": objects, "configs": rows}, f, indent=1)
        f.write("\n")
    lines = table(rows)
    with open(os.path.join(res, "defconfig.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

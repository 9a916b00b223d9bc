# SPDX-License-Identifier: GPL-2.0
"""Which debug options the stress test's debug kernels really have.

  python3 -m cowswap.debug_options [--variant V] [RECORD | RECORD=CONFIG]...

reads the .config of each record's debug build (by default
$COWSWAP_OUT/build/<record>-<variant>-debug/.config, as scripts/build.sh
FRAGMENTS_EXTRA=debug makes it; RECORD=CONFIG names another file) and
prints the Markdown table of docs/stress.md: KASAN and its mode, lockdep,
DEBUG_VM, DEBUG_PAGEALLOC (unmapping freed pages, or only poisoning them
where the architecture lacks ARCH_SUPPORTS_DEBUG_PAGEALLOC), KFENCE,
PAGE_TABLE_CHECK, the slab allocator, and the guest's CPUs (-smp of the
record's QEMU_ARGS). Without records: every configs/arch/*.conf of the
6.1-LTS series. Only reads; nothing is configured or built.
"""
import argparse
import os
import re
import sys

from cowswap import TOP, out_dir
from cowswap.lava import all_records, read_records

COLUMNS = ("record", "CPUs", "slab", "KASAN", "lockdep", "DEBUG_VM", "DEBUG_PAGEALLOC",
           "KFENCE", "PAGE_TABLE_CHECK")
SMP = re.compile(r"-smp\s+(\d+)")


def read_config(path):
    """{option: value} of the options a .config sets (CONFIG_ left off)."""
    opts = {}
    with open(path) as f:
        for line in f:
            name, eq, value = line.strip().partition("=")
            if eq and name.startswith("CONFIG_"):
                opts[name[len("CONFIG_"):]] = value
    return opts


def lts_records():
    """Every record of the 6.1-LTS series, as lib.sh loads them."""
    return [r["NAME"] for r in read_records(all_records()) if r["SERIES"] == "lts-6.1"]


def row(record, opts, cpus):
    """The table's cells for one .config."""
    def on(name):
        return opts.get(name) == "y"

    def yes_no(name, extra=""):
        return f"yes{extra}" if on(name) else "no"

    slab = next((s for s in ("SLUB", "SLAB", "SLOB") if on(s)), "?")
    kasan = "no"
    if on("KASAN"):
        mode = "inline" if on("KASAN_INLINE") else "outline" if on("KASAN_OUTLINE") else "?"
        kasan = f"yes ({mode})"
    if on("PROVE_LOCKING"):
        lockdep = "yes"
    else:
        kept = [n for n, o in (("spinlock", "DEBUG_SPINLOCK"), ("mutex", "DEBUG_MUTEXES"),
                               ("rwsem", "DEBUG_RWSEMS")) if on(o)]
        lockdep = f"no ({', '.join(kept)} checks)" if kept else "no"
    pagealloc = "no"
    if on("DEBUG_PAGEALLOC"):
        # mm/Kconfig.debug: without the architecture's support, freed pages
        # are poisoned and checked instead of unmapped.
        how = "unmaps" if on("ARCH_SUPPORTS_DEBUG_PAGEALLOC") else \
            "poisons" if on("PAGE_POISONING") else "?"
        pagealloc = f"yes ({how})"
    ptc = yes_no("PAGE_TABLE_CHECK", " (enforced)" if on("PAGE_TABLE_CHECK_ENFORCED") else "")
    return [record, str(cpus), slab, kasan, lockdep, yes_no("DEBUG_VM"), pagealloc,
            yes_no("KFENCE"), ptc]


def table(rows):
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="debug_options", description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", default="fixed")
    ap.add_argument("records", nargs="*", metavar="RECORD[=CONFIG]")
    a = ap.parse_args(argv)
    args = a.records or lts_records()
    for arg in args:
        record = arg.partition("=")[0]
        if not os.path.exists(os.path.join(TOP, "configs", "arch", f"{record}.conf")):
            print(f"debug_options: no record configs/arch/{record}.conf", file=sys.stderr)
            return 1
    records = read_records([arg.partition("=")[0] for arg in args])
    rows = []
    for arg, rec in zip(args, records):
        record, _, path = arg.partition("=")
        path = path or os.path.join(out_dir(), "build", f"{record}-{a.variant}-debug", ".config")
        if not os.path.isfile(path):
            print(f"debug_options: {path} missing: configure it first with "
                  f"CONFIGURE_ONLY=1 FRAGMENTS_EXTRA=debug scripts/build.sh {record} {a.variant}",
                  file=sys.stderr)
            return 1
        m = SMP.search(rec["QEMU_ARGS"])
        rows.append(row(record, read_config(path), int(m.group(1)) if m else 1))
    print("\n".join(table(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

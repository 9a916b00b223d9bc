# SPDX-License-Identifier: GPL-2.0
"""One run directory (out/results/<run>/) as data, and the snapshot of it
that docs/results/<name>.json keeps.

A run directory holds what its command wrote: <guest>/result.json (the
judge, every run-qemu.sh boot), summary.json (matrix.sh), bench-<record>.json
(bench.sh), stress.json (stress.sh), distro-<record>/verdict.json
(distro-check.sh), nightly.json (nightly.sh's stage table), vmtests.json
(vmtests.sh: 6.1's vm selftests per kernel, cowswap.vmtests). load_run()
reads whichever of them are there into

  {"run": <name>, "dir": <path>, "guests": [guest entry...],
   "bench": [{...} per record] or None, "stress": [...] or None,
   "distro": [...] or None, "nightly": {...} or None, "vmtests": {...} or None}

A snapshot (SCHEMA) is the same data, cut to the fields the tables show,
with where it came from:

  {"schema": "cowswap-snapshot/1", "name": "matrix", "kind": "matrix",
   "command": "make matrix", "run": "<run id>", "date": "<newest result>",
   "commit": "<git HEAD when the snapshot was taken>",
   "guests": [...] | "bench": [...] | "stress": [...] | "distro": [...] | "nightly": {...}
   | "vmtests": {...} | "faults": {...}}

kind is what the data is and which table shows it: matrix (also the
6.1-LTS matrix), mutants, bench, stress, distro, nightly, vmtests,
faults, or control (the boots of today's kernel, variant v6.12, with
each SKIP's reason). A faults snapshot (cowswap.faults: the fault checks of selftest
boots, the fault counters of stress runs) may be made from several run
directories; it then also has "runs": [{"run", "date", "commit"} each],
its "run" names them all, "date" is the newest, "commit" lists theirs,
and its default command is the one each boot or stress run was made
with, as its result files record it.
"""
import glob
import json
import os
import subprocess
import time

from cowswap import TOP
from cowswap.judge import run_label
from cowswap.resume import result_commit

SCHEMA = "cowswap-snapshot/1"
KINDS = ("matrix", "mutants", "bench", "stress", "distro", "distro-fix", "nightly", "defconfig",
         "vmtests", "faults", "control", "deb")
# The command that makes each kind of run (a snapshot records it; --command
# overrides it).
COMMANDS = {"matrix": "make matrix", "mutants": "make mutant", "bench": "make bench",
            "stress": "make stress", "distro": "make distro-check", "nightly": "make nightly",
            "defconfig": "make lts-defconfig", "vmtests": "make vmtests",
            "control": "scripts/matrix.sh <record>/v6.12@none ...",
            "distro-fix": "make distro-fix"}
# Kinds whose snapshot is not one run's data: what makes it.
OWN_MAKERS = {"deb": "python3 -m cowswap.deb snapshot"}
# Snapshot names whose runs another command makes than their kind's.
NAME_COMMANDS = {"lts-matrix": "make lts-matrix"}
# The order of the matrix's columns: the variants as lib.sh lists them.
VARIANT_ORDER = ("upstream", "baseline", "patched", "stock", "fixed", "mutant", "v6.12")
GUEST_FIELDS = ("guest", "record", "variant", "column", "disks", "runner", "outcome",
                "expected", "ok", "seconds", "pass", "fail", "skip", "failed",
                "reproduced_by", "problems")
# A control run (today's kernel, variant v6.12) also keeps why each check
# SKIPped: there every SKIP must be a lack the record can name.
CONTROL_FIELDS = GUEST_FIELDS + ("skipped",)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def guest_entry(guest, r):
    """The compact form of one result.json (guest: its directory name)."""
    tests = r.get("tests", [])
    label = run_label(r)
    return {
        "guest": guest, "record": r["arch"], "variant": r["variant"],
        "column": label.split("/", 1)[1], "disks": r.get("disks", "full"),
        "runner": r.get("runner", "direct"), "outcome": r["outcome"],
        "expected": r.get("expected", ""), "ok": r["ok"], "seconds": r.get("seconds", 0),
        "pass": sum(1 for t in tests if t["result"] == "PASS"),
        "fail": sum(1 for t in tests if t["result"] == "FAIL"),
        "skip": sum(1 for t in tests if t["result"] == "SKIP"),
        "failed": r.get("failed", []), "reproduced_by": r.get("reproduced_by", []),
        "problems": r.get("problems", []),
        "skipped": [[t["name"], t.get("reason", "")] for t in tests if t["result"] == "SKIP"],
    }


def column_key(column):
    """Sort key of a matrix column ('patched@none+ksft'): variant order, then name."""
    variant = column.split("@", 1)[0]
    base = variant.split("-", 1)[0]
    rank = VARIANT_ORDER.index(base) if base in VARIANT_ORDER else len(VARIANT_ORDER)
    return (rank, column)


def load_guests(d):
    """(guest entries, full result.json by guest) of every <guest>/result.json
    that the judge wrote (a stress run's hand-written ones have no tests)."""
    entries, full = [], {}
    for path in sorted(glob.glob(os.path.join(d, "*", "result.json"))):
        guest = os.path.basename(os.path.dirname(path))
        r = read_json(path)
        if "tests" not in r or "ok" not in r:
            continue
        entries.append(guest_entry(guest, r))
        full[guest] = r
    return entries, full


def bench_data(b):
    """One record's bench-<record>.json cut to what the table and the plot
    show: each kernel's median, min and max, and the medians' ratios to the
    reference kernel's."""
    variants = list(b["variants"])
    rows = []
    for row in b["rows"]:
        rows.append({"metric": row["metric"], "size_mib": row["size_mib"], "unit": row["unit"],
                     "values": {v: {k: row[v][k] for k in ("median", "min", "max")}
                                for v in variants if row.get(v)},
                     "ratio": row.get("ratio", {}),
                     "matches_reference": row.get("matches_reference")})
    return {"arch": b["arch"], "clock": b.get("clock", ""), "args": b.get("args", ""),
            "subject": b.get("subject"), "reference": b.get("reference"),
            "variants": {v: {"outcome": i["outcome"], "kernel": i.get("kernel")}
                         for v, i in b["variants"].items()},
            "rows": rows}


def bench_files(d):
    """The run's bench-<record>.json files, one per benchmarked record."""
    return sorted(glob.glob(os.path.join(d, "bench-*.json")))


def stress_data(s):
    """stress.json's runs cut to what the table and the plot show."""
    out = []
    for r in s["runs"]:
        ops = r.get("ops", {})
        out.append({"run": r["run"], "arch": r.get("arch", r["run"]),
                    "variant": r.get("variant", "?"), "fragments": r.get("fragments", ""),
                    "expected": r["expected"], "outcome": r["outcome"], "ok": r["ok"],
                    "seconds": r.get("seconds"), "pages_verified": r.get("pages_verified"),
                    "corruptions": r.get("corruptions"),
                    "race_iterations": ops.get("race_iterations"),
                    "race_overlapped": ops.get("race_overlapped"),
                    "faults_injected": ops.get("faults_injected"),
                    "sigbus_seen": ops.get("sigbus_seen"),
                    "splats": sorted({x["what"] for x in r.get("splats", [])}),
                    "why": r.get("why", [])})
    return out


def distro_data(d):
    rows = []
    for path in sorted(glob.glob(os.path.join(d, "distro-*", "verdict.json"))):
        v = read_json(path)
        row = {k: v.get(k, "") for k in ("record", "package", "version", "verdict",
                                          "evidence", "reason", "note")}
        # runs from before the Debian 11 and 13 records were all bookworm
        row["release"] = v.get("release") or "bookworm"
        rows.append(row)
    return rows or None


def nightly_data(d):
    """nightly.sh's stage table: each stage's time, exit status, verdict."""
    path = os.path.join(d, "nightly.json")
    if not os.path.exists(path):
        return None
    n = read_json(path)
    commit = n.get("commit", "unknown")
    return {"commit": commit, "stages_asked": n.get("stages_asked", []),
            "stages": [dict({k: s[k] for k in ("stage", "finished", "seconds", "verdict")},
                            commit=s.get("commit", commit)[:12])
                       for s in n.get("stages", [])]}


def defconfig_data(d):
    """defconfig-build.sh's table: every configuration's build and W=1 count."""
    path = os.path.join(d, "defconfig.json")
    if not os.path.exists(path):
        return None
    return [{k: c[k] for k in ("record", "defconfig", "vmlinux", "w1_stock", "w1_fixed",
                               "new_warnings", "verdict", "seconds")}
            for c in read_json(path)["configs"]] or None


def vmtests_data(d):
    """vmtests.json cut to what the table shows: each test's output only
    where the comparison quotes it."""
    path = os.path.join(d, "vmtests.json")
    if not os.path.exists(path):
        return None
    v = read_json(path)
    kernels = [{"record": k["record"], "variant": k["variant"], "problems": k["problems"],
                "ok": k["ok"],
                "tests": {n: {"result": t["result"], "reason": t["reason"],
                              "seconds": t.get("seconds"), "output": []}
                          for n, t in k["tests"].items()}}
               for k in v["kernels"]]
    return {"names": v["names"], "kernels": kernels, "comparison": v["comparison"]}


def distro_fix_data(d):
    """distro-fix.sh's table of one run (distro_fix_report.py wrote it):
    per record, Debian's kernel, its config rebuilt and rebuilt with the
    series."""
    path = os.path.join(d, "distro-fix.json")
    if not os.path.exists(path):
        return None
    return {"records": read_json(path)["records"]}


def load_run(d):
    """Everything one run directory holds (see the module's help)."""
    if not os.path.isdir(d):
        raise FileNotFoundError(f"{d}: no such run directory")
    guests, full = load_guests(d)
    bench = [bench_data(read_json(p)) for p in bench_files(d)]
    stress = os.path.join(d, "stress.json")
    run = {"run": os.path.basename(os.path.normpath(d)), "dir": d,
           "guests": guests, "results": full,
           "bench": bench or None,
           "stress": stress_data(read_json(stress)) if os.path.exists(stress) else None,
           "distro": distro_data(d),
           "nightly": nightly_data(d), "defconfig": defconfig_data(d),
           "vmtests": vmtests_data(d), "distro-fix": distro_fix_data(d)}
    if not any((guests, run["bench"], run["stress"], run["distro"], run["nightly"],
                run["defconfig"], run["vmtests"], run["distro-fix"])):
        raise ValueError(f"{d}: no result.json, bench-<record>.json, stress.json, verdict.json, "
                         "nightly.json, defconfig.json, vmtests.json or distro-fix.json")
    return run


def run_date(run):
    """The newest date any of the run's results records."""
    dates = [r.get("date", "") for r in run["results"].values()]
    for p in bench_files(run["dir"]) + [os.path.join(run["dir"], f)
                                         for f in ("summary.json", "distro-fix.json")]:
        if os.path.exists(p):
            dates.append(read_json(p).get("date", ""))
    if not any(dates):
        stamp = max(os.path.getmtime(p) for p in glob.glob(os.path.join(run["dir"], "**"),
                                                           recursive=True))
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
    return max(dates)


def default_kind(name, run):
    """The kind a snapshot name stands for, else what the run holds."""
    for kind in ("faults", "mutants", "bench", "stress", "distro-fix", "distro", "nightly",
                 "defconfig", "vmtests", "control"):
        if name.startswith(kind) or name.startswith("lts-" + kind):
            return kind
    if run["guests"]:
        return "matrix"
    for kind in ("bench", "stress", "distro", "nightly", "defconfig", "vmtests"):
        if run[kind]:
            return kind
    return "matrix"


def run_commit(run):
    """The commit that made the run (its 'commit' file, which run-qemu.sh
    writes at the first boot), else HEAD now; for a run of guests, the
    commits they were made on (<guest>/commit, which matrix.sh writes at
    each boot: a run continued in several sittings, MATRIX_RESUME=1, has
    several), the most frequent first."""
    counts = {}
    for guest in run.get("results", {}):
        c = result_commit(run["dir"], guest)
        counts[c] = counts.get(c, 0) + 1
    if counts and "unknown" not in counts:
        return ", ".join(sorted(counts, key=lambda c: -counts[c]))
    path = os.path.join(run["dir"], "commit")
    if os.path.exists(path):
        with open(path) as f:
            return f.read().strip() or "unknown"
    p = subprocess.run(["git", "-C", TOP, "rev-parse", "HEAD"], capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else "unknown"


def faults_snapshot(runs, name, command=None, commit=None):
    """The faults snapshot of one or more loaded runs."""
    from cowswap import faults   # faults -> tables -> rundata
    data = faults.data(runs)
    prov = [{"run": r["run"], "date": run_date(r), "commit": run_commit(r)} for r in runs]
    commits = []
    for p in prov:
        if p["commit"] not in commits:
            commits.append(p["commit"])
    return {"schema": SCHEMA, "name": name, "kind": "faults",
            "command": command or faults.commands(data),
            "run": " ".join(p["run"] for p in prov), "date": max(p["date"] for p in prov),
            "commit": commit or ", ".join(commits), "runs": prov, "faults": data}


def snapshot_runs(runs, name, kind=None, command=None, commit=None, records=None):
    """The snapshot of one loaded run, or of several for a faults one."""
    kind = kind or default_kind(name, runs[0])
    if kind == "faults":
        if records:
            raise ValueError("a faults snapshot keeps every record of its runs")
        return faults_snapshot(runs, name, command, commit)
    if len(runs) != 1:
        raise ValueError(f"a '{kind}' snapshot is made from one run, not {len(runs)} "
                         "(only a faults snapshot takes several)")
    return snapshot(runs[0], name, kind, command, commit, records)


# The kinds whose data are guests, and which guests of a run each takes.
GUEST_KINDS = {
    "matrix": lambda v: not v.startswith("mutant") and v not in CONTROL_VARIANTS,
    "mutants": lambda v: v.startswith("mutant"),
    "control": lambda v: v in CONTROL_VARIANTS,
}
CONTROL_VARIANTS = ("v6.12",)


def keep_records(rows, key, records, where):
    """The rows whose `key` is one of `records` (all when records is
    empty), refusing a record the run does not have: a typo must not
    shrink a table silently."""
    if not records:
        return rows
    have = {r[key] for r in rows}
    missing = [r for r in records if r not in have]
    if missing:
        raise ValueError(f"{where}: no result for record(s) {', '.join(missing)} "
                         f"(the run has: {', '.join(sorted(have))})")
    return [r for r in rows if r[key] in records]


def snapshot(run, name, kind=None, command=None, commit=None, records=None):
    """The snapshot dict (SCHEMA) of a loaded run; `records` keeps only
    those records (architecture records of a guest kind, distribution
    records of a distro run), e.g. one Debian release of a run of all."""
    kind = kind or default_kind(name, run)
    if kind == "faults":
        return faults_snapshot([run], name, command, commit)
    if kind not in KINDS:
        raise ValueError(f"kind '{kind}': expected one of {', '.join(KINDS)}")
    if kind in OWN_MAKERS:
        raise ValueError(f"a '{kind}' snapshot is not made here: {OWN_MAKERS[kind]} makes it")
    if kind == "distro-fix" and not command and run["distro-fix"]:
        command = "make distro-fix DISTROS=" + " ".join(run["distro-fix"]["records"])
    snap = {"schema": SCHEMA, "name": name, "kind": kind,
            "command": command or NAME_COMMANDS.get(name) or COMMANDS[kind], "run": run["run"], "date": run_date(run),
            "commit": commit or run_commit(run)}
    if kind in GUEST_KINDS:
        guests = [g for g in run["guests"] if GUEST_KINDS[kind](g["variant"])]
        guests = keep_records(guests, "record", records, run["dir"])
        if not guests:
            what = {"mutants": "mutant ", "control": "v6.12 "}.get(kind, "")
            raise ValueError(f"{run['dir']}: no {what}guest results for a '{kind}' snapshot")
        fields = CONTROL_FIELDS if kind == "control" else GUEST_FIELDS
        snap["guests"] = [{k: g[k] for k in fields} for g in guests]
    else:
        if not run[kind]:
            raise ValueError(f"{run['dir']}: no {kind} results for a '{kind}' snapshot")
        rows = run[kind]
        if records:
            if kind != "distro":
                raise ValueError(f"a '{kind}' snapshot keeps every record of its run")
            rows = keep_records(rows, "record", records, run["dir"])
        snap[kind] = rows
    return snap


# What identifies a row of each kind that add_to_snapshot() can grow
# (the guest kinds' rows by their guest): a row of the new run replaces
# the old row with the same key.
ROW_KEYS = {"stress": ("arch", "variant", "fragments"), "defconfig": ("record", "defconfig"),
            "distro": ("record",)}


def add_to_snapshot(old, new):
    """The snapshot `old` (a committed one) with the rows of `new` (the
    same kind, made from a later run) added: a row of `new` replaces the
    row of `old` with the same key (ROW_KEYS; vmtests: record and
    variant, the comparison made again; nightly: the stage, as a
    continued nightly run merges them), the others stay. Runs, dates and
    commits of both are kept, so a table can grow across sittings whose
    out/ is gone."""
    kind = new["kind"]
    if old.get("kind") != kind:
        raise ValueError(f"cannot add a '{kind}' run to a '{old.get('kind')}' snapshot")

    def merged(rows_old, rows_new, key):
        ids = {key(r) for r in rows_new}
        return [r for r in rows_old if key(r) not in ids] + rows_new

    snap = dict(new)
    for k, sep in (("run", " + "), ("commit", ", ")):
        parts = [p for v in (old[k], new[k]) for p in v.split(sep)]
        snap[k] = sep.join(dict.fromkeys(parts))
    snap["date"] = max(old["date"], new["date"])
    snap["command"] = (old["command"] if new["command"] in old["command"]
                       else f"{old['command']}; then {new['command']}")
    if kind == "vmtests":
        from cowswap import vmtests   # vmtests -> judge -> ... -> rundata
        kernels = merged(old["vmtests"]["kernels"], new["vmtests"]["kernels"],
                         lambda k: (k["record"], k["variant"]))
        names = list(old["vmtests"]["names"])
        names += [n for n in new["vmtests"]["names"] if n not in names]
        snap["vmtests"] = {"names": names, "kernels": kernels,
                           "comparison": vmtests.compare(kernels)}
    elif kind == "nightly":
        from cowswap import nightly
        snap["nightly"] = nightly.merge(old["nightly"], new["nightly"]["stages"],
                                        new["nightly"].get("stages_asked", []), snap["run"],
                                        new["nightly"].get("commit", new["commit"]))
    elif kind in GUEST_KINDS or kind in ROW_KEYS:
        field = "guests" if kind in GUEST_KINDS else kind
        fields = ROW_KEYS.get(kind, ("guest",))
        snap[field] = merged(old[field], new[field], lambda r: tuple(str(r.get(f)) for f in fields))
    else:
        raise ValueError(f"a '{kind}' snapshot cannot be added to; make it again from one run")
    return snap


def check_snapshot(snap, where):
    """Problems with a snapshot file's shape (a hand edit, an old schema)."""
    if not isinstance(snap, dict) or snap.get("schema") != SCHEMA:
        return [f"{where}: not a {SCHEMA} snapshot"]
    problems = [f"{where}: no '{k}'" for k in ("name", "kind", "command", "run", "date",
                                                "commit") if k not in snap]
    kind = snap.get("kind")
    key = "guests" if kind in GUEST_KINDS else kind
    if kind not in KINDS:
        problems.append(f"{where}: kind '{kind}' is not one of {', '.join(KINDS)}")
    elif not snap.get(key):
        problems.append(f"{where}: kind {kind} but no '{key}' data")
    return problems

# SPDX-License-Identifier: GPL-2.0
"""Markdown tables of run data (cowswap.rundata): the same functions fill
out/report/results.md and the generated blocks of README.md and docs/*.md,
so a page shows exactly what its snapshot holds."""
from cowswap import defconfig, nightly
from cowswap.rundata import GUEST_KINDS, VARIANT_ORDER, column_key


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header, rows):
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows])


def verdict_word(g):
    """PASS, REPRODUCED; **ERROR** (expected PASS) when not what the run had to give."""
    word = g["outcome"].upper()
    return word if g["ok"] else f"**{word}** (expected {g['expected'].upper()})"


def problem_lines(guests):
    """Below a table of guests: why each one that is not as expected is not."""
    bad = [g for g in guests if not g["ok"]]
    return ([""] + [f"- {g['record']}/{g['column']}: "
                    + "; ".join(g["problems"][:3] or ["outcome differs"]) for g in bad]
            if bad else [])


def matrix_table(guests):
    """Records down, variant@disks(+runner) across, the verdict in each cell."""
    columns = sorted({g["column"] for g in guests}, key=column_key)
    records = sorted({g["record"] for g in guests})
    rows = []
    for rec in records:
        row = [rec]
        for col in columns:
            g = next((g for g in guests if g["record"] == rec and g["column"] == col), None)
            row.append(verdict_word(g) if g else "–")
        rows.append(row)
    md = table(["record"] + columns, rows)
    return md + problem_lines(guests)


def control_table(guests):
    """One row per record booted on today's kernel: the verdict, the counts,
    and why the checks that SKIPped did (reason: how many checks)."""
    rows = []
    for g in sorted(guests, key=lambda g: (g["record"], g["column"])):
        reasons = {}
        for _, why in g.get("skipped", []):
            reasons[why or "no reason given"] = reasons.get(why or "no reason given", 0) + 1
        rows.append([g["record"], verdict_word(g), f"{g['pass']}/{g['fail']}/{g['skip']}",
                     "; ".join(f"{why} ({n})" for why, n in sorted(reasons.items())) or "none"])
    md = table(["record", "verdict", "pass/fail/skip", "SKIP reasons (checks)"], rows)
    return md + problem_lines(guests)


def mutants_table(guests):
    """One row per mutant boot: which checks caught its deliberate bug."""
    rows = [[g["variant"][len("mutant-"):] or g["variant"], g["record"], verdict_word(g),
             ", ".join(g["failed"]) or "nothing"]
            for g in sorted(guests, key=lambda g: (g["variant"], g["record"]))]
    return table(["mutation", "record", "verdict", "failed checks (must be exactly its own)"],
                 rows)


def num(v):
    if v is None:
        return "–"
    return f"{v:.0f}" if v >= 100 or v == int(v) else f"{v:.2f}"


def bench_record_table(b):
    """One benchmarked record: each kernel's median and its ratio to the
    reference kernel's."""
    # the kernels in lib.sh's order (a snapshot keeps them sorted by name)
    variants = sorted(b["variants"], key=lambda v: VARIANT_ORDER.index(v)
                      if v in VARIANT_ORDER else len(VARIANT_ORDER))
    ref = b.get("reference")
    others = [v for v in variants if ref and v != ref]
    header = ["metric", "MiB", "unit"] + [f"{v} median" for v in variants]
    header += [f"{v}/{ref}" for v in others]
    rows = []
    for r in b["rows"]:
        if r["metric"] == "clock_step_us":
            continue
        row = [r["metric"], r["size_mib"], r["unit"] or ""]
        row += [num(r["values"][v]["median"]) if v in r["values"] else "–" for v in variants]
        row += ["–" if r["ratio"].get(v) is None else f"{r['ratio'][v]:.3f}" for v in others]
        rows.append(row)
    return table(header, rows)


def bench_table(records):
    """Every benchmarked record, each under its name and clock."""
    out = []
    for b in records:
        out += [f"**{b['arch']}** ({b['clock'] or 'clock not recorded'}; "
                f"swap_bench `{b['args'] or 'defaults'}`):", ""]
        out += bench_record_table(b) + [""]
    return out[:-1]


def dash(v):
    """A number, or a dash where the run did not count it."""
    return "–" if v is None else v


def stress_table(runs):
    rows = []
    for r in runs:
        races = ("–" if r["race_iterations"] is None
                 else f"{r['race_overlapped']} of {r['race_iterations']}")
        rows.append([r["arch"], r["variant"], "+" + r["fragments"] if r["fragments"] else "plain",
                     verdict_word({"outcome": r["outcome"], "ok": r["ok"],
                                   "expected": r["expected"]}),
                     r["seconds"] if r["seconds"] is not None else "–",
                     r["pages_verified"] if r["pages_verified"] is not None else "–",
                     r["corruptions"] if r["corruptions"] is not None else "–",
                     races, dash(r.get("faults_injected")), dash(r.get("sigbus_seen")),
                     ", ".join(r["splats"]) or "none"])
    return table(["arch", "variant", "kernel", "verdict", "stress s", "pages verified",
                  "corruptions", "races overlapped", "faults injected", "SIGBUS seen",
                  "splats"], rows)


# Debian's releases by codename: the version, the kernel series, and what
# a user of a kernel with each verdict does there.
DEBIAN_RELEASES = {
    "bullseye": (11, "5.10"),
    "bookworm": (12, "6.1"),
    "trixie": (13, "6.12"),
}
DISTRO_ADVICE = {
    "bookworm": {
        "affected": "a kernel with `patches/lts-6.1`: `make distro-fix`, `make deb` (docs/distro-fix.md)",
        "not affected": "nothing: 6.1 keeps the marker on this architecture",
    },
    "trixie": {
        "affected": "a regression: 6.12 has the marker on every architecture with swap PTEs; report it with the console log",
        "not affected": "nothing: 6.12 keeps the marker on every architecture and pins O_DIRECT with FOLL_PIN",
    },
    "bullseye": {
        "affected": "no fix in this project: 5.10 predates PG_anon_exclusive (5.19), the fix is the whole COW rework; "
                    "move to Debian 13, or Debian 12 with `patches/lts-6.1` (docs/distro.md)",
        "not affected": "unexpected before 5.19: see the evidence, and docs/distro.md",
    },
}
UNKNOWN_ADVICE = "run the command again; see the reason"


def debian_release(codename):
    """'12 (bookworm)' for a codename; the codename alone when unknown."""
    if codename in DEBIAN_RELEASES:
        return f"{DEBIAN_RELEASES[codename][0]} ({codename})"
    return codename


def distro_advice(r):
    if r["verdict"] == "unknown":
        return UNKNOWN_ADVICE
    return DISTRO_ADVICE.get(r.get("release") or "bookworm", {}).get(r["verdict"], "")


def distro_table(rows):
    out = []
    order = {c: v[0] for c, v in DEBIAN_RELEASES.items()}
    for r in sorted(rows, key=lambda r: (order.get(r.get("release") or "bookworm", 99), r["record"])):
        # the evidence line up to its first ';' (the count of lost reads)
        why = r["reason"] if r["verdict"] == "unknown" else f"`{r['evidence'].split(';')[0]}`"
        out.append([debian_release(r.get("release") or "bookworm"), r["record"], r["package"],
                    r["version"], f"**{r['verdict']}**", why,
                    f"`make distro-check DISTROS={r['record']}`", distro_advice(r)])
    return table(["Debian", "record", "kernel package", "version", "verdict", "evidence",
                  "measured by", "what to do"], out)


def nightly_table(n):
    """nightly.sh's stages: when each finished, how long it took, its verdict."""
    rows = [[s["stage"], s["finished"], s.get("commit", n["commit"]), s["seconds"],
             f"**{s['verdict']}**"] for s in n["stages"]]
    done = {nightly.NUMBER_OF.get(s["stage"]) for s in n["stages"]}
    not_run = " ".join(str(x) for x in nightly.STAGES if x not in done)
    return table(["stage", "finished (UTC)", "commit", "seconds", "verdict"], rows) + [
        "", f"Stages asked: {' '.join(n['stages_asked']) or 'all'}; "
        + (f"not run yet: {not_run}." if not_run else "every stage has run.")]


def defconfig_table(rows):
    """defconfig-build.sh's configurations: the fixed vmlinux, W=1 counts."""
    return defconfig.table(rows)


def vmtests_table(data):
    """6.1's vm selftests, test x kernel, and the comparison's verdict."""
    from cowswap.vmtests import render
    return render(data)


def faults_table(data):
    """The fault checks per kernel and per check, the stress fault counters."""
    from cowswap.faults import faults_table as render   # faults imports this module
    return render(data)


def distro_fix_table(data):
    """Debian's kernel and its config rebuilt with and without the series."""
    from cowswap import distro_fix
    return distro_fix.table(data)


def deb_table(data):
    """The packages of Debian's config booted on a whole Debian system."""
    from cowswap import deb
    return deb.table(data)


def kind_table(kind, data):
    """The table of one snapshot's data."""
    return {"matrix": matrix_table, "mutants": mutants_table, "bench": bench_table,
            "stress": stress_table, "distro": distro_table, "nightly": nightly_table,
            "defconfig": defconfig_table, "vmtests": vmtests_table,
            "faults": faults_table, "control": control_table,
            "distro-fix": distro_fix_table, "deb": deb_table}[kind](data)


def snapshot_table(snap):
    key = "guests" if snap["kind"] in GUEST_KINDS else snap["kind"]
    return kind_table(snap["kind"], snap[key])


def short_commit(c):
    """12 digits of a commit, and '-dirty' when the tree had changes that
    were not committed (run-qemu.sh's 'commit' file says so)."""
    return c[:12] + ("-dirty" if c.endswith("-dirty") and len(c) > 12 else "")


def provenance(snap, path):
    runs = snap.get("runs", [])
    if len(runs) > 1:
        each = ", ".join(f"`{r['run']}` ({r['date'][:10]}, commit {short_commit(r['commit'])})"
                         for r in runs)
        return f"From `{path}`: runs {each} of `{snap['command']}`."
    # a run continued on several commits, or a snapshot grown by --add,
    # lists them all
    commits = [short_commit(c.strip()) for c in snap["commit"].split(",")]
    return (f"From `{path}`: run `{snap['run']}` of `{snap['command']}`, "
            f"{snap['date'][:10]}, commit{'s' if len(commits) > 1 else ''} {', '.join(commits)}.")


def run_tables(run):
    """results.md's lines for one loaded run: every kind of data it holds."""
    md = [f"## Run {run['run']}", ""]
    matrix, mutants, control = ([g for g in run["guests"] if GUEST_KINDS[k](g["variant"])]
                                for k in ("matrix", "mutants", "control"))
    for title, kind, data in (("Matrix", "matrix", matrix), ("Mutants", "mutants", mutants),
                              ("Today's kernel (control)", "control", control),
                              ("Benchmark", "bench", run["bench"]),
                              ("Stress", "stress", run["stress"]),
                              ("Distribution kernels", "distro", run["distro"]),
                              ("Debian's config rebuilt, with and without the series",
                               "distro-fix", run["distro-fix"]),
                              ("Nightly stages", "nightly", run["nightly"]),
                              ("6.1's vm selftests", "vmtests", run["vmtests"])):
        if data:
            md += [f"### {title}", ""] + kind_table(kind, data) + [""]
    return md

# SPDX-License-Identifier: GPL-2.0
"""The generated blocks of README.md and docs/*.md.

A page marks a table that comes from data with

  <!-- BEGIN generated: NAME -->
  ...
  <!-- END generated: NAME -->

and the block's body is what cowswap.tables makes of docs/results/NAME.json
(a snapshot, cowswap.rundata), followed by a line naming the snapshot, its
run, command, date and commit. Without the snapshot the body is one line
saying so and how to make it. fill() rewrites the blocks ('make docs');
stale() lists the pages whose blocks differ from what their snapshots
give (report.py docs --check, and the unit test
scripts/tests/test_report.py in 'make unit'). A bench block also shows
one plot per record, docs/results/NAME-<record>.svg (times as ratios to
the reference kernel), which fill() draws from the same snapshot.
"""
import glob
import json
import os
import re

from cowswap import TOP
from cowswap.rundata import check_snapshot
from cowswap.tables import provenance, snapshot_table

BEGIN = "<!-- BEGIN generated: {} -->"
END = "<!-- END generated: {} -->"
BLOCK = re.compile(r"^<!-- BEGIN generated: ([\w.-]+) -->\n(.*?)^<!-- END generated: \1 -->$",
                   re.S | re.M)
MARKER = re.compile(r"<!-- (BEGIN|END) generated: ([\w.-]+) -->")


def results_dir():
    return os.path.join(TOP, "docs", "results")


def pages(top=TOP):
    """README.md and every docs/*.md (docs/**/*.md)."""
    found = [os.path.join(top, "README.md")]
    found += sorted(glob.glob(os.path.join(top, "docs", "**", "*.md"), recursive=True))
    return [p for p in found if os.path.exists(p)]


def snapshot_path(name, outdir=None):
    """docs/results/NAME.json (or NAME.json in outdir)."""
    return os.path.join(outdir or results_dir(), f"{name}.json")


def write_snapshot(snap, name, outdir=None):
    """Write a snapshot as docs/results/NAME.json (or into outdir); its path."""
    path = snapshot_path(name, outdir)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(snap, f, indent=1, sort_keys=True)
        f.write("\n")
    return path


def figure_files(snap, name, rdir):
    """{record: svg path} of a bench snapshot's plots."""
    if snap.get("kind") != "bench":
        return {}
    return {b["arch"]: os.path.join(rdir, f"{name}-{b['arch']}.svg") for b in snap["bench"]}


def body(name, rdir, page=None):
    """The lines between the markers of block NAME (of page: where the
    plots' links start from)."""
    path = os.path.join(rdir, f"{name}.json")
    # named as the repository has it, wherever the tests keep their copy
    shown = f"docs/results/{name}.json"
    if not os.path.exists(path):
        # the path is not in backticks: the docs test takes those for
        # files that must exist
        return ["", f"_No snapshot yet: `make snapshot RUN=<run> NAME={name}` writes "
                f"{shown}, `make docs` fills this block._", ""]
    with open(path) as f:
        snap = json.load(f)
    problems = check_snapshot(snap, shown)
    if problems:
        raise ValueError("; ".join(problems))
    lines = [""] + snapshot_table(snap) + [""]
    for arch, svg in figure_files(snap, name, rdir).items():
        rel = os.path.relpath(svg, os.path.dirname(os.path.abspath(page or svg)))
        lines += [f"![swap_bench on {arch}: each time as a ratio to the reference kernel]({rel})", ""]
    return lines + [provenance(snap, shown), ""]


def marker_problems(text, where):
    """BEGIN without END, END without BEGIN, nested blocks."""
    problems, open_name = [], None
    for m in MARKER.finditer(text):
        kind, name = m.groups()
        if kind == "BEGIN":
            if open_name:
                problems.append(f"{where}: block '{name}' starts inside block '{open_name}'")
            open_name = name
        elif open_name != name:
            problems.append(f"{where}: END of '{name}' without its BEGIN")
        else:
            open_name = None
    if open_name:
        problems.append(f"{where}: block '{open_name}' has no END marker")
    return problems


def render(text, rdir, where="page"):
    """The page text with every block's body rendered from its snapshot."""
    problems = marker_problems(text, where)
    if problems:
        raise ValueError("; ".join(problems))

    def one(m):
        name = m.group(1)
        return "\n".join([BEGIN.format(name)] + body(name, rdir, where) + [END.format(name)])
    return BLOCK.sub(one, text)


def blocks(text):
    return [m.group(1) for m in BLOCK.finditer(text)]


def stale(paths=None, rdir=None):
    """[(page, names of its blocks)] of the pages that differ from their data."""
    out = []
    for p in paths or pages():
        with open(p) as f:
            text = f.read()
        if render(text, rdir or results_dir(), p) != text:
            out.append((p, blocks(text)))
    return out


def draw_figures(rdir):
    """Draw the plots of every bench snapshot in rdir (matplotlib)."""
    from cowswap import plots
    for path in sorted(glob.glob(os.path.join(rdir, "*.json"))):
        with open(path) as f:
            snap = json.load(f)
        name = os.path.basename(path)[:-len(".json")]
        for b in snap.get("bench", []) if snap.get("kind") == "bench" else []:
            plots.bench_ratio_svg(b, figure_files(snap, name, rdir)[b["arch"]])


def fill(paths=None, rdir=None):
    """Rewrite the pages whose blocks are stale and draw the plots; the
    list of the pages rewritten."""
    draw_figures(rdir or results_dir())
    changed = []
    for p, _ in stale(paths, rdir):
        with open(p) as f:
            text = f.read()
        with open(p, "w") as f:
            f.write(render(text, rdir or results_dir(), p))
        changed.append(p)
    return changed

# SPDX-License-Identifier: GPL-2.0
"""The report's figures, drawn with matplotlib (Debian's python3-matplotlib)
as SVG: the benchmark's medians with their min-max per kernel, and the
stress runs' pages verified, corruptions and overlapping races. The SVG
files carry no date and fixed element ids, so the same data gives the same
file."""
import os

VARIANT_COLOURS = {"baseline": "#c0392b", "patched": "#1e8449", "upstream": "#2e86c1",
                   "stock": "#af601a", "fixed": "#117a65"}


def pyplot():
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        raise SystemExit(f"report: cannot import matplotlib ({e}); install Debian's "
                         "python3-matplotlib (scripts/deps.sh) and run with /usr/bin/python3")
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "cowswap"
    # text as text, not as glyph outlines: a tenth of the size
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    return plt


def save(fig, path):
    fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")


def bench_svg(bench, path):
    """One panel per metric and size: each kernel's median, min-max as an
    error bar, lower is better."""
    plt = pyplot()
    rows = [r for r in bench["rows"] if r["metric"] != "clock_step_us"]
    variants = list(bench["variants"])
    if not rows:
        return None
    cols = min(3, len(rows))
    nrows = (len(rows) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 2.8 * nrows), squeeze=False)
    for ax, r in zip([a for line in axes for a in line], rows):
        have = [v for v in variants if v in r["values"]]
        med = [r["values"][v]["median"] for v in have]
        lo = [r["values"][v]["median"] - r["values"][v]["min"] for v in have]
        hi = [r["values"][v]["max"] - r["values"][v]["median"] for v in have]
        ax.bar(have, med, yerr=[lo, hi], capsize=4,
               color=[VARIANT_COLOURS.get(v, "#7f8c8d") for v in have])
        ax.set_title(f"{r['metric']} ({r['size_mib']} MiB)", fontsize=9)
        ax.set_ylabel(r["unit"] or "", fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in [a for line in axes for a in line][len(rows):]:
        ax.set_visible(False)
    fig.suptitle(f"swap_bench on {bench['arch']}: median, min-max (lower is better)",
                 fontsize=10)
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)
    return path


def bench_ratio_svg(bench, path):
    """The docs' picture of one benchmarked record: every time metric's
    median as a ratio to the reference kernel's, one bar per kernel (1.0:
    as fast as the reference; the copy counts are in the table)."""
    plt = pyplot()
    ref = bench.get("reference")
    rows = [r for r in bench["rows"] if r["unit"] in ("us", "us/page")
            and r["metric"] not in ("swapin_disk_us", "clock_step_us") and r["ratio"]]
    others = [v for v in bench["variants"] if v != ref]
    if not ref or not rows:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) * len(others) + 1.2))
    labels = [f"{r['metric']} {r['size_mib']} MiB" for r in rows]
    height = 0.8 / len(others)
    for i, v in enumerate(others):
        ax.barh([k + i * height for k in range(len(rows))],
                [r["ratio"].get(v) or 0 for r in rows], height=height, label=v,
                color=VARIANT_COLOURS.get(v, "#7f8c8d"))
    ax.set_yticks([k + height * (len(others) - 1) / 2 for k in range(len(rows))], labels,
                  fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1.0, color="#333", linewidth=0.8)
    lo = min(min(r["ratio"].get(v) or 1 for v in others) for r in rows)
    hi = max(max(r["ratio"].get(v) or 1 for v in others) for r in rows)
    ax.set_xlim(min(0.9, lo - 0.02), max(1.1, hi + 0.02))
    ax.set_xlabel(f"median / {ref}'s median (lower is faster)", fontsize=8)
    ax.set_title(f"swap_bench on {bench['arch']}: time against {ref}", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)
    return path


def stress_svg(runs, path):
    """Per stress run: corruptions found (the baseline must have some, every
    other kernel none) and the share of race iterations that overlapped."""
    plt = pyplot()
    if not runs:
        return None
    names = [f"{r['arch']}/{r['variant']}" for r in runs]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 0.5 * len(runs) + 1.6))
    a1.barh(names, [r["corruptions"] or 0 for r in runs],
            color=[VARIANT_COLOURS.get(r["variant"], "#7f8c8d") for r in runs])
    a1.set_xlabel("corrupted pages found", fontsize=8)
    a1.set_title("data loss under stress", fontsize=9)
    share = [100.0 * (r["race_overlapped"] or 0) / r["race_iterations"]
             if r["race_iterations"] else 0 for r in runs]
    a2.barh(names, share, color="#5d6d7e")
    a2.set_xlim(0, 100)
    a2.set_xlabel("% of race iterations whose faults overlapped", fontsize=8)
    a2.set_title("races that really raced", fontsize=9)
    for ax in (a1, a2):
        ax.tick_params(labelsize=8)
        ax.invert_yaxis()
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)
    return path


def figures(run, outdir):
    """{kind: [file name, ...]} of the figures drawn for one loaded run into
    outdir: one per benchmarked record (bench-<record>.svg), one of the
    stress runs (stress.svg)."""
    made = {}
    for b in run["bench"] or []:
        name = f"bench-{b['arch']}.svg"
        if bench_svg(b, os.path.join(outdir, name)):
            made.setdefault("bench", []).append(name)
    if run["stress"] and stress_svg(run["stress"], os.path.join(outdir, "stress.svg")):
        made["stress"] = ["stress.svg"]
    return made

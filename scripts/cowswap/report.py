# SPDX-License-Identifier: GPL-2.0
"""Results as pages: what the runs under out/results wrote, rendered.

  report.py html [--results DIR] [--run RUN ...] [--out DIR]
      Every run directory under DIR (default $COWSWAP_OUT/results; --run:
      only these) into the report directory (default $COWSWAP_OUT/report):
        index.html   per run the matrix record x variant@disks, a colour per
                     verdict, each cell linking to the guest's TAP lines
                     (<run>/<guest>.html) and its console.log; the bench and
                     stress figures (<run>/bench-<record>.svg, stress.svg, matplotlib)
                     and the tables of bench, stress and distribution runs
        results.md   the same tables in Markdown
        junit.xml    one testcase per check of every guest (cowswap.junit)
  report.py snapshot --run DIR --name NAME [--kind K] [--command CMD] [--commit C]
                     [--add] [--out DIR]
      Keep the data of one run that a docs page shows: docs/results/NAME.json
      (cowswap.rundata's snapshot; kind from NAME: faults*, mutants*, bench*,
      stress*, distro*, else matrix). --run is a directory or a run name under
      $COWSWAP_OUT/results; a faults snapshot takes several (--run again, or
      several names in one --run). --add adds the run's rows to the
      existing snapshot NAME (a table that grows across sittings).
  report.py docs [--check] [PAGE...]
      Fill the generated blocks of README.md and docs/*.md from their
      snapshots (cowswap.docs); --check only lists the stale pages, exit 1.
"""
import argparse
import html
import os
import re
import shutil
import sys
import time

from cowswap import TOP, docs, junit, out_dir, plots, rundata, tables

CSS = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
thead th { background: #eee; }
.v-pass { background: #c8e6c9; }
.v-reproduced { background: #e1bee7; }
.v-fail { background: #ffe0b2; }
.v-error { background: #ffcdd2; }
td.unexpected { outline: 3px solid #b71c1c; outline-offset: -3px; font-weight: bold; }
td.none { background: #f5f5f5; color: #999; }
a.log { font-size: 0.8em; color: #555; }
tr.r-FAIL td { background: #ffe0b2; }
tr.r-SKIP td { background: #eeeeee; }
pre { margin: 0; white-space: pre-wrap; font-size: 0.85em; }
.legend span { padding: 0.1em 0.5em; margin-right: 0.5em; }
figure img { max-width: 100%; }
"""
LEGEND = ('<p class="legend">Verdicts: <span class="v-pass">PASS</span>'
          '<span class="v-reproduced">REPRODUCED (the data loss)</span>'
          '<span class="v-fail">FAIL</span><span class="v-error">ERROR (no usable result)'
          '</span>; a red frame: not what the run had to give.</p>')
e = html.escape


def page(title, body):
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")


def rel(path, start):
    return os.path.relpath(path, start).replace(os.sep, "/")


def inline(text):
    """The Markdown of a table cell as HTML: **bold** and `code`."""
    text = e(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def md_table_html(lines, cls):
    """A Markdown table of cowswap.tables (and the notes after it) as HTML."""
    rows = [ln for ln in lines if ln.startswith("|")]
    notes = [ln[2:] for ln in lines if ln.startswith("- ")]
    split = [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", r)[1:-1]]
             for r in rows]
    out = [f'<table class="{cls}">', "<thead><tr>"
           + "".join(f"<th>{inline(c)}</th>" for c in split[0]) + "</tr></thead><tbody>"]
    out += ["<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in split[2:]]
    out.append("</tbody></table>")
    if notes:
        out.append("<ul>" + "".join(f"<li>{inline(n)}</li>" for n in notes) + "</ul>")
    return "\n".join(out)


def matrix_cell(run, g, report_dir):
    if g is None:
        return '<td class="none">–</td>'
    log = rel(os.path.join(run["dir"], g["guest"], "console.log"), report_dir)
    cls = f"v-{g['outcome']}" + ("" if g["ok"] else " unexpected")
    word = g["outcome"].upper() + ("" if g["ok"] else f" (expected {g['expected'].upper()})")
    tip = (f"{g['pass']} pass, {g['fail']} fail, {g['skip']} skip, {g['seconds']} s"
           + ("; " + "; ".join(g["problems"][:3]) if g["problems"] else ""))
    return (f'<td class="{cls}" data-guest="{e(g["guest"])}" data-column="{e(g["column"])}" '
            f'data-outcome="{g["outcome"]}" data-ok="{str(g["ok"]).lower()}" title="{e(tip)}">'
            f'<a href="{e(run["run"])}/{e(g["guest"])}.html">{e(word)}</a> '
            f'<a class="log" href="{e(log)}">log</a></td>')


def matrix_html(run, report_dir):
    """The run's matrix: one row per record, one column per variant@disks."""
    guests = run["guests"]
    columns = sorted({g["column"] for g in guests}, key=rundata.column_key)
    out = [f'<table class="matrix" id="matrix-{e(run["run"])}">',
           "<thead><tr><th>record</th>" + "".join(f"<th>{e(c)}</th>" for c in columns)
           + "</tr></thead><tbody>"]
    for rec in sorted({g["record"] for g in guests}):
        cells = [matrix_cell(run, next((g for g in guests if g["record"] == rec
                                        and g["column"] == c), None), report_dir)
                 for c in columns]
        out.append(f'<tr class="record" data-record="{e(rec)}"><th>{e(rec)}</th>'
                   + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def guest_page(run, g, result, run_dir_out):
    """<run>/<guest>.html: the verdict, the problems, every TAP line."""
    log = rel(os.path.join(run["dir"], g["guest"], "console.log"), run_dir_out)
    rows = []
    for t in result.get("tests", []):
        why = t.get("lost") or t.get("note") or t.get("reason") or ""
        if t.get("allowed"):
            why += f" (allowed: {t['allowed']})"
        rows.append(f'<tr id="t-{e(t["name"])}" class="r-{t["result"]}"><td>{e(t["binary"])}'
                    f'</td><td>{e(t["name"])}</td><td>{t["result"]}</td><td>{e(why)}</td>'
                    f'<td><pre>{e(chr(10).join(t.get("diag", [])))}</pre></td></tr>')
    problems = "".join(f"<li>{e(p)}</li>" for p in g["problems"]) or "<li>none</li>"
    body = (f'<p><a href="../index.html">all runs</a></p>\n'
            f'<h1>{e(run["run"])}: {e(g["record"])}/{e(g["column"])}</h1>\n'
            f'<p>Verdict <strong>{g["outcome"].upper()}</strong>, expected '
            f'{g["expected"].upper()}: {"as expected" if g["ok"] else "NOT as expected"}; '
            f'{g["seconds"]} s; <a href="{e(log)}">console.log</a></p>\n'
            f"<h2>Problems</h2>\n<ul>{problems}</ul>\n<h2 id=\"tap\">TAP lines</h2>\n"
            '<table class="tap"><thead><tr><th>binary</th><th>check</th><th>result</th>'
            "<th>why</th><th>diagnostics before it</th></tr></thead><tbody>\n"
            + "\n".join(rows) + "\n</tbody></table>")
    with open(os.path.join(run_dir_out, f"{g['guest']}.html"), "w") as f:
        f.write(page(f"cowswap {run['run']} {g['record']}/{g['column']}", body))


def run_section(run, report_dir):
    """index.html's section of one run; writes its guest pages and figures."""
    out_run = os.path.join(report_dir, run["run"])
    os.makedirs(out_run, exist_ok=True)
    parts = [f'<section class="run" id="run-{e(run["run"])}">',
             f'<h2>Run {e(run["run"])}</h2>']
    matrix = [g for g in run["guests"] if not g["variant"].startswith("mutant")]
    mutants = [g for g in run["guests"] if g["variant"].startswith("mutant")]
    if matrix:
        parts.append(matrix_html(dict(run, guests=matrix), report_dir))
    if mutants:
        parts += ["<h3>Mutants</h3>", matrix_html(dict(run, guests=mutants), report_dir)]
    for g in run["guests"]:
        guest_page(run, g, run["results"][g["guest"]], out_run)
    figs = plots.figures(run, out_run)
    for kind, title in (("bench", "Benchmark"), ("stress", "Stress"),
                        ("distro", "Distribution kernels"),
                        ("distro-fix", "Debian's config rebuilt, with and without the series"),
                        ("nightly", "Nightly stages"), ("vmtests", "6.1's vm selftests")):
        if not run[kind]:
            continue
        parts.append(f"<h3>{title}</h3>")
        # the benchmark: one figure and one table per record; distro-fix:
        # one table per record (its Markdown has one after another, which
        # md_table_html would run together)
        if kind == "bench":
            pieces = [(f"{title}, {b['arch']}", tables.bench_record_table(b)) for b in run[kind]]
        elif kind == "distro-fix":
            pieces = [(f"{title}, {rec}", tables.kind_table(kind, {"records": {rec: r}}))
                      for rec, r in sorted(run[kind]["records"].items())]
        else:
            pieces = [(title, tables.kind_table(kind, run[kind]))]
        for (name, lines), fig in zip(pieces, figs.get(kind, []) + [None] * len(pieces)):
            if len(pieces) > 1:
                parts.append(f"<h4>{e(name)}</h4>")
            if fig:
                parts.append(f'<figure><img src="{e(run["run"])}/{fig}" '
                             f'alt="{e(name)} of run {e(run["run"])}"></figure>')
            parts.append(md_table_html(lines, kind))
    parts.append("</section>")
    return "\n".join(parts)


def run_dirs(results, names):
    if names:
        dirs = [n if os.path.isdir(n) else os.path.join(results, n) for n in names]
        missing = [d for d in dirs if not os.path.isdir(d)]
        if missing:
            raise SystemExit(f"report: no run directory {', '.join(missing)}")
        return dirs
    dirs = sorted(d for d in (os.path.join(results, n) for n in os.listdir(results))
                  if os.path.isdir(d)) if os.path.isdir(results) else []
    if not dirs:
        raise SystemExit(f"report: no runs under {results} (make matrix, make check, ...)")
    return dirs


def load_runs(dirs):
    runs = []
    for d in dirs:
        try:
            runs.append(rundata.load_run(d))
        except ValueError as err:
            print(f"report: skipped: {err}", file=sys.stderr)
    if not runs:
        raise SystemExit("report: none of the run directories holds results")
    return runs


def cmd_html(a):
    results = a.results or os.path.join(out_dir(), "results")
    report_dir = os.path.abspath(a.out or os.path.join(out_dir(), "report"))
    runs = load_runs(run_dirs(results, a.run))
    if os.path.exists(os.path.join(report_dir, "index.html")):
        shutil.rmtree(report_dir)   # an earlier report: no page of another run stays
    os.makedirs(report_dir, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    names = ", ".join(r["run"] for r in runs)
    body = [f"<h1>cowswap results</h1>\n<p>{len(runs)} run(s): {e(names)}; rendered {stamp} "
            "by scripts/report.py from what each run wrote (result.json, bench-&lt;record&gt;.json, "
            "stress.json, verdict.json, nightly.json). Each cell links to the guest's TAP lines, "
            '"log" to its console. Also: <a href="results.md">results.md</a>, '
            '<a href="junit.xml">junit.xml</a>.</p>', LEGEND]
    body += [run_section(run, report_dir) for run in runs]
    with open(os.path.join(report_dir, "index.html"), "w") as f:
        f.write(page("cowswap results", "\n".join(body)))
    md = ["# cowswap results", "", f"{len(runs)} run(s): {names}; rendered {stamp}.", ""]
    for run in runs:
        md += tables.run_tables(run)
    with open(os.path.join(report_dir, "results.md"), "w") as f:
        f.write("\n".join(md))
    junit.junit(runs).write(os.path.join(report_dir, "junit.xml"), encoding="utf-8",
                            xml_declaration=True)
    n = sum(len(r["guests"]) for r in runs)
    print(f"report: {len(runs)} run(s), {n} guest(s) -> {report_dir}/index.html, "
          "results.md, junit.xml")
    return 0


def cmd_snapshot(a):
    # --run may be given more than once, each a name or a directory, or
    # several names in one (make snapshot RUN="faults-5 faults-6")
    names = [n for r in a.run for n in r.split()]
    dirs = [n if os.path.isdir(n) else os.path.join(out_dir(), "results", n) for n in names]
    try:
        snap = rundata.snapshot_runs([rundata.load_run(d) for d in dirs], a.name, a.kind,
                                     a.command, a.commit, (a.records or "").split())
        if a.add:
            have = docs.snapshot_path(a.name, a.out)
            if not os.path.exists(have):
                raise ValueError(f"--add: {os.path.relpath(have, TOP)} does not exist; "
                                 "make it without --add first")
            snap = rundata.add_to_snapshot(rundata.read_json(have), snap)
    except (OSError, ValueError) as err:
        raise SystemExit(f"report: snapshot: {err}")
    path = docs.write_snapshot(snap, a.name, a.out)
    print(f"report: {os.path.relpath(path, TOP)}: {snap['kind']} of run(s) {snap['run']} "
          f"({snap['date']}); 'make docs' puts it into the pages")
    return 0


def cmd_docs(a):
    paths = [os.path.abspath(p) for p in a.pages] or None
    try:
        if a.check:
            bad = docs.stale(paths)
            for p, names in bad:
                print(f"{os.path.relpath(p, TOP)}: generated block(s) {', '.join(names)} "
                      "differ from docs/results/*.json; run 'make docs'")
            return 1 if bad else 0
        for p in docs.fill(paths):
            print(f"report: rewrote the generated blocks of {os.path.relpath(p, TOP)}")
    except (OSError, ValueError) as err:
        raise SystemExit(f"report: docs: {err}")
    return 0


def main():
    p = argparse.ArgumentParser(prog="report.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("html", help="out/report/{index.html,results.md,junit.xml}")
    h.add_argument("--results", help="directory of run directories (default out/results)")
    h.add_argument("--run", action="append", help="only this run (a name or a directory)")
    h.add_argument("--out", help="report directory (default out/report)")
    s = sub.add_parser("snapshot", help="docs/results/NAME.json from one run")
    s.add_argument("--run", required=True, action="append",
                   help="run name or directory; several only for a faults snapshot")
    s.add_argument("--name", required=True)
    s.add_argument("--kind", choices=rundata.KINDS)
    s.add_argument("--command", help="the command that made the run (default by kind)")
    s.add_argument("--commit", help="the commit the run was made at (default: the run's commit file, else HEAD now)")
    s.add_argument("--records", help="only these records (space-separated), e.g. one "
                   "Debian release of a distro-check run of all")
    s.add_argument("--add", action="store_true",
                   help="add the run's rows to the existing snapshot NAME (a row of the run "
                   "replaces the row of the same record and variant), keeping both runs' "
                   "provenance")
    s.add_argument("--out", help="directory (default docs/results)")
    d = sub.add_parser("docs", help="fill the generated blocks of README.md and docs/*.md")
    d.add_argument("--check", action="store_true")
    d.add_argument("pages", nargs="*")
    a = p.parse_args()
    return {"html": cmd_html, "snapshot": cmd_snapshot, "docs": cmd_docs}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

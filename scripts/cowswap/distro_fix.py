# SPDX-License-Identifier: GPL-2.0
"""The table of 'make distro-fix': Debian's kernel, Debian's config
rebuilt, and Debian's config rebuilt with patches/lts-6.1, per record.

  distro_fix_report.py --run <results dir> --fixdir <out/distrofix>
                       [--command TEXT] <record>...

Reads, per record R:
  <run>/distro-R/{verdict,result}.json        Debian's own kernel (distro-check)
  <run>/distrofix-R-{stock,fixed}/{verdict,result}.json   the rebuilds
  <fixdir>/R-{stock,fixed}/distrofix.done     build time, objects, release,
                                              source and tree (commit) built from
  <fixdir>/R/config.diff                      Debian's config vs the trimmed one
and writes <run>/distro-fix.md and <run>/distro-fix.json, and prints the
Markdown.

Judgement, per record (the "ok" of each row and of the record):
  stock  must lose the O_DIRECT data (odirect_inflight, distro_report's
         "affected") and so agree with Debian's own kernel when that one
         was booted: the rebuild is faithful;
  fixed  must not: odirect_inflight ran and passed, no selftest check
         failed, and no check SKIPped that did not SKIP on Debian's own
         kernel (or, without it, on the stock rebuild).
Exit status 0 when every record is ok.
"""
import argparse
import collections
import datetime
import json
import os
import re
import sys

LOST = re.compile(r"(\d+) of (\d+) iterations lost")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_done(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                out[k] = v
    except OSError:
        return None
    return out


def lost_of(result):
    """{setup: (K, N)} of the odirect_inflight checks that ran."""
    out = {}
    for t in (result or {}).get("tests", []):
        if not t["name"].startswith("odirect_inflight/") or t["result"] == "SKIP":
            continue
        setup = t["name"].split("/", 1)[1]
        k = n = None
        for d in t.get("diag", []):
            m = LOST.search(d)
            if m and "odirect_inflight/" in d:
                k, n = int(m.group(1)), int(m.group(2))
        if k is None and t["result"] == "PASS":
            # A pass prints the same summary; take it, else 0 lost.
            for d in t.get("diag", []):
                m = re.search(r"^(\d+) of (\d+) iterations lost data", d)
                if m:
                    k, n = int(m.group(1)), int(m.group(2))
        out[setup] = (k, n)
    return out


def column(kind, verdict, result, build=None):
    """One kernel's cell data."""
    tests = (result or {}).get("tests", [])
    counts = collections.Counter(t["result"] for t in tests)
    return {
        "kernel": kind,
        "package": (verdict or {}).get("package", ""),
        "release": (verdict or {}).get("version", ""),
        "verdict": (verdict or {}).get("verdict", "missing"),
        "reason": (verdict or {}).get("reason", "no verdict.json"),
        "lost": {k: list(v) for k, v in lost_of(result).items()},
        "pass": counts.get("PASS", 0),
        "fail": counts.get("FAIL", 0),
        "skip": counts.get("SKIP", 0),
        "failed": [t["name"] for t in tests if t["result"] == "FAIL"],
        "skipped": sorted(t["name"] for t in tests if t["result"] == "SKIP"),
        "harness_outcome": (result or {}).get("outcome", ""),
        "boot_seconds": (result or {}).get("seconds"),
        "build_seconds": int(build["seconds"]) if build and build.get("seconds") else None,
        "build_objects": int(build["objects"]) if build and build.get("objects") else None,
        # What it was built from: the import's subject ("Linux 6.1.176 as
        # shipped (...)") and "<tree> <commit>"; builds before these were
        # recorded have neither.
        "source": (build or {}).get("source"),
        "tree": (build or {}).get("tree"),
        "log": (result or {}).get("log", ""),
    }


def diff_summary(path):
    """Counts of Debian's config vs the trimmed one, and the lines that
    are not a module dropped or an option that went with it."""
    dropped_m, gone, changed, added = [], [], [], []
    try:
        with open(path) as f:
            lines = [ln.rstrip("\n") for ln in f if ln.strip()]
    except OSError:
        return None
    for ln in lines:
        if ln.startswith("-"):
            (dropped_m if ln.endswith(" m") else gone).append(ln)
        elif ln.startswith("+"):
            added.append(ln)
        elif ln.endswith(" m -> n"):
            dropped_m.append(ln)
        else:
            changed.append(ln.strip())
    return {"lines": len(lines), "modules_dropped": len(dropped_m),
            "dependent_options_gone": len(gone), "changed": changed, "added": added,
            "file": os.path.abspath(path)}


def judge(rec, cols):
    deb, stock, fixed = cols.get("debian"), cols.get("stock"), cols.get("fixed")
    problems = []
    if stock:
        if stock["verdict"] != "affected":
            problems.append(f"stock rebuild: {stock['verdict']} ({stock['reason']}), must lose the data")
        if deb and deb["verdict"] != "missing" and deb["verdict"] != stock["verdict"]:
            problems.append(f"stock rebuild says {stock['verdict']}, Debian's kernel {deb['verdict']}: "
                            "the rebuild is not faithful")
    if fixed:
        if fixed["verdict"] != "not affected":
            problems.append(f"fixed rebuild: {fixed['verdict']} ({fixed['reason']}), must not lose data")
        if fixed["failed"]:
            problems.append(f"fixed rebuild: failed {', '.join(fixed['failed'][:6])}")
        ref = deb if deb and deb["verdict"] != "missing" else stock
        if ref:
            new = sorted(set(fixed["skipped"]) - set(ref["skipped"]))
            if new:
                problems.append(f"fixed rebuild: new SKIPs (not on {ref['kernel']}): {', '.join(new[:6])}")
    return problems


# The selftest's setups in the order it runs them (a snapshot keeps its
# keys sorted by name); one it does not list goes last.
SETUP_ORDER = ("fault", "swapoff", "zram", "stable", "thp_whole", "thp_pte", "thp_subpage",
               "thp_partial", "memcg", "faulty")


def setup_key(setup):
    return (SETUP_ORDER.index(setup) if setup in SETUP_ORDER else len(SETUP_ORDER), setup)


def lost_cell(c):
    if not c["lost"]:
        return "none ran"
    return ", ".join(f"{s} {k}/{n}" if k is not None else f"{s} ?"
                     for s, (k, n) in sorted(c["lost"].items(), key=lambda i: setup_key(i[0])))


def minutes(seconds):
    return f"{seconds // 60} min {seconds % 60} s"


def agreement(cols):
    """How the rebuilds' failed and SKIPped checks compare with Debian's
    kernel's (the judgement's reasons, in words)."""
    deb, stock, fixed = cols.get("debian"), cols.get("stock"), cols.get("fixed")
    out = []

    def same(what, mine, theirs):
        if set(mine) == set(theirs):
            return f"{what} the same {len(mine)} checks"
        return f"{what} {len(mine)} checks, Debian's kernel {len(theirs)}, not the same ones"
    if deb and stock:
        out.append("stock rebuild: " + same("fails", stock["failed"], deb["failed"]) + ", "
                   + same("SKIPs", stock["skipped"], deb["skipped"]) + " as Debian's kernel")
    ref = deb or stock
    if fixed and ref:
        there = "Debian's kernel" if deb else "the stock rebuild"
        new = sorted(set(fixed["skipped"]) - set(ref["skipped"]))
        passed = set(ref["failed"]) - set(fixed["failed"]) - set(fixed["skipped"])
        out.append(f"fixed rebuild: fails {len(fixed['failed'])} checks; of the "
                   f"{len(ref['failed'])} that fail on {there} it passes {len(passed)}; "
                   + (f"SKIPs {len(new)} that do not SKIP there: {', '.join(new)}" if new
                      else "it SKIPs nothing that does not SKIP there"))
    return out


def tree_cell(c, default):
    """The tree a rebuild came from (its path, without the commit), and
    the source it was imported from when recorded."""
    tree = (c.get("tree") or default).split()[0]
    return f"`{tree}`" + (f"; {c['source']}" if c.get("source") else "")


# The rows of the docs table: what each kernel is.
KERNEL_CELLS = {
    "debian": lambda c: f"Debian's kernel (`{c['package']}` {c['release']})",
    "stock": lambda c: f"Debian's config rebuilt ({tree_cell(c, 'out/trees/upstream')})",
    "fixed": lambda c: f"Debian's config + `patches/lts-6.1` ({tree_cell(c, 'out/trees/fixed')})",
}


def table(data):
    """The docs table of a distro-fix snapshot (docs/distro-fix.md): per
    record Debian's kernel and the two rebuilds, the O_DIRECT data each
    lost, its counts and build; then the record's problems and the
    config's difference from Debian's."""
    from cowswap.tables import table as md_table   # tables imports this module lazily
    out = []
    several = len(data["records"]) > 1
    for rec, r in sorted(data["records"].items()):
        rows = []
        for k in ("debian", "stock", "fixed"):
            c = r["kernels"].get(k)
            if not c:
                continue
            # Debian's version is its package's; its release is in the package's name
            release = c["package"][len("linux-image-"):] if k == "debian" else c["release"]
            if k == "debian":
                build = "Debian's package"
            elif c.get("build_seconds") is None:
                build = "not recorded"
            else:
                build = f"{minutes(c['build_seconds'])}, {c['build_objects']} objects"
            rows.append([KERNEL_CELLS[k](c), release, f"**{c['verdict']}**", lost_cell(c),
                         f"{c['pass']}/{c['fail']}/{c['skip']}", build])
        if several:
            out += [f"**{rec}**:", ""]
        out += md_table(["kernel", "release", "verdict",
                         "O_DIRECT data lost (odirect_inflight, K/N per setup)",
                         "selftest pass/fail/skip", "build"], rows)
        out += [""] + [f"- {rec}: {line}" for line in agreement(r["kernels"])]
        out += [f"- {rec}: **{p}**" for p in r["problems"]]
        d = r.get("config_diff")
        if d:
            out += ["", f"Config of {rec}, Debian's vs the one built (diffconfig, "
                    f"{d['lines']} lines): {d['modules_dropped']} options that were =m dropped, "
                    f"{d['dependent_options_gone']} options gone with them, and these changed "
                    "or added:", "", "```"] + d["changed"] + d["added"] + ["```"]
        out.append("")
    return out[:-1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--fixdir", required=True)
    p.add_argument("--command", default="")
    p.add_argument("records", nargs="+")
    a = p.parse_args()

    names = {"debian": "Debian's kernel", "stock": "Debian's config rebuilt",
             "fixed": "Debian's config + lts-6.1"}
    out = {"run": os.path.basename(os.path.normpath(a.run)), "command": a.command,
           "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "records": {}}
    ok_all = True
    md = [f"Run `{out['run']}`, {out['date']}, command: `{a.command}`", "",
          "| record | kernel | release | source (tree commit) | verdict "
          "| O_DIRECT data lost (odirect_inflight, setup K/N) | selftest pass/fail/skip | build | ok |",
          "|---|---|---|---|---|---|---|---|---|"]
    for rec in a.records:
        cols = {}
        dv = load(os.path.join(a.run, f"distro-{rec}", "verdict.json"))
        if dv:
            cols["debian"] = column("debian", dv, load(os.path.join(a.run, f"distro-{rec}", "result.json")))
        for v in ("stock", "fixed"):
            d = os.path.join(a.run, f"distrofix-{rec}-{v}")
            vj = load(os.path.join(d, "verdict.json"))
            if vj is None and not os.path.isdir(d):
                continue
            cols[v] = column(v, vj, load(os.path.join(d, "result.json")),
                             read_done(os.path.join(a.fixdir, f"{rec}-{v}", "distrofix.done")))
        problems = judge(rec, cols)
        ok_all &= not problems
        # The run's own copy of the diff when distro-fix.sh made one.
        diff = diff_summary(os.path.join(a.run, f"config-{rec}.diff"))
        if diff is None:
            diff = diff_summary(os.path.join(a.fixdir, rec, "config.diff"))
        out["records"][rec] = {"kernels": cols, "ok": not problems, "problems": problems,
                               "config_diff": diff}
        for k in ("debian", "stock", "fixed"):
            c = cols.get(k)
            if not c:
                continue
            build = (f"{minutes(c['build_seconds'])}, {c['build_objects']} objects"
                     if c["build_seconds"] is not None else "(Debian's package)" if k == "debian" else "")
            src = (f"{c['source'] or 'not recorded'} (`{c['tree'] or '?'}`)" if k != "debian"
                   else "Debian's package")
            md.append(f"| {rec} | {names[k]} | {c['release']} | {src} | **{c['verdict']}** | {lost_cell(c)} "
                      f"| {c['pass']}/{c['fail']}/{c['skip']} | {build} | "
                      f"{'yes' if not problems else 'NO'} |")
    md.append("")
    for rec, r in out["records"].items():
        for pr in r["problems"]:
            md.append(f"- {rec}: **{pr}**")
        d = r["config_diff"]
        if d:
            md += ["", f"Config of {rec}: Debian's boot/config-* vs the one built "
                   f"(scripts/diffconfig, {d['lines']} lines in `{d['file']}`): "
                   f"{d['modules_dropped']} options that were =m dropped (mod2noconfig), "
                   f"{d['dependent_options_gone']} options gone with them (only visible when "
                   f"their module was enabled), and these changed or added:", "", "```"]
            md += d["changed"] + d["added"] + ["```"]
    text = "\n".join(md) + "\n"
    with open(os.path.join(a.run, "distro-fix.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.run, "distro-fix.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(text, end="")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())

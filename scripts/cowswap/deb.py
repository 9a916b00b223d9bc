# SPDX-License-Identifier: GPL-2.0
"""The 'deb' snapshot: kernel packages booted on a whole Debian system
(scripts/distro-guest.sh <record> deb <package>), Debian's own kernel as
the control and the packages 'make deb' built from Debian's config
(stock: Debian's source as shipped; fixed: with patches/lts-6.1).

  python3 -m cowswap.deb snapshot --name NAME [--out DIR] [--commit C]
        --kernel KIND:GUEST_DIR:DEB[:BUILD_OUTPUT] ...

KIND is debian, stock or fixed; the first debian one is the control the
others' SKIPs are compared with. GUEST_DIR is the boot's
out/results/<run>/guest-<package>/ (verdict.json, result.json,
dpkg.log), DEB the package it installed. For a package make deb built,
the build is read from DEB's directory: <dir>/../build.log (the objects
the last make compiled: a resumed build shows only its own), <dir>/../build
(the objects of the whole build) and <dir>/build.txt (distro-deb.sh's
seconds), else BUILD_OUTPUT, distro-deb.sh's printed lines ("packaged
in Ns"); a time found in neither is kept as unknown. The snapshot
(cowswap.rundata's schema, kind deb) goes to docs/results/NAME.json.

The table (table(), via cowswap.tables) shows per boot: the package, its
size, its build, the verdict and the O_DIRECT data lost per setup, the
selftest's counts, what the judge made of it (the SKIPs the record's
MAY_SKIP does not allow, per setup) and the SKIPs that differ from the
control's: the checks that SKIPped here but not on Debian's kernel (the
"no new SKIP" rule of a fix), and how many of the control's SKIPs ran.
"""
import argparse
import collections
import glob
import os
import re
import subprocess
import sys

from cowswap import TOP, out_dir
from cowswap.distro_fix import lost_of, lost_cell, minutes, setup_key
from cowswap.rundata import SCHEMA, read_json

KINDS = {"debian": "Debian's own", "stock": "stock deb (Debian's config)",
         "fixed": "fixed deb (Debian's config + `patches/lts-6.1`)"}
PACKAGED = re.compile(r"packaged in (\d+)s")


def shown_path(path):
    """A path as the docs name it: out/... for the output directory."""
    path = os.path.abspath(path)
    out = os.path.abspath(out_dir())
    if path == out or path.startswith(out + os.sep):
        return "out" + path[len(out):]
    return os.path.relpath(path, TOP) if path.startswith(TOP + os.sep) else path


def package_info(deb):
    """(size in bytes, Installed-Size in KiB) of a .deb."""
    p = subprocess.run(["dpkg-deb", "-f", deb, "Installed-Size"], capture_output=True, text=True)
    if p.returncode != 0:
        raise ValueError(f"{deb}: not a Debian package ({p.stderr.strip()})")
    return os.path.getsize(deb), int(p.stdout.strip())


def build_info(deb, build_output=None):
    """What is known of how long make deb took to build DEB's package."""
    pkgdir = os.path.dirname(os.path.abspath(deb))
    top = os.path.dirname(pkgdir)
    log = os.path.join(top, "build.log")
    if not os.path.exists(log):
        return None   # not a package of make deb (Debian's own)
    with open(log, errors="replace") as f:
        compiled = sum(1 for ln in f if ln.startswith("  CC "))
    objects = len(glob.glob(os.path.join(top, "build", "**", "*.o"), recursive=True)) or None
    seconds, source = None, None
    stamp = os.path.join(pkgdir, "build.txt")
    if os.path.exists(stamp):
        with open(stamp) as f:
            kv = dict(ln.strip().split("=", 1) for ln in f if "=" in ln)
        seconds, source = int(kv["seconds"]), shown_path(stamp)
    elif build_output:
        with open(build_output) as f:
            found = PACKAGED.findall(f.read())
        if found:
            seconds, source = int(found[-1]), os.path.basename(build_output)
    return {"seconds": seconds, "compiled": compiled, "objects": objects, "from": source}


def skip_reasons(result):
    return {t["name"]: t.get("reason", "") for t in result.get("tests", [])
            if t["result"] == "SKIP"}


def not_allowed(result):
    """{setup: n} of the SKIPs the record's MAY_SKIP does not allow."""
    c = collections.Counter(s["name"].rsplit("/", 1)[-1] for s in result.get("skips", [])
                            if not s.get("allowed"))
    return dict(sorted(c.items(), key=lambda i: setup_key(i[0])))


def kernel(kind, guest_dir, deb, build_output=None):
    """One boot's entry (without the comparison with the control)."""
    for f in ("verdict.json", "result.json"):
        if not os.path.exists(os.path.join(guest_dir, f)):
            raise ValueError(f"{guest_dir}: no {f} (a boot of scripts/distro-guest.sh ... deb)")
    v = read_json(os.path.join(guest_dir, "verdict.json"))
    r = read_json(os.path.join(guest_dir, "result.json"))
    counts = collections.Counter(t["result"] for t in r.get("tests", []))
    size, installed = package_info(deb)
    run = os.path.basename(os.path.dirname(os.path.abspath(guest_dir)))
    rec = v["record"]
    return {
        "kernel": kind, "run": run, "date": r.get("date", ""),
        "command": f"RUN_ID={run} scripts/distro-guest.sh {rec} deb {shown_path(deb)}",
        "record": rec, "release": v.get("release") or "bookworm",
        "package": v["package"], "version": v["version"], "verdict": v["verdict"],
        "lost": {k: list(n) for k, n in lost_of(r).items()},
        "checks": len(r.get("tests", [])), "pass": counts["PASS"], "fail": counts["FAIL"],
        "skip": counts["SKIP"], "judge": r.get("outcome", "missing"), "judge_ok": r.get("ok"),
        "skips_not_allowed": not_allowed(r),
        "deb_bytes": size, "installed_kib": installed,
        "build": build_info(deb, build_output),
        "_results": {t["name"]: t["result"] for t in r.get("tests", [])},
        "_skips": skip_reasons(r),
    }


def compare(k, ref):
    """k's SKIPs that were not SKIPs on the control ([name, reason, what the
    control gave: PASS, FAIL or 'not run']), and the control's SKIPs that
    ran here ({setup: n})."""
    new = [[n, why, ref["_results"].get(n, "not run")] for n, why in k["_skips"].items()
           if n not in ref["_skips"]]
    ran = collections.Counter(n.rsplit("/", 1)[-1] for n in ref["_skips"]
                              if k["_results"].get(n) in ("PASS", "FAIL"))
    return new, dict(sorted(ran.items(), key=lambda i: setup_key(i[0])))


def data(kernels):
    """The snapshot's data of loaded kernel entries (the first debian one
    is the control)."""
    refs = [k for k in kernels if k["kernel"] == "debian"]
    if not refs:
        raise ValueError("no debian kernel: the SKIPs are compared with Debian's own")
    ref = refs[0]
    records = {k["record"] for k in kernels}
    if len(records) != 1:
        raise ValueError(f"boots of several records ({', '.join(sorted(records))}): one snapshot each")
    out = []
    for k in kernels:
        e = {x: y for x, y in k.items() if not x.startswith("_")}
        if k is not ref:
            e["new_skips"], e["control_skips_ran"] = compare(k, ref)
        out.append(e)
    return {"record": ref["record"], "release": ref["release"], "control": kernels.index(ref),
            "kernels": out}


def snapshot(specs, name, commit=None):
    """specs: [(kind, guest dir, deb, build output or None)]."""
    kernels = [kernel(*s) for s in specs]
    d = data(kernels)
    runs = []
    for k in d["kernels"]:
        if k["run"] not in [r["run"] for r in runs]:
            runs.append({"run": k["run"], "date": k["date"], "commit": commit or "unknown"})
    return {"schema": SCHEMA, "name": name, "kind": "deb",
            "command": f"scripts/distro-guest.sh {d['record']} deb <package>",
            "run": " ".join(r["run"] for r in runs), "date": max(r["date"] for r in runs),
            "commit": commit or "unknown", "runs": runs, "deb": d}


def mib(n_bytes):
    return f"{n_bytes / 1048576:.1f} MiB"


def build_cell(b):
    if b is None:
        return "Debian's package"
    took = "time not recorded" if b["seconds"] is None else minutes(b["seconds"])
    # make resumed: most of the objects are older than its log
    if b["objects"] and b["objects"] - b["compiled"] > b["objects"] // 20:
        return (f"{took} for the last make, which compiled {b['compiled']} of the build's "
                f"{b['objects']} objects (the others: an earlier make, time not recorded)")
    return f"{took}, {b['compiled']} objects"


def setups_cell(counts):
    return ", ".join(f"{s} {n}" for s, n in sorted(counts.items(), key=lambda i: setup_key(i[0])))


def new_skips_cell(k):
    if "new_skips" not in k:
        return "(the control)"
    groups = collections.defaultdict(list)
    for name, why, there in k["new_skips"]:
        groups[(why, there)].append(name)
    parts = []
    for (why, there), names in groups.items():
        where = "not in the control's selftest" if there == "not run" else f"{there} there"
        parts.append(f"{', '.join(names)} ({where}: {why})")
    ran = setups_cell(k["control_skips_ran"])
    return ("; ".join(parts) or "none") + (f"; ran where it SKIPped: {ran}" if ran else "")


def judge_cell(k):
    word = k["judge"] + ("" if k["judge_ok"] else " (expected pass)")
    bad = setups_cell(k["skips_not_allowed"])
    return word + (f": SKIPs MAY_SKIP does not allow: {bad}" if bad else "")


def table(d):
    """Markdown lines: one row per boot, then each boot's command and date."""
    from cowswap.tables import debian_release, table as md_table
    rows = [[KINDS[k["kernel"]], f"`{k['package']}` {k['version']}",
             f"{mib(k['deb_bytes'])} ({mib(k['installed_kib'] * 1024)} installed)",
             build_cell(k["build"]), f"**{k['verdict']}**", lost_cell(k),
             f"{k['pass']}/{k['fail']}/{k['skip']} of {k['checks']}", judge_cell(k),
             new_skips_cell(k)]
            for k in d["kernels"]]
    out = [f"Debian {debian_release(d['release'])}, {d['record']}:", ""]
    out += md_table(["kernel", "package", ".deb", "build", "verdict",
                     "O_DIRECT data lost (K/N per setup)", "pass/fail/skip of checks",
                     "judge (record's MAY_SKIP)",
                     "SKIPs not SKIPped on Debian's kernel"], rows)
    out += [""] + [f"- {KINDS[k['kernel']]}, {k['date']}: `{k['command']}`"
                   for k in d["kernels"]]
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m cowswap.deb", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snapshot", help="docs/results/NAME.json of distro-guest.sh boots")
    s.add_argument("--name", required=True)
    s.add_argument("--kernel", action="append", required=True,
                   metavar="KIND:GUEST_DIR:DEB[:BUILD_OUTPUT]")
    s.add_argument("--commit", help="the commit the boots were made at (default: unknown)")
    s.add_argument("--out", help="directory (default docs/results)")
    a = p.parse_args(argv)
    specs = []
    for spec in a.kernel:
        parts = spec.split(":")
        if len(parts) not in (3, 4) or parts[0] not in KINDS:
            p.error(f"--kernel {spec}: expected KIND:GUEST_DIR:DEB[:BUILD_OUTPUT], "
                    f"KIND one of {', '.join(KINDS)}")
        specs.append((parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else None))
    try:
        snap = snapshot(specs, a.name, a.commit)
    except (OSError, ValueError, KeyError) as err:
        raise SystemExit(f"deb: snapshot: {err}")
    from cowswap.docs import write_snapshot   # docs -> tables -> this module
    path = write_snapshot(snap, a.name, a.out)
    print(f"deb: {shown_path(path)}: {len(specs)} boots of runs {snap['run']}; "
          "'make docs' puts it into the pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())

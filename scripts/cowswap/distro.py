# SPDX-License-Identifier: GPL-2.0
"""Verdicts of 'make distro-check': is a distribution kernel affected?

  distro_report.py verdict --log console.log --json verdict.json
                           --qemu-exit RC --timeout S --seconds S
                           --record R --package P --version V [--note TEXT]
                           [--release CODENAME] [--setup-error TEXT]
      Read one console log and write the verdict:
        affected      an odirect_inflight/* line failed with the
                      diagnostic "K of N iterations lost the O_DIRECT
                      data", K > 0
        not affected  odirect_inflight/* lines ran (not SKIP) and passed,
                      none failed
        unknown       anything else (boot failure, timeout, no TAP, setup
                      SKIP, a failure without that diagnostic), with the
                      reason
      The evidence is the selftest's diagnostic line from the log.

  distro_report.py table <run-dir>
      Print the table of every <run-dir>/distro-*/verdict.json (Markdown).

This reads only the odirect_inflight lines; scripts/results.py judges
whole runs of our own kernels.
"""
import argparse
import glob
import json
import os
import re
import sys
from types import SimpleNamespace

from cowswap import console

CHECK = "odirect_inflight/"
TAP = re.compile(r"^(not ok|ok)\s+\d+\s+(?:-\s*)?(#\s*SKIP\s+)?(\S+?):?(?:\s+(.*))?$")
LOST = re.compile(r"^# (" + re.escape(CHECK) + r"\S+): (\d+) of (\d+) iterations lost the O_DIRECT data")
# The per-check summary the selftest prints before each odirect verdict.
SUMMARY = re.compile(r"^# (\d+) of (\d+) iterations lost data;")
PANIC = re.compile(r"Kernel panic|Oops|BUG:|Unable to handle kernel")


def read_lines(path):
    return console.plain(console.read(path))


def scan(lines):
    """What the console says about the odirect_inflight checks and the boot."""
    started = done = False
    plan = None
    lost = {}        # setup -> (K, N, diagnostic line): failed with the diagnostic
    passed = {}      # setup -> the iteration summary printed before "ok"
    failed_plain = []
    skipped = {}
    summary = None
    pending = None   # a lost-data diagnostic, waiting for its "not ok" line
    module_fail = []
    panic = None
    last_kernel = ""
    for ln in lines:
        s = ln.strip()
        if not s:
            continue
        if panic is None and PANIC.search(s):
            panic = s[:160]
        if s.startswith("COWSWAP-INIT start"):
            started = True
        elif s.startswith("COWSWAP-DONE"):
            done = True
        elif s.startswith("COWSWAP-INIT module") and "failed" in s:
            module_fail.append(s[len("COWSWAP-INIT "):])
        elif not started:
            last_kernel = s[:160]
        if s.startswith("1.."):
            plan = s
        elif SUMMARY.match(s):
            summary = s
        elif LOST.match(s):
            m = LOST.match(s)
            pending = (m.group(1), int(m.group(2)), int(m.group(3)), s)
        elif TAP.match(s):
            ok, skip, name, rest = TAP.match(s).groups()
            before, summary = summary, None
            diag, pending = pending, None
            if not name.startswith(CHECK):
                continue
            setup = name[len(CHECK):]
            if skip:
                skipped[setup] = rest or ""
            elif ok == "ok":
                passed[setup] = before or s
            elif diag and diag[0] == name:
                lost[setup] = diag[1:]
            else:
                failed_plain.append(setup)
    return SimpleNamespace(started=started, done=done, plan=plan, lost=lost, passed=passed,
                           failed_plain=failed_plain, skipped=skipped,
                           module_fail=module_fail, panic=panic, last_kernel=last_kernel)


def verdict(lines, qemu_exit, timeout):
    """(verdict, evidence, reason) for one console log."""
    c = scan(lines)
    started, done, plan, panic = c.started, c.done, c.plan, c.panic
    lost, passed, failed_plain, skipped = c.lost, c.passed, c.failed_plain, c.skipped
    module_fail, last_kernel = c.module_fail, c.last_kernel
    ran = len(lost) + len(passed) + len(failed_plain)
    hits = [(k, v) for k, v in lost.items() if v[0] > 0]
    if hits:
        return "affected", hits[0][1][2], f"lost data on {len(hits)} of {ran} setups: " \
            + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in hits)
    if passed and not lost and not failed_plain:
        evidence = next(iter(passed.values()))
        note = f"passed on {', '.join(passed)}"
        if skipped:
            note += f"; SKIP on {', '.join(skipped)}"
        if panic:
            note += f"; the log also has: {panic}"
        return "not affected", evidence, note

    # Everything below is "unknown": say why.
    prefix = f"{'; '.join(module_fail)}; " if module_fail else ""
    if qemu_exit in (124, 137) and not ran:
        where = "before /init started" if not started else "before the odirect checks reported"
        return "unknown", "", f"{prefix}timed out after {timeout}s {where}"
    if not any(ln.strip() for ln in lines):
        return "unknown", "", f"no console output (QEMU exit {qemu_exit}): wrong machine or console?"
    if not started:
        return "unknown", "", f"/init never started (QEMU exit {qemu_exit}); " \
            f"last line: {panic or last_kernel or 'none'}"
    if ran:
        return "unknown", "", "odirect_inflight failed without the lost-data diagnostic on: " \
            + ", ".join(failed_plain + list(lost))
    if skipped:
        setup, why = next(iter(skipped.items()))
        return "unknown", "", f"{prefix}every odirect_inflight line SKIPped ({setup}: {why})"
    stopped = "" if done else f"; guest stopped early (QEMU exit {qemu_exit}" \
        + (f", {panic})" if panic else ")")
    if plan is None:
        return "unknown", "", f"{prefix}no TAP from the selftest{stopped}"
    return "unknown", "", f"{prefix}no odirect_inflight line in the TAP{stopped}"


def cmd_verdict(a):
    if a.setup_error:
        v, evidence, reason = "unknown", "", f"no boot: {a.setup_error}"
    else:
        v, evidence, reason = verdict(read_lines(a.log), a.qemu_exit, a.timeout)
    out = {"record": a.record, "release": a.release, "package": a.package, "version": a.version,
           "verdict": v, "evidence": evidence, "reason": reason,
           "seconds": a.seconds, "note": a.note, "log": os.path.abspath(a.log)}
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1)
    print(f"{v.upper()} in {a.seconds}s" + (f": {reason}" if v == "unknown" else ""))
    return 0


def cell(text):
    return text.replace("|", "\\|")


def cmd_table(a):
    rows = []
    for path in sorted(glob.glob(os.path.join(a.dir, "distro-*", "verdict.json"))):
        with open(path) as f:
            rows.append(json.load(f))
    if not rows:
        print(f"no distro-*/verdict.json under {a.dir}", file=sys.stderr)
        return 1
    print("| arch | kernel package | version | verdict | evidence |")
    print("|---|---|---|---|---|")
    for r in rows:
        v = f"**{r['verdict']}**"
        if r["verdict"] == "unknown":
            evidence = r["reason"]
        else:
            evidence = f"`{r['evidence']}` ({r['reason']})"
        if r.get("note"):
            evidence += f"; {r['note']}"
        print(f"| {r['record']} | {r['package']} | {r['version']} | {v} | {cell(evidence)} |")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verdict")
    v.add_argument("--log", required=True)
    v.add_argument("--json", required=True)
    v.add_argument("--qemu-exit", type=int, default=0)
    v.add_argument("--timeout", type=int, default=0)
    v.add_argument("--seconds", type=int, default=0)
    v.add_argument("--record", required=True)
    v.add_argument("--package", default="?")
    v.add_argument("--version", default="?")
    v.add_argument("--note", default="")
    v.add_argument("--release", default="bookworm", help="the Debian release (codename) of the kernel")
    v.add_argument("--setup-error", default="", help="the harness failed before QEMU ran")
    t = sub.add_parser("table")
    t.add_argument("dir")
    a = p.parse_args()
    sys.exit(cmd_verdict(a) if a.cmd == "verdict" else cmd_table(a))


if __name__ == "__main__":
    main()

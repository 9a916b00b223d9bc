# SPDX-License-Identifier: GPL-2.0
"""LAVA job definitions for the cowswap QEMU matrix.

  lava-jobs.py generate [--out DIR] [--base-url URL] [ARCH...]
      One job per architecture record (configs/arch/*.conf) and variant
      (upstream/baseline/patched, or stock/fixed for SERIES=lts-6.1):
      DIR/<arch>-<variant>.yaml (default $COWSWAP_OUT/lava, i.e. out/lava).
  lava-jobs.py validate [FILE...]
      Check each job with LAVA's own schema (Debian's lava-common,
      lava_common.schemas.validate, strict). Default: every job in out/lava.
  lava-jobs.py replay [--chunk N] JOB CONSOLE_LOG
      Feed a console log to the job's monitor the way LAVA's
      lava-test-monitor reads the serial line (N characters per read,
      matching after each), and print the results it would record (a
      check of the pattern without a LAVA instance).
  lava-jobs.py initramfs [ARCH...]
      Build the test initramfs of each record (scripts/guest/initramfs.sh) where
      the jobs expect it: out/lava/initramfs/<arch>.cpio.
  lava-jobs.py device JOB TEMPLATE_DIR
      Print the device configuration a LAVA server would hand the
      dispatcher for this job: lava-server's device-types/qemu.jinja2
      rendered with the job's context (what scripts/lava-run.sh feeds
      lava-run --device).
  lava-jobs.py log JOB LAVA_LOG CONSOLE
      Read what lava-run logged (one JSON object per line), write the
      guest's serial output to CONSOLE, print the results LAVA recorded
      for the monitor and for the job, one line each; exit 1 when the job
      did not complete or LAVA recorded no result of the monitor.
  lava-jobs.py match JOB LAVA_LOG RESULT_JSON
      Compare LAVA's per-check results in the log with the verdicts
      scripts/results.py gave the TAP lines (its result.json); exit 1 on
      any difference, naming it.

Artifacts are addressed relative to --base-url, which stands for out/
(default file://<out>/, what a dispatcher on this machine can read; a lab
serves out/ over HTTP and passes e.g. --base-url http://<server>/cowswap/):
  build/<arch>-<variant>/<KERNEL_IMAGE>   the kernel, as scripts/build.sh leaves it
  lava/initramfs/<arch>.cpio              our initramfs (lava-jobs.py initramfs)

The shebang is Debian's python3 on purpose: lava-common installs into
/usr/lib/python3/dist-packages, which another python3 on PATH (pyenv, a
venv) does not see.
"""
import argparse
import json
import math
import os
import re
import shlex
import subprocess
import sys

import yaml

from cowswap import LIB_SH, TOP, out_dir

OUT = out_dir()
PROG = os.path.basename(sys.argv[0])

# The fields read from each record, through scripts/lib/lib.sh's load_arch so
# that defaults and shell expansions mean what they mean to run-qemu.sh.
# MEM is run-qemu.sh's: 1024 MiB unless set, at most the record's MEM_MAX.
FIELDS = ["NAME", "BUILD", "KERNEL_IMAGE", "QEMU", "QEMU_ARGS", "CMDLINE",
          "MEM", "TIMEOUT", "SERIES", "VARIANTS"]
READ_RECORDS = r"""
. "$LIB_SH"
for a in "$@"; do
	(
		load_arch "$a"
		MEM=$(guest_mem 1024 2>/dev/null)
		VARIANTS=$(arch_variants "$a")
		for f in $FIELDS; do printf '%s\0' "${!f}"; done
	)
done
"""

# Which -machine/-cpu options the qemu device type of LAVA 2023.01
# (lava-server's device-types/qemu.jinja2) builds itself from the job
# context, per context arch. It emits nothing for the others (x86_64,
# s390x, mipsel, mips64el: those options go to extra_options, or QEMU
# would get them twice), and "-cpu host -enable-kvm" for every non-ARM
# arch unless no_kvm is set.
TEMPLATE_OPTIONS = {
    "aarch64": ("machine", "cpu"),
    "arm": ("machine", "cpu"),
    "i386": ("machine", "cpu"),
    "riscv64": ("machine", "cpu"),
    "ppc64": ("machine",),
    "mips": ("machine",),
    "mips64": ("machine",),
}

# What /init prints around the selftest (scripts/guest/init.c) and how
# kselftest.h prints a result:
#   COWSWAP-BEGIN swap_exclusive
#   ok 3 odirect_inflight/fault
#   not ok 4 odirect_inflight/swapoff
#   ok 5 # SKIP uffd_wp/fault: uffd-wp not supported on anonymous memory here
#   COWSWAP-END swap_exclusive exit=1
# LAVA's monitor takes one regular expression with the named groups
# "result" and "test_case_id" (Python re: a group name may occur only
# once) and maps "result" through fixupdict. The verdict sits at the start
# of the line for ok / not ok but after the number for a SKIP, so a
# lookahead captures it: it skips "ok N # " when a SKIP follows, and the
# match proper then consumes the line up to the check's name. The
# lookbehind anchors the match at the start of a console line (pexpect
# compiles the pattern with DOTALL and no MULTILINE, so "^" would only
# mean the start of its buffer); "block 12 ..." in a kernel message is no
# result. The last lookahead waits for the character after the check's
# name: pexpect tries the pattern on whatever part of the line has
# arrived, and without it a name cut by the serial line's chunking
# ("fork_afte") is a match (seen in the first lava-run of a job).
TAP_PATTERN = (r"(?<![^\n])"
               r"(?=(?:ok \d+ # )?(?P<result>SKIP|not ok|ok))"
               r"(?:not )?ok \d+ (?:# SKIP )?"
               r"(?P<test_case_id>[^\s:#]+)(?=[\s:#])")
TAP_FIXUP = {"ok": "pass", "not ok": "fail", "SKIP": "skip"}
SELFTEST = "swap_exclusive"

# Timeouts, minutes. The boot action only starts QEMU (no prompts, no
# login), but its timeout also becomes the per-read timeout of the serial
# connection the monitor reads (LAVA 2023.01 hands the monitor the
# pexpect spawn created with execute-qemu's timeout), so it must outlast
# the quietest stretch of a run: the selftest's watchdog gives a hung
# check 300 s before its "Bail out!". The monitor waits for its start
# line with its own connection timeout (default 30 s, less than a TCG
# kernel may take to reach /init), set at job level.
DEPLOY_MIN = 10
BOOT_MIN = 6
MONITOR_CONNECTION_MIN = 6
JOB_SLACK_MIN = 5


def die(msg):
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    sys.exit(1)


def all_records():
    d = os.path.join(TOP, "configs", "arch")
    return sorted(f[:-5] for f in os.listdir(d) if f.endswith(".conf"))


def read_records(names):
    env = dict(os.environ, LIB_SH=LIB_SH, FIELDS=" ".join(FIELDS))
    p = subprocess.run(["bash", "-c", READ_RECORDS, PROG] + names, env=env,
                       capture_output=True, text=True, check=False)
    if p.returncode != 0:
        # lib.sh's die() already says "<prog>: error: ..."
        last = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
        die(last.split(": error: ", 1)[-1] or f"reading the records failed (exit {p.returncode})")
    values = p.stdout.split("\0")[:-1]
    if len(values) != len(FIELDS) * len(names):
        die(f"reading the records gave {len(values)} fields, expected {len(FIELDS) * len(names)}")
    return [dict(zip(FIELDS, values[i:i + len(FIELDS)]))
            for i in range(0, len(values), len(FIELDS))]


def qemu_context(rec):
    """The job context for LAVA's qemu device type from one record."""
    binary = os.path.basename(rec["QEMU"])
    if not binary.startswith("qemu-system-"):
        die(f"configs/arch/{rec['NAME']}.conf: QEMU={rec['QEMU']} is not a qemu-system-* binary")
    arch = binary[len("qemu-system-"):]
    try:
        words = shlex.split(rec["QEMU_ARGS"])
    except ValueError as e:
        die(f"configs/arch/{rec['NAME']}.conf: QEMU_ARGS: {e}")
    # Group the words into options: "-smp 2", "-bios qboot.rom".
    opts = []
    for w in words:
        if w.startswith("-") or not opts:
            opts.append([w])
        else:
            opts[-1].append(w)
    ctx = {"arch": arch}
    extra = []
    for o in opts:
        key = o[0].lstrip("-")
        if key in TEMPLATE_OPTIONS.get(arch, ()) and len(o) == 2:
            ctx[key] = o[1]
        else:
            extra.append(" ".join(o))
    # The records are TCG targets, as run-qemu.sh boots them; -no-reboot
    # turns the guest's reboot after COWSWAP-DONE into QEMU's exit.
    ctx["no_kvm"] = True
    ctx["memory"] = int(rec["MEM"])
    ctx["extra_options"] = extra + ["-no-reboot"]
    return ctx


def make_job(rec, variant, base_url):
    name = rec["NAME"]
    lts = bool(rec["SERIES"])
    kernel = f"{base_url}build/{rec['BUILD']}-{variant}/{rec['KERNEL_IMAGE']}"
    initrd = f"{base_url}lava/initramfs/{name}.cpio"
    append = " ".join(x for x in (rec["CMDLINE"], "panic=-1") if x)
    test_min = max(1, math.ceil(int(rec["TIMEOUT"]) / 60))
    return {
        "job_name": f"cowswap {name} {variant}",
        "device_type": "qemu",
        "visibility": "public",
        "priority": "medium",
        "timeouts": {
            "job": {"minutes": DEPLOY_MIN + BOOT_MIN + test_min + JOB_SLACK_MIN},
            "connections": {"lava-test-monitor": {"minutes": MONITOR_CONNECTION_MIN}},
        },
        "context": qemu_context(rec),
        "metadata": {
            "cowswap.record": name,
            "cowswap.variant": variant,
            "cowswap.series": rec["SERIES"] or "main",
            # What scripts/results.py must call the run: the pre-fix
            # kernels lose the O_DIRECT data (their odirect_* results
            # fail in LAVA too), the others pass.
            "cowswap.expect": "reproduced" if variant in ("baseline", "stock") else "pass",
            # No disk: the selftest makes its own devices (DISKS=none).
            "cowswap.disks": "none",
        },
        "actions": [
            {"deploy": {
                "to": "tmpfs",
                "type": "monitor",
                "timeout": {"minutes": DEPLOY_MIN},
                "images": {
                    "kernel": {"url": kernel,
                               "image_arg": f"-kernel {{kernel}} -append \"{append}\""},
                    "initrd": {"url": initrd, "image_arg": "-initrd {initrd}"},
                },
            }},
            {"boot": {
                "method": "qemu",
                "media": "tmpfs",
                "timeout": {"minutes": BOOT_MIN},
            }},
            # A monitors test, not interactive: interactive needs prompts
            # to send commands at, and our /init takes no input; it runs
            # the selftest by itself and prints TAP, which the monitor
            # only reads. (LAVA test definitions need a shell and an
            # overlay, which this initramfs does not have.)
            {"test": {
                "timeout": {"minutes": test_min},
                "monitors": [{
                    "name": f"cowswap-{SELFTEST}",
                    "start": f"COWSWAP-BEGIN {SELFTEST}",
                    "end": f"COWSWAP-END {SELFTEST}",
                    "pattern": TAP_PATTERN,
                    "fixupdict": TAP_FIXUP,
                }],
            }},
        ],
    }


def header(rec, variant):
    return (f"# LAVA job: cowswap selftest on {rec['NAME']} ({variant}), written by\n"
            f"# scripts/lava-jobs.py from configs/arch/{rec['NAME']}.conf; do not edit.\n"
            f"# Submit: lavacli jobs submit <this file>\n")


def cmd_generate(args):
    names = args.arch or all_records()
    base = args.base_url or "file://" + os.path.abspath(OUT) + "/"
    if not base.endswith("/"):
        base += "/"
    out = args.out or os.path.join(OUT, "lava")
    os.makedirs(out, exist_ok=True)
    if not args.arch:
        # a record that went away leaves no stale job behind
        for f in os.listdir(out):
            if f.endswith(".yaml"):
                os.unlink(os.path.join(out, f))
    written, missing = 0, 0
    for rec in read_records(names):
        for variant in rec["VARIANTS"].split():
            job = make_job(rec, variant, base)
            path = os.path.join(out, f"{rec['NAME']}-{variant}.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(header(rec, variant))
                yaml.safe_dump(job, f, sort_keys=False, default_flow_style=False, width=1000)
            written += 1
            if base.startswith("file://"):
                for img in job["actions"][0]["deploy"]["images"].values():
                    missing += not os.path.exists(img["url"][len("file://"):])
    shown = os.path.relpath(out, TOP) if os.path.abspath(out).startswith(TOP + os.sep) else out
    print(f"{PROG}: {written} jobs in {shown}/ (artifacts under {base})")
    if missing:
        print(f"{PROG}: note: {missing} of {2 * written} kernels and initramfs files are not there yet "
              f"(scripts/build.sh <arch> <variant>, make lava-artifacts)")


def load_validate():
    try:
        from lava_common.schemas import validate  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        die(f"cannot import lava_common.schemas ({e}); install Debian's lava-common "
            f"('make deps') and run this with /usr/bin/python3")
    return validate


def cmd_validate(args):
    validate = load_validate()
    files = args.files
    if not files:
        d = os.path.join(OUT, "lava")
        files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".yaml")) \
            if os.path.isdir(d) else []
        if not files:
            die(f"no jobs in {d}; run '{PROG} generate' (make lava) first")
    bad = 0
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                job = yaml.safe_load(f)
            if not isinstance(job, dict):
                raise ValueError("not a YAML mapping")
            validate(job, strict=True)
        except Exception as e:  # pylint: disable=broad-except
            # voluptuous' Invalid, yaml's errors, a missing file: one line each
            msg = " ".join(str(e).split())
            print(f"{PROG}: error: {path}: {type(e).__name__}: {msg}", file=sys.stderr)
            bad += 1
    if bad:
        die(f"{bad} of {len(files)} jobs rejected by LAVA's schema (lava_common.schemas.validate)")
    print(f"{PROG}: {len(files)} jobs valid (lava_common.schemas.validate, strict)")


def cmd_replay(args):
    with open(args.job, encoding="utf-8") as f:
        job = yaml.safe_load(f)
    with open(args.log, encoding="utf-8", errors="replace") as f:
        # the serial line as the dispatcher reads it
        text = f.read().replace("\r\n", "\n").replace("\n", "\r\n")
    tests = [a["test"] for a in job["actions"] if "test" in a]
    if not tests or "monitors" not in tests[0]:
        die(f"{args.job}: no monitors test action")
    # pexpect sees the line in pieces, as reads return them, and tries the
    # patterns on what it has so far: feed it in small chunks, so that a
    # pattern that matches half a line is caught here as in LAVA.
    chunk = max(1, args.chunk)
    pos, buf = 0, ""

    def more():
        nonlocal pos, buf
        if pos >= len(text):
            return False
        buf += text[pos:pos + chunk]
        pos += chunk
        return True

    counts = {}
    for mon in tests[0]["monitors"]:
        start = re.compile(mon["start"], re.DOTALL)
        while not (m := start.search(buf)):
            if not more():
                die(f"{args.log}: start string '{mon['start']}' never printed")
        buf = buf[m.end():]
        end = re.compile(mon["end"], re.DOTALL)
        pat = re.compile(mon["pattern"], re.DOTALL)
        fix = mon.get("fixupdict") or {}
        while True:
            # pexpect's choice: the earliest match, the end string on a tie
            e, m = end.search(buf), pat.search(buf)
            if m and (not e or m.start() < e.start()):
                res = fix.get(m.group("result"), m.group("result"))
                case = lava_case(m.group("test_case_id"))
                print(f"{mon['name']} {case} {res}")
                counts[res] = counts.get(res, 0) + 1
                buf = buf[m.end():]
            elif e:
                buf = buf[e.end():]
                break
            elif not more():
                die(f"{args.log}: end string '{mon['end']}' never printed")
    print(f"{PROG}: replay: " + ", ".join(f"{counts.get(r, 0)} {r}" for r in ("pass", "fail", "skip", "unknown")))


def cmd_initramfs(args):
    out = os.path.join(OUT, "lava", "initramfs")
    os.makedirs(out, exist_ok=True)
    for name in args.arch or all_records():
        p = subprocess.run([os.path.join(TOP, "scripts", "guest", "initramfs.sh"), name,
                            os.path.join(out, f"{name}.cpio")], check=False)
        if p.returncode != 0:
            die(f"{name}: scripts/guest/initramfs.sh failed (exit {p.returncode})")


def cmd_device(args):
    try:
        import jinja2  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        die(f"cannot import jinja2 ({e}); install Debian's python3-jinja2")
    with open(args.job, encoding="utf-8") as f:
        job = yaml.safe_load(f)
    if job.get("device_type") != "qemu":
        die(f"{args.job}: device_type {job.get('device_type')!r}; only LAVA's qemu type is rendered here")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(args.templates),
                             trim_blocks=True, autoescape=False)
    try:
        text = env.from_string("{% extends 'qemu.jinja2' %}").render(**job.get("context", {}))
    except jinja2.TemplateError as e:
        die(f"rendering qemu.jinja2 from {args.templates}: {e}")
    yaml.safe_load(text)  # what lava-run will parse: fail here, not there
    sys.stdout.write(text)


def lava_case(name):
    """A test case id as LAVA stores it: lower case, non-word runs as '_'."""
    return re.sub(r"\W+", "_", name.strip().lower())


def read_lava_log(job_path, log_path, console=None):
    """What lava-run logged (one JSON object per line): the monitor's
    results as (case, result) in order, the job's result, LAVA's errors.
    With console, the guest's serial output is written there."""
    with open(job_path, encoding="utf-8") as f:
        job = yaml.safe_load(f)
    monitors = {m["name"] for a in job["actions"] if "test" in a for m in a["test"].get("monitors", [])}
    cases, job_result, errors, lines = [], None, [], 0
    con = open(console, "w", encoding="utf-8") if console else None
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            try:
                entry = json.loads(raw)
            except ValueError:
                continue  # a traceback, a line from a tool lava-run ran
            lines += 1
            lvl, msg = entry.get("lvl"), entry.get("msg")
            # "target": the serial line while an action reads it;
            # "feedback": what it printed while the dispatcher waited
            # elsewhere (after the monitor's end string: COWSWAP-DONE).
            if lvl in ("target", "feedback") and isinstance(msg, str):
                if con:
                    con.write(msg + "\n")
            elif lvl == "results" and isinstance(msg, dict):
                d = msg.get("definition", "")
                if d in monitors:
                    cases.append((msg.get("case"), msg.get("result")))
                elif msg.get("case") == "job":
                    job_result = msg.get("result")
                    if msg.get("error_msg"):
                        errors.append(" ".join(str(msg["error_msg"]).split()))
                elif msg.get("result") not in ("pass", None):
                    errors.append(f"{d}/{msg.get('case')}: {msg.get('result')}")
    if con:
        con.close()
    if not lines:
        die(f"{log_path}: no lava-run log lines")
    return cases, job_result, errors


def cmd_log(args):
    cases, job_result, errors = read_lava_log(args.job, args.log, args.console)
    counts = {}
    for _, res in cases:
        counts[res] = counts.get(res, 0) + 1
    print(f"{PROG}: LAVA results of the monitor: "
          + ", ".join(f"{counts.get(r, 0)} {r}" for r in ("pass", "fail", "skip", "unknown")))
    print(f"{PROG}: LAVA job result: {job_result or 'none recorded'}")
    for e in errors:
        print(f"{PROG}: LAVA: {e}")
    if job_result != "pass":
        die("the LAVA job did not complete")
    if not cases:
        die("LAVA recorded no result of the monitor")


def cmd_match(args):
    cases, _, _ = read_lava_log(args.job, args.log)
    lava = dict(cases)
    with open(args.result, encoding="utf-8") as f:
        # results.py's verdicts of the TAP lines (the kernel's own
        # DEBUG_VM_PGTABLE line is no TAP line and not in LAVA)
        ours = {lava_case(t["name"]): t["result"].lower()
                for t in json.load(f)["tests"] if t["binary"] != "kernel"}
    diff = [f"{k}: LAVA {lava.get(k, '-')}, TAP {ours.get(k, '-')}"
            for k in sorted(set(lava) | set(ours)) if lava.get(k) != ours.get(k)]
    print(f"{PROG}: {len(lava)} results in LAVA, {len(ours)} TAP lines judged, {len(diff)} differ")
    for d in diff[:20]:
        print(f"{PROG}:   {d}")
    if diff:
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n", 1)[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write the jobs")
    g.add_argument("--out", help="directory for the jobs (default: out/lava)")
    g.add_argument("--base-url", help="URL that stands for out/ (default: file://<out>/)")
    g.add_argument("arch", nargs="*", help="records (default: every configs/arch/*.conf)")
    v = sub.add_parser("validate", help="check jobs with lava_common.schemas.validate")
    v.add_argument("files", nargs="*")
    r = sub.add_parser("replay", help="run a console log through a job's monitor")
    r.add_argument("job")
    r.add_argument("log")
    r.add_argument("--chunk", type=int, default=16,
                   help="characters per read of the simulated serial line (default 16)")
    i = sub.add_parser("initramfs", help="build out/lava/initramfs/<arch>.cpio")
    i.add_argument("arch", nargs="*")
    d = sub.add_parser("device", help="render the qemu device configuration for a job")
    d.add_argument("job")
    d.add_argument("templates", help="lava-server's device-types directory")
    lg = sub.add_parser("log", help="the results and the console of a lava-run log")
    lg.add_argument("job")
    lg.add_argument("log")
    lg.add_argument("console")
    mt = sub.add_parser("match", help="LAVA's results of a lava-run log vs results.py's result.json")
    mt.add_argument("job")
    mt.add_argument("log")
    mt.add_argument("result")
    args = ap.parse_args()
    {"generate": cmd_generate, "validate": cmd_validate, "replay": cmd_replay,
     "initramfs": cmd_initramfs, "device": cmd_device, "log": cmd_log,
     "match": cmd_match}[args.cmd](args)


if __name__ == "__main__":
    main()

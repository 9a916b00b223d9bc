# SPDX-License-Identifier: GPL-2.0
"""Judge cowswap QEMU console logs and summarise runs.

  results.py judge --arch A --variant V --log console.log --json out.json ...
      Parse one console log: /init markers, TAP from each test binary,
      kernel splats, the DEBUG_VM_PGTABLE boot check. Print a verdict and
      exit 0 only if the outcome equals --expect.

  results.py summary <results-dir> [--timings file --since epoch]
      Collect every */result.json below the directory into summary.json
      and summary.md (architecture x variant x test). Exit 0 only if every
      baseline run reproduced the bug and every other run passed.

With --runner kselftest the selftest ran through the kernel's
run_kselftest.sh (KSFT_RUNNER=1): its TAP lines come with a "# " prefix
inside the runner's own TAP (plan 1..1, one "selftests: swap_exclusive:
swap_exclusive" result line). The inner lines are judged by the same
rules; the runner's line must agree with them ("not ok ... # exit=1" when
a check failed, "ok" when none did) and stands for the test's exit code.
--runner kselftest-tree (KSFT_RUNNER=tree) is the same, for the test as
the patched kernel tree carries it: the vm collection's, so the runner
names it "selftests: vm: swap_exclusive".
--disks (run-qemu.sh's DISKS) is recorded, and names the run with the
runner: "x86_64/baseline@none", "x86_64/patched@none+ksft",
"x86_64/patched@none+ksft-tree".

Outcomes: "pass" (healthy boot, every TAP line ok or an allowed SKIP),
"reproduced" (healthy boot, an odirect_inflight check lost the O_DIRECT
read data), "fail" (another test failed), "error" (no usable result:
panic, Oops, BUG, WARNING, a swap subsystem error, timeout, missing or
truncated TAP, a selftest check that did not run or SKIPped without the
architecture record allowing it, a test binary that crashed, or a run of
a variant with an expectation file that failed or passed the wrong
checks).

What the selftest must report comes from the selftest itself: the
"<check>/<setup>" names of `swap_exclusive -l` with the run's arguments
(scripts/lib/lib.sh selftest_names, or --selftest-list). Which of them may
SKIP on an architecture is the MAY_SKIP field of configs/arch/<arch>.conf;
what a variant must fail is configs/expect/<variant> (baseline).
"""
import argparse
import fnmatch
import glob
import json
import os
import re
import shlex
import sys
import time

from cowswap import TOP, lib_sh

# The kselftest whose TAP names are "<check>/<setup>" (as /init names it
# in COWSWAP-BEGIN): its list of names is known, its SKIPs are declared.
SELFTEST = "swap_exclusive"
REPRODUCER = "odirect_inflight/"
# A failing odirect_inflight check prints, right before its "not ok" line,
#   # odirect_inflight/<setup>: K of N iterations lost the O_DIRECT data
# and before that one line per such iteration with "read data lost". Only
# a failure with both counts as the reproduction: a check that failed for
# another reason (a read error, corrupted rather than stale data) proves
# nothing about the bug.
LOST_REASON = "{name}: {k} of {n} iterations lost the O_DIRECT data"
LOST_REASON_RX = r"^{name}: (\d+) of (\d+) iterations lost the O_DIRECT data"
LOST_ITERATION = "read data lost"

SPLATS = [
    # The swap subsystem's own complaints (6.1: mm/swapfile.c,
    # mm/memory.c print_bad_pte, kernel/fork.c check_mm, mm/page_alloc.c
    # bad_page, mm/debug.c dump_page, mm/page_io.c, zram): what a swap PTE
    # with a misplaced marker bit (wrong type or offset) looks like.
    (re.compile(r"\b(Bad|Unused) swap (file|offset) entry"), "bad swap entry"),
    (re.compile(r"\b_?(get_swap_device|swap_info_get|swap_info_get_cont|swap_free|"
                r"swap_duplicate|swap_count_continued|free_swap_and_cache): "),
     "swap subsystem error"),
    (re.compile(r"Bad page map"), "bad page map"),
    (re.compile(r"Bad rss-counter state|non-zero pgtables_bytes"), "bad mm counters"),
    (re.compile(r"Bad page state|Bad page cache"), "bad page state"),
    (re.compile(r"page dumped because"), "page dump"),
    (re.compile(r"(Read|Write)-error on swap-device|Write error -?\d+ on dio swapfile"),
     "swap I/O error"),
    (re.compile(r"zram: (De)?[Cc]ompression failed"), "zram error"),
    (re.compile(r"Kernel panic"), "kernel panic"),
    (re.compile(r"\bOops\b|Unable to handle kernel|general protection fault"), "kernel Oops"),
    (re.compile(r"\bBUG:|kernel BUG at"), "kernel BUG"),
    (re.compile(r"WARNING:"), "kernel WARNING"),
    # SLUB debugging: "BUG kmalloc-64 (Not tainted): Redzone overwritten"
    (re.compile(r"^BUG [\w.:-]+ \("), "slab corruption"),
    (re.compile(r"INFO: .*detected stalls?|INFO: task .* blocked for more than"), "stall"),
    (re.compile(r"Out of memory"), "OOM kill"),
    (re.compile(r"\bRIP: |Call [Tt]race:"), "kernel stack trace"),
]
TAP = re.compile(r"^(not ok|ok)\s+(\d+)\s*(?:-\s*)?(.*?)\s*"
                 r"(?:#\s*(SKIP|TODO|XFAIL|XPASS|error)\b\s*(.*))?$", re.IGNORECASE)
PLAN = re.compile(r"^1\.\.(\d+)")
PGTABLE = re.compile(r"debug_vm_pgtable.*Validating architecture page table helpers")
# printk timestamps, "[    1.234567] "
STAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
EXPECT_KINDS = ("fail", "any", "pass")
# run_kselftest.sh (--runner kselftest): kselftest/runner.sh's header
# "# selftests: <collection>: <test>" and its one result line,
#   ok 1 selftests: swap_exclusive: swap_exclusive [# SKIP]
#   not ok 1 selftests: swap_exclusive: swap_exclusive # exit=1 | # TIMEOUT 600 seconds
# The nested runners: the collection in that header, the label's suffix.
KSFT_RUNNERS = {"kselftest": (SELFTEST, "+ksft"), "kselftest-tree": ("vm", "+ksft-tree")}
KSFT_RESULT = re.compile(r"^(not ok|ok) (\d+) (selftests: \S+: \S+)(?: # (.*))?$")


def some(names, cap=6):
    """'a, b, c and 4 more'"""
    names = list(names)
    if len(names) <= cap:
        return ", ".join(names)
    return ", ".join(names[:cap]) + f" and {len(names) - cap} more"


def parse_rules(text, where, kinds=False):
    """Rule lines "<glob> <reason>" (or "<glob> <kind> <reason>" with kinds),
    '#' comments. Returns (rules, problems); a rule is (glob, kind, reason)."""
    rules, problems = [], []
    for ln in text.splitlines():
        ln = ln.strip()
        if not ln or ln.startswith("#"):
            continue
        parts = ln.split(None, 2 if kinds else 1)
        pat = parts[0]
        kind = parts[1] if kinds and len(parts) > 1 else "skip"
        reason = parts[-1].strip() if len(parts) > (2 if kinds else 1) else ""
        if kinds and kind not in EXPECT_KINDS:
            problems.append(f"{where}: '{ln}': the second word must be one of "
                            f"{'/'.join(EXPECT_KINDS)}")
        elif not reason and kind != "pass":
            problems.append(f"{where}: '{pat}' gives no reason")
        else:
            rules.append((pat, kind, reason))
    return rules, problems


def rule_for(rules, name):
    for pat, kind, reason in rules:
        if fnmatch.fnmatchcase(name, pat):
            return kind, reason
    return None, None


def expected_names(args):
    """The selftest's list for this run: (names, problem)."""
    how = f"`{SELFTEST} -l{(' ' + args.selftest_args) if args.selftest_args.strip() else ''}`"
    if args.selftest_list:
        try:
            with open(args.selftest_list) as f:
                names = [ln.strip() for ln in f if ln.strip()]
        except OSError as e:
            names, err = [], str(e)
        else:
            err = "the file is empty"
        if not names:
            return None, how, (f"{SELFTEST}: no list of the checks it must report "
                               f"({args.selftest_list}: {err}; could the selftest be built "
                               "for the host? see scripts/lib/lib.sh selftest_names)")
        return names, how, None
    rc, out, err = lib_sh("selftest_names", *shlex.split(args.selftest_args))
    names = [ln.strip() for ln in out.splitlines() if ln.strip()]
    if rc or not names:
        return None, how, f"{SELFTEST}: cannot list the checks it must report ({how}): {err or 'no output'}"
    return names, how, None


def judge(args):
    with open(args.log, "rb") as f:
        text = f.read().decode("utf-8", "replace").replace("\r", "")
    lines = text.split("\n")
    problems = []
    tests = []
    binaries = {}
    splats = []
    started = done = pgtable = False
    current = None
    diag = []
    nested = args.runner in KSFT_RUNNERS
    ksft_header = f"selftests: {KSFT_RUNNERS[args.runner][0]}: {SELFTEST}" if nested else None

    def tap_line(b, line):
        """One line of a test binary's own TAP (for the kselftest runner:
        with its "# " prefix taken off)."""
        nonlocal diag
        if line.startswith("# ") and not line.startswith("# Totals"):
            diag.append(line[2:].strip())
            return
        if line.startswith("Bail out!"):
            b["bail"] = line.strip()
            return
        m = PLAN.match(line)
        if m:
            b["plan"] = int(m.group(1))
            return
        m = TAP.match(line)
        if not m:
            return
        ok, num, name, directive, reason = m.groups()
        directive = (directive or "").upper()
        reason = (reason or "").strip()
        if not name and reason:
            # kselftest.h prints skips as "ok N # SKIP <message>":
            # our tests start the message with the test's name.
            name, _, reason = reason.partition(" ")
            name = name.rstrip(":")
        if directive == "SKIP":
            result = "SKIP"
        elif ok == "ok" or directive in ("TODO", "XFAIL"):
            result = "PASS"
        else:
            result = "FAIL"
        b["seen"] += 1
        t = {"binary": current, "name": name or f"test{num}",
             "result": result, "reason": reason.strip(), "diag": diag[-6:]}
        if result == "FAIL" and t["name"].startswith(REPRODUCER):
            reproduction(t, diag)
        tests.append(t)
        diag = []

    for raw in lines:
        line = STAMP.sub("", raw)
        for rx, what in SPLATS:
            if rx.search(line):
                splats.append(f"{what}: {line.strip()[:160]}")
                break
        if PGTABLE.search(line):
            pgtable = True
        if line.startswith("COWSWAP-INIT start"):
            started = True
        elif line.startswith("COWSWAP-DONE"):
            done = True
        elif line.startswith("COWSWAP-BEGIN "):
            current = line.split()[1]
            binaries[current] = {"plan": None, "seen": 0, "exit": None, "bail": None,
                                 "nested": nested and current == SELFTEST,
                                 "outer": [], "outer_plan": None, "header": 0}
            diag = []
        elif line.startswith("COWSWAP-END ") and current:
            m = re.search(r"exit=(\S+)", line)
            binaries[current]["exit"] = m.group(1) if m else "?"
            current = None
        elif current and binaries[current]["nested"]:
            # run_kselftest.sh: its own TAP (plan 1..1, a "# selftests:
            # <dir>: <test>" header, one result line), the test's lines
            # with "# " in front.
            b = binaries[current]
            if line.rstrip() == "# " + ksft_header:
                b["header"] += 1
            elif line.startswith("# "):
                tap_line(b, line[2:])
            elif PLAN.match(line):
                b["outer_plan"] = int(PLAN.match(line).group(1))
            elif KSFT_RESULT.match(line.strip()):
                b["outer"].append(line.strip())
        elif current:
            tap_line(binaries[current], line)

    if not text.strip():
        problems.append(f"console log is empty: QEMU printed nothing (exit {args.qemu_exit}); "
                        "is the kernel's console driver configured?")
    if args.qemu_exit in (124, 137):
        problems.append(f"guest timed out after {args.timeout}s (no COWSWAP-DONE)")
    # QEMU's stderr is in the log too: when QEMU itself gave up (bad
    # option, missing file) before the guest said anything, name its
    # complaint instead of blaming the guest.
    qemu_said = [ln.strip() for ln in text.splitlines()
                 if re.match(r"qemu-system-\S+: ", ln.strip())]
    if not started and args.qemu_exit not in (0, 124, 137) and qemu_said:
        problems.append(f"QEMU exited with status {args.qemu_exit} before the kernel ran: "
                        f"{qemu_said[0]}")
    elif not started:
        problems.append("/init never started (no COWSWAP-INIT line on the console)")
    elif not done and args.qemu_exit not in (124, 137):
        problems.append("guest stopped before /init finished: TAP truncated")
    if not binaries and started:
        problems.append("no test binary ran: TAP missing")
    for name, b in binaries.items():
        if b["nested"] and b["exit"] is not None:
            problems += runner_verdict(name, b, ksft_header)
    for name, b in binaries.items():
        if b["bail"]:
            problems.append(f"{name}: {b['bail']}")
        if b["exit"] is None:
            problems.append(f"{name}: no end marker, TAP truncated")
            continue
        if b["plan"] is None:
            problems.append(f"{name}: no TAP plan line")
        elif b["seen"] != b["plan"]:
            problems.append(f"{name}: TAP plan says {b['plan']} tests, {b['seen']} reported")
        if b["exit"] not in ("0", "1", "4"):
            problems.append(f"{name}: exited with {b['exit']} (crash or setup failure)")
        # kselftest.h exits KSFT_FAIL when a line failed; the runner turns
        # that exit into its "not ok" line. (Stress and bench binaries
        # have their own reports.)
        bad = [t["name"] for t in tests if t["binary"] == name and t["result"] == "FAIL"]
        if name == SELFTEST and bad and b["exit"] in ("0", "4"):
            said = (f"the kselftest runner says '{b['outer'][0]}'" if b["outer"]
                    else f"exit code {b['exit']}")
            problems.append(f"{name}: {said}, but {len(bad)} TAP line(s) failed: {some(bad, 3)}")

    # Rules: which SKIPs the architecture allows, what this variant must do.
    record = (f"configs/distro/{args.arch[7:]}.conf" if args.arch.startswith("distro-")
              else f"configs/arch/{args.arch}.conf")
    if args.may_skip is None:
        rc, out, err = lib_sh("arch_field", args.arch, "MAY_SKIP")
        if rc:
            problems.append(f"cannot read MAY_SKIP from {record}: {err}")
        args.may_skip = out
    may_skip, bad = parse_rules(args.may_skip, f"{record}: MAY_SKIP")
    problems += bad
    table_path = args.expect_table
    if table_path is None:
        table_path = os.path.join(TOP, "configs", "expect", args.variant)
        if not os.path.exists(table_path):
            table_path = ""
    table = []
    if table_path:
        with open(table_path) as f:
            table, bad = parse_rules(f.read(), os.path.relpath(table_path, TOP), kinds=True)
        problems += bad
    table_name = os.path.relpath(table_path, TOP) if table_path else ""

    # The selftest: every check it lists for these arguments must have a
    # TAP line (exactly one), and a SKIP must be one the rules allow.
    expected, how = None, ""
    st = binaries.get(SELFTEST)
    if not args.no_selftest and started and done and st is None:
        problems.append(f"{SELFTEST} never ran (no COWSWAP-BEGIN {SELFTEST} line)")
    if not args.no_selftest and st is not None and st["exit"] is not None:
        expected, how, bad = expected_names(args)
        if bad:
            problems.append(bad)
    skips = []
    if expected is not None:
        mine = [t for t in tests if t["binary"] == SELFTEST]
        names = [t["name"] for t in mine]
        missing = [n for n in expected if n not in names]
        dups = sorted({n for n in names if names.count(n) > 1})
        unknown = [n for n in names if n not in set(expected)]
        if st["plan"] is not None and st["plan"] != len(expected):
            problems.append(f"{SELFTEST}: TAP plan 1..{st['plan']}, but {how} lists "
                            f"{len(expected)} checks"
                            + (f"; never reported: {some(missing)}" if missing else "")
                            + (f"; not in the list: {some(unknown)}" if unknown else ""))
        elif missing or dups or unknown:
            parts = [f"{w}: {some(v)}" for w, v in (("never reported", missing),
                                                     ("reported twice", dups),
                                                     ("not in the list", unknown)) if v]
            problems.append(f"{SELFTEST}: the TAP lines do not match the {len(expected)} "
                            f"checks of {how}: " + "; ".join(parts))
        for t in mine:
            if t["result"] != "SKIP":
                continue
            kind, reason = rule_for(may_skip, t["name"])
            if kind:
                t["allowed"] = f"{record}: {reason}"
            else:
                kind, reason = rule_for(table, t["name"])
                if kind == "any":
                    t["allowed"] = f"{table_name}: {reason}"
            skips.append({"name": t["name"], "reason": t["reason"],
                          "allowed": t.get("allowed", "")})
        undeclared = [t for t in mine if t["result"] == "SKIP" and not t.get("allowed")]
        if mine and all(t["result"] == "SKIP" for t in mine):
            problems.append(f"{SELFTEST}: all {len(mine)} checks SKIPped, nothing was tested "
                            f"(the first: {mine[0]['name']}: {mine[0]['reason'] or 'no reason'})")
        else:
            for t in undeclared[:5]:
                problems.append(f"{SELFTEST}: {t['name']} SKIPped, which {record} does not "
                                f"allow (MAY_SKIP): {t['reason'] or 'no reason given'}")
            if len(undeclared) > 5:
                problems.append(f"{SELFTEST}: {len(undeclared) - 5} more SKIPs that {record} "
                                f"does not allow: {some(t['name'] for t in undeclared[5:])}")

    problems += splats[:5]
    if started:
        check = {"binary": "kernel", "name": "debug_vm_pgtable",
                 "result": "PASS" if pgtable and not splats else "FAIL",
                 "reason": "" if pgtable else "no 'Validating architecture page table helpers' line"}
        # Not every architecture can build the check (6.1 offers
        # DEBUG_VM_PGTABLE only where ARCH_HAS_DEBUG_VM_PGTABLE is
        # selected); its record says so in MAY_SKIP.
        kind, reason = rule_for(may_skip, "debug_vm_pgtable")
        if not pgtable and kind:
            check.update(result="SKIP", reason=reason, allowed=f"{record}: {reason}")
        tests.append(check)

    # The variant's expectation file: the selftest (and the boot-time
    # check that comes with it) fails exactly what the file declares.
    # Other binaries (stress, bench) have their own reports.
    if table and expected is not None:
        who = "the pre-fix kernel" if args.variant == "baseline" else f"the {args.variant} kernel"
        must_pass, must_fail, not_lost = [], [], []
        for t in tests:
            if t["binary"] not in (SELFTEST, "kernel"):
                continue
            kind, _ = rule_for(table, t["name"])
            kind = kind or "pass"
            if kind == "pass" and t["result"] == "FAIL":
                must_pass.append(t["name"])
            elif kind == "fail" and t["result"] == "PASS":
                must_fail.append(t["name"])
            elif (kind == "fail" and t["result"] == "FAIL"
                  and t["name"].startswith(REPRODUCER) and not t.get("lost")):
                not_lost.append(t["name"])
        for n in must_pass[:5]:
            problems.append(f"{args.variant}: {n} failed, which {who} must pass ({table_name})")
        if len(must_pass) > 5:
            problems.append(f"{args.variant}: also failed, which {who} must pass: "
                            f"{some(must_pass[5:])}")
        if must_fail:
            problems.append(f"{args.variant}: {some(must_fail)} passed, which {who} must fail "
                            f"({table_name})")
        for n in not_lost:
            problems.append(f"{args.variant}: {n} failed, but not by losing the read data "
                            f"(no '{LOST_REASON.format(name=n, k='K', n='N')}' line)")

    failed = [t["name"] for t in tests if t["result"] == "FAIL"]
    reproduced_by = [t["name"] for t in tests if t.get("lost")]
    exit_fail = [n for n, b in binaries.items() if b["exit"] == "1"]
    if exit_fail and not failed:
        problems.append(f"{', '.join(exit_fail)}: exit code KSFT_FAIL without a failing TAP line")
    if problems:
        outcome = "error"
    elif reproduced_by:
        outcome = "reproduced"
    elif failed:
        outcome = "fail"
    else:
        outcome = "pass"

    prefixes = args.must_fail.split()
    missing = [p for p in prefixes if not any(n.startswith(p) for n in failed)]
    # A deliberate bug must be caught by the checks written for it, and
    # by no other: anything else failing means a check is not specific.
    extra = [n for n in failed if prefixes and not any(n.startswith(p) for p in prefixes)]
    ok = outcome == args.expect and not missing and not extra
    if missing:
        problems = problems + [f"expected these tests to fail: {', '.join(missing)}"]
    if extra:
        problems = problems + [f"failed beyond the deliberate bug: {', '.join(extra)}"]
    result = {
        "arch": args.arch, "variant": args.variant, "disks": args.disks,
        "runner": args.runner, "outcome": outcome,
        "expected": args.expect, "ok": ok,
        "seconds": args.seconds, "problems": problems, "failed": failed,
        "reproduced_by": reproduced_by, "skips": skips,
        "expected_tests": expected, "selftest_args": args.selftest_args,
        "tests": tests, "log": os.path.abspath(args.log),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    counts = {r: sum(1 for t in tests if t["result"] == r) for r in ("PASS", "FAIL", "SKIP")}
    # Over every line counted above, the kernel's debug_vm_pgtable
    # included (its allowed SKIP is not in "skips").
    allowed = sum(1 for t in tests if t["result"] == "SKIP" and t.get("allowed"))
    tag = "as expected" if result["ok"] else f"EXPECTED {args.expect.upper()}"
    if args.must_fail and result["ok"]:
        tag += f", caught: {args.must_fail.strip()}"
    print(f"{run_label(result)}: {outcome.upper()} ({tag}) in {args.seconds}s: "
          f"{counts['PASS']} pass, {counts['FAIL']} fail, {counts['SKIP']} skip"
          + (f" ({allowed} allowed)" if allowed else ""))
    for p in problems:
        print(f"  problem: {p}")
    for t in tests:
        if t["result"] == "FAIL":
            note = t.get("lost") or t.get("note")
            print(f"  failed: {t['name']}" + (f" ({note})" if note else ""))
    return 0 if result["ok"] else 1


def runner_verdict(name, b, header):
    """Problems with run_kselftest.sh's own TAP; sets b["exit"] to the exit
    code of the test that its result line reports (6.1's runner itself
    exits 0 whatever the test did)."""
    problems = []
    runner_exit, outer = b["exit"], b["outer"]
    if runner_exit != "0":
        problems.append(f"{name}: run_kselftest.sh exited with {runner_exit}, "
                        "where the 6.1 runner exits 0 whatever the test did")
    if b["outer_plan"] != 1 or len(outer) != 1 or b["header"] != 1:
        problems.append(f"{name}: the kselftest runner's TAP is not plan 1..1, one '# "
                        f"{header}' and one result line (plan "
                        f"{b['outer_plan'] if b['outer_plan'] is not None else 'missing'}, "
                        f"{b['header']} header(s), {len(outer)} result line(s))")
    if not outer:
        return problems
    m = KSFT_RESULT.match(outer[0])
    ok, directive = m.group(1), (m.group(4) or "").strip()
    if m.group(3) != header:
        problems.append(f"{name}: the kselftest runner reported '{m.group(3)}', "
                        f"not '{header}'")
    code = re.match(r"exit=(\S+)$", directive)
    if ok == "ok":
        b["exit"] = "4" if directive.upper().startswith("SKIP") else "0"
    elif code:
        b["exit"] = code.group(1)
    else:
        # "# TIMEOUT <n> seconds", or no directive: the file was missing
        b["exit"] = directive.split()[0].lower() if directive else "not-run"
        problems.append(f"{name}: the kselftest runner: '{outer[0]}'")
    return problems


def run_label(r):
    """x86_64/baseline@none, with +ksft (+ksft-tree) when run by run_kselftest.sh."""
    return (f"{r['arch']}/{r['variant']}@{r.get('disks', 'full')}"
            + KSFT_RUNNERS.get(r.get("runner"), (None, ""))[1])


def reproduction(t, diag):
    """Does this failing odirect_inflight line show the lost read data?"""
    name = t["name"]
    m = re.match(LOST_REASON_RX.format(name=re.escape(name)), diag[-1]) if diag else None
    if m and int(m.group(1)) > 0 and any(LOST_ITERATION in d for d in diag[:-1]):
        t["lost"] = LOST_REASON.format(name=name, k=m.group(1), n=m.group(2))[len(name) + 2:]
    else:
        t["note"] = (f"not the reproduction: no '{LOST_REASON.format(name=name, k='K', n='N')}' "
                     f"line right before it, with '{LOST_ITERATION}' iterations")


# The race checks end with "<N> iterations, <M> overlapped (...)": how
# many iterations really had both sides in the kernel at the same time.
OVERLAP_RX = re.compile(r"^(\d+) iterations, (\d+) overlapped")
RACE_CHECKS = ("race_", "fork_race_")


def overlap_table(runs):
    """Markdown lines: per run, 'overlapped of iterations' for each race
    check that ran (a SKIP says why, e.g. none overlapped)."""
    names = []
    for r in runs:
        for t in r["tests"]:
            if t["name"].startswith(RACE_CHECKS) and t["name"] not in names:
                names.append(t["name"])
    if not names:
        return []
    md = ["", "Race checks, iterations that overlapped (of all iterations):", "",
          "| run | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for r in runs:
        cells = []
        for n in names:
            t = next((t for t in r["tests"] if t["name"] == n), None)
            m = None
            for d in (t or {}).get("diag", []):
                m = OVERLAP_RX.match(d) or m
            if t is None:
                cells.append("–")
            elif m:
                cells.append(f"{m.group(2)} of {m.group(1)}")
            else:
                cells.append(t["result"])
        md.append(f"| {run_label(r)} | " + " | ".join(cells) + " |")
    return md


def summary(args):
    runs = []
    for path in sorted(glob.glob(os.path.join(args.dir, "*", "result.json"))):
        with open(path) as f:
            runs.append(json.load(f))
    if not runs:
        print(f"no results under {args.dir}", file=sys.stderr)
        return 1
    cols = [run_label(r) for r in runs]
    names = []
    for r in runs:
        for t in r["tests"]:
            if t["name"] not in names:
                names.append(t["name"])
    md = ["| test | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    md.append("| **outcome** | " + " | ".join(
        f"**{r['outcome'].upper()}**" + ("" if r["ok"] else " (unexpected)") for r in runs) + " |")
    md.append("| time (s) | " + " | ".join(str(r["seconds"]) for r in runs) + " |")
    for n in names:
        cells = []
        for r in runs:
            res = [t["result"] for t in r["tests"] if t["name"] == n]
            cells.append(res[0] if res else "–")
        md.append(f"| {n} | " + " | ".join(cells) + " |")
    evidence = []
    for r in runs:
        for t in r["tests"]:
            summary_lines = [d for d in t.get("diag", []) if "iterations lost" in d]
            if t["name"].startswith(REPRODUCER) and summary_lines:
                evidence.append(f"- {run_label(r)} {t['name']} {t['result']}: "
                                + summary_lines[0])
    if evidence:
        md += ["", "Evidence (reproducer diagnostics):", ""] + evidence
    md += overlap_table(runs)
    problems = [f"- {run_label(r)}: {p}" for r in runs for p in r["problems"]]
    if problems:
        md += ["", "Problems:", ""] + problems
    if args.timings and os.path.exists(args.timings):
        md += ["", "| stage | seconds | status |", "|---|---|---|"]
        with open(args.timings) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 4:
                    continue
                stamp, name, secs, rc = parts
                if stamp >= args.since:
                    md.append(f"| {name} | {secs} | {'ok' if rc == '0' else 'FAILED'} |")
    ok = all(r["ok"] for r in runs)
    verdict = "MATRIX OK" if ok else "MATRIX FAILED"
    md += ["", f"{verdict}: baseline must be REPRODUCED, upstream and patched PASS"
           + (", stock (6.1 LTS) REPRODUCED, fixed PASS" if any(r["variant"] in ("stock", "fixed") for r in runs) else "")
           + (", mutant FAIL in the tests its bugs target." if any(r["variant"].startswith("mutant") for r in runs) else ".")]
    with open(os.path.join(args.dir, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(args.dir, "summary.json"), "w") as f:
        json.dump({"ok": ok, "runs": runs}, f, indent=1)
    print("\n".join(md))
    return 0 if ok else 1


def guest_results(d):
    """{guest directory name: result.json} of one matrix run directory."""
    out = {}
    if not os.path.isdir(d):
        return out
    for name in sorted(os.listdir(d)):
        f = os.path.join(d, name, "result.json")
        if os.path.isfile(f):
            with open(f) as fh:
                out[name] = json.load(fh)
    return out


def compare(args):
    """Two runs of the same rows (e.g. JOBS=1 and JOBS=2): every guest's
    verdict and every check's result must be the same. Prints one line per
    guest with both verdicts and times, and each check that differs."""
    a, b = guest_results(args.a), guest_results(args.b)
    if not a or not b:
        print(f"error: no result.json under {args.a if not a else args.b}", file=sys.stderr)
        return 2
    same = True
    ta = tb = 0
    print(f"| guest | {os.path.basename(args.a.rstrip('/'))} | {os.path.basename(args.b.rstrip('/'))} | checks |")
    print("|---|---|---|---|")
    for g in sorted(set(a) | set(b)):
        if g not in a or g not in b:
            same = False
            print(f"| {g} | {'missing' if g not in a else a[g]['outcome'].upper()} | "
                  f"{'missing' if g not in b else b[g]['outcome'].upper()} | guest in one run only |")
            continue
        ra = {t["name"]: t["result"] for t in a[g]["tests"]}
        rb = {t["name"]: t["result"] for t in b[g]["tests"]}
        diff = [f"{n}: {ra.get(n, '-')} vs {rb.get(n, '-')}"
                for n in sorted(set(ra) | set(rb)) if ra.get(n) != rb.get(n)]
        if diff or a[g]["outcome"] != b[g]["outcome"]:
            same = False
        ta += a[g]["seconds"]
        tb += b[g]["seconds"]
        cell = f"{len(ra)} the same" if not diff else \
            f"{len(diff)} of {len(ra | rb)} differ: {'; '.join(diff)}"
        print(f"| {g} | {a[g]['outcome'].upper()} {a[g]['seconds']} s | "
              f"{b[g]['outcome'].upper()} {b[g]['seconds']} s | {cell} |")
    print(f"\nguest seconds in all: {ta} vs {tb}; "
          + ("every verdict and every check the same" if same else "the runs DIFFER"))
    return 0 if same else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    j = sub.add_parser("judge")
    j.add_argument("--arch", required=True)
    j.add_argument("--variant", required=True)
    j.add_argument("--expect", default="pass", choices=["pass", "reproduced", "fail", "error"])
    j.add_argument("--must-fail", default="", help="test name prefixes that must fail")
    j.add_argument("--qemu-exit", type=int, default=0)
    j.add_argument("--timeout", type=int, default=0)
    j.add_argument("--seconds", type=int, default=0)
    j.add_argument("--may-skip", help="the architecture record's MAY_SKIP "
                   "(default: read from configs/arch/<arch>.conf)")
    j.add_argument("--selftest-list", help="file with the names swap_exclusive -l printed "
                   "(default: list them with scripts/lib/lib.sh selftest_names)")
    j.add_argument("--selftest-args", default="",
                   help="the arguments the selftest ran with (SELFTEST_ARGS)")
    j.add_argument("--no-selftest", action="store_true", help="the run had no selftest (SELFTEST=0)")
    j.add_argument("--disks", default="full", choices=["full", "plain", "none"],
                   help="the guest's disks (run-qemu.sh's DISKS), for the record and the label")
    j.add_argument("--runner", default="direct", choices=["direct", *KSFT_RUNNERS],
                   help="kselftest: /init ran the selftest through run_kselftest.sh "
                   "(KSFT_RUNNER=1); its TAP is nested in the runner's; kselftest-tree: "
                   "the same, the test from the kernel tree's vm collection (KSFT_RUNNER=tree)")
    j.add_argument("--expect-table", help="what each check must do "
                   "(default: configs/expect/<variant> if it exists; '' for none)")
    j.add_argument("--log", required=True)
    j.add_argument("--json", required=True)
    s = sub.add_parser("summary")
    s.add_argument("dir")
    s.add_argument("--timings")
    s.add_argument("--since", default="")
    c = sub.add_parser("compare", help="two runs of the same rows: same verdicts, same checks")
    c.add_argument("a", help="a run directory (out/results/<RUN_ID>)")
    c.add_argument("b")
    a = p.parse_args()
    sys.exit({"judge": judge, "summary": summary, "compare": compare}[a.cmd](a))


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: GPL-2.0
"""The judge of one QEMU console log (results.py judge), in named steps:

  1. parse_console     /init's markers, each test binary's TAP (nested in
                       run_kselftest.sh's for --runner kselftest*), kernel
                       splats, the DEBUG_VM_PGTABLE boot line
  2. boot_problems,    a log that is empty, timed out, never started or
     binary_problems   stopped early; a binary's plan, count, exit code
  3. load_rules        the record's MAY_SKIP and the variant's expectation
                       file (configs/expect/<variant>)
  4. match_names       the selftest's TAP lines against the names
                       `swap_exclusive -l` gives for the run's arguments
  5. apply_skip_rules  which SKIPs the rules allow
  6. pgtable_check,    the boot-time check as a test of its own; what the
     expectation_problems  expectation file says each check must do
  7. verdict           pass / reproduced / fail / error, and whether that is
                       what the run had to give (--expect, --must-fail)
  8. write_result      result.json, and the lines printed for the run

What each outcome means is in results.py's help.
"""
import fnmatch
import json
import os
import re
import shlex
import time

from cowswap import TOP, console, lib_sh

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
# Kernel messages a test provokes on purpose: the selftest and the stress
# test write "cowswap: expect <kind> begin" to the kernel log before they
# make a swap device fail or a memory cgroup run out, and "... end" after
# (KMSG_EXPECT in selftests/swap_exclusive/test_util.h). Between the two,
# the splats of that kind are what the test asked for, not trouble; every
# other splat still counts. A window left open ends with its binary.
EXPECT_MARK = re.compile(r"cowswap: expect (\S+) (begin|end)\b")
EXPECTED_SPLATS = {
    "swap-io-error": ("swap I/O error",),
    "memcg-oom": ("OOM kill", "OOM", "kernel stack trace", "stack trace (arm64)"),
}


class ExpectWindows:
    """The open "cowswap: expect" windows of a console, and what they let by."""

    def __init__(self):
        self.open = set()
        self.seen = {}

    def feed(self, line):
        """True when line is a window's begin or end marker."""
        m = EXPECT_MARK.search(line)
        if not m:
            return False
        if m.group(2) == "begin":
            self.open.add(m.group(1))
        else:
            self.open.discard(m.group(1))
        return True

    def allows(self, what):
        """Is a splat of this kind inside a window that expects it? Counts it."""
        for kind in self.open:
            if what in EXPECTED_SPLATS.get(kind, ()):
                self.seen[what] = self.seen.get(what, 0) + 1
                return True
        return False

    def close_all(self):
        self.open.clear()


TAP = re.compile(r"^(not ok|ok)\s+(\d+)\s*(?:-\s*)?(.*?)\s*"
                 r"(?:#\s*(SKIP|TODO|XFAIL|XPASS|error)\b\s*(.*))?$", re.IGNORECASE)
PLAN = re.compile(r"^1\.\.(\d+)")
PGTABLE = re.compile(r"debug_vm_pgtable.*Validating architecture page table helpers")
EXPECT_KINDS = ("fail", "raced", "any", "pass")
# "raced": a race check the pre-fix kernel fails only in iterations where
# both sides really were in the kernel at once ("<N> iterations, <M>
# overlapped" in its diagnostics). With RACE_MIN_OVERLAPS or more such
# iterations it must fail (each copies the page with a probability of
# 0.67 to 1.0, 0.88 overall, in 22 race checks of 11 i386-pae stock
# boots here, so a pass then is a defect, not chance: 0.33^8 < 2e-4);
# with fewer, on a host too loaded to overlap the two threads, it may
# pass or SKIP, and the judge says so.
RACE_MIN_OVERLAPS = 8
OVERLAP_RX = re.compile(r"^(\d+) iterations, (\d+) overlapped")
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




class Console:
    """What one console log says (step 1). tests: one dict per TAP line
    (binary, name, result PASS/FAIL/SKIP, reason, diag: the diagnostic
    lines before it); binaries: per COWSWAP-BEGIN name, its plan, the
    lines seen, exit code, Bail out!, and for a nested runner its own TAP."""

    def __init__(self, runner="direct"):
        self.nested = runner in KSFT_RUNNERS
        self.ksft_header = (f"selftests: {KSFT_RUNNERS[runner][0]}: {SELFTEST}"
                            if self.nested else None)
        self.text = ""
        self.tests, self.binaries, self.splats = [], {}, []
        self.expect = ExpectWindows()
        self.started = self.done = self.pgtable = False
        self.current = None
        self.diag = []

    def feed(self, line):
        for rx, what in [] if self.expect.feed(line) else SPLATS:
            if rx.search(line):
                if not self.expect.allows(what):
                    self.splats.append(f"{what}: {line.strip()[:160]}")
                break
        if PGTABLE.search(line):
            self.pgtable = True
        if line.startswith("COWSWAP-INIT start"):
            self.started = True
        elif line.startswith("COWSWAP-DONE"):
            self.done = True
        elif line.startswith("COWSWAP-BEGIN "):
            self.begin(line.split()[1])
        elif line.startswith("COWSWAP-END ") and self.current:
            self.expect.close_all()
            m = re.search(r"exit=(\S+)", line)
            self.binaries[self.current]["exit"] = m.group(1) if m else "?"
            self.current = None
        elif self.current and self.binaries[self.current]["nested"]:
            self.runner_line(self.binaries[self.current], line)
        elif self.current:
            self.tap_line(self.binaries[self.current], line)

    def begin(self, name):
        self.current = name
        self.binaries[name] = {"plan": None, "seen": 0, "exit": None, "bail": None,
                               "nested": self.nested and name == SELFTEST,
                               "outer": [], "outer_plan": None, "header": 0}
        self.diag = []

    def runner_line(self, b, line):
        """run_kselftest.sh's own TAP (plan 1..1, a "# selftests: <dir>:
        <test>" header, one result line), the test's lines with "# " in
        front."""
        if line.rstrip() == "# " + self.ksft_header:
            b["header"] += 1
        elif line.startswith("# "):
            self.tap_line(b, line[2:])
        elif PLAN.match(line):
            b["outer_plan"] = int(PLAN.match(line).group(1))
        elif KSFT_RESULT.match(line.strip()):
            b["outer"].append(line.strip())

    def tap_line(self, b, line):
        """One line of a test binary's own TAP (for the kselftest runner:
        with its "# " prefix taken off)."""
        if line.startswith("# ") and not line.startswith("# Totals"):
            self.diag.append(line[2:].strip())
            return
        if line.startswith("Bail out!"):
            b["bail"] = line.strip()
            return
        m = PLAN.match(line)
        if m:
            b["plan"] = int(m.group(1))
            return
        m = TAP.match(line)
        if m:
            b["seen"] += 1
            self.tests.append(tap_result(self.current, m, self.diag))
            self.diag = []


def tap_result(binary, m, diag):
    """The test dict of one TAP result line (a TAP regex match)."""
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
    t = {"binary": binary, "name": name or f"test{num}",
         "result": result, "reason": reason.strip(), "diag": diag[-6:]}
    if result == "FAIL" and t["name"].startswith(REPRODUCER):
        reproduction(t, diag)
    return t


def parse_console(text, runner="direct"):
    """Step 1: a Console from the log's text (CR removed)."""
    con = Console(runner)
    con.text = text
    for line in console.plain(text):
        con.feed(line)
    return con




def boot_problems(con, qemu_exit, timeout):
    """Step 2a: did the guest boot, run /init and finish it?"""
    problems = []
    if not con.text.strip():
        problems.append(f"console log is empty: QEMU printed nothing (exit {qemu_exit}); "
                        "is the kernel's console driver configured?")
    if qemu_exit in (124, 137):
        problems.append(f"guest timed out after {timeout}s (no COWSWAP-DONE)")
    # QEMU's stderr is in the log too: when QEMU itself gave up (bad
    # option, missing file) before the guest said anything, name its
    # complaint instead of blaming the guest.
    qemu_said = [ln.strip() for ln in con.text.splitlines()
                 if re.match(r"qemu-system-\S+: ", ln.strip())]
    if not con.started and qemu_exit not in (0, 124, 137) and qemu_said:
        problems.append(f"QEMU exited with status {qemu_exit} before the kernel ran: "
                        f"{qemu_said[0]}")
    elif not con.started:
        problems.append("/init never started (no COWSWAP-INIT line on the console)")
    elif not con.done and qemu_exit not in (124, 137):
        problems.append("guest stopped before /init finished: TAP truncated")
    if not con.binaries and con.started:
        problems.append("no test binary ran: TAP missing")
    return problems


def binary_problems(con):
    """Step 2b: each binary's TAP plan, count and exit code (a nested
    runner's verdict first: it sets the exit code its result line reports)."""
    problems = []
    for name, b in con.binaries.items():
        if b["nested"] and b["exit"] is not None:
            problems += runner_verdict(name, b, con.ksft_header)
    for name, b in con.binaries.items():
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
        bad = [t["name"] for t in con.tests if t["binary"] == name and t["result"] == "FAIL"]
        if name == SELFTEST and bad and b["exit"] in ("0", "4"):
            said = (f"the kselftest runner says '{b['outer'][0]}'" if b["outer"]
                    else f"exit code {b['exit']}")
            problems.append(f"{name}: {said}, but {len(bad)} TAP line(s) failed: {some(bad, 3)}")
    return problems


class Rules:
    """Step 3: what may SKIP on this record, what this variant must do."""

    def __init__(self, record, may_skip, table, table_name):
        self.record, self.may_skip = record, may_skip
        self.table, self.table_name = table, table_name


def load_rules(arch, variant, may_skip=None, expect_table=None):
    """(Rules, problems). may_skip None: read the record's MAY_SKIP with
    lib.sh; expect_table None: configs/expect/<variant> if it exists."""
    problems = []
    record = (f"configs/distro/{arch[7:]}.conf" if arch.startswith("distro-")
              else f"configs/arch/{arch}.conf")
    if may_skip is None:
        rc, may_skip, err = lib_sh("arch_field", arch, "MAY_SKIP")
        if rc:
            problems.append(f"cannot read MAY_SKIP from {record}: {err}")
    rules, bad = parse_rules(may_skip, f"{record}: MAY_SKIP")
    problems += bad
    table_path = expect_table
    if table_path is None:
        table_path = os.path.join(TOP, "configs", "expect", variant)
        if not os.path.exists(table_path):
            table_path = ""
    table = []
    if table_path:
        with open(table_path) as f:
            table, bad = parse_rules(f.read(), os.path.relpath(table_path, TOP), kinds=True)
        problems += bad
    table_name = os.path.relpath(table_path, TOP) if table_path else ""
    return Rules(record, rules, table, table_name), problems


def selftest_expected(con, args):
    """Step 4a: (expected names or None, how they were listed, problems)."""
    st = con.binaries.get(SELFTEST)
    if args.no_selftest:
        return None, "", []
    if con.started and con.done and st is None:
        return None, "", [f"{SELFTEST} never ran (no COWSWAP-BEGIN {SELFTEST} line)"]
    if st is None or st["exit"] is None:
        return None, "", []
    expected, how, bad = expected_names(args)
    return expected, how, [bad] if bad else []


def match_names(mine, expected, plan, how):
    """Step 4b: every listed check has exactly one TAP line, and no other."""
    names = [t["name"] for t in mine]
    missing = [n for n in expected if n not in names]
    dups = sorted({n for n in names if names.count(n) > 1})
    unknown = [n for n in names if n not in set(expected)]
    if plan is not None and plan != len(expected):
        return [f"{SELFTEST}: TAP plan 1..{plan}, but {how} lists "
                f"{len(expected)} checks"
                + (f"; never reported: {some(missing)}" if missing else "")
                + (f"; not in the list: {some(unknown)}" if unknown else "")]
    if missing or dups or unknown:
        parts = [f"{w}: {some(v)}" for w, v in (("never reported", missing),
                                                 ("reported twice", dups),
                                                 ("not in the list", unknown)) if v]
        return [f"{SELFTEST}: the TAP lines do not match the {len(expected)} "
                f"checks of {how}: " + "; ".join(parts)]
    return []


def apply_skip_rules(mine, rules):
    """Step 5: mark each SKIP the record (MAY_SKIP) or the expectation file
    ("any") allows; (skips for result.json, problems)."""
    skips, problems = [], []
    for t in mine:
        if t["result"] != "SKIP":
            continue
        kind, reason = rule_for(rules.may_skip, t["name"])
        if kind:
            t["allowed"] = f"{rules.record}: {reason}"
        else:
            kind, reason = rule_for(rules.table, t["name"])
            if kind == "any" or (kind == "raced" and overlaps(t) < RACE_MIN_OVERLAPS):
                t["allowed"] = f"{rules.table_name}: {reason}"
        skips.append({"name": t["name"], "reason": t["reason"],
                      "allowed": t.get("allowed", "")})
    undeclared = [t for t in mine if t["result"] == "SKIP" and not t.get("allowed")]
    if mine and all(t["result"] == "SKIP" for t in mine):
        problems.append(f"{SELFTEST}: all {len(mine)} checks SKIPped, nothing was tested "
                        f"(the first: {mine[0]['name']}: {mine[0]['reason'] or 'no reason'})")
        return skips, problems
    record = rules.record
    for t in undeclared[:5]:
        problems.append(f"{SELFTEST}: {t['name']} SKIPped, which {record} does not "
                        f"allow (MAY_SKIP): {t['reason'] or 'no reason given'}")
    if len(undeclared) > 5:
        problems.append(f"{SELFTEST}: {len(undeclared) - 5} more SKIPs that {record} "
                        f"does not allow: {some(t['name'] for t in undeclared[5:])}")
    return skips, problems


def pgtable_check(con, rules):
    """Step 6a: the kernel's boot-time DEBUG_VM_PGTABLE check as a test.
    Not every architecture can build it (6.1 offers DEBUG_VM_PGTABLE only
    where ARCH_HAS_DEBUG_VM_PGTABLE is selected); its record says so in
    MAY_SKIP."""
    check = {"binary": "kernel", "name": "debug_vm_pgtable",
             "result": "PASS" if con.pgtable and not con.splats else "FAIL",
             "reason": "" if con.pgtable else
             "no 'Validating architecture page table helpers' line"}
    kind, reason = rule_for(rules.may_skip, "debug_vm_pgtable")
    if not con.pgtable and kind:
        check.update(result="SKIP", reason=reason, allowed=f"{rules.record}: {reason}")
    return check


def overlap_counts(t):
    """(iterations, overlapped) of a race check's "<N> iterations, <M>
    overlapped" line, or None when it printed none."""
    counts = None
    for d in (t or {}).get("diag", []):
        m = OVERLAP_RX.match(d)
        counts = (int(m.group(1)), int(m.group(2))) if m else counts
    return counts


def overlaps(t):
    """How many iterations of a race check overlapped (0 if it does not say)."""
    return (overlap_counts(t) or (0, 0))[1]


def expectation_problems(tests, rules, variant):
    """Step 6b: the selftest (and the boot-time check that comes with it)
    fails exactly what the variant's expectation file declares. Other
    binaries (stress, bench) have their own reports."""
    who = "the pre-fix kernel" if variant == "baseline" else f"the {variant} kernel"
    must_pass, must_fail, not_lost = [], [], []
    for t in tests:
        if t["binary"] not in (SELFTEST, "kernel"):
            continue
        kind = rule_for(rules.table, t["name"])[0] or "pass"
        if kind == "pass" and t["result"] == "FAIL":
            must_pass.append(t["name"])
        elif kind == "fail" and t["result"] == "PASS":
            must_fail.append(t["name"])
        elif kind == "raced" and t["result"] != "FAIL":
            n = overlaps(t)
            if n >= RACE_MIN_OVERLAPS:
                must_fail.append(t["name"])
            else:
                t["note"] = (f"overlapped in {n} iterations, fewer than the "
                             f"{RACE_MIN_OVERLAPS} that {who} must fail in: not judged")
        elif (kind == "fail" and t["result"] == "FAIL"
              and t["name"].startswith(REPRODUCER) and not t.get("lost")):
            not_lost.append(t["name"])
    problems = [f"{variant}: {n} failed, which {who} must pass ({rules.table_name})"
                for n in must_pass[:5]]
    if len(must_pass) > 5:
        problems.append(f"{variant}: also failed, which {who} must pass: "
                        f"{some(must_pass[5:])}")
    if must_fail:
        problems.append(f"{variant}: {some(must_fail)} passed, which {who} must fail "
                        f"({rules.table_name})")
    for n in not_lost:
        problems.append(f"{variant}: {n} failed, but not by losing the read data "
                        f"(no '{LOST_REASON.format(name=n, k='K', n='N')}' line)")
    return problems


def verdict(con, problems, expect, must_fail=""):
    """Step 7: (outcome, ok, problems with the --must-fail ones added)."""
    failed = [t["name"] for t in con.tests if t["result"] == "FAIL"]
    exit_fail = [n for n, b in con.binaries.items() if b["exit"] == "1"]
    if exit_fail and not failed:
        problems = problems + [f"{', '.join(exit_fail)}: exit code KSFT_FAIL "
                               "without a failing TAP line"]
    if problems:
        outcome = "error"
    elif any(t.get("lost") for t in con.tests):
        outcome = "reproduced"
    elif failed:
        outcome = "fail"
    else:
        outcome = "pass"
    prefixes = must_fail.split()
    missing = [p for p in prefixes if not any(n.startswith(p) for n in failed)]
    # A deliberate bug must be caught by the checks written for it, and
    # by no other: anything else failing means a check is not specific.
    extra = [n for n in failed if prefixes and not any(n.startswith(p) for p in prefixes)]
    ok = outcome == expect and not missing and not extra
    if missing:
        problems = problems + [f"expected these tests to fail: {', '.join(missing)}"]
    if extra:
        problems = problems + [f"failed beyond the deliberate bug: {', '.join(extra)}"]
    return outcome, ok, problems


def write_result(path, result):
    """Step 8a: result.json."""
    with open(path, "w") as f:
        json.dump(result, f, indent=1)


def verdict_lines(result, expect, must_fail=""):
    """Step 8b: what the judge prints: the run's line, its problems, the
    failed checks."""
    tests = result["tests"]
    counts = {r: sum(1 for t in tests if t["result"] == r) for r in ("PASS", "FAIL", "SKIP")}
    # Over every line counted above, the kernel's debug_vm_pgtable
    # included (its allowed SKIP is not in "skips").
    allowed = sum(1 for t in tests if t["result"] == "SKIP" and t.get("allowed"))
    tag = "as expected" if result["ok"] else f"EXPECTED {expect.upper()}"
    if must_fail and result["ok"]:
        tag += f", caught: {must_fail.strip()}"
    lines = [f"{run_label(result)}: {result['outcome'].upper()} ({tag}) in {result['seconds']}s: "
             f"{counts['PASS']} pass, {counts['FAIL']} fail, {counts['SKIP']} skip"
             + (f" ({allowed} allowed)" if allowed else "")]
    lines += [f"  problem: {p}" for p in result["problems"]]
    seen = result.get("expected_kernel_messages") or {}
    if seen:
        lines.append("  provoked on purpose (cowswap: expect windows): "
                     + ", ".join(f"{n} {what}" for what, n in sorted(seen.items())))
    for t in tests:
        if t["result"] == "FAIL":
            note = t.get("lost") or t.get("note")
            lines.append(f"  failed: {t['name']}" + (f" ({note})" if note else ""))
        elif t.get("note"):
            lines.append(f"  {t['result'].lower()}: {t['name']} ({t['note']})")
    return lines


def judge(args):
    """results.py judge: the steps above over one log; exit status 0 only
    when the run gave what it had to."""
    con = parse_console(console.read(args.log), args.runner)
    problems = boot_problems(con, args.qemu_exit, args.timeout)
    problems += binary_problems(con)
    rules, bad = load_rules(args.arch, args.variant, args.may_skip, args.expect_table)
    problems += bad
    expected, how, bad = selftest_expected(con, args)
    problems += bad
    skips = []
    if expected is not None:
        mine = [t for t in con.tests if t["binary"] == SELFTEST]
        problems += match_names(mine, expected, con.binaries[SELFTEST]["plan"], how)
        skips, bad = apply_skip_rules(mine, rules)
        problems += bad
    problems += con.splats[:5]
    if con.started:
        con.tests.append(pgtable_check(con, rules))
    if rules.table and expected is not None:
        problems += expectation_problems(con.tests, rules, args.variant)
    outcome, ok, problems = verdict(con, problems, args.expect, args.must_fail)
    tests = con.tests
    result = {
        "arch": args.arch, "variant": args.variant, "disks": args.disks,
        "runner": args.runner, "outcome": outcome,
        "expected": args.expect, "ok": ok,
        "seconds": args.seconds, "problems": problems,
        "failed": [t["name"] for t in tests if t["result"] == "FAIL"],
        "reproduced_by": [t["name"] for t in tests if t.get("lost")], "skips": skips,
        "expected_tests": expected, "selftest_args": args.selftest_args,
        "expected_kernel_messages": con.expect.seen,
        "tests": tests, "log": os.path.abspath(args.log),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_result(args.json, result)
    print("\n".join(verdict_lines(result, args.expect, args.must_fail)))
    return 0 if ok else 1
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

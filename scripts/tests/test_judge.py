# SPDX-License-Identifier: GPL-2.0
"""The judge's steps (cowswap.judge) on the committed console logs of
scripts/tests/data/judge/ (see its README), each step on its own and the
whole judge through its command line."""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

from cowswap import console, judge

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "judge")
SCRIPTS = os.path.dirname(HERE)


def data(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


LIST = [ln for ln in data("selftest.list").splitlines() if ln]


def rules(arch="x86_64", table=True):
    r, problems = judge.load_rules(arch, "baseline", data(f"{arch}.may_skip"),
                                   os.path.join(DATA, "expect-baseline") if table else "")
    assert not problems, problems
    return r


def mine(con):
    return [t for t in con.tests if t["binary"] == judge.SELFTEST]


class ParseConsole(unittest.TestCase):
    def test_healthy_boot(self):
        con = judge.parse_console(data("x86_64-patched.log"))
        self.assertTrue(con.started and con.done and con.pgtable)
        self.assertEqual(con.splats, [])
        st = con.binaries[judge.SELFTEST]
        self.assertEqual((st["plan"], st["seen"], st["exit"]), (len(LIST), len(LIST), "0"))
        self.assertEqual([t["name"] for t in mine(con)], LIST)
        self.assertEqual({t["result"] for t in con.tests}, {"PASS"})

    def test_skip_line_takes_the_name_from_the_message(self):
        con = judge.parse_console(data("arm64-patched.log"))
        t = next(t for t in con.tests if t["name"] == "uffd_wp/fault")
        self.assertEqual(t["result"], "SKIP")
        self.assertEqual(t["reason"], "uffd-wp not supported on anonymous memory here")

    def test_reproduction_needs_the_lost_data_line(self):
        con = judge.parse_console(data("x86_64-baseline.log"))
        t = next(t for t in con.tests if t["name"] == "odirect_inflight/fault")
        self.assertEqual(t["result"], "FAIL")
        self.assertEqual(t["lost"], "8 of 8 iterations lost the O_DIRECT data")
        damaged = re.sub(r"(?m)^# odirect_inflight/fault: .*\n", "", data("x86_64-baseline.log"))
        t = next(t for t in judge.parse_console(damaged).tests
                 if t["name"] == "odirect_inflight/fault")
        self.assertNotIn("lost", t)
        self.assertIn("not the reproduction", t["note"])

    def test_kernel_message_inside_a_tap_line(self):
        # As a 6.1 console showed it (distro-amd64-rt): the kernel's line
        # lands between two writes of /init's line.
        text = data("x86_64-patched.log")
        line = next(ln for ln in text.splitlines() if ln.startswith("ok ") and "/" in ln)
        cut = line[:16] + "[   52.266023] Adding 65532k swap on /dev/vdb.  Priority:-2\n" + \
            "[   52.301000] BUG: Bad rss-counter state mm:00000000 type:MM_SWAPENTS val:1\n" + \
            line[16:]
        con = judge.parse_console(text.replace(line + "\n", cut + "\n", 1))
        self.assertEqual([(t["name"], t["result"]) for t in mine(con)],
                         [(t["name"], t["result"]) for t in mine(judge.parse_console(text))])
        self.assertEqual(len(con.splats), 1)
        self.assertIn("Bad rss-counter state", con.splats[0])

    def test_kernel_message_right_before_the_newline(self):
        text = data("x86_64-patched.log")
        line = next(ln for ln in text.splitlines() if ln.startswith("ok ") and "/" in ln)
        con = judge.parse_console(text.replace(line + "\n", line + "[    5.000001] random: crng init done\n\n", 1))
        self.assertIn(line.split(" ", 2)[2], [t["name"] for t in mine(con)])
        self.assertEqual(con.binaries[judge.SELFTEST]["seen"], len(LIST))

    def test_text_before_the_first_message(self):
        # As Debian's i386 kernel showed it (smoke affected): x86's setup
        # code ends without a newline, the kernel's first message follows
        # on the same line. That text is no cut /init line, and must not
        # be glued to /init's first line.
        text = "Booting from ROM...\nProbing EDD (edd=off to disable)... o\x1bc\x1b[?7l\x1b[2J" + \
            data("x86_64-patched.log")
        con = judge.parse_console(text)
        self.assertTrue(con.started and con.done)
        self.assertEqual(len(mine(con)), len(LIST))
        # nor to the first unstamped line of any other kind (systemd's)
        booted = "Probing EDD (edd=off to disable)... o[    0.000000] Linux version 6.1.0\n" + \
            "Welcome to Debian GNU/Linux 12 (bookworm)!"
        self.assertEqual(console.plain(booted)[-2:],
                         ["Linux version 6.1.0", "Welcome to Debian GNU/Linux 12 (bookworm)!"])

    def test_cut_line_never_swallows_a_marker(self):
        # As ppc64le's 6.1 showed it (CI of 833e212): the kernel's own
        # unstamped banner, cut by a message and never finished; /init's
        # first line after it still starts its own line.
        text = data("x86_64-patched.log").replace(
            "[    0.502211] Run /init", "Linux ppc64le\n#1 SMP Mon Dec  [    0.305931] EEH: pSeries "
            "platform initialized\n[    0.502211] Run /init", 1)
        con = judge.parse_console(text)
        self.assertTrue(con.started)
        self.assertEqual(len(mine(con)), len(LIST))

    def test_kselftest_runner_nesting(self):
        con = judge.parse_console(data("x86_64-patched-ksft.log"), "kselftest")
        st = con.binaries[judge.SELFTEST]
        self.assertEqual((st["outer_plan"], st["header"], st["plan"]), (1, 1, len(LIST)))
        self.assertEqual(st["outer"], ["ok 1 selftests: swap_exclusive: swap_exclusive"])
        self.assertEqual(len(mine(con)), len(LIST))
        # judged as a direct run, the runner's plan 1..1 is the selftest's
        direct = judge.parse_console(data("x86_64-patched-ksft.log"))
        self.assertEqual(direct.binaries[judge.SELFTEST]["plan"], 1)

    def test_splat_is_named(self):
        text = data("x86_64-patched.log").replace(
            "ok 8 ksm/fault", "[   17.4] _swap_info_get: Bad swap file entry 3ff\nok 8 ksm/fault")
        con = judge.parse_console(text)
        self.assertEqual(con.splats, ["bad swap entry: _swap_info_get: Bad swap file entry 3ff"])


    def test_provoked_splats_pass_only_inside_their_window(self):
        def parse(*lines):
            return judge.parse_console(data("x86_64-patched.log").replace(
                "ok 8 ksm/fault", "\n".join(lines + ("ok 8 ksm/fault",))))

        begin, end = ("[ 17.1] cowswap: expect swap-io-error begin",
                      "[ 17.5] cowswap: expect swap-io-error end")
        write_err = "[ 17.2] Write-error on swap-device (253:0:88)"
        con = parse(begin, write_err, end)
        self.assertEqual(con.splats, [])
        self.assertEqual(con.expect.seen, {"swap I/O error": 1})
        # after the window, the same line is trouble again
        con = parse(begin, end, write_err)
        self.assertEqual(con.splats, ["swap I/O error: Write-error on swap-device (253:0:88)"])
        # inside it, any other kind still is
        con = parse(begin, "[ 17.3] _swap_info_get: Bad swap file entry 3ff",
                    "[ 17.4] Call Trace:", end)
        self.assertEqual([x.split(":")[0] for x in con.splats],
                         ["bad swap entry", "kernel stack trace"])
        # an OOM window lets the report's stack dump by, not a WARNING
        con = parse("[ 17.1] cowswap: expect memcg-oom begin", "[ 17.2] Call Trace:",
                    "[ 17.3] WARNING: CPU: 0 PID: 1 at mm/memory.c:1 x", "[ 17.4] Call Trace:",
                    "[ 17.5] cowswap: expect memcg-oom end")
        self.assertEqual([x.split(":")[0] for x in con.splats], ["kernel WARNING"])
        # a window left open ends with its binary
        con = judge.parse_console(data("x86_64-patched.log").replace(
            "ok 8 ksm/fault", begin + "\nok 8 ksm/fault") + write_err + "\n")
        self.assertEqual(len(con.splats), 1)


class BootProblems(unittest.TestCase):
    def test_healthy(self):
        con = judge.parse_console(data("x86_64-patched.log"))
        self.assertEqual(judge.boot_problems(con, 0, 900), [])
        self.assertEqual(judge.binary_problems(con), [])

    def test_empty_log(self):
        p = judge.boot_problems(judge.parse_console(""), 1, 900)
        self.assertIn("console log is empty", p[0])

    def test_qemu_refused_to_start(self):
        con = judge.parse_console("qemu-system-x86_64: unsupported machine type\n")
        self.assertEqual(judge.boot_problems(con, 1, 900),
                         ["QEMU exited with status 1 before the kernel ran: "
                          "qemu-system-x86_64: unsupported machine type"])

    def test_timeout_and_truncation(self):
        text = data("x86_64-patched.log").split("ok 30 ")[0]
        con = judge.parse_console(text)
        self.assertEqual(judge.boot_problems(con, 124, 600),
                         ["guest timed out after 600s (no COWSWAP-DONE)"])
        self.assertEqual(judge.boot_problems(con, 0, 600),
                         ["guest stopped before /init finished: TAP truncated"])
        self.assertEqual(judge.binary_problems(con),
                         ["swap_exclusive: no end marker, TAP truncated"])

    def test_exit_code_disagrees_with_tap(self):
        text = data("x86_64-baseline.log").replace("exit=1", "exit=0")
        p = judge.binary_problems(judge.parse_console(text))
        self.assertEqual(len(p), 1)
        self.assertRegex(p[0], r"^swap_exclusive: exit code 0, but \d+ TAP line\(s\) failed")


class MatchNames(unittest.TestCase):
    def test_all_there(self):
        con = judge.parse_console(data("x86_64-patched.log"))
        self.assertEqual(judge.match_names(mine(con), LIST, len(LIST), "`l`"), [])

    def test_duplicate_and_missing(self):
        text = data("x86_64-patched.log").replace("ok 8 ksm/fault", "ok 8 reuse_pfn/fault")
        con = judge.parse_console(text)
        p = judge.match_names(mine(con), LIST, len(LIST), "`l`")
        self.assertEqual(p, [f"swap_exclusive: the TAP lines do not match the {len(LIST)} checks "
                             "of `l`: never reported: ksm/fault; reported twice: reuse_pfn/fault"])

    def test_plan_of_another_list(self):
        con = judge.parse_console(data("x86_64-patched.log"))
        p = judge.match_names(mine(con), LIST[:10], len(LIST), "`l -s x`")
        self.assertTrue(p[0].startswith(f"swap_exclusive: TAP plan 1..{len(LIST)}, but `l -s x` "
                                        "lists 10 checks; not in the list: "), p)


class SkipRules(unittest.TestCase):
    def test_declared_skips_are_allowed(self):
        con = judge.parse_console(data("arm64-patched.log"))
        skips, problems = judge.apply_skip_rules(mine(con), rules("arm64"))
        self.assertEqual(problems, [])
        self.assertTrue(skips)
        self.assertTrue(all(s["allowed"].startswith("configs/arch/arm64.conf: ") for s in skips))

    def test_undeclared_skip(self):
        con = judge.parse_console(data("arm64-patched.log"))
        _, problems = judge.apply_skip_rules(mine(con), rules("x86_64"))
        self.assertIn("swap_exclusive: softdirty/fault SKIPped, which configs/arch/x86_64.conf "
                      "does not allow (MAY_SKIP): soft-dirty tracking not available "
                      "(CONFIG_MEM_SOFT_DIRTY)", problems)
        self.assertRegex(problems[-1], r"^swap_exclusive: \d+ more SKIPs that")

    def test_expectation_any_allows_a_skip(self):
        text = re.sub(r"(?m)^ok (\d+) (odirect_racy/fault)$", r"ok \1 # SKIP \2: no hit",
                      data("x86_64-patched.log"))
        con = judge.parse_console(text)
        skips, problems = judge.apply_skip_rules(mine(con), rules("x86_64"))
        self.assertEqual(problems, [])
        self.assertTrue(skips[0]["allowed"].endswith("expect-baseline: " + judge.rule_for(
            rules().table, "odirect_racy/fault")[1]))

    def test_all_skipped_is_nothing_tested(self):
        text = re.sub(r"(?m)^ok (\d+) (\S+)$", r"ok \1 # SKIP \2: needs root",
                      data("x86_64-patched.log"))
        _, problems = judge.apply_skip_rules(mine(judge.parse_console(text)), rules())
        self.assertEqual(problems, [f"swap_exclusive: all {len(LIST)} checks SKIPped, nothing "
                                    f"was tested (the first: {LIST[0]}: needs root)"])

    def test_rule_without_reason(self):
        _, problems = judge.load_rules("x86_64", "patched", "uffd_wp/*\n", "")
        self.assertEqual(problems, ["configs/arch/x86_64.conf: MAY_SKIP: 'uffd_wp/*' gives no reason"])


class ExpectationAndVerdict(unittest.TestCase):
    def judged(self, text, variant="baseline", expect="reproduced", must_fail=""):
        con = judge.parse_console(text)
        r = rules(table=variant == "baseline")
        con.tests.append(judge.pgtable_check(con, r))
        problems = judge.expectation_problems(con.tests, r, variant) if r.table else []
        return judge.verdict(con, problems, expect, must_fail)

    def test_baseline_reproduces(self):
        self.assertEqual(self.judged(data("x86_64-baseline.log")), ("reproduced", True, []))

    def test_patched_passes(self):
        self.assertEqual(self.judged(data("x86_64-patched.log"), "patched", "pass"),
                         ("pass", True, []))

    def test_baseline_failing_a_fork_check(self):
        text = data("x86_64-baseline.log").replace(
            "ok 4 fork_after_swapout_parent_first/fault",
            "not ok 4 fork_after_swapout_parent_first/fault")
        outcome, ok, problems = self.judged(text)
        self.assertEqual((outcome, ok), ("error", False))
        self.assertIn("baseline: fork_after_swapout_parent_first/fault failed, which the "
                      "pre-fix kernel must pass (scripts/tests/data/judge/expect-baseline)",
                      problems)

    def race_passed(self, overlapped):
        """The baseline fixture with race_write_write/fault passing after
        `overlapped` overlapping iterations."""
        return data("x86_64-baseline.log").replace(
            "# race_write_write/fault: the page was copied (new PFN) instead of reused\n"
            "not ok 12 race_write_write/fault",
            f"# 40 iterations, {overlapped} overlapped (both threads faulted on the swap "
            "entry, accesses at the same time); copied 0 (0 of them overlapped)\n"
            "ok 12 race_write_write/fault")

    def test_raced_check_must_fail_once_it_raced(self):
        outcome, ok, problems = self.judged(self.race_passed(8))
        self.assertEqual((outcome, ok), ("error", False))
        self.assertEqual(problems, ["baseline: race_write_write/fault passed, which the pre-fix "
                                    "kernel must fail (scripts/tests/data/judge/expect-baseline)"])

    def test_raced_check_not_judged_without_enough_overlaps(self):
        self.assertEqual(self.judged(self.race_passed(7)), ("reproduced", True, []))
        con = judge.parse_console(self.race_passed(0).replace(
            "ok 12 race_write_write/fault",
            "ok 12 # SKIP race_write_write/fault: the two faults never overlapped in 40 iterations"))
        t = [t for t in con.tests if t["name"] == "race_write_write/fault"][0]
        self.assertEqual(t["result"], "SKIP")
        skips, problems = judge.apply_skip_rules(mine(con), rules())
        self.assertEqual(problems, [])
        self.assertIn("race_write_write/fault", [s["name"] for s in skips if s["allowed"]])

    def test_mutant_caught_only_by_its_checks(self):
        text = data("x86_64-patched.log").replace("ok 9 ksm_write/fault",
                                                  "not ok 9 ksm_write/fault")
        text = text.replace("exit=0", "exit=1")
        self.assertEqual(self.judged(text, "mutant-ksm", "fail", "ksm_write/"),
                         ("fail", True, []))
        outcome, ok, problems = self.judged(text, "mutant-ksm", "fail", "ksm/")
        self.assertFalse(ok)
        self.assertEqual(problems, ["expected these tests to fail: ksm/",
                                    "failed beyond the deliberate bug: ksm_write/fault"])

    def test_exit_fail_without_a_failing_line(self):
        text = data("x86_64-patched.log").replace("exit=0", "exit=1")
        self.assertEqual(self.judged(text, "patched", "pass"),
                         ("error", False, ["swap_exclusive: exit code KSFT_FAIL without a "
                                           "failing TAP line"]))

    def test_pgtable_missing_may_skip(self):
        text = re.sub(r"(?m)^.*debug_vm_pgtable.*\n", "", data("x86_64-patched.log"))
        con = judge.parse_console(text)
        self.assertEqual(judge.pgtable_check(con, rules())["result"], "FAIL")
        r, _ = judge.load_rules("m68k", "stock", "debug_vm_pgtable not offered on m68k\n", "")
        self.assertEqual(judge.pgtable_check(con, r)["result"], "SKIP")


class JudgeCommand(unittest.TestCase):
    """results.py judge as run-qemu.sh calls it: stdout, exit status, result.json."""

    def run_judge(self, log, arch, variant, expect, *extra):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "result.json")
            p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "results.py"), "judge",
                                "--arch", arch, "--variant", variant, "--expect", expect,
                                "--log", os.path.join(DATA, log), "--json", out,
                                "--selftest-list", os.path.join(DATA, "selftest.list"),
                                "--may-skip", data(f"{arch}.may_skip"),
                                "--expect-table", os.path.join(DATA, "expect-baseline")
                                if variant == "baseline" else "",
                                "--seconds", "42", *extra], capture_output=True, text=True)
            with open(out) as f:
                return p.returncode, p.stdout, json.load(f)

    def test_arm64_patched(self):
        rc, out, res = self.run_judge("arm64-patched.log", "arm64", "patched", "pass")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"^arm64/patched@full: PASS \(as expected\) in 42s: \d+ pass, "
                              r"0 fail, (\d+) skip \(\1 allowed\)\n$")
        self.assertEqual(res["expected_tests"], LIST)
        self.assertEqual(len(res["tests"]), len(LIST) + 1)  # and debug_vm_pgtable
        for key in ("arch", "variant", "disks", "runner", "outcome", "expected", "ok",
                    "seconds", "problems", "failed", "reproduced_by", "skips",
                    "selftest_args", "log", "date"):
            self.assertIn(key, res)

    def test_x86_64_baseline_through_the_runner_label(self):
        rc, out, res = self.run_judge("x86_64-baseline.log", "x86_64", "baseline", "reproduced",
                                      "--disks", "none")
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.startswith("x86_64/baseline@none: REPRODUCED (as expected)"))
        self.assertIn("odirect_inflight/fault", res["reproduced_by"])

    def test_wrong_expectation_fails(self):
        rc, out, res = self.run_judge("x86_64-patched-ksft.log", "x86_64", "patched",
                                      "reproduced", "--runner", "kselftest", "--disks", "none")
        self.assertEqual((rc, res["outcome"], res["ok"]), (1, "pass", False))
        self.assertIn("x86_64/patched@none+ksft: PASS (EXPECTED REPRODUCED)", out)


if __name__ == "__main__":
    unittest.main()

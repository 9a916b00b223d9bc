# SPDX-License-Identifier: GPL-2.0
"""cowswap.vmtests, the judge of the vmtests boots (6.1's vm selftests):
on a real console log of a vmtests boot (data/vmtests/, see its README),
on logs made here from a few lines (fabricated: the comparison rule needs
kernels that disagree), and on the guest runner scripts/guest/vmtests.c
itself, built for the host and run on stand-in test programs."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from cowswap import TOP, vmtests
from cowswap.rundata import load_run, snapshot
from cowswap.tables import snapshot_table

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "vmtests")
NAMES = ["t_pass", "t_break", "t_both", "t_skip"]
# /proc/cpuinfo has a flags line (the runner's cpuflag= need) on x86 only
def x86_host():
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") for line in f)
    except OSError:
        return False


X86 = x86_host()


def fake_log(results, extra=""):
    """A console log of a vmtests boot; results: [(name, tap tail)]."""
    lines = ["COWSWAP-INIT start, page size 4096", "COWSWAP-BEGIN vmtests",
             "TAP version 13", f"1..{len(results)}"]
    failed = 0
    for i, (name, tail) in enumerate(results, 1):
        lines += [f"# output of {name}", f"# {name}: exit=0, 0.5 s"]
        lines.append(f"{'not ok' if tail.startswith('FAIL') else 'ok'} {i} {name}"
                     + {"PASS": "", "FAIL": " # exit=1"}.get(tail, f" # {tail}"))
        failed += tail.startswith("FAIL")
    lines += [extra, f"COWSWAP-END vmtests exit={1 if failed else 0}", "COWSWAP-DONE"]
    return "\n".join(lines) + "\n"


BASELINE = [("t_pass", "PASS"), ("t_break", "PASS"), ("t_both", "FAIL"),
            ("t_skip", "SKIP CONFIG_FOO is not set (no /sys/foo)")]
# t_break passes without the series and fails with it: a regression
PATCHED = [("t_pass", "PASS"), ("t_break", "FAIL"), ("t_both", "FAIL"),
           ("t_skip", "SKIP CONFIG_FOO is not set (no /sys/foo)")]


def kernel(variant, results, record="x86_64", extra=""):
    return vmtests.judge_log(fake_log(results, extra), record, variant, NAMES)


class RealLog(unittest.TestCase):
    """A vmtests boot of this project's i386-pae stock kernel."""

    def setUp(self):
        with open(os.path.join(DATA, "i386-pae-stock.log")) as f:
            self.text = f.read()
        self.names = vmtests.catalogue(os.path.join(DATA, "vmtests.list"))
        self.k = vmtests.judge_log(self.text, "i386-pae", "stock", self.names)

    def test_every_test_reported_no_problem(self):
        # gup_test's dump_page() output is asked for, not a splat
        self.assertIn("page dumped because: gup_test: dump_pages() test", self.text)
        self.assertEqual(self.k["problems"], [])
        self.assertEqual(sorted(self.k["tests"]), sorted(self.names))

    def test_results_and_reasons(self):
        t = self.k["tests"]
        self.assertEqual(t["madv_populate"]["result"], "PASS")
        self.assertEqual(t["ksm_merge"]["result"], "PASS")
        self.assertEqual(t["hugepage-mmap"]["result"], "SKIP")
        self.assertIn("CONFIG_HUGETLBFS", t["hugepage-mmap"]["reason"])
        self.assertIn("HAVE_ARCH_SOFT_DIRTY", t["soft-dirty"]["reason"])
        # 6.1's vm_util.c reads AnonHugePages with %ld into a uint64_t:
        # every THP check fails in a 32-bit process
        self.assertEqual(t["khugepaged"]["result"], "FAIL")
        # (khugepaged's colours taken out)
        self.assertIn("Allocate huge page on fault... Fail", t["khugepaged"]["output"])
        for name, test in t.items():
            if test["result"] == "SKIP":
                self.assertTrue(test["reason"], name)

    def test_other_page_dump_is_a_problem(self):
        text = self.text.replace("gup_test: dump_pages() test", "nonzero mapcount", 1)
        k = vmtests.judge_log(text, "i386-pae", "stock", self.names)
        self.assertEqual(k["problems"], ["page dump: page dumped because: nonzero mapcount"])

    def test_truncated_log(self):
        cut = self.text[:self.text.index("ok 20 ")]
        k = vmtests.judge_log(cut, "i386-pae", "stock", self.names, qemu_exit=124)
        self.assertFalse(k["ok"])
        self.assertTrue(any("timed out" in p for p in k["problems"]), k["problems"])
        self.assertTrue(any("truncated" in p for p in k["problems"]), k["problems"])


class Judge(unittest.TestCase):
    def test_clean(self):
        k = kernel("baseline", BASELINE)
        self.assertTrue(k["ok"], k["problems"])
        self.assertEqual(k["tests"]["t_both"]["result"], "FAIL")
        self.assertEqual(k["tests"]["t_both"]["reason"], "exit=1")
        self.assertEqual(k["tests"]["t_both"]["output"][-1], "t_both: exit=0, 0.5 s")

    def test_skip_without_reason(self):
        k = kernel("baseline", BASELINE[:3] + [("t_skip", "SKIP")])
        self.assertIn("t_skip: SKIP without a reason", k["problems"])

    def test_missing_duplicate_unknown(self):
        k = kernel("baseline", BASELINE[:2] + [("t_pass", "PASS"), ("t_other", "PASS")])
        self.assertIn("t_pass: reported twice", k["problems"])
        self.assertIn("t_other: not a test of vmtests.list", k["problems"])
        self.assertIn("not reported: t_both, t_skip", k["problems"])

    def test_kernel_splat(self):
        k = kernel("patched", BASELINE, extra="[   9.1] WARNING: CPU: 0 PID: 1 at mm/memory.c:1 x")
        self.assertFalse(k["ok"])
        self.assertTrue(any("kernel WARNING" in p for p in k["problems"]), k["problems"])


class Compare(unittest.TestCase):
    def test_regression_rule_fires(self):
        c = vmtests.compare([kernel("baseline", BASELINE), kernel("patched", PATCHED)])
        self.assertEqual(c["verdict"], "FAIL")
        self.assertEqual([(e["test"], e["without"]) for e in c["regressions"]],
                         [("t_break", ["baseline"])])
        # failing on both is reported, and is no regression
        self.assertEqual([e["test"] for e in c["fails_on_both"]], ["t_both"])

    def test_fails_on_both_alone_passes(self):
        c = vmtests.compare([kernel("baseline", BASELINE), kernel("patched", BASELINE),
                             kernel("upstream", BASELINE)])
        self.assertEqual(c["verdict"], "PASS")
        self.assertEqual(c["regressions"], [])
        self.assertEqual([e["test"] for e in c["fails_on_both"]], ["t_both"])
        self.assertEqual(c["fails_on_both"][0]["without"], ["baseline", "upstream"])

    def test_skipped_with_series_is_regression(self):
        skipped = [("t_pass", "SKIP no /sys/kernel/mm/ksm")] + BASELINE[1:]
        c = vmtests.compare([kernel("stock", BASELINE, "i386-pae"),
                             kernel("fixed", skipped, "i386-pae")])
        self.assertEqual([(e["test"], e["result"]) for e in c["regressions"]], [("t_pass", "SKIP")])

    def test_no_reference_kernel(self):
        c = vmtests.compare([kernel("patched", BASELINE)])
        self.assertEqual(c["verdict"], "FAIL")
        self.assertEqual([e["test"] for e in c["unjudged"]], ["t_both"])

    def test_records_are_compared_apart(self):
        c = vmtests.compare([kernel("baseline", BASELINE), kernel("patched", BASELINE),
                             kernel("stock", PATCHED, "i386-pae"),
                             kernel("fixed", PATCHED, "i386-pae")])
        self.assertEqual(c["verdict"], "PASS")

    def test_fixed_by_series(self):
        c = vmtests.compare([kernel("baseline", PATCHED), kernel("patched", BASELINE)])
        self.assertEqual([e["test"] for e in c["fixed_by_series"]], ["t_break"])
        self.assertEqual(c["verdict"], "PASS")

    def test_broken_boot_fails(self):
        bad = kernel("baseline", BASELINE, extra="Kernel panic - not syncing: x")
        c = vmtests.compare([bad, kernel("patched", BASELINE)])
        self.assertEqual(c["verdict"], "FAIL")
        self.assertEqual(c["errors"][0]["kernel"], "x86_64 baseline")


class Render(unittest.TestCase):
    def test_table(self):
        ks = [kernel("patched", PATCHED), kernel("baseline", BASELINE)]
        md = vmtests.render({"names": NAMES, "kernels": ks, "comparison": vmtests.compare(ks)})
        self.assertEqual(md[0], "| test | x86_64 baseline | x86_64 patched |")
        self.assertIn("| `t_break` | pass | **FAIL** |", md)
        self.assertIn("| `t_skip` | skip [1] | skip [1] |", md)
        self.assertIn("- skip [1]: CONFIG_FOO is not set (no /sys/foo)", md)
        text = "\n".join(md)
        self.assertIn("**FAIL**: 1 regression(s)", text)
        self.assertIn("- regression (passes without the series, not with it): `t_break` "
                      "on x86_64, FAIL on patched, baseline without (exit=1)", text)


class Retried(unittest.TestCase):
    def test_retried_pass_is_marked(self):
        ok = BASELINE[:3] + [("t_skip", "passed after 1 failed run(s)")]
        ks = [kernel("baseline", BASELINE), kernel("patched", ok)]
        self.assertEqual(ks[1]["tests"]["t_skip"]["result"], "PASS")
        md = vmtests.render({"names": NAMES, "kernels": ks, "comparison": vmtests.compare(ks)})
        self.assertIn("| `t_skip` | skip [1] | pass (retried) |", md)
        self.assertIn("- retried: `t_skip` on x86_64 patched: passed after 1 failed run(s)", md)


class RunDir(unittest.TestCase):
    """The command line on a run directory, and the run as a snapshot."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.run = os.path.join(self.tmp, "vmtests-test")
        self.lst = os.path.join(self.tmp, "list")
        with open(self.lst, "w") as f:
            f.write("".join(f"{n} | 10 | - | {n}\n" for n in NAMES))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def guest(self, name, results):
        d = os.path.join(self.run, "vmtests", name)
        os.makedirs(d)
        with open(os.path.join(d, "console.log"), "w") as f:
            f.write(fake_log(results))
        with open(os.path.join(d, "qemu.exit"), "w") as f:
            f.write("0 12\n")

    def cli(self):
        return subprocess.run(["python3", "-m", "cowswap.vmtests", self.run, "--list", self.lst],
                              capture_output=True, text=True,
                              cwd=os.path.join(TOP, "scripts"))

    def test_regression_fails_the_command(self):
        self.guest("x86_64-baseline", BASELINE)
        self.guest("x86_64-patched", PATCHED)
        p = self.cli()
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("**FAIL**: 1 regression(s)", p.stdout)
        with open(os.path.join(self.run, "vmtests.json")) as f:
            self.assertEqual(json.load(f)["comparison"]["verdict"], "FAIL")

    def test_pass_and_snapshot(self):
        self.guest("i386-pae-stock", BASELINE)
        self.guest("i386-pae-fixed", BASELINE)
        p = self.cli()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.run, "vmtests.md")))
        snap = snapshot(load_run(self.run), "vmtests", commit="0" * 12)
        self.assertEqual(snap["kind"], "vmtests")
        self.assertEqual(snap["command"], "make vmtests")
        table = snapshot_table(snap)
        self.assertEqual(table[0], "| test | i386-pae stock | i386-pae fixed |")

    def test_empty_run(self):
        os.makedirs(self.run)
        self.assertEqual(self.cli().returncode, 2)


@unittest.skipUnless(shutil.which("gcc"), "needs gcc for the guest runner")
class Runner(unittest.TestCase):
    """scripts/guest/vmtests.c built for the host, on shell stand-ins."""

    def test_runner_tap(self):
        with tempfile.TemporaryDirectory() as tmp:
            exe = os.path.join(tmp, "vmtests")
            subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-o", exe,
                            os.path.join(TOP, "scripts", "guest", "vmtests.c")], check=True)
            progs = {"p": 'echo "ok 1 its own TAP"; exit 0', "s": 'echo "no feature X"; exit 4',
                     "f": "echo broken >&2; exit 1", "h": "sleep 30", "e": "exit 4",
                     # fails once, then passes (the state is a file)
                     "r": f'[ -e {tmp}/once ] && exit 0; touch {tmp}/once; exit 1',
                     # kselftest.h's SKIP, then its plan and totals
                     "t": 'printf "TAP version 13\\n1..3\\nok 2 # SKIP no memfd_secret\\n'
                          '# Planned tests != run tests (3 != 1)\\n'
                          '# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0\\n"; exit 4'}
            for name, body in progs.items():
                path = os.path.join(tmp, name)
                with open(path, "w") as f:
                    f.write(f"#!/bin/sh\n{body}\n")
                os.chmod(path, 0o755)
            lst = os.path.join(tmp, "list")
            with open(lst, "w") as f:
                f.write("# a comment\n"
                        "a | 10 | - | p x\n"
                        "b | 10 | path=/nonexistent/x:CONFIG_X is not set | p\n"
                        "c | 10 | skip=the host said so | -\n"
                        "d | 10 | - | s\n"
                        "g | 10 | - | f\n"
                        "h | 1 | - | h\n"
                        "k | 10 | - | e\n"
                        "t | 10 | - | t\n"
                        "x | 10 | cpuflag=no_such_flag:x86 only with that flag | p\n"
                        "r | 10 | retry=2 | r\n"
                        "y | 10 | retry=1 | f\n")
            p = subprocess.run([exe, lst, tmp], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 1, p.stdout)
            text = "COWSWAP-BEGIN vmtests\n" + p.stdout + "COWSWAP-END vmtests exit=1\n"
            tests, plan, rc = vmtests.parse_tests(text)
            self.assertEqual(plan, 11)
            got = {t["name"]: (t["result"], t["reason"]) for t in tests}
            self.assertEqual(got, {
                "a": ("PASS", ""),
                "b": ("SKIP", "CONFIG_X is not set (no /nonexistent/x)"),
                "c": ("SKIP", "the host said so"),
                "d": ("SKIP", "no feature X"),
                "g": ("FAIL", "exit=1"),
                "h": ("FAIL", "timed out (limit 1 s)"),
                "k": ("SKIP", ""),
                "t": ("SKIP", "no memfd_secret"),
                "x": ("SKIP", "x86 only with that flag (no no_such_flag in /proc/cpuinfo)")
                if X86 else ("PASS", ""),
                "r": ("PASS", "passed after 1 failed run(s)"),
                "y": ("FAIL", "exit=1 (every run)")})
            # the test's own TAP is kept apart from the runner's
            self.assertIn("ok 1 its own TAP", tests[0]["output"])
            self.assertIn("broken", tests[4]["output"])


if __name__ == "__main__":
    unittest.main()

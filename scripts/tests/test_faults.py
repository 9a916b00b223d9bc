# SPDX-License-Identifier: GPL-2.0
"""The faults snapshot kind (cowswap.faults) on cut-down copies of real
runs (scripts/tests/data/faults, see its README): which checks count as
fault checks, what their diagnostic lines give, several runs in one
snapshot with their commands, the stress counters with a run that
recorded nothing, and docs/faults.md against docs/results/faults-*.json."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from cowswap import docs, faults, rundata, tables

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "faults")
SCRIPTS = os.path.dirname(HERE)


def run(name):
    return rundata.load_run(os.path.join(DATA, name))


def snapshot(*args):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, "report.py"), "snapshot",
                           *args], capture_output=True, text=True)


class Checks(unittest.TestCase):
    def test_which_checks_are_fault_checks(self):
        for name in ("odirect_inflight/memcg", "swapin_error_odirect/faulty",
                     "swapoff_writeback/stable", "fork_odirect_inflight/fault",
                     "memcg_oom_swapin/memcg"):
            self.assertTrue(faults.is_fault_check(name), name)
        for name in ("odirect_inflight/fault", "reuse_pfn/stable", "debug_vm_pgtable",
                     "fork_race_swapin/fault"):
            self.assertFalse(faults.is_fault_check(name), name)

    def test_counters_of_the_diagnostic_lines(self):
        self.assertEqual(faults.counters([
            "setup faulty: swap on /dev/dm-0 only",
            "writes failed for 15 of 15 pages paged out",
            "15 of 15 pages intact, 0 SIGBUS, 0 wrong; after swapoff: 15 intact, 0 SIGBUS, "
            "0 wrong; SwapTotal 32764 -> 32764 kB, SwapFree 32764 -> 32000 kB"]),
            {"writes_failed": 15, "paged_out": 15, "intact": 15, "pages": 15, "sigbus": 0,
             "wrong": 0, "intact_after": 15, "sigbus_after": 0, "wrong_after": 0,
             "total0": 32764, "total1": 32764, "free0": 32764, "free1": 32000})
        self.assertEqual(faults.counters(["read in flight when the child wrote; child exited "
                                          "with 0"]),
                         {"read": "in flight", "child": "exited with 0"})
        self.assertEqual(faults.counters(["nothing it knows"]), {})

    def test_message_is_the_checks_own_line(self):
        t = {"name": "swapin_error/faulty", "result": "FAIL", "diag": [
            "16 of 16 pages intact, 0 SIGBUS, 0 wrong",
            "swapin_error/faulty: no swap-in failed (no SIGBUS): no fault was injected"]}
        self.assertEqual(faults.message(t), "no swap-in failed (no SIGBUS): no fault was injected")
        self.assertEqual(faults.message({"name": "x/y", "result": "SKIP", "reason": "no THP"}),
                         "no THP")


class Boots(unittest.TestCase):
    def test_one_run(self):
        d = faults.run_data(run("fixture-faults-a"))
        self.assertEqual(d["stress"], [])
        # x86_64 first, baseline before patched; then i386-pae
        self.assertEqual([(b["record"], b["variant"]) for b in d["boots"]],
                         [("x86_64", "baseline"), ("x86_64", "patched"), ("i386-pae", "stock")])
        base = d["boots"][0]
        # the kernel's debug_vm_pgtable line is not a fault check
        self.assertEqual([c["name"] for c in base["checks"]],
                         ["fork_odirect_inflight/fault", "swapoff_writeback/stable",
                          "odirect_inflight/memcg", "swapout_error_odirect/faulty",
                          "swapin_error/faulty"])
        inflight = base["checks"][2]
        self.assertEqual((inflight["result"], inflight["message"], inflight["counts"]["lost"],
                          inflight["counts"]["iterations"]),
                         ("FAIL", "7 of 8 iterations lost the O_DIRECT data", 7, 8))
        self.assertEqual(base["provoked"], {"kernel stack trace": 1, "swap I/O error": 20})
        self.assertEqual(base["splats"], [])
        self.assertEqual(base["command"], "RUN_ID=fixture-faults-a SELFTEST_ARGS='-s /memcg -s "
                         "/faulty -s fork_odirect_inflight -s swapoff_writeback' "
                         "scripts/run-qemu.sh <record> <variant>")

    def test_kernels_table(self):
        lines = faults.kernels_table(faults.run_data(run("fixture-faults-a"))["boots"])
        self.assertIn("| x86_64 baseline@full | fixture-faults-a | REPRODUCED | 3 pass, 2 fail, "
                      "0 skip | odirect_inflight/memcg (7 of 8 iterations), "
                      "swapout_error_odirect/faulty | 15 of 15 | 16 (16 after swapoff) | 0 "
                      "| none | 1 kernel stack trace, 20 swap I/O error |", lines)

    def test_checks_table_and_messages(self):
        boots = faults.run_data(run("fixture-faults-a"))["boots"]
        lines = faults.checks_table(boots)
        self.assertEqual(lines[0], "| check | x86_64 baseline@full | x86_64 patched@full "
                         "| i386-pae stock@full |")
        self.assertIn("| odirect_inflight/memcg | **FAIL**: 7 of 8 lost, 7 raced "
                      "| PASS: 0 of 8 lost, 8 raced | **FAIL**: 8 of 8 lost, 8 raced |", lines)
        # patched's boot was cut to fewer checks than the others
        self.assertIn("| swapin_error/faulty | PASS: 0 intact, 16 SIGBUS, 0 wrong; counters back "
                      "| not run | PASS: 0 intact, 16 SIGBUS, 0 wrong; counters back |", lines)
        self.assertIn("- fixture-faults-a x86_64 baseline@full, swapout_error_odirect/faulty: "
                      "FAIL: the O_DIRECT data was lost (the read was in flight when page 0 "
                      "was written)", faults.messages(boots))

    def test_broken_copy_says_why_each_check_failed(self):
        (b,) = faults.run_data(run("fixture-faults-broken"))["boots"]
        self.assertEqual(faults.verdict(b), "**FAIL** (expected PASS)")
        self.assertEqual([(c["name"], c["message"]) for c in b["checks"]], [
            ("swapoff_writeback/stable",
             "no page was under writeback at swapoff: nothing was tested (is /dev/vdc slow?)"),
            ("swapout_error/faulty", "no write to the swap device failed: no fault was injected")])
        self.assertIn("| swapout_error/faulty | **FAIL**: 0 of 16 writes failed; 16 intact, "
                      "0 SIGBUS, 0 wrong; counters back |", faults.checks_table([b]))

    def test_a_check_that_hung_and_the_judges_splats(self):
        (b,) = faults.run_data(run("fixture-faults-mutant"))["boots"]
        # fork_race_swapin failed too, but it is no fault check
        self.assertEqual(b["checks"], [{"name": "fork_odirect_inflight/fault", "result": "BAIL",
                                        "message": "hung for more than 300 s (watchdog)",
                                        "counts": {}}])
        self.assertEqual(b["problems"], ["swap_exclusive: TAP plan says 9 tests, 4 reported"])
        # a mutant is expected to fail by default: no EXPECT=
        self.assertEqual(b["command"], "RUN_ID=fixture-faults-mutant MUTATION=fork "
                         "scripts/run-qemu.sh <record> <variant>")
        row = faults.kernels_table([b])[2]
        self.assertIn("0 pass, 0 fail, 0 skip, 1 hung (Bail out!)", row)
        self.assertIn("1 kernel BUG (`kernel BUG at mm/memory.c:4105!`), 3 kernel stack trace, "
                      "1 stall", row)
        self.assertIn("| not recorded | not recorded | not recorded |", row)


class Stress(unittest.TestCase):
    def test_counters_and_a_run_that_recorded_nothing(self):
        d = faults.run_data(run("fixture-faults-stress"))
        self.assertEqual(d["boots"], [])   # a stress run's own result.json is no selftest boot
        base, frozen = d["stress"]
        self.assertEqual((base["faults_injected"], base["fault_writes_failed"],
                          base["sigbus_seen"], base["fault_swapoffs"], base["corruptions"],
                          base["corrupted_by"]), (10, 212, 212, 5, 851, {"odirect": 851}))
        self.assertEqual((frozen["operations"], frozen["sigbus_seen"], frozen["corruptions"]),
                         (None, None, None))
        # the stress phase's length from the header swap_stress printed first
        self.assertEqual(frozen["command"], "RUN_ID=fixture-faults-stress STRESS_FRAGMENTS='' "
                         "STRESS_SECONDS=30 scripts/stress.sh <record> <variant>")
        lines = faults.stress_runs_table(d["stress"])
        self.assertIn("| fixture-faults-stress | x86_64 baseline | FAIL | 1, 1 | 30 | 267183 | 10 "
                      "| 212 | 212 | 5 | 851 (odirect 851) | 0 | – |", lines)
        self.assertIn("| fixture-faults-stress | x86_64 patched | **ERROR** (expected PASS) "
                      "| not recorded | not recorded | not recorded | not recorded | not recorded "
                      "| not recorded | not recorded | not recorded | 0 | judged ERROR, expected "
                      "PASS; unknown corruptions, expected 0; guest timed out after 200s "
                      "(no COWSWAP-DONE) |", lines)

    def test_per_kernel_sums_say_what_is_missing(self):
        d = faults.run_data(run("fixture-faults-stress"))
        frozen = dict(d["stress"][1], variant="baseline", run="other")
        lines = faults.stress_kernels_table([d["stress"][0], frozen])
        self.assertIn("| x86_64 baseline | plain | 2 (1 as expected) | 30 (1 not recorded) "
                      "| 267183 (1 not recorded) | 10 (1 not recorded) | 212 (1 not recorded) "
                      "| 212 (1 not recorded) | 5 (1 not recorded) | 47 (1 not recorded) "
                      "| 851 (1 not recorded) | 0 |", lines)


class Snapshots(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def make(self, name, *runs, extra=()):
        args = [a for r in runs for a in ("--run", os.path.join(DATA, r))]
        p = snapshot(*args, "--name", name, "--out", self.tmp.name, *extra)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp.name, f"{name}.json")) as f:
            return json.load(f)

    def test_two_runs_in_one_snapshot(self):
        snap = self.make("faults-x", "fixture-faults-a", "fixture-faults-b")
        self.assertEqual(rundata.check_snapshot(snap, "x"), [])
        self.assertEqual((snap["kind"], snap["run"], snap["date"]),
                         ("faults", "fixture-faults-a fixture-faults-b", "2026-12-07T01:25:01Z"))
        self.assertEqual(snap["commit"], "eedc3df33854, 079e89b2d269-dirty")
        self.assertEqual(snap["command"],
                         "RUN_ID=fixture-faults-a SELFTEST_ARGS='-s /memcg -s /faulty -s "
                         "fork_odirect_inflight -s swapoff_writeback' scripts/run-qemu.sh <record> "
                         "<variant>; RUN_ID=fixture-faults-b scripts/run-qemu.sh <record> "
                         "<variant>; RUN_ID=fixture-faults-b DISKS=none SELFTEST_ARGS='-s /memcg "
                         "-s /faulty -s fork_odirect_inflight -s swapoff_writeback' "
                         "scripts/run-qemu.sh <record> <variant>")
        self.assertEqual(len(snap["faults"]["boots"]), 5)
        # the provenance keeps '-dirty'
        self.assertIn("`fixture-faults-b` (2026-12-07, commit 079e89b2d269-dirty)",
                      tables.provenance(snap, "docs/results/faults-x.json"))
        md = tables.snapshot_table(snap)
        self.assertIn("Each fault check in run fixture-faults-b:", md)

    def test_several_runs_only_for_faults(self):
        p = snapshot("--run", os.path.join(DATA, "fixture-faults-a"), "--run",
                     os.path.join(DATA, "fixture-faults-b"), "--name", "matrix",
                     "--out", self.tmp.name)
        self.assertEqual(p.returncode, 1)
        self.assertIn("a 'matrix' snapshot is made from one run, not 2", p.stderr)

    def test_run_without_fault_data(self):
        p = snapshot("--run", os.path.join(HERE, "data", "results", "fixture-bench"),
                     "--name", "faults-b", "--out", self.tmp.name)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no fault check in any result.json and no stress.json", p.stderr)

    def test_page_block_follows_its_snapshot(self):
        self.make("faults-broken", "fixture-faults-broken")
        page = os.path.join(self.tmp.name, "page.md")
        text = docs.render("# p\n\n<!-- BEGIN generated: faults-broken -->\n"
                           "<!-- END generated: faults-broken -->\n", self.tmp.name, page)
        with open(page, "w") as f:
            f.write(text)
        self.assertIn("- fixture-faults-broken x86_64 patched@full, swapout_error/faulty: FAIL: "
                      "no write to the swap device failed: no fault was injected", text)
        self.assertEqual(docs.stale([page], self.tmp.name), [])
        path = os.path.join(self.tmp.name, "faults-broken.json")
        with open(path) as f:
            snap = json.load(f)
        snap["faults"]["boots"][0]["checks"][1]["result"] = "PASS"
        with open(path, "w") as f:
            json.dump(snap, f)
        self.assertEqual(docs.stale([page], self.tmp.name), [(page, ["faults-broken"])])


class RepoPage(unittest.TestCase):
    """docs/faults.md shows every faults snapshot, each as its data gives."""

    def test_faults_page_has_its_blocks_and_matches(self):
        page = os.path.join(docs.TOP, "docs", "faults.md")
        with open(page) as f:
            names = docs.blocks(f.read())
        self.assertEqual(names, ["faults-matrix", "faults-broken", "faults-mutant",
                                 "faults-stress", "faults-stress-debug", "faults-stress-all"])
        for name in names:
            with open(os.path.join(docs.results_dir(), f"{name}.json")) as f:
                self.assertEqual(json.load(f)["kind"], "faults", name)
        self.assertEqual(docs.stale([page]), [])


if __name__ == "__main__":
    unittest.main()

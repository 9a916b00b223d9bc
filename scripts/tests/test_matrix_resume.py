# SPDX-License-Identifier: GPL-2.0
"""matrix.sh MATRIX_RESUME=1: a run continued in a second sitting keeps
the boots that have a verdict and builds and boots only the others.

matrix.sh runs for real, in a scratch copy of the repository with
stand-ins for the builds and boots (tests/stubbed.py). The copy is a git
repository with a commit per sitting, so the results carry the commit
they were made on."""
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from cowswap import resume, rundata
from tests.stubbed import StubbedRepo

ARGS = ["x86_64@none", "x86_64/upstream@plain"]


class MatrixResume(StubbedRepo):
    def matrix(self, **env):
        calls = os.path.join(self.out, "calls.log")
        if os.path.exists(calls):
            os.remove(calls)
        e = dict(os.environ, COWSWAP_OUT=self.out, RUN_ID="r1", JOBS="2")
        e.update(env)
        p = subprocess.run(["bash", os.path.join(self.repo, "scripts", "matrix.sh")] + ARGS,
                           env=e, capture_output=True, text=True)
        got = []
        if os.path.exists(calls):
            with open(calls) as f:
                got = f.read().splitlines()
        return p.returncode, p.stdout + p.stderr, got

    def test_second_sitting(self):
        first = subprocess.run(["git", "-C", self.repo, "rev-parse", "--short=12", "HEAD"],
                               capture_output=True, text=True).stdout.strip()
        # Sitting 1: baseline's kernel does not build, patched's boot ends
        # without a result, upstream@plain panics (a verdict).
        rc, out, calls = self.matrix(STUB_FAIL_BUILD="x86_64/baseline",
                                     STUB_NO_RESULT="x86_64/patched@none",
                                     STUB_PANIC="x86_64/upstream@plain",
                                     STUB_DATE="2026-12-01T00:00:00Z")
        self.assertNotEqual(rc, 0, out)
        self.assertEqual(sorted(c for c in calls if c.startswith("boot")),
                         ["boot x86_64/patched@none", "boot x86_64/upstream@none",
                          "boot x86_64/upstream@plain"], out)
        second = self.commit("second sitting")

        rc, out, calls = self.matrix(MATRIX_RESUME="1")
        self.assertIn("kept: x86_64-upstream-none (pass, from 2026-12-01T00:00:00Z at "
                      f"{first})", out)
        self.assertIn("kept: x86_64-upstream-plain (error, unexpected, from "
                      f"2026-12-01T00:00:00Z at {first})", out)
        self.assertNotIn("kept: x86_64-baseline-none", out)
        self.assertNotIn("kept: x86_64-patched-none", out)
        # only the boots without a verdict, and only their kernels
        self.assertEqual(sorted(c for c in calls if not c.startswith("trees")),
                         ["boot x86_64/baseline@none", "boot x86_64/patched@none",
                          "build x86_64/baseline", "build x86_64/patched"], out)
        self.assertIn("[2/2 boots done", out)
        # the summary: kept and new results, from two commits
        res = os.path.join(self.out, "results", "r1")
        with open(os.path.join(res, "summary.json")) as f:
            s = json.load(f)
        self.assertEqual(sorted((r["variant"], r["disks"], r["outcome"]) for r in s["runs"]),
                         [("baseline", "none", "reproduced"), ("patched", "none", "pass"),
                          ("upstream", "none", "pass"), ("upstream", "plain", "error")])
        self.assertEqual({c: sorted(v) for c, v in s["commits"].items()},
                         {first: ["x86_64/upstream@none", "x86_64/upstream@plain"],
                          second: ["x86_64/baseline@none", "x86_64/patched@none"]})
        with open(os.path.join(res, "summary.md")) as f:
            md = f.read()
        self.assertIn("MIXED COMMITS: these results were made on 2 commits:", md)
        self.assertIn("| time (s) | 42 | 42 | 42 | 42 |", md)
        self.assertRegex(md, r"2 of 4 results are from earlier sittings \(2026-12-01T00:00:00Z "
                             r"to 2026-12-01T00:00:00Z\); the stage timings are those since ")
        # a snapshot of the run names both commits
        self.assertEqual(set(rundata.run_commit(rundata.load_run(res)).split(", ")),
                         {first, second})
        # the panic is kept: the matrix still fails
        self.assertEqual(rc, 1, out)

        # a third sitting with every boot done: nothing built or booted
        rc, out, calls = self.matrix(MATRIX_RESUME="1")
        self.assertEqual(calls, [], out)
        self.assertIn("nothing left to boot", out)
        self.assertEqual(len(re.findall(r"^matrix\.sh: kept: ", out, re.M)), 4, out)

        # without MATRIX_RESUME the same RUN_ID is booted whole, as before
        rc, out, calls = self.matrix()
        self.assertEqual(len([c for c in calls if c.startswith("boot")]), 4, out)
        self.assertNotIn("kept:", out)

    def test_nightly_stage_2(self):
        """NIGHTLY_RUN=<run> NIGHTLY_STAGES=2: the matrix goes on where it
        stopped (one record here: the copy has only x86_64's)."""
        for f in glob.glob(os.path.join(self.repo, "configs", "arch", "*.conf")):
            if not f.endswith("/x86_64.conf"):
                os.remove(f)
        self.commit("one record")
        nightly = os.path.join(self.repo, "scripts", "nightly.sh")
        e = dict(os.environ, COWSWAP_OUT=self.out, JOBS="2", NIGHTLY_STAGES="2",
                 STUB_FAIL_BUILD="x86_64/patched")
        p = subprocess.run(["bash", nightly], env=e, capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        run = os.path.basename(glob.glob(os.path.join(self.out, "results", "nightly-*",
                                                      "nightly.json"))[0].rsplit("/", 1)[0])
        os.remove(os.path.join(self.out, "calls.log"))
        del e["STUB_FAIL_BUILD"]
        p = subprocess.run(["bash", nightly], env=dict(e, NIGHTLY_RUN=run),
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(re.findall(r"^matrix\.sh: kept: x86_64-(upstream|baseline)"
                                        r"(-none|-plain|) \(", p.stderr, re.M)), 6, p.stderr)
        with open(os.path.join(self.out, "calls.log")) as f:
            calls = sorted(c for c in f.read().splitlines() if not c.startswith("trees"))
        self.assertEqual(calls, ["boot x86_64/patched@full", "boot x86_64/patched@none",
                                 "boot x86_64/patched@plain", "build x86_64/patched"])
        with open(os.path.join(self.out, "results", run, "nightly.json")) as f:
            stages = {s["stage"]: s for s in json.load(f)["stages"]}
        self.assertEqual(stages["matrix"]["verdict"], "pass")

    def test_nothing_to_continue(self):
        rc, out, calls = self.matrix(MATRIX_RESUME="1", RUN_ID="nope")
        self.assertNotEqual(rc, 0)
        self.assertRegex(out, r"matrix\.sh: error: MATRIX_RESUME=1: there is no run .*/nope to "
                              r"continue")
        self.assertEqual(calls, [])


class Kept(unittest.TestCase):
    """cowswap.resume on hand-made results."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        with open(os.path.join(self.tmp, "commit"), "w") as f:
            f.write("runcommit\n")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def result(self, name, text, commit=None):
        os.makedirs(os.path.join(self.tmp, name))
        with open(os.path.join(self.tmp, name, "result.json"), "w") as f:
            f.write(text if isinstance(text, str) else json.dumps(text))
        if commit:
            with open(os.path.join(self.tmp, name, "commit"), "w") as f:
                f.write(commit + "\n")

    def test_which_are_kept(self):
        d = "2026-12-01T00:00:00Z"
        self.result("pass", {"outcome": "pass", "ok": True, "date": d}, "bootcommit")
        self.result("fail", {"outcome": "fail", "ok": False, "date": d})
        self.result("panic", {"outcome": "error", "ok": False, "date": d,
                              "problems": ["Kernel panic - not syncing"]})
        self.result("nobuild", {"outcome": "error", "ok": False, "booted": False,
                                "problems": ["kernel build failed"]})
        # record_error before "booted": only its problem line tells
        self.result("noresult-old", {"outcome": "error", "ok": False, "problems": [
            "QEMU run produced no result (see noresult-old/run.log)"]})
        self.result("truncated", '{"outcome": "pa')
        self.assertEqual(resume.kept(self.tmp, "pass"), ("pass", d, "bootcommit"))
        self.assertEqual(resume.kept(self.tmp, "fail"), ("fail, unexpected", d, "runcommit"))
        self.assertEqual(resume.kept(self.tmp, "panic"), ("error, unexpected", d, "runcommit"))
        for name in ("nobuild", "noresult-old", "truncated", "missing"):
            self.assertIsNone(resume.kept(self.tmp, name), name)


if __name__ == "__main__":
    unittest.main()

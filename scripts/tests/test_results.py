# SPDX-License-Identifier: GPL-2.0
"""results.py summary and compare on the fixture run
scripts/tests/data/results/fixture-matrix (written by make-fixtures.sh)."""
import io
import json
import os
import shutil
import tempfile
import unittest
from contextlib import redirect_stdout
from types import SimpleNamespace

from cowswap import compare, summary

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "results")
MATRIX = os.path.join(DATA, "fixture-matrix")


class CopiedRun(unittest.TestCase):
    """self.run: a scratch copy of the fixture matrix run."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.run = os.path.join(self.tmp, "run")
        shutil.copytree(MATRIX, self.run)

    def tearDown(self):
        shutil.rmtree(self.tmp)


class Summary(CopiedRun):

    def test_table_and_verdict(self):
        out = io.StringIO()
        with redirect_stdout(out):
            rc = summary.summary(SimpleNamespace(dir=self.run, timings=None, since=""))
        md = out.getvalue()
        # the fixture's arm64 baseline has a bad swap entry: the matrix fails
        self.assertEqual(rc, 1)
        self.assertIn("| **outcome** | **ERROR** (unexpected) | **PASS** | **REPRODUCED** |", md)
        self.assertIn("- arm64/baseline@none: bad swap entry: _swap_info_get: Bad swap file "
                      "entry 3ffffffffffff", md)
        self.assertIn("MATRIX FAILED: baseline must be REPRODUCED", md)
        with open(os.path.join(self.run, "summary.json")) as f:
            self.assertEqual(len(json.load(f)["runs"]), 6)

    def test_all_ok(self):
        shutil.rmtree(os.path.join(self.run, "arm64-baseline-none"))
        with redirect_stdout(io.StringIO()):
            rc = summary.summary(SimpleNamespace(dir=self.run, timings=None, since=""))
        self.assertEqual(rc, 0)


class Problems(CopiedRun):

    def problems(self):
        out = io.StringIO()
        with redirect_stdout(out):
            rc = summary.problems(SimpleNamespace(dir=self.run, tests=4, diag=6, console=3))
        return rc, out.getvalue()

    def test_the_unexpected_run_with_its_console(self):
        rc, text = self.problems()
        self.assertEqual(rc, 1)
        lines = text.splitlines()
        self.assertEqual(lines[0], "arm64/baseline@none: ERROR, expected REPRODUCED")
        self.assertIn("  problem: bad swap entry: _swap_info_get: Bad swap file entry 3ffffffffffff",
                      lines)
        self.assertIn("  last 3 console lines", text)
        # only the run that went wrong
        self.assertNotIn("x86_64", text)

    def test_nothing_to_say(self):
        shutil.rmtree(os.path.join(self.run, "arm64-baseline-none"))
        rc, text = self.problems()
        self.assertEqual(rc, 0)
        self.assertIn("came out as expected", text)


class Compare(CopiedRun):
    def compare(self):
        out = io.StringIO()
        with redirect_stdout(out):
            rc = compare.compare(SimpleNamespace(a=MATRIX, b=self.run))
        return rc, out.getvalue()

    def test_same(self):
        rc, out = self.compare()
        self.assertEqual(rc, 0, out)
        self.assertIn("every verdict and every check the same", out)

    def test_a_check_differs(self):
        p = os.path.join(self.run, "x86_64-patched-none", "result.json")
        with open(p) as f:
            r = json.load(f)
        t = next(t for t in r["tests"] if t["name"] == "ksm/fault")
        t["result"] = "FAIL"
        with open(p, "w") as f:
            json.dump(r, f)
        rc, out = self.compare()
        self.assertEqual(rc, 1)
        self.assertRegex(out, r"\| x86_64-patched-none \| PASS 296 s \| PASS 296 s \| "
                              r"1 of \d+ differ: ksm/fault: PASS vs FAIL \|")


if __name__ == "__main__":
    unittest.main()

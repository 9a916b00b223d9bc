# SPDX-License-Identifier: GPL-2.0
"""distro_fix_report.py judges a record from the three kernels' results.

Each case writes a small run directory (verdict.json and result.json as
distro_report.py and results.py write them, a build stamp, a config
diff) and checks the record's "ok" and the problem it names.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "distro_fix_report.py")

LOSE = "odirect_inflight/fault: 8 of 8 iterations lost the O_DIRECT data"
KEEP = "0 of 8 iterations lost data; 8 raced (swapped out with the read in flight)"


def result(tests):
    """A result.json: tests as (name, PASS|FAIL|SKIP, diag)."""
    return {"outcome": "x", "seconds": 40, "log": "console.log",
            "tests": [{"binary": "swap_exclusive", "name": n, "result": r, "diag": d}
                      for n, r, d in tests]}


AFFECTED = ({"verdict": "affected", "package": "p", "version": "v", "reason": "r"},
            result([("odirect_inflight/fault", "FAIL", [LOSE]),
                    ("softdirty/fault", "SKIP", [])]))
FIXED = ({"verdict": "not affected", "package": "p", "version": "v", "reason": "r"},
         result([("odirect_inflight/fault", "PASS", [KEEP]),
                 ("softdirty/fault", "SKIP", [])]))


class DistroFixReportTest(unittest.TestCase):
    def run_report(self, kernels, done=None):
        """kernels: {"debian"|"stock"|"fixed": (verdict, result)}; done:
        {"stock"|"fixed": more lines of its build stamp}."""
        with tempfile.TemporaryDirectory() as tmp:
            run, fix = os.path.join(tmp, "run"), os.path.join(tmp, "fix")
            for k, (v, r) in kernels.items():
                d = os.path.join(run, "distro-r" if k == "debian" else f"distrofix-r-{k}")
                os.makedirs(d)
                for name, obj in (("verdict.json", v), ("result.json", r)):
                    with open(os.path.join(d, name), "w") as f:
                        json.dump(obj, f)
                if k != "debian":
                    os.makedirs(os.path.join(fix, f"r-{k}"))
                    with open(os.path.join(fix, f"r-{k}", "distrofix.done"), "w") as f:
                        f.write("seconds=3725\nobjects=2900\n" + (done or {}).get(k, ""))
            os.makedirs(os.path.join(fix, "r"), exist_ok=True)
            with open(os.path.join(fix, "r", "config.diff"), "w") as f:
                f.write("-SND m\n-SND_X y\n ZRAM m -> y\n USB m -> n\n+BUILD_SALT \"\"\n")
            p = subprocess.run([sys.executable, SCRIPT, "--run", run, "--fixdir", fix, "r"],
                               capture_output=True, text=True)
            with open(os.path.join(run, "distro-fix.json")) as f:
                return p.returncode, json.load(f)["records"]["r"], p.stdout

    def test_expected_record_is_ok(self):
        rc, rec, md = self.run_report({"debian": AFFECTED, "stock": AFFECTED, "fixed": FIXED})
        self.assertEqual(rc, 0, rec["problems"])
        self.assertTrue(rec["ok"])
        self.assertIn("| 62 min 5 s, 2900 objects |", md)
        self.assertEqual(rec["kernels"]["stock"]["lost"], {"fault": [8, 8]})
        self.assertEqual(rec["kernels"]["fixed"]["lost"], {"fault": [0, 8]})
        d = rec["config_diff"]
        self.assertEqual((d["modules_dropped"], d["dependent_options_gone"]), (2, 1))
        self.assertEqual(d["changed"] + d["added"], ["ZRAM m -> y", "+BUILD_SALT \"\""])

    def test_each_build_names_its_source(self):
        src = "source=Linux 6.1.176 as shipped (linux-source-6.1.tar.xz (6.1.176-1))\n"
        rc, rec, md = self.run_report(
            {"debian": AFFECTED, "stock": AFFECTED, "fixed": FIXED},
            {"stock": src + "tree=out/trees/distro-6.1.176/stock 800895d8d123\n",
             "fixed": src + "tree=out/trees/distro-6.1.176/fixed 0123456789ab\n"})
        self.assertEqual(rc, 0, rec["problems"])
        self.assertIn("| Linux 6.1.176 as shipped (linux-source-6.1.tar.xz (6.1.176-1)) "
                      "(`out/trees/distro-6.1.176/fixed 0123456789ab`) |", md)
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
        from cowswap.distro_fix import table
        docs = "\n".join(table({"records": {"r": rec}}))
        self.assertIn("Debian's config rebuilt (`out/trees/distro-6.1.176/stock`; Linux 6.1.176 as shipped", docs)
        # A stamp from before sources were recorded says so, and the docs
        # keep naming the default trees.
        rc, rec, md = self.run_report({"debian": AFFECTED, "stock": AFFECTED, "fixed": FIXED})
        self.assertIn("| not recorded (`?`) |", md)
        self.assertIn("Debian's config + `patches/lts-6.1` (`out/trees/fixed`)",
                      "\n".join(table({"records": {"r": rec}})))

    def test_stock_that_does_not_lose_data(self):
        rc, rec, _ = self.run_report({"debian": AFFECTED, "stock": FIXED, "fixed": FIXED})
        self.assertEqual(rc, 1)
        self.assertIn("stock rebuild: not affected", rec["problems"][0])
        self.assertIn("not faithful", rec["problems"][1])

    def test_fixed_that_still_loses_data(self):
        rc, rec, _ = self.run_report({"debian": AFFECTED, "stock": AFFECTED, "fixed": AFFECTED})
        self.assertEqual(rc, 1)
        self.assertIn("fixed rebuild: affected", rec["problems"][0])

    def test_fixed_with_a_new_skip(self):
        v, r = FIXED
        r = result([("odirect_inflight/fault", "PASS", [KEEP]), ("softdirty/fault", "SKIP", []),
                    ("ksm/fault", "SKIP", [])])
        rc, rec, _ = self.run_report({"debian": AFFECTED, "stock": AFFECTED, "fixed": (v, r)})
        self.assertEqual(rc, 1)
        self.assertEqual(rec["problems"], ["fixed rebuild: new SKIPs (not on debian): ksm/fault"])

    def test_fixed_with_another_failure(self):
        v, r = FIXED
        r = result([("odirect_inflight/fault", "PASS", [KEEP]), ("softdirty/fault", "SKIP", []),
                    ("reuse_pfn/fault", "FAIL", [])])
        rc, rec, _ = self.run_report({"debian": AFFECTED, "stock": AFFECTED, "fixed": (v, r)})
        self.assertEqual(rc, 1)
        self.assertEqual(rec["problems"], ["fixed rebuild: failed reuse_pfn/fault"])


if __name__ == "__main__":
    unittest.main()

# SPDX-License-Identifier: GPL-2.0
"""stress.sh's JOBS: by default a guest runs while the next kernel
builds, never two guests at once; JOBS=1 is the serial order. stress.sh
runs for real with stand-ins for the builds and boots (tests/stubbed.py),
a build taking 0.7 s and a guest 2 s."""
import json
import os
import subprocess

from tests.stubbed import StubbedRepo

RECORDS = ["x86_64", "arm64", "s390x"]


class StressJobs(StubbedRepo):
    def stress(self, records=RECORDS, **env):
        e = dict(os.environ, COWSWAP_OUT=self.out, RUN_ID="s1", STUB_SLEEP="2",
                 STUB_BUILD_SLEEP="0.7")
        e.pop("JOBS", None)
        e.update(env)
        p = subprocess.run(["bash", os.path.join(self.repo, "scripts", "stress.sh")]
                           + records + ["patched"], env=e, capture_output=True, text=True)
        with open(os.path.join(self.out, "calls.log")) as f:
            calls = f.read().splitlines()
        # every run reached the report, each in its own directory
        with open(os.path.join(self.out, "results", "s1", "stress.json")) as f:
            runs = sorted(r["run"] for r in json.load(f)["runs"])
        self.assertEqual(runs, sorted(f"{a}-patched-debug" for a in records), p.stderr)
        return calls, p.stderr

    def test_default_overlaps_builds(self):
        calls, err = self.stress()
        b, s, d = "build {}/patched", "boot {}/patched@full", "done {}/patched@full"
        x, a, z = RECORDS
        # the next build starts while the guest runs; the next guest
        # waits for the one before
        self.assertEqual(calls, [b.format(x), s.format(x), b.format(a), d.format(x),
                                 s.format(a), b.format(z), d.format(a), s.format(z),
                                 d.format(z)], err)
        self.assertIn("stress.sh: x86_64-patched-debug: x86_64/patched@full: PASS", err)

    def test_serial(self):
        calls, err = self.stress(JOBS="1")
        self.assertEqual(calls, [f"{what} {a}/patched" + ("" if what == "build" else "@full")
                                 for a in RECORDS for what in ("build", "boot", "done")], err)

    def test_shared_kernel_built_once(self):
        """ppc64le-hash boots ppc64le's kernel: STRESS_BUILD=always builds
        it once, not again while the first guest may be loading it."""
        calls, err = self.stress(["ppc64le", "ppc64le-hash"], STRESS_BUILD="always",
                                 STUB_SLEEP="0.5", STUB_BUILD_SLEEP="")
        self.assertEqual([c for c in calls if c.startswith("build")], ["build ppc64le/patched"],
                         err)

    def test_bad_jobs(self):
        p = subprocess.run(["bash", os.path.join(self.repo, "scripts", "stress.sh")],
                           env=dict(os.environ, COWSWAP_OUT=self.out, JOBS="two"),
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("stress.sh: error: JOBS=two: expected a positive number of jobs", p.stderr)

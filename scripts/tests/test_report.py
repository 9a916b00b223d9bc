# SPDX-License-Identifier: GPL-2.0
"""make report and make docs on the fixture runs (scripts/tests/data/results):
the run data, index.html's matrix and links, results.md, junit.xml, the
figures, snapshots, and the generated blocks of pages, including the repo's
own README.md and docs/*.md against docs/results/*.json."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

from cowswap import docs, rundata, tables
from tests import browser

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "data", "results")
PAGES = os.path.join(HERE, "data", "docs")
SCRIPTS = os.path.dirname(HERE)


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        return True
    except ImportError:
        return False


def report(*args):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, "report.py"), *args],
                          capture_output=True, text=True)


class RunData(unittest.TestCase):
    def test_matrix_run(self):
        run = rundata.load_run(os.path.join(RESULTS, "fixture-matrix"))
        self.assertEqual(len(run["guests"]), 6)
        g = next(g for g in run["guests"] if g["guest"] == "x86_64-patched-none-ksft")
        self.assertEqual((g["record"], g["column"], g["outcome"], g["ok"]),
                         ("x86_64", "patched@none+ksft", "pass", True))
        self.assertIsNone(run["bench"])

    def test_nightly_run(self):
        run = rundata.load_run(os.path.join(RESULTS, "fixture-nightly"))
        self.assertEqual([(s["stage"], s["verdict"]) for s in run["nightly"]["stages"]],
                         [("check-patches", "pass"), ("mutant", "pass"), ("bench", "fail")])
        self.assertEqual(rundata.default_kind("x", run), "nightly")
        lines = tables.kind_table("nightly", run["nightly"])
        self.assertIn("| bench | 2026-12-06T12:50:00Z | 0123456789ab | 1200 | **fail** |", lines)

    def test_defconfig_run(self):
        # A real run of defconfig-build.sh on a fixed tree with a function
        # added without a prototype: W=1 finds one warning stock lacks.
        run = rundata.load_run(os.path.join(RESULTS, "fixture-defconfig"))
        self.assertEqual(rundata.default_kind("lts-defconfig", run), "defconfig")
        (c,) = run["defconfig"]
        self.assertEqual((c["verdict"], len(c["new_warnings"])), ("fail", 1))
        lines = tables.kind_table("defconfig", run["defconfig"])
        self.assertIn("| i386-pae | i386_defconfig+HIGHMEM64G | skipped | 15 | 16 | 1 | **fail** | 130 |",
                      lines)

    def test_other_runs(self):
        bench = rundata.load_run(os.path.join(RESULTS, "fixture-bench"))["bench"]
        self.assertEqual([(b["arch"], b["reference"], len(b["rows"])) for b in bench],
                         [("i386-pae", "stock", 4), ("x86_64", "upstream", 4)])
        self.assertEqual(bench[0]["rows"][0]["ratio"], {"fixed": 0.0})
        stress = rundata.load_run(os.path.join(RESULTS, "fixture-stress"))["stress"]
        self.assertEqual([(s["variant"], s["corruptions"], s["ok"]) for s in stress],
                         [("patched", 0, True), ("baseline", 14, True)])
        distro = rundata.load_run(os.path.join(RESULTS, "fixture-distro"))["distro"]
        self.assertEqual([d["verdict"] for d in distro], ["affected", "not affected"])

    def test_empty_directory(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaisesRegex(ValueError, "no result.json, bench-<record>.json"):
                rundata.load_run(tmp)


class Html(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.out = cls.tmp.name
        runs = ["fixture-matrix", "fixture-distro"] + (
            ["fixture-bench", "fixture-stress"] if have_matplotlib() else [])
        p = report("html", "--results", RESULTS, "--out", cls.out,
                   *[a for r in runs for a in ("--run", r)])
        assert p.returncode == 0, p.stderr
        with open(os.path.join(cls.out, "index.html")) as f:
            cls.index = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_cells_link_to_tap_lines_and_console(self):
        cells = re.findall(r'<td class="(v-\w+)[^"]*" data-guest="([^"]+)"[^>]*>'
                           r'<a href="(fixture-matrix/[^"]+)">.*?<a class="log" href="([^"]+)">',
                           self.index)
        self.assertEqual(len(cells), 6)
        for cls, guest, tap, log in cells:
            with open(os.path.join(RESULTS, "fixture-matrix", guest, "result.json")) as f:
                self.assertEqual(cls, "v-" + json.load(f)["outcome"])
            self.assertTrue(os.path.exists(os.path.join(self.out, tap)), tap)
            self.assertTrue(os.path.samefile(
                os.path.join(self.out, log),
                os.path.join(RESULTS, "fixture-matrix", guest, "console.log")))
        with open(os.path.join(self.out, "fixture-matrix", "x86_64-baseline-none.html")) as f:
            page = f.read()
        self.assertIn('<tr id="t-odirect_inflight/fault" class="r-FAIL">', page)
        self.assertIn("8 of 8 iterations lost the O_DIRECT data", page)

    def test_results_md(self):
        with open(os.path.join(self.out, "results.md")) as f:
            md = f.read()
        self.assertIn("| x86_64 | PASS | REPRODUCED | PASS | PASS |", md)
        self.assertIn("| arm64 | – | **ERROR** (expected REPRODUCED) | PASS | – |", md)
        self.assertIn("| amd64 | linux-image-6.1.0-18-amd64 | 6.1.76-1 | **affected** |", md)

    def test_junit(self):
        root = ET.parse(os.path.join(self.out, "junit.xml")).getroot()
        suites = {s.get("name"): s for s in root.findall("testsuite")}
        bad = suites["fixture-matrix/arm64/baseline@none"]
        verdict = bad.find("testcase[@name='verdict']/failure")
        self.assertEqual(verdict.get("message"), "ERROR, expected REPRODUCED")
        self.assertIn("bad swap entry", verdict.text)
        # the baseline's reproducer fails, as it must: not a JUnit failure
        good = suites["fixture-matrix/x86_64/baseline@none"]
        self.assertEqual(good.get("failures"), "0")
        tc = good.find("testcase[@name='odirect_inflight/fault']")
        self.assertIn("failed, as the baseline kernel must", tc.find("system-out").text)
        arm = suites["fixture-matrix/arm64/patched@none"]
        skip = arm.find("testcase[@name='uffd_wp/fault']/skipped")
        self.assertIn("allowed: configs/arch/arm64.conf", skip.get("message"))
        self.assertEqual(int(root.get("failures")),
                         sum(int(s.get("failures")) for s in suites.values()))

    @unittest.skipUnless(have_matplotlib() or browser.in_ci(),
                         "python3-matplotlib not importable (run with /usr/bin/python3)")
    def test_figures(self):
        for run, name in (("fixture-bench", "bench-x86_64"), ("fixture-bench", "bench-i386-pae"),
                          ("fixture-stress", "stress")):
            svg = os.path.join(self.out, run, f"{name}.svg")
            with open(svg) as f:
                text = f.read()
            self.assertIn("<svg", text)
            self.assertIn(f'<img src="{run}/{name}.svg"', self.index)
        with open(os.path.join(self.out, "fixture-bench", "bench-x86_64.svg")) as f:
            self.assertIn("swapin_cache_us (64 MiB)", f.read())


class Snapshot(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def made(self, run, name):
        """make snapshot of a fixture run: the snapshot, checked well formed."""
        p = report("snapshot", "--run", os.path.join(RESULTS, run), "--name", name,
                   "--out", self.tmp.name)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp.name, name + ".json")) as f:
            snap = json.load(f)
        self.assertEqual(rundata.check_snapshot(snap, "x"), [])
        return snap

    def test_matrix_snapshot(self):
        snap = self.made("fixture-matrix", "lts-matrix")
        self.assertEqual((snap["kind"], snap["command"], snap["run"], snap["date"]),
                         ("matrix", "make lts-matrix", "fixture-matrix", "2026-12-06T12:00:00Z"))
        self.assertEqual(len(snap["guests"]), 6)

    def test_kind_without_data(self):
        p = report("snapshot", "--run", os.path.join(RESULTS, "fixture-matrix"),
                   "--name", "mutants", "--out", self.tmp.name)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no mutant guest results for a 'mutants' snapshot", p.stderr)

    def test_control_snapshot(self):
        # A real boot of x86_64 on Debian 13's 6.12, cut to five checks:
        # today's kernel as a control, every SKIP with its reason.
        snap = self.made("fixture-control", "control-v6.12")
        self.assertEqual(snap["kind"], "control")
        lines = tables.snapshot_table(snap)
        self.assertIn("| x86_64 | **ERROR** (expected PASS) | 2/0/3 | KSM did not merge the pages "
                      "within 20 s (2); MADV_PAGEOUT did not swap the page out (present "
                      "pfn=0x3eb88 soft-dirty mapped-once) (1) |", lines)
        self.assertTrue(any(line.startswith("- x86_64/v6.12@none: swap_exclusive: ksm_write/fault "
                                            "SKIPped") for line in lines), lines)
        # the same run has no guest for the matrix's table, and a matrix
        # run none for a control's
        p = report("snapshot", "--run", os.path.join(RESULTS, "fixture-control"),
                   "--name", "matrix", "--out", self.tmp.name)
        self.assertIn("no guest results for a 'matrix' snapshot", p.stderr)
        p = report("snapshot", "--run", os.path.join(RESULTS, "fixture-matrix"),
                   "--name", "control-v6.12", "--out", self.tmp.name)
        self.assertIn("no v6.12 guest results for a 'control' snapshot", p.stderr)

    def test_records(self):
        # one release (here one record) of a distro-check run of all, and
        # a record the run lacks refused by name
        p = report("snapshot", "--run", os.path.join(RESULTS, "fixture-distro"), "--name",
                   "distro-one", "--records", "arm64", "--out", self.tmp.name)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp.name, "distro-one.json")) as f:
            self.assertEqual([r["record"] for r in json.load(f)["distro"]], ["arm64"])
        p = report("snapshot", "--run", os.path.join(RESULTS, "fixture-distro"), "--name",
                   "distro-two", "--records", "arm64 armhf", "--out", self.tmp.name)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no result for record(s) armhf (the run has: amd64, arm64)", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "distro-two.json")))
        snap = self.made("fixture-matrix", "matrix")
        p = report("snapshot", "--run", os.path.join(RESULTS, "fixture-matrix"), "--name",
                   "matrix", "--records", snap["guests"][0]["record"], "--out", self.tmp.name)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp.name, "matrix.json")) as f:
            kept = {g["record"] for g in json.load(f)["guests"]}
        self.assertEqual(kept, {snap["guests"][0]["record"]})

    def test_add_grows_a_table_across_runs(self):
        # A first sitting snapshots one record; a later run of another
        # record (its out/ gone in between) is added, not a replacement.
        rec = [g["record"] for g in self.made("fixture-matrix", "lts-matrix")["guests"]]
        first, second = rec[0], next(r for r in rec if r != rec[0])
        self.assertEqual(report("snapshot", "--run", os.path.join(RESULTS, "fixture-matrix"),
                                "--name", "lts-matrix", "--records", first,
                                "--out", self.tmp.name).returncode, 0)
        p = report("snapshot", "--run", os.path.join(RESULTS, "fixture-matrix"), "--name",
                   "lts-matrix", "--records", second, "--add", "--command", "second sitting",
                   "--out", self.tmp.name)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp.name, "lts-matrix.json")) as f:
            snap = json.load(f)
        self.assertEqual(rundata.check_snapshot(snap, "x"), [])
        self.assertEqual({g["record"] for g in snap["guests"]}, {first, second})
        self.assertEqual(len(snap["guests"]), rec.count(first) + rec.count(second))
        self.assertEqual(snap["command"], "make lts-matrix; then second sitting")
        # the same run added again replaces its rows, it does not repeat them
        report("snapshot", "--run", os.path.join(RESULTS, "fixture-matrix"), "--name",
               "lts-matrix", "--records", second, "--add", "--out", self.tmp.name)
        with open(os.path.join(self.tmp.name, "lts-matrix.json")) as f:
            self.assertEqual(len(json.load(f)["guests"]), len(snap["guests"]))
        p = report("snapshot", "--run", os.path.join(RESULTS, "fixture-matrix"), "--name",
                   "nosuch", "--add", "--out", self.tmp.name)
        self.assertEqual(p.returncode, 1)
        self.assertIn("nosuch.json does not exist; make it without --add first", p.stderr)

    def test_bad_snapshot_file(self):
        self.assertEqual(rundata.check_snapshot({"schema": rundata.SCHEMA, "kind": "bench",
                                                 "name": "b", "command": "c", "run": "r",
                                                 "date": "d", "commit": "x"}, "b.json"),
                         ["b.json: kind bench but no 'bench' data"])


class DistroReleases(unittest.TestCase):
    """The distro table names each kernel's Debian release and what to do there."""

    @staticmethod
    def row(record, verdict, release=None):
        r = {"record": record, "package": "p", "version": "v", "verdict": verdict,
             "evidence": "# e; more", "reason": "why", "note": ""}
        if release:
            r["release"] = release
        return r

    def test_release_column_order_and_advice(self):
        out = "\n".join(tables.distro_table([
            self.row("trixie-amd64", "not affected", "trixie"),
            self.row("bullseye-amd64", "affected", "bullseye"),
            self.row("i386", "affected")]))
        lines = [ln for ln in out.splitlines() if ln.startswith("| 1")]
        self.assertEqual([ln.split(" | ")[0] for ln in lines],
                         ["| 11 (bullseye)", "| 12 (bookworm)", "| 13 (trixie)"])
        self.assertIn("no fix in this project", lines[0])
        self.assertIn("patches/lts-6.1", lines[1])
        self.assertIn("FOLL_PIN", lines[2])

    def test_affected_trixie_is_a_regression(self):
        out = "\n".join(tables.distro_table([self.row("trixie-riscv64", "affected", "trixie")]))
        self.assertIn("a regression", out)
        self.assertNotIn("make distro-fix", out)

    def test_old_runs_are_bookworm(self):
        rows = rundata.distro_data(os.path.join(RESULTS, "fixture-distro"))
        self.assertEqual({r["release"] for r in rows}, {"bookworm"})


class DocsBlocks(unittest.TestCase):
    """The fixture page scripts/tests/data/docs/page.md and its snapshots."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.page = os.path.join(self.tmp.name, "page.md")
        shutil.copy(os.path.join(PAGES, "page.md"), self.page)
        self.rdir = os.path.join(self.tmp.name, "results")
        shutil.copytree(os.path.join(PAGES, "results"), self.rdir)

    def tearDown(self):
        self.tmp.cleanup()

    def test_fixture_page_matches(self):
        self.assertEqual(docs.stale([self.page], self.rdir), [])

    def test_changed_snapshot_makes_the_page_stale(self):
        path = os.path.join(self.rdir, "distro.json")
        with open(path) as f:
            snap = json.load(f)
        snap["distro"][0]["verdict"] = "not affected"
        with open(path, "w") as f:
            json.dump(snap, f)
        self.assertEqual(docs.stale([self.page], self.rdir), [(self.page, ["matrix", "distro",
                                                                          "bench"])])
        docs.fill([self.page], self.rdir)
        with open(self.page) as f:
            self.assertIn("| amd64 | linux-image-6.1.0-18-amd64 | 6.1.76-1 | **not affected** |",
                          f.read())
        self.assertEqual(docs.stale([self.page], self.rdir), [])

    def test_missing_snapshot_says_how_to_make_it(self):
        text = "x\n<!-- BEGIN generated: stress -->\n<!-- END generated: stress -->\n"
        out = docs.render(text, self.rdir)
        self.assertIn("_No snapshot yet: `make snapshot RUN=<run> NAME=stress`", out)

    def test_unbalanced_markers(self):
        with self.assertRaisesRegex(ValueError, "block 'bench' has no END marker"):
            docs.render("<!-- BEGIN generated: bench -->\n", self.rdir, "p.md")

    def test_table_is_the_snapshot(self):
        with open(os.path.join(self.rdir, "matrix.json")) as f:
            snap = json.load(f)
        with open(self.page) as f:
            text = f.read()
        for line in tables.snapshot_table(snap):
            self.assertIn(line, text)


class RepoPages(unittest.TestCase):
    def test_pages_match_their_snapshots(self):
        """README.md and docs/*.md: every generated block is what its
        docs/results/<name>.json gives ('make docs' rewrites them)."""
        stale = docs.stale()
        self.assertEqual(stale, [], "pages whose generated blocks differ from "
                         "docs/results/*.json; run 'make docs': "
                         + ", ".join(f"{os.path.relpath(p, docs.TOP)} ({', '.join(n)})"
                                     for p, n in stale))

    def test_every_snapshot_is_well_formed(self):
        for path in glob.glob(os.path.join(docs.results_dir(), "*.json")):
            with open(path) as f:
                self.assertEqual(rundata.check_snapshot(json.load(f), path), [])


if __name__ == "__main__":
    unittest.main()

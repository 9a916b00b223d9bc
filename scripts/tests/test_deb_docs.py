# SPDX-License-Identifier: GPL-2.0
"""The docs tables of make distro-fix and make deb (cowswap.distro_fix.table,
cowswap.deb) on cut-down copies of real runs (scripts/tests/data/deb, see
its README): the rows, the setups in the selftest's order, the comparison
with Debian's kernel (a new SKIP is named, a check the control's selftest
did not have is told apart), what is known of a build's time, and a
page's generated block."""
import contextlib
import copy
import io
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from cowswap import deb, docs, rundata, tables

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "deb")

GUESTS = {
    "debian": "results/distrofix-guest-debian2/guest-linux-image-6.1.0-57-686-pae",
    "stock": "results/deb-i386-stock-20261207/guest-linux-image-6.1.192-cowswap-stock",
    "fixed": "results/deb-i386-fixed-20261207/guest-linux-image-6.1.192-cowswap1",
}
# The packages the boots installed: made small here (the real ones are
# 50 and 7 MiB), with the real ones' Installed-Size.
DEBS = {
    "debian": ("distrofix/pkgs", "linux-image-6.1.0-57-686-pae", "6.1.192-3", 185314),
    "stock": ("distrofix/deb/i386-stock-lsmod/packages", "linux-image-6.1.192-cowswap-stock",
              "6.1.192-cowswap-stock-2", 13596),
    "fixed": ("distrofix/deb/i386-fixed-lsmod/packages", "linux-image-6.1.192-cowswap1",
              "6.1.192-cowswap1-2", 13595),
}


def make_deb(where, package, version, installed):
    root = tempfile.mkdtemp()
    try:
        os.makedirs(os.path.join(root, "DEBIAN"))
        with open(os.path.join(root, "DEBIAN", "control"), "w") as f:
            f.write(f"Package: {package}\nVersion: {version}\nArchitecture: i386\n"
                    f"Maintainer: test <test@example.org>\nInstalled-Size: {installed}\n"
                    "Description: fixture\n")
        os.makedirs(where, exist_ok=True)
        path = os.path.join(where, f"{package}_{version}_i386.deb")
        subprocess.run(["dpkg-deb", "--root-owner-group", "-b", root, path], check=True,
                       capture_output=True)
        return path
    finally:
        shutil.rmtree(root)


class DebSnapshot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("dpkg-deb"):
            raise unittest.SkipTest("dpkg-deb not installed (Debian's dpkg)")

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "out")
        shutil.copytree(DATA, self.out)
        self.env = os.environ.get("COWSWAP_OUT")
        os.environ["COWSWAP_OUT"] = self.out
        self.debs = {k: make_deb(os.path.join(self.out, d), p, v, i)
                     for k, (d, p, v, i) in DEBS.items()}
        self.output = os.path.join(self.out, "distro-deb-fixed.out")

    def tearDown(self):
        if self.env is None:
            del os.environ["COWSWAP_OUT"]
        else:
            os.environ["COWSWAP_OUT"] = self.env
        self.tmp.cleanup()

    def specs(self, kinds=("debian", "stock", "fixed")):
        return [(k, os.path.join(self.out, GUESTS[k]), self.debs[k],
                 self.output if k == "fixed" else None) for k in kinds]

    def test_snapshot(self):
        snap = deb.snapshot(self.specs(), "deb-i386")
        self.assertEqual(rundata.check_snapshot(snap, "deb-i386"), [])
        self.assertEqual(snap["date"], "2026-12-07T04:17:20Z")
        ks = {k["kernel"]: k for k in snap["deb"]["kernels"]}
        self.assertEqual(ks["debian"]["lost"], {"fault": [8, 8]})
        self.assertEqual(ks["stock"]["lost"], {"fault": [8, 8], "zram": [8, 8],
                                               "thp_pte": [8, 8], "memcg": [8, 8]})
        self.assertEqual(ks["fixed"]["lost"], {"fault": [0, 8], "zram": [0, 8],
                                               "thp_pte": [0, 8], "memcg": [0, 8]})
        # race_read_write/fault FAILed on Debian's kernel; swapout_error/faulty
        # did not exist in its selftest
        self.assertEqual(ks["fixed"]["new_skips"], [
            ["race_read_write/fault", "the two faults never overlapped in 171 iterations", "FAIL"],
            ["swapout_error/faulty", "dm-flakey target not available (CONFIG_DM_FLAKEY)",
             "not run"]])
        self.assertEqual(ks["fixed"]["control_skips_ran"], {"zram": 1, "thp_pte": 1})
        self.assertEqual(ks["fixed"]["skips_not_allowed"], {"thp_whole": 1, "faulty": 1})
        self.assertEqual(ks["debian"]["skips_not_allowed"],
                         {"zram": 1, "thp_whole": 1, "thp_pte": 1})
        self.assertNotIn("new_skips", ks["debian"])
        self.assertEqual((ks["fixed"]["deb_bytes"] > 0, ks["fixed"]["installed_kib"]), (True, 13595))
        self.assertEqual(ks["fixed"]["build"], {"seconds": 1143, "compiled": 3, "objects": None,
                                                "from": "distro-deb-fixed.out"})
        self.assertEqual(ks["stock"]["build"]["seconds"], None)
        self.assertIsNone(ks["debian"]["build"])
        self.assertEqual(ks["fixed"]["command"],
                         "RUN_ID=deb-i386-fixed-20261207 scripts/distro-guest.sh i386 deb "
                         "out/distrofix/deb/i386-fixed-lsmod/packages/"
                         "linux-image-6.1.192-cowswap1_6.1.192-cowswap1-2_i386.deb")

    def test_build_txt_is_preferred(self):
        with open(os.path.join(os.path.dirname(self.debs["fixed"]), "build.txt"), "w") as f:
            f.write("seconds=77\n")
        k = deb.kernel("fixed", os.path.join(self.out, GUESTS["fixed"]), self.debs["fixed"],
                       self.output)
        self.assertEqual((k["build"]["seconds"], k["build"]["from"]),
                         (77, "out/distrofix/deb/i386-fixed-lsmod/packages/build.txt"))

    def test_table(self):
        snap = deb.snapshot(self.specs(), "deb-i386")
        # through the snapshot file, as the docs read it (keys sorted)
        snap = json.loads(json.dumps(snap, sort_keys=True))
        lines = tables.snapshot_table(snap)
        self.assertEqual(lines[0], "Debian 12 (bookworm), i386:")
        rows = [ln for ln in lines if ln.startswith("| ")][1:]
        self.assertEqual(len(rows), 3)
        self.assertIn("| **affected** | fault 8/8, zram 8/8, thp_pte 8/8, memcg 8/8 | 0/5/3 of 8 |",
                      rows[1])
        self.assertIn("| 19 min 3 s, 3 objects | **not affected** | fault 0/8, zram 0/8, "
                      "thp_pte 0/8, memcg 0/8 | 4/0/4 of 8 | error (expected pass): SKIPs "
                      "MAY_SKIP does not allow: thp_whole 1, faulty 1 | race_read_write/fault "
                      "(FAIL there: the two faults never overlapped in 171 iterations); "
                      "swapout_error/faulty (not in the control's selftest: dm-flakey target "
                      "not available (CONFIG_DM_FLAKEY)); ran where it SKIPped: zram 1, "
                      "thp_pte 1 |", rows[2])
        self.assertIn("| time not recorded, 3 objects |", rows[1])
        self.assertIn("| Debian's package | **affected** | fault 8/8 |", rows[0])
        self.assertIn("| (the control) |", rows[0])
        self.assertIn("- stock deb (Debian's config), 2026-12-07T04:15:02Z: `RUN_ID="
                      "deb-i386-stock-20261207 scripts/distro-guest.sh i386 deb out/distrofix/"
                      "deb/i386-stock-lsmod/packages/linux-image-6.1.192-cowswap-stock_"
                      "6.1.192-cowswap-stock-2_i386.deb`", lines)

    def test_same_skips_say_none(self):
        # the fixed package against a control that SKIPped what it SKIPs
        d = deb.data([deb.kernel(*s) for s in self.specs(("debian", "fixed"))])
        fixed = dict(d["kernels"][1])
        fixed["new_skips"] = []
        self.assertTrue(deb.new_skips_cell(fixed).startswith("none; ran where it SKIPped"))

    def test_resumed_build(self):
        cell = deb.build_cell({"seconds": 1323, "compiled": 768, "objects": 2643, "from": "x"})
        self.assertEqual(cell, "22 min 3 s for the last make, which compiled 768 of the build's "
                               "2643 objects (the others: an earlier make, time not recorded)")
        self.assertEqual(deb.build_cell({"seconds": 60, "compiled": 2600, "objects": 2643,
                                         "from": "x"}), "1 min 0 s, 2600 objects")

    def test_no_control(self):
        with self.assertRaisesRegex(ValueError, "no debian kernel"):
            deb.snapshot(self.specs(("stock", "fixed")), "x")

    def test_not_a_boot(self):
        with self.assertRaisesRegex(ValueError, "no verdict.json"):
            deb.kernel("fixed", self.out, self.debs["fixed"])

    def test_command_line(self):
        rdir = os.path.join(self.tmp.name, "snap")
        args = ["snapshot", "--name", "deb-x", "--out", rdir]
        for k, g, d, o in self.specs():
            args += ["--kernel", ":".join([k, g, d] + ([o] if o else []))]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            self.assertEqual(deb.main(args), 0)
            with self.assertRaises(SystemExit):
                deb.main(["snapshot", "--name", "x", "--kernel", "upstream:a:b"])
        with open(os.path.join(rdir, "deb-x.json")) as f:
            self.assertEqual(json.load(f)["kind"], "deb")
        self.assertIn("3 boots of runs distrofix-guest-debian2", out.getvalue())
        self.assertIn("--kernel upstream:a:b: expected KIND:GUEST_DIR:DEB", err.getvalue())


class ReportSnapshot(unittest.TestCase):
    def test_kinds_made_elsewhere(self):
        run = rundata.load_run(os.path.join(HERE, "data", "results", "fixture-matrix"))
        with self.assertRaisesRegex(ValueError, "a 'deb' snapshot is not made here: "
                                    "python3 -m cowswap.deb snapshot"):
            rundata.snapshot(run, "x", "deb")

    def test_distro_fix_from_its_run(self):
        """A distro-fix run's distro-fix.json becomes the snapshot as it is,
        in the shape of the committed ones; a run without one is refused."""
        with open(os.path.join(DATA, "distro-fix-i386.json")) as f:
            snap = json.load(f)
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = os.path.join(tmp, "distrofix-x")
            os.mkdir(run_dir)
            with open(os.path.join(run_dir, "distro-fix.json"), "w") as f:
                json.dump({"run": "distrofix-x", "command": "distro-fix.sh i386",
                           "date": "2026-12-07T10:00:00Z", **snap["distro-fix"]}, f)
            made = rundata.snapshot(rundata.load_run(run_dir), "distro-fix-i386", commit="abc")
            self.assertEqual(made["kind"], "distro-fix")
            self.assertEqual(made["command"], "make distro-fix DISTROS=i386")
            self.assertEqual(made["date"], "2026-12-07T10:00:00Z")
            self.assertEqual(made["distro-fix"], snap["distro-fix"])
            self.assertEqual(rundata.check_snapshot(made, "x"), [])
            os.remove(os.path.join(run_dir, "distro-fix.json"))
            with self.assertRaisesRegex(ValueError, "no result.json.*or distro-fix.json"):
                rundata.load_run(run_dir)


class DistroFixTable(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(DATA, "distro-fix-i386.json")) as f:
            self.snap = json.load(f)
        self.rec = self.snap["distro-fix"]["records"]["i386"]

    def lines(self):
        return tables.snapshot_table(self.snap)

    def test_rows(self):
        lines = self.lines()
        self.assertEqual(lines[2], "| Debian's kernel (`linux-image-6.1.0-57-686-pae` 6.1.192-3) "
                                   "| 6.1.0-57-686-pae | **affected** | fault 8/8, swapoff 8/8, "
                                   "zram 8/8, stable 8/8 | 18/21/33 | Debian's package |")
        self.assertEqual(lines[3], "| Debian's config rebuilt (`out/trees/upstream`) | "
                                   "6.1.192-cowswap-stock | **affected** | fault 8/8, swapoff "
                                   "8/8, zram 8/8, stable 8/8 | 18/21/33 | 43 min 31 s, 2168 "
                                   "objects |")
        self.assertEqual(lines[4], "| Debian's config + `patches/lts-6.1` (`out/trees/fixed`) | "
                                   "6.1.192-cowswap1 | **not affected** | fault 0/8, swapoff 0/8, "
                                   "zram 0/8, stable 0/8 | 39/0/33 | 53 min 13 s, 2230 objects |")
        self.assertIn("- i386: stock rebuild: fails the same 3 checks, SKIPs the same 3 checks "
                      "as Debian's kernel", lines)
        self.assertIn("- i386: fixed rebuild: fails 0 checks; of the 3 that fail on Debian's "
                      "kernel it passes 3; it SKIPs nothing that does not SKIP there", lines)
        self.assertIn("```", lines)
        self.assertIn("BLK_DEV_DM m -> y", lines)

    def test_new_skip_and_unfaithful_stock_are_named(self):
        k = self.rec["kernels"]
        k["fixed"]["skipped"] = k["fixed"]["skipped"] + ["odirect_inflight/zram"]
        k["stock"]["failed"] = k["stock"]["failed"][:2]
        k["fixed"]["build_seconds"] = None
        self.rec["problems"] = ["fixed rebuild: new SKIPs (not on debian): odirect_inflight/zram"]
        lines = self.lines()
        self.assertIn("- i386: fixed rebuild: fails 0 checks; of the 3 that fail on Debian's "
                      "kernel it passes 3; SKIPs 1 that do not SKIP there: odirect_inflight/zram",
                      lines)
        self.assertIn("- i386: stock rebuild: fails 2 checks, Debian's kernel 3, not the same "
                      "ones, SKIPs the same 3 checks as Debian's kernel", lines)
        self.assertIn("- i386: **fixed rebuild: new SKIPs (not on debian): odirect_inflight/zram**",
                      lines)
        self.assertTrue(lines[4].endswith("| not recorded |"))

    def test_several_records_are_headed(self):
        self.snap["distro-fix"]["records"]["armhf"] = copy.deepcopy(self.rec)
        lines = self.lines()
        self.assertEqual(lines[0], "**armhf**:")
        self.assertIn("**i386**:", lines)

    def test_page_block(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "distro-fix-i386.json"), "w") as f:
                json.dump(self.snap, f)
            page = ("x\n<!-- BEGIN generated: distro-fix-i386 -->\n"
                    "<!-- END generated: distro-fix-i386 -->\n")
            text = docs.render(page, tmp)
        self.assertIn(self.lines()[4], text)
        self.assertIn("From `docs/results/distro-fix-i386.json`: run `distrofix-i386-20261206b` "
                      "of `COWSWAP_OUT=/work/main/out scripts/distro-fix.sh i386`, 2026-12-06, "
                      "commit f2ebd63.", text)


if __name__ == "__main__":
    unittest.main()

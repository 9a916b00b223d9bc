# SPDX-License-Identifier: GPL-2.0
"""A nightly run made of two sittings: stages keep their own commits."""
import io
import json
import os
import re
import tempfile
import unittest

from cowswap import TOP, nightly, rundata, tables

FIRST = ("2026-12-07T01:00:00Z\tnightly: check-patches\t50\t0\n"
         "2026-12-07T01:10:00Z\tnightly: bench\t600\t1\n"
         "2026-12-07T01:10:01Z\tnightly: report\t1\t0\n")
SECOND = ("2026-12-07T05:00:00Z\tnightly: bench\t580\t0\n"
          "2026-12-07T06:00:00Z\tnightly: distro-check\t3000\t0\n")


class NightlyRun(unittest.TestCase):
    def test_two_sittings(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "nightly-20261207-0100")
            nightly.record(d, "aaaaaaaaaaaa", "1 5", io.StringIO(FIRST))
            data = nightly.record(d, "bbbbbbbbbbbb", "5 6", io.StringIO(SECOND))
            with open(os.path.join(d, "nightly.json")) as f:
                self.assertEqual(json.load(f), data)
            got = [(s["stage"], s["commit"], s["verdict"]) for s in data["stages"]]
            # The second bench replaces the failed first one; the order is
            # the stage numbers', the report (no number) last.
            self.assertEqual(got, [("check-patches", "aaaaaaaaaaaa", "pass"),
                                   ("bench", "bbbbbbbbbbbb", "pass"),
                                   ("distro-check", "bbbbbbbbbbbb", "pass"),
                                   ("report", "aaaaaaaaaaaa", "pass")])
            self.assertEqual(data["stages_asked"], ["1", "5", "6"])
            self.assertEqual(data["not_run"], [2, 3, 4, 7, 8, 9, 10, 11])
            lines = tables.kind_table("nightly", rundata.load_run(d)["nightly"])
            self.assertIn("| bench | 2026-12-07T05:00:00Z | bbbbbbbbbbbb | 580 | **pass** |",
                          lines)
            self.assertIn("not run yet: 2 3 4 7 8 9 10 11.", lines[-1])

    def test_sittings_on_two_machines(self):
        """Two nightly runs in two out/ directories (a new machine in
        between): the second run's snapshot added to the first's gives
        one stage table, as NIGHTLY_RUN= would have in one out/."""
        with tempfile.TemporaryDirectory() as tmp:
            snaps = []
            for run, commit, asked, lines in (("nightly-20261207-0100", "a" * 12, "1 5", FIRST),
                                              ("nightly-20261208-0500", "b" * 12, "5 6", SECOND)):
                d = os.path.join(tmp, run)
                nightly.record(d, commit, asked, io.StringIO(lines))
                snaps.append(rundata.snapshot(rundata.load_run(d), "nightly"))
            data = rundata.add_to_snapshot(*snaps)
        self.assertEqual(data["run"], "nightly-20261207-0100 + nightly-20261208-0500")
        self.assertEqual(data["nightly"]["run"], data["run"])
        self.assertEqual([(s["stage"], s["commit"]) for s in data["nightly"]["stages"]],
                         [("check-patches", "a" * 12), ("bench", "b" * 12),
                          ("distro-check", "b" * 12), ("report", "a" * 12)])
        self.assertEqual(data["nightly"]["not_run"], [2, 3, 4, 7, 8, 9, 10, 11])

    def test_stages_9_to_11(self):
        """Stages 9 to 11 are numbered and sort after stage 8, in order,
        before the report (10 after 9: numbers, not strings); with them
        every stage has run."""
        lines = ["2026-12-08T01:00:00Z\tnightly: %s\t60\t0\n" % name
                 for names in nightly.STAGES.values() for name in names]
        lines.append("2026-12-08T09:00:00Z\tnightly: distro-fix\t18000\t1\n")
        lines.append("2026-12-08T09:00:01Z\tnightly: report\t2\t0\n")
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "nightly-20261208-0100")
            data = nightly.record(d, "cccccccccccc", "1 2 3 4 5 6 7 8 9 10 11",
                                  io.StringIO("".join(lines)))
        got = [(s["stage"], s["number"], s["verdict"]) for s in data["stages"]][-5:]
        self.assertEqual(got, [("sparse", 8, "pass"), ("distro-fix", 9, "fail"),
                               ("lts-defconfig", 10, "pass"), ("vmtests", 11, "pass"),
                               ("report", None, "pass")])
        self.assertEqual(data["not_run"], [])
        self.assertEqual(tables.nightly_table(data)[-1],
                         "Stages asked: 1 2 3 4 5 6 7 8 9 10 11; every stage has run.")

    def test_every_stage_name_of_nightly_sh_numbered(self):
        """Each 'nightly: <name>' stage of nightly.sh has the number of the
        'want N' it runs under (the report runs under none)."""
        want, got = None, {}
        with open(os.path.join(TOP, "scripts", "nightly.sh")) as f:
            for line in f:
                m = re.search(r"\bwant ([0-9]+)\b", line)
                if m:
                    want = int(m.group(1))
                for name in re.findall(r'"nightly: ([^"]+)"', line):
                    if name != "report":
                        got[name] = want
        self.assertEqual(got, nightly.NUMBER_OF)

    def test_not_a_stage_line(self):
        with self.assertRaisesRegex(ValueError, "not a nightly stage line"):
            nightly.parse_timings(["2026-12-07T01:00:00Z\tbuild x86_64\t5\t0"], "c")


if __name__ == "__main__":
    unittest.main()

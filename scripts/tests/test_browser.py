# SPDX-License-Identifier: GPL-2.0
"""The report page in a real browser: report.py renders the fixture matrix
run, headless Chromium loads index.html, and the DOM it built must show one
row per record of the fixture with, in each cell, the verdict of that
guest's result.json (read here directly, not through the report's code).

Without Chromium the test SKIPs, saying so, except in CI (CI or COWSWAP_CI
set: .ci/run installs it with scripts/deps.sh --browser), where it fails.
"""
import glob
import json
import os
import tempfile
import unittest
from html.parser import HTMLParser

from tests import browser


class Matrix(HTMLParser):
    """{record: {column: (verdict text, outcome, ok)}} of the page's matrix tables."""

    def __init__(self):
        super().__init__()
        self.rows, self.record, self.cell, self.text = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-record" in a:
            self.record = a["data-record"]
            self.rows.setdefault(self.record, {})
        elif tag == "td" and self.record and "data-column" in a:
            self.cell, self.text = a, ""
        elif tag == "a" and self.cell is not None and a.get("class") == "log":
            self.cell["log"] = a["href"]

    def handle_data(self, data):
        if self.cell is not None and self.text is not None and "log" not in self.cell:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            c = self.cell
            self.rows[self.record][c["data-column"]] = (self.text.strip(), c["data-outcome"],
                                                        c["data-ok"], c.get("class", ""))
            self.cell = None
        elif tag == "tr":
            self.record = None


def fixture_verdicts():
    """{record: {column: (text the cell must show, outcome, ok)}} from result.json."""
    out = {}
    for path in glob.glob(os.path.join(browser.FIXTURE, "*", "result.json")):
        with open(path) as f:
            r = json.load(f)
        column = f"{r['variant']}@{r['disks']}" + {"kselftest": "+ksft", "kselftest-tree": "+ksft-tree"}.get(r["runner"], "")
        text = r["outcome"].upper() + ("" if r["ok"] else f" (expected {r['expected'].upper()})")
        out.setdefault(r["arch"], {})[column] = (text, r["outcome"], str(r["ok"]).lower())
    return out


class BrowserMatrix(unittest.TestCase):
    def setUp(self):
        if not browser.chromium():
            if browser.in_ci():
                self.fail("chromium missing in CI: .ci/run must run scripts/deps.sh --browser")
            self.skipTest("chromium not installed: the browser test needs Debian's chromium "
                          "(scripts/deps.sh --browser); CI installs it")
        self.tmp = tempfile.TemporaryDirectory()
        self.index = browser.render_fixture(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_one_row_per_record_with_the_fixture_verdicts(self):
        dom = browser.dump_dom(self.index)
        m = Matrix()
        m.feed(dom)
        want = fixture_verdicts()
        self.assertEqual(sorted(m.rows), sorted(want), "one row per record of the fixture")
        for rec, cells in want.items():
            for col, (text, outcome, ok) in cells.items():
                got = m.rows[rec].get(col)
                self.assertIsNotNone(got, f"{rec}: no cell for {col}")
                self.assertEqual(got[:3], (text, outcome, ok), f"{rec} {col}")
                self.assertIn(f"v-{outcome}", got[3], f"{rec} {col}: colour class")
                self.assertEqual("unexpected" in got[3], ok == "false", f"{rec} {col}: frame")
            self.assertEqual(sorted(m.rows[rec]), sorted(cells), f"{rec}: no other verdicts")

    def test_screenshot(self):
        png = os.path.join(self.tmp.name, "shot.png")
        browser.screenshot(self.index, png)
        with open(png, "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        self.assertEqual((width, height), (900, 420))


if __name__ == "__main__":
    unittest.main()

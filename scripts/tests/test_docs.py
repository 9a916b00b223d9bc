# SPDX-License-Identifier: GPL-2.0
"""The documentation says what the repository has.

- every target 'make help' prints is documented, as `make <target>` in
  a code span or an indented code line of README.md or docs/*.md;
- every repository path README.md and docs/*.md name in backticks or in
  a link exists (out/... is generated, not checked; <placeholders>,
  ... and globs must match at least one file);
- every QEMU record (configs/arch/*.conf, build-only ones included) is a
  row of docs/qemu-records.md, every distribution record
  (configs/distro/*.conf) a row of docs/distro.md;
- every target of the Makefile is a row of the table in docs/ci.md that
  says what CI runs of it, no row names a target the Makefile lacks, and
  the short forms that table names are the stages of scripts/smoke.sh.

Run: python3 -m unittest discover -s scripts/tests -t scripts
(make docs-check runs this module alone). COWSWAP_DOCS_ROOT=<dir>
checks another checkout, e.g. a copy broken on purpose.
"""
import glob
import os
import re
import subprocess
import unittest

ROOT = os.path.abspath(os.environ.get("COWSWAP_DOCS_ROOT") or
                       os.path.join(os.path.dirname(__file__), "..", ".."))

# Top-level names that make a word a repository path. A name missing
# from a broken copy must still count, so the usual ones are listed.
TOP_NAMES = {".ci", "COPYING", "MAINTAINERS", "Makefile", "README.md", "bench",
             "configs", "docs", "patches", "scripts", "selftests", "stress"}

CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
PLACEHOLDER = re.compile(r"<[^<>]*>|\{[^{}]*\}|\u2026|\.\.\.")


def doc_files():
    files = [os.path.join(ROOT, "README.md")]
    files += sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return [f for f in files if os.path.isfile(f)]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def rel(path):
    return os.path.relpath(path, ROOT)


def code_texts(text):
    """Code spans and indented code lines: where commands are written."""
    out = CODE_SPAN.findall(text)
    out += [ln for ln in text.splitlines() if ln.startswith(("    ", "\t"))]
    return out


def exists(path):
    """path: relative to ROOT, maybe with placeholders or globs."""
    path = path.rstrip("/")
    pattern = PLACEHOLDER.sub("*", path)
    if any(c in pattern for c in "*?["):
        return bool(glob.glob(os.path.join(ROOT, pattern)))
    return os.path.exists(os.path.join(ROOT, path))


def path_words(span):
    """The words of a code span that name a repository path."""
    top = TOP_NAMES | {n for n in os.listdir(ROOT) if n not in (".git", "out")}
    for word in span.split():
        word = word.split("=")[-1].strip("\"'(),;:")
        if word.endswith(".") and not os.path.basename(word).startswith("."):
            word = word.rstrip(".")
        first = word.split("/")[0]
        if first in top and ("/" in word or first == word):
            yield word


def table_first_cells(text):
    cells = set()
    for line in text.splitlines():
        if line.startswith("|"):
            cells.add(line.split("|")[1].strip().strip("`"))
    return cells


def records(pattern):
    return sorted(os.path.basename(f)[:-len(".conf")]
                  for f in glob.glob(os.path.join(ROOT, pattern)))


def make_help_targets():
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "help"],
                       capture_output=True, text=True, env=env)
    if p.returncode:
        raise AssertionError(f"'make help' failed in {ROOT}: {p.stderr.strip()}")
    rules = set(re.findall(r"^([a-z][a-z0-9-]*):", read(os.path.join(ROOT, "Makefile")), re.M))
    names = re.findall(r"^  ([a-z][a-z0-9-]*)\s", p.stdout, re.M)
    return [n for n in names if n in rules]


def makefile_targets():
    """Every rule of the Makefile, as 'grep -E "^[a-z0-9.-]+:" Makefile'."""
    return re.findall(r"^([a-z0-9.-]+):", read(os.path.join(ROOT, "Makefile")), re.M)


CI_TABLE = "## Every make target in CI"


def ci_target_rows():
    """{target: row} of the table under CI_TABLE in docs/ci.md."""
    text = read(os.path.join(ROOT, "docs", "ci.md"))
    if CI_TABLE not in text:
        raise AssertionError(f"docs/ci.md has no section '{CI_TABLE}'")
    section = text.split(CI_TABLE, 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*`([a-z0-9.-]+)`\s*\|", line)
        if m:
            rows[m.group(1)] = line
    return rows


def smoke_stages():
    m = re.search(r'^STAGES="([^"]*)"', read(os.path.join(ROOT, "scripts", "smoke.sh")), re.M)
    if not m:
        raise AssertionError("scripts/smoke.sh has no STAGES=\"...\" line")
    return m.group(1).split()


class DocsTest(unittest.TestCase):
    def test_make_help_targets_documented(self):
        targets = make_help_targets()
        self.assertGreater(len(targets), 10, "make help printed almost no targets")
        code = [c for f in doc_files() for c in code_texts(read(f))]
        missing = []
        for t in targets:
            rx = re.compile(r"\bmake\s+(?:(?:-\S+|[A-Z_]+=\S*|[a-z][a-z0-9-]*)\s+)*"
                            + re.escape(t) + r"(?![\w-])")
            if not any(rx.search(c) for c in code):
                missing.append(t)
        if missing:
            self.fail("make targets that README.md and docs/ do not document as "
                      "`make <target>`: " + " ".join(missing))

    def test_repo_paths_exist(self):
        bad = []
        for f in doc_files():
            text = read(f)
            for span in CODE_SPAN.findall(text):
                for word in path_words(span):
                    if not exists(word):
                        bad.append(f"{rel(f)}: `{word}`")
            for target in LINK.findall(text):
                if re.match(r"[a-z]+:", target) or target.startswith("#"):
                    continue
                path = os.path.normpath(os.path.join(os.path.dirname(f), target.split("#")[0]))
                if path != ROOT and not path.startswith(ROOT + os.sep):
                    bad.append(f"{rel(f)}: link ({target}) leaves the repository")
                elif not exists(rel(path)):
                    bad.append(f"{rel(f)}: link ({target})")
        if bad:
            self.fail("paths named in the docs that do not exist:\n  " + "\n  ".join(bad))

    def check_records(self, pattern, page):
        recs = records(pattern)
        self.assertTrue(recs, f"no records {pattern} under {ROOT}")
        path = os.path.join(ROOT, "docs", page)
        self.assertTrue(os.path.isfile(path), f"docs/{page} is missing")
        rows = table_first_cells(read(path))
        missing = [r for r in recs if r not in rows]
        if missing:
            self.fail(f"records with no row in docs/{page}: " + " ".join(missing))

    def test_arch_records_in_qemu_records(self):
        self.check_records("configs/arch/*.conf", "qemu-records.md")
        self.check_records("configs/arch/build-only/*.conf", "qemu-records.md")

    def test_distro_records_in_distro(self):
        self.check_records("configs/distro/*.conf", "distro.md")

    def test_every_make_target_in_ci_table(self):
        targets = makefile_targets()
        self.assertGreater(len(targets), 10, "almost no rules found in the Makefile")
        rows = ci_target_rows()
        missing = [t for t in targets if t not in rows]
        if missing:
            self.fail("make targets with no row in docs/ci.md's table of what CI runs: "
                      + " ".join(missing))
        stale = sorted(set(rows) - set(targets))
        if stale:
            self.fail("rows of docs/ci.md's table for targets the Makefile does not have: "
                      + " ".join(stale))
        for t, row in rows.items():
            cells = [c.strip() for c in row.strip().strip("|").split("|")]
            if len(cells) < 3 or not all(cells[:3]):
                self.fail(f"docs/ci.md: the row of {t} does not say what CI runs and what it costs")

    def test_ci_table_short_forms_are_smoke_stages(self):
        stages = smoke_stages()
        named = set()
        for row in ci_target_rows().values():
            named.update(re.findall(r"smoke `([a-z0-9-]+)`", row))
        unknown = sorted(named - set(stages))
        if unknown:
            self.fail("docs/ci.md names short forms scripts/smoke.sh does not have: "
                      + " ".join(unknown))
        unnamed = [s for s in stages if s not in named]
        if unnamed:
            self.fail("stages of scripts/smoke.sh no row of docs/ci.md's table names: "
                      + " ".join(unnamed))


if __name__ == "__main__":
    unittest.main()

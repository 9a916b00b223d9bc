# SPDX-License-Identifier: GPL-2.0
"""A scratch copy of the repository whose build.sh, run-qemu.sh and
mktrees.sh are stand-ins: they note each call in $OUT/calls.log and
write a result.json as the judge would, so that matrix.sh, nightly.sh
and stress.sh run for real without building or booting anything."""
import os
import shutil
import subprocess
import tempfile
import unittest

from cowswap import TOP

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]

STUB_BUILD = """#!/bin/bash
. "$(dirname "$0")/lib/lib.sh"
# STUB_BUILD_SLEEP: a build takes that long (noted when it ends)
[ -z "${STUB_BUILD_SLEEP:-}" ] || sleep "$STUB_BUILD_SLEEP"
echo "build $1/$2" >>"$OUT/calls.log"
case " ${STUB_FAIL_BUILD:-} " in *" $1/$2 "*) exit 2 ;; esac
"""
STUB_TREES = """#!/bin/bash
. "$(dirname "$0")/lib/lib.sh"
echo "trees $*" >>"$OUT/calls.log"
"""
# the judge's result for <arch> <variant> under DISKS, or nothing
# (STUB_NO_RESULT), or an error found on the console (STUB_PANIC)
STUB_RUN = """#!/bin/bash
. "$(dirname "$0")/lib/lib.sh"
load_arch "$1"
disks=${DISKS:-full} sfx=
[ "$disks" = full ] || sfx=-$disks
echo "boot $1/$2@$disks" >>"$OUT/calls.log"
case " ${STUB_NO_RESULT:-} " in *" $1/$2@$disks "*) exit 1 ;; esac
outcome=$(expect_of "$2")
case " ${STUB_PANIC:-} " in *" $1/$2@$disks "*) outcome=error ;; esac
for x in ${FRAGMENTS_EXTRA:-}; do sfx=-$x$sfx; done
d=$OUT/results/$RUN_ID/$NAME-$2$sfx
mkdir -p "$d"
note_commit "$(dirname "$d")"
python3 - "$d/result.json" "$1" "$2" "$disks" "$outcome" "$(expect_of "$2")" <<'PY'
import json, os, sys, time
path, arch, variant, disks, outcome, expect = sys.argv[1:]
json.dump({"arch": arch, "variant": variant, "disks": disks, "runner": "direct",
           "outcome": outcome, "expected": expect, "ok": outcome == expect, "seconds": 42,
           "problems": ["Kernel panic - not syncing: stub"] if outcome == "error" else [],
           "failed": [],
           "tests": [{"name": "ksm/fault", "result": "PASS", "binary": "swap_exclusive"}],
           "date": os.environ.get("STUB_DATE") or
                   time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, open(path, "w"))
PY
: >"$d/console.log"
# STUB_SLEEP: the guest takes that long, and says when it ended
[ -z "${STUB_SLEEP:-}" ] || { sleep "$STUB_SLEEP"; echo "done $1/$2@$disks" >>"$OUT/calls.log"; }
echo "$1/$2@$disks: ${outcome^^}"
[ "$outcome" = "$(expect_of "$2")" ]
"""


class StubbedRepo(unittest.TestCase):
    """self.repo: the copy (a git repository, one commit), self.out: its
    COWSWAP_OUT."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.repo = os.path.join(self.tmp, "repo")
        self.out = os.path.join(self.tmp, "out")
        for d in ("scripts", "configs", "patches"):
            shutil.copytree(os.path.join(TOP, d), os.path.join(self.repo, d),
                            ignore=shutil.ignore_patterns("__pycache__", "data"))
        for name, text in (("build.sh", STUB_BUILD), ("mktrees.sh", STUB_TREES),
                           ("run-qemu.sh", STUB_RUN)):
            with open(os.path.join(self.repo, "scripts", name), "w") as f:
                f.write(text)
        subprocess.run(["git", "init", "-q", self.repo], check=True)
        self.commit("first sitting")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def commit(self, msg):
        with open(os.path.join(self.repo, "sitting"), "w") as f:
            f.write(msg + "\n")
        subprocess.run(GIT + ["-C", self.repo, "add", "-A"], check=True)
        subprocess.run(GIT + ["-C", self.repo, "commit", "-qm", msg], check=True)
        return subprocess.run(["git", "-C", self.repo, "rev-parse", "--short=12", "HEAD"],
                              check=True, capture_output=True, text=True).stdout.strip()


# SPDX-License-Identifier: GPL-2.0
"""Judge cowswap QEMU console logs and summarise runs.

  results.py judge --arch A --variant V --log console.log --json out.json ...
      Parse one console log: /init markers, TAP from each test binary,
      kernel splats, the DEBUG_VM_PGTABLE boot check. Print a verdict and
      exit 0 only if the outcome equals --expect.

  results.py problems <results-dir>
      Every run that did not come out as expected: its problems, the
      diagnostics of the checks they name, the end of its console.

  results.py summary <results-dir> [--timings file --since epoch]
      Collect every */result.json below the directory into summary.json
      and summary.md (architecture x variant x test). Exit 0 only if every
      baseline run reproduced the bug and every other run passed.

With --runner kselftest the selftest ran through the kernel's
run_kselftest.sh (KSFT_RUNNER=1): its TAP lines come with a "# " prefix
inside the runner's own TAP (plan 1..1, one "selftests: swap_exclusive:
swap_exclusive" result line). The inner lines are judged by the same
rules; the runner's line must agree with them ("not ok ... # exit=1" when
a check failed, "ok" when none did) and stands for the test's exit code.
--runner kselftest-tree (KSFT_RUNNER=tree) is the same, for the test as
the patched kernel tree carries it: the vm collection's, so the runner
names it "selftests: vm: swap_exclusive".
--disks (run-qemu.sh's DISKS) is recorded, and names the run with the
runner: "x86_64/baseline@none", "x86_64/patched@none+ksft",
"x86_64/patched@none+ksft-tree".

Outcomes: "pass" (healthy boot, every TAP line ok or an allowed SKIP),
"reproduced" (healthy boot, an odirect_inflight check lost the O_DIRECT
read data), "fail" (another test failed), "error" (no usable result:
panic, Oops, BUG, WARNING, a swap subsystem error, timeout, missing or
truncated TAP, a selftest check that did not run or SKIPped without the
architecture record allowing it, a test binary that crashed, or a run of
a variant with an expectation file that failed or passed the wrong
checks).

What the selftest must report comes from the selftest itself: the
"<check>/<setup>" names of `swap_exclusive -l` with the run's arguments
(scripts/lib/lib.sh selftest_names, or --selftest-list). Which of them may
SKIP on an architecture is the MAY_SKIP field of configs/arch/<arch>.conf;
what a variant must fail is configs/expect/<variant> (baseline).
"""
import argparse
import sys

from cowswap.compare import compare
from cowswap.judge import KSFT_RUNNERS, judge
from cowswap.summary import problems, summary


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    j = sub.add_parser("judge")
    j.add_argument("--arch", required=True)
    j.add_argument("--variant", required=True)
    j.add_argument("--expect", default="pass", choices=["pass", "reproduced", "fail", "error"])
    j.add_argument("--must-fail", default="", help="test name prefixes that must fail")
    j.add_argument("--qemu-exit", type=int, default=0)
    j.add_argument("--timeout", type=int, default=0)
    j.add_argument("--seconds", type=int, default=0)
    j.add_argument("--may-skip", help="the architecture record's MAY_SKIP "
                   "(default: read from configs/arch/<arch>.conf)")
    j.add_argument("--selftest-list", help="file with the names swap_exclusive -l printed "
                   "(default: list them with scripts/lib/lib.sh selftest_names)")
    j.add_argument("--selftest-args", default="",
                   help="the arguments the selftest ran with (SELFTEST_ARGS)")
    j.add_argument("--no-selftest", action="store_true", help="the run had no selftest (SELFTEST=0)")
    j.add_argument("--disks", default="full", choices=["full", "plain", "none"],
                   help="the guest's disks (run-qemu.sh's DISKS), for the record and the label")
    j.add_argument("--runner", default="direct", choices=["direct", *KSFT_RUNNERS],
                   help="kselftest: /init ran the selftest through run_kselftest.sh "
                   "(KSFT_RUNNER=1); its TAP is nested in the runner's; kselftest-tree: "
                   "the same, the test from the kernel tree's vm collection (KSFT_RUNNER=tree)")
    j.add_argument("--expect-table", help="what each check must do "
                   "(default: configs/expect/<variant> if it exists; '' for none)")
    j.add_argument("--log", required=True)
    j.add_argument("--json", required=True)
    s = sub.add_parser("summary")
    s.add_argument("dir")
    s.add_argument("--timings")
    s.add_argument("--since", default="")
    b = sub.add_parser("problems", help="the runs that did not come out as expected, and why")
    b.add_argument("dir")
    b.add_argument("--tests", type=int, default=4, help="checks to show per run")
    b.add_argument("--diag", type=int, default=6, help="diagnostic lines per check")
    b.add_argument("--console", type=int, default=15, help="console lines per run (0: none)")
    c = sub.add_parser("compare", help="two runs of the same rows: same verdicts, same checks")
    c.add_argument("a", help="a run directory (out/results/<RUN_ID>)")
    c.add_argument("b")
    a = p.parse_args()
    sys.exit({"judge": judge, "summary": summary, "problems": problems,
              "compare": compare}[a.cmd](a))


if __name__ == "__main__":
    main()

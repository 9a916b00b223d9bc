#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: the project's test command ('make check', run by .ci/run).
#
#   0. the docs test (make docs-check): every make target documented,
#      every repo path README.md and docs/ name exists, every record in
#      its docs table; and the unit tests of the Python package ('make
#      unit': the judge, the summary, the reports, on committed
#      fixtures; seconds)
#   1. patch checks: baseline grep, quilt == git am, checkpatch, MAINTAINERS
#   2. the selftest builds and runs as a kselftest target in the kernel
#      tree (SKIPs on the host) and builds standalone with -Werror
#   3. kernels built and booted under QEMU ($CHECK_RUNS), six cold
#      builds by default: x86_64 upstream (stock Debian 6.1, the
#      control), baseline (must reproduce the loss) and patched (must
#      not), each with no disk, the baseline also with a plain swap disk,
#      the patched kernel also with the harness's throttled disks and
#      once more with the selftest run the kselftest way (installed by
#      the selftests Makefile, run by run_kselftest.sh under busybox);
#      the patched kernel of arm64, s390x (also with its disks) and
#      ppc64le (radix and hash MMU) with no disk; the x86_64 mutant with
#      one deliberate bug; the 6.1-LTS i386-pae record stock and fixed.
#      Boots run while the next kernel builds (matrix.sh, JOBS). Each
#      further cold build costs CI 5-8 minutes, so the other 6.1-LTS
#      records (their series is checked in step 1, built and booted by
#      'make lts-matrix', 'make matrix' and the nightly run) and the
#      other mutations ('make mutant') are not here.
#      Then out/report/ from that run: index.html, results.md, junit.xml.
#   3b. a short form of every make target the other stages do not run
#      (bench, stress, LAVA, distro-check, vmtests, lts-defconfig,
#      mainline-selftest, distro-fix, deb, affected-qemu, lava-run,
#      nightly, clean, snapshot, docs) on those kernels (scripts/smoke.sh;
#      docs/ci.md has the table of every target)
#   4. sparse (make C=2) over the files the series touches, x86_64
#      baseline vs patched, in the two build directories stage 3 left:
#      no new warning (scripts/sparse-check.sh; seconds, nothing is
#      recompiled). The other records' bases are not built here; every
#      record is 'make sparse' and the nightly run.
#   5. the tooling's bad-input tests, including deliberate boot failures
#
# Every step runs even if an earlier one failed; the exit status is
# non-zero if any failed. The full matrix is 'make matrix'.
. "$(dirname "$0")/lib/lib.sh"

# Guests: <arch>/<variant>@<disks> (scripts/matrix.sh). @none: no disk,
# the selftest makes its own devices, as on a user's machine without a
# spare disk; @plain: one plain swap disk; @full: the harness's throttled
# virtio disks, found by their serial (s390x is where the order changes).
# A final +ksft: through run_kselftest.sh (KSFT_RUNNER=1, x86_64 only).
# x86_64/mutant boots one deliberate bug (MUTATIONS, default fork) and
# i386-pae is the 6.1-LTS series' record for Debian's 686-pae layout:
# stock must reproduce the loss, fixed must not.
CHECK_RUNS=${CHECK_RUNS:-"x86_64@none x86_64/baseline@plain x86_64/patched@full
x86_64/patched@none+ksft x86_64/mutant@none
arm64/patched@none s390x/patched@none s390x/patched@full ppc64le/patched@none
ppc64le-hash/patched@none i386-pae@none"}
export MUTATIONS=${MUTATIONS:-fork}
export RUN_ID=${RUN_ID:-check-$(date -u +%Y%m%d-%H%M%S)}
failed=
mkdir -p "$OUT"
touch "$OUT/timings.log"
first=$(($(wc -l <"$OUT/timings.log") + 1))

stage "docs" make -s -C "$TOP" docs-check || failed="$failed docs"
stage "unit tests" make -s -C "$TOP" unit || failed="$failed unit"
stage "trees" "$TOP/scripts/mktrees.sh" || die "cannot create the kernel trees"
stage "check-patches" "$TOP/scripts/check-patches.sh" || failed="$failed check-patches"
# The selftest as a kselftest target inside a kernel tree (lib.mk,
# run_tests: on the host without the harness's disks it must SKIP, not
# fail), then standalone with -Werror.
ksft_in_tree() {
	local dir=$TREES/upstream/tools/testing/selftests rc=0
	ln -sfn "$TOP/selftests/swap_exclusive" "$dir/swap_exclusive"
	make -s -C "$dir" TARGETS=swap_exclusive O="$OUT/ksft-build" run_tests || rc=$?
	rm -f "$dir/swap_exclusive"
	[ $rc = 0 ] || return $rc
	make -s -C "$TOP/selftests/swap_exclusive" KSFT_DIR="$dir" \
		OUTPUT="$OUT/selftest-host" EXTRA_CFLAGS=-Werror
}
stage "selftest (in-tree run_tests, host build)" ksft_in_tree || failed="$failed selftest"
# shellcheck disable=SC2086
# CI's budget was measured with as many guests as CPUs beside the builds
# (matrix.sh's default is one more, measured on warm boots only).
stage "matrix $(echo $CHECK_RUNS)" env JOBS="${JOBS:-$(nproc)}" "$TOP/scripts/matrix.sh" $CHECK_RUNS ||
	failed="$failed matrix"
# The targets nothing above runs, in their short form, on the kernels
# the matrix stage built (docs/ci.md: every target and what CI runs).
stage "short forms" "$TOP/scripts/smoke.sh" || failed="$failed smoke"
# The run as pages and JUnit XML (out/report/; CI systems read junit.xml).
stage "report" make -s -C "$TOP" report RUN="$RUN_ID" || failed="$failed report"
stage "sparse x86_64" "$TOP/scripts/sparse-check.sh" x86_64 || failed="$failed sparse"
stage "tooling tests" "$TOP/scripts/test-tooling.sh" || failed="$failed tooling"

echo
echo "Stage timings of this check (seconds):"
tail -n +"$first" "$OUT/timings.log" |
	awk -F'\t' '{ printf "  %6ss  %s%s\n", $3, $2, ($4 == 0 ? "" : "  (FAILED)") }'
# What went wrong, last, where a CI log's tail shows it: each boot that
# did not come out as expected, its problems and the end of its console
# (CI keeps only this output, not out/).
if [ -n "$failed" ]; then
	for dir in "$OUT/results/$RUN_ID" "$OUT/results/$RUN_ID"-*; do
		[ -d "$dir" ] || continue
		why=$(python3 "$TOP/scripts/results.py" problems "$dir" --console 12) ||
			printf '\nNot as expected in %s:\n%s\n' "${dir#"$OUT"/}" "$why"
	done
fi
[ -z "$failed" ] || die "FAILED:$failed (results: out/results/$RUN_ID)"
info "PASS: every check passed (results: out/results/$RUN_ID/summary.md)"

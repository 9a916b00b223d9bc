#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nightly.sh: the full run, the third tier after CI ('make check') and
# 'make matrix'. Hours on two cores; every stage runs even if an earlier
# one failed, and the exit status says whether all of them passed.
#
#   1. check-patches (both series, checkpatch, own words)
#   2. the matrix: every architecture record x every variant of its series,
#      with no disk (@none), a plain swap disk (@plain) and the harness's
#      throttled disks (@full)
#   3. the mutant kernel: one boot per deliberate bug (x86_64)
#   4. the stress test on the debug kernels of every architecture
#      (patched and upstream, and the x86_64 baseline for contrast; a
#      6.1-LTS record's stock and fixed)
#   5. the benchmark (x86_64, and i386-pae for the 6.1-LTS series)
#   6. Debian's own kernels (distro-check)
#   7. bisect: every architecture built after every patch, of both series
#   8. sparse over the files the series touch, every record of both
#      series, base vs patched (scripts/sparse-check.sh; after stage 2
#      the build directories exist and only sparse runs)
#   9. distro-fix: Debian's own config of every affected Debian 12
#      flavour (NIGHTLY_DISTROFIX), rebuilt as shipped and with
#      patches/lts-6.1, booted and judged (scripts/distro-fix.sh)
#  10. lts-defconfig: the 6.1-LTS series on every architecture's own
#      defconfigs, each vmlinux built and the touched files' W=1
#      warnings stock vs fixed (scripts/defconfig-build.sh)
#  11. vmtests: 6.1's own vm selftests on every bootable record's kernels,
#      each variant against the record's base (scripts/vmtests.sh; after
#      stage 2 the kernels exist, a missing one is left out and named)
#
# NIGHTLY_STAGES selects stages by number (default 1 to 11).
# The whole tier does not fit one sitting on two cores: NIGHTLY_RUN=
# nightly-<date> continues that run, so a run can be made of several
# invocations; each stage keeps the commit it ran on, and a stage run
# again replaces its earlier entry (scripts/cowswap/nightly.py). The
# matrix stages (2 and 3) of a continued run go on where they stopped
# (matrix.sh MATRIX_RESUME=1): the boots that already have a verdict in
# nightly-<date>-matrix/ (-mutant/) are kept, the others built and
# booted, and the stage's verdict is that of every result. So
# NIGHTLY_RUN=nightly-<date> NIGHTLY_STAGES=2 make nightly, run as often
# as it takes, completes the matrix; to boot one guest again, remove its
# directory there.
# Results: out/results/nightly-<date>-<stage>/ (one directory per stage's
# RUN_ID), out/results/nightly-<date>/nightly.json (every stage's time,
# exit status, verdict and commit, and the stages not run yet), rendered
# into out/report/ (index.html, results.md, junit.xml).
. "$(dirname "$0")/lib/lib.sh"

if [ -n "${NIGHTLY_RUN:-}" ]; then
	case $NIGHTLY_RUN in
	nightly-[0-9]*-[0-9]*) ;;
	*) die "NIGHTLY_RUN=$NIGHTLY_RUN: expected the name of a run, nightly-<date>-<time>" ;;
	esac
	[ -f "$OUT/results/$NIGHTLY_RUN/nightly.json" ] ||
		die "NIGHTLY_RUN=$NIGHTLY_RUN: no $OUT/results/$NIGHTLY_RUN/nightly.json to continue"
	day=${NIGHTLY_RUN#nightly-}
	info "continuing $NIGHTLY_RUN"
else
	day=$(date -u +%Y%m%d-%H%M)
fi
# Stage 9's records: the Debian 12 flavours measured so far whose own
# kernel loses the data (docs/distro-fix.md). Each is two builds of
# Debian's config (stock and fixed), 16 to 53 minutes each here, so this
# stage alone takes some five hours. distro-fix.sh keeps finished builds
# and continues an interrupted one where make stopped, so a continued run
# (NIGHTLY_RUN) goes on where it stopped. Its results directory
# (nightly-<date>-distrofix/, distro-fix.json) goes into the report below
# like stage 6's. Checked here, not hours later when the stage starts.
distrofix=${NIGHTLY_DISTROFIX:-i386 i386-686 armhf armhf-armmp mipsel}
records=" $(DISTROS_ALL | tr '\n' ' ') "
for r in $distrofix; do
	case $records in *" $r "*) ;; *) die "NIGHTLY_DISTROFIX: '$r' is not a Debian record (configs/distro/<record>.conf)" ;; esac
done
stages=${NIGHTLY_STAGES:-1 2 3 4 5 6 7 8 9 10 11}
for n in $stages; do
	case $n in [1-9] | 1[01]) ;; *) die "NIGHTLY_STAGES: '$n' is not a stage number (1-11)" ;; esac
done
failed=
mkdir -p "$OUT"
touch "$OUT/timings.log"
first=$(($(wc -l <"$OUT/timings.log") + 1))

want() {
	case " $stages " in *" $1 "*) return 0 ;; esac
	return 1
}

archs=$(ARCHS_ALL | tr '\n' ' ')
# resume_of <run id>: matrix.sh's MATRIX_RESUME for one of this run's
# matrix stages: 1 when NIGHTLY_RUN continues a run that has it already.
resume_of() {
	if [ -n "${NIGHTLY_RUN:-}" ] && [ -d "$OUT/results/$1" ]; then echo 1; else echo 0; fi
}
want 1 && { stage "nightly: check-patches" "$TOP/scripts/check-patches.sh" || failed="$failed check-patches"; }
if want 2; then
	runs=
	for a in $archs; do runs="$runs $a@none $a@plain $a@full"; done
	# shellcheck disable=SC2086
	RUN_ID=nightly-$day-matrix MATRIX_RESUME=$(resume_of "nightly-$day-matrix") \
		stage "nightly: matrix" "$TOP/scripts/matrix.sh" $runs ||
		failed="$failed matrix"
fi
want 3 && { RUN_ID=nightly-$day-mutant MATRIX_RESUME=$(resume_of "nightly-$day-mutant") \
	stage "nightly: mutant" "$TOP/scripts/matrix.sh" x86_64/mutant@none || failed="$failed mutant"; }
if want 4; then
	# each record with its own series' kernels: the main series' patched
	# and upstream, a 6.1-LTS record's stock (which must lose data) and fixed
	main= lts=
	for a in $archs; do
		case " $(arch_variants "$a") " in
		*" fixed "*) lts="$lts $a" ;;
		*) main="$main $a" ;;
		esac
	done
	# shellcheck disable=SC2086
	RUN_ID=nightly-$day-stress stage "nightly: stress" "$TOP/scripts/stress.sh" \
		$main patched upstream || failed="$failed stress"
	# shellcheck disable=SC2086
	RUN_ID=nightly-$day-stress stage "nightly: stress 6.1-LTS" "$TOP/scripts/stress.sh" \
		$lts stock fixed || failed="$failed stress-lts"
	RUN_ID=nightly-$day-stress stage "nightly: stress x86_64 baseline" \
		"$TOP/scripts/stress.sh" x86_64 baseline || failed="$failed stress-baseline"
fi
want 5 && { RUN_ID=nightly-$day-bench stage "nightly: bench" "$TOP/scripts/bench.sh" x86_64 i386-pae ||
	failed="$failed bench"; }
want 6 && { RUN_ID=nightly-$day-distro stage "nightly: distro-check" "$TOP/scripts/distro-check.sh" ||
	failed="$failed distro-check"; }
if want 7; then
	# shellcheck disable=SC2086
	stage "nightly: bisect" "$TOP/scripts/bisect-build.sh" $archs || failed="$failed bisect"
	# shellcheck disable=SC2086
	SERIES=lts-6.1 stage "nightly: bisect lts-6.1" "$TOP/scripts/bisect-build.sh" $archs ||
		failed="$failed bisect-lts"
fi
# shellcheck disable=SC2086
want 8 && { stage "nightly: sparse" "$TOP/scripts/sparse-check.sh" $archs || failed="$failed sparse"; }
# shellcheck disable=SC2086
want 9 && { RUN_ID=nightly-$day-distrofix stage "nightly: distro-fix" "$TOP/scripts/distro-fix.sh" \
	$distrofix || failed="$failed distro-fix"; }
# stage 10 takes the fixed tree as it is (make lts-defconfig refreshes it
# first, as this does; a tree that already has the series is left alone)
want 10 && { "$TOP/scripts/mktrees.sh" fixed >/dev/null &&
	RUN_ID=nightly-$day-defconfig stage "nightly: lts-defconfig" \
		"$TOP/scripts/defconfig-build.sh" || failed="$failed lts-defconfig"; }
# shellcheck disable=SC2086
want 11 && { RUN_ID=nightly-$day-vmtests stage "nightly: vmtests" "$TOP/scripts/vmtests.sh" \
	$archs || failed="$failed vmtests"; }
# This night's runs as pages and JUnit XML (out/report/).
night=()
for d in "$OUT/results/nightly-$day-"*; do [ -d "$d" ] && night+=(--run "$d"); done
[ ${#night[@]} = 0 ] || stage "nightly: report" "$TOP/scripts/report.py" html "${night[@]}" ||
	failed="$failed report"

echo
echo "Stage timings of this nightly run (seconds):"
tail -n +"$first" "$OUT/timings.log" | grep -P '\tnightly: ' |
	awk -F'\t' '{ printf "  %6ss  %s%s\n", $3, $2, ($4 == 0 ? "" : "  (FAILED)") }'
# The run as data: every stage with its time, exit status, verdict and
# commit, merged into the run's stage table.
tail -n +"$first" "$OUT/timings.log" | grep -P '\tnightly: ' |
	PYTHONPATH=$TOP/scripts python3 -m cowswap.nightly record "$OUT/results/nightly-$day" \
		"$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)" "$stages"
info "stage table: ${OUT#"$TOP"/}/results/nightly-$day/nightly.json"
[ -z "$failed" ] || die "FAILED:$failed"
info "PASS: every nightly stage passed"

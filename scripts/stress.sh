#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stress.sh [arch ...] [variant ...]: run the bounded stress test
# (stress/swap_stress.c) on debug kernels (configs/debug.config: lockdep,
# KASAN, KFENCE, DEBUG_PAGEALLOC, PAGE_OWNER, DEBUG_VM, DEBUG_LIST, ...)
# under QEMU, one run per architecture and variant, and tabulate them.
#
# Arguments: architecture records (configs/arch/*.conf, or "all") and
# variants, in any order, every variant one of every record's series
# (a 6.1-LTS record: stock, fixed). Default: x86_64 patched.
#
# Every kernel goes through build.sh (FRAGMENTS_EXTRA=debug, nice -n 10,
# incremental) before it boots; STRESS_BUILD=never takes the image as it
# is and fails when it is missing. Environment:
#   STRESS_SECONDS    length of the stress phase (default 120)
#   STRESS_GRACE      time allowed for the final verification (default 600)
#   STRESS_ARGS       more swap_stress options, e.g. "-m 0 -S 0 -s 42"
#   STRESS_FRAGMENTS  extra config fragments (default "debug"; "" boots
#                     the plain kernels of build.sh)
#   STRESS_CMDLINE    kernel parameters (default "page_owner=on")
#   MEM               guest RAM in MiB (default the record's STRESS_MEM, else
#                     256: the pressure worker
#                     allocates more than the RAM)
#   MUTATION          with the mutant variant: the deliberate bug to switch
#                     on (patches/mutants), e.g. MUTATION=fork
#   RUN_ID, COWSWAP_TIMEOUT (default seconds + grace + 600), QUIET=0
#   JOBS              jobs at a time, a guest or the build of a kernel
#                     (default 2: a guest runs while the next kernel
#                     builds; JOBS=1 is the serial order: each run ends
#                     before the next build starts)
#
# Unlike matrix.sh's JOBS, the default never runs two guests at once: a
# stress guest keeps its vCPUs busy for minutes, and its verdict needs
# them: the races must overlap (two vCPUs running at the same time), and
# an RCU stall, hung task or soft lockup counts as a kernel report. The
# build beside it runs at nice 10, so the guest keeps most of the CPUs.
# JOBS=3 and up let JOBS-1 guests share the CPUs, at that risk. With
# JOBS>1 a guest's output goes to <run>/run.log and one line says how it
# ended.
#
# Results: $OUT/results/$RUN_ID/{stress.json,stress.md} and one
# <arch>-<variant>[-debug]/ directory per run (console.log, result.json).
# Runs of an earlier stress.sh with the same RUN_ID stay in the table
# (e.g. debug and plain kernels side by side).
# Exit status 0 when every run is as expected: no corruption and no
# kernel splat; except the kernels without the fix (the baseline, and an
# LTS record's stock), which are expected to FAIL: their O_DIRECT workers
# lose data (and nothing else may go wrong),
# and the mutant (<arch>-mutant-<MUTATION>[-debug]/), whose deliberate bug
# must be noticed: corrupted data or a kernel splat, the report says which.
. "$(dirname "$0")/lib/lib.sh"

archs=()
variants=()
for a in "$@"; do
	case " ${ALL_VARIANTS:-$VARIANTS} " in
	*" $a "*) variants+=("$a"); continue ;;
	esac
	if [ "$a" = all ]; then
		mapfile -t archs < <(ARCHS_ALL)
	else
		archs+=("$a")
	fi
done
[ ${#archs[@]} -gt 0 ] || archs=(x86_64)
# Every variant must belong to every record's series (default: patched,
# for main-series records only). A 6.1-LTS record built from the main
# series' trees has no fix and would fail for that reason, not for a
# kernel bug.
for a in "${archs[@]}"; do
	load_arch "$a"
	own="$(arch_variants "$a")"
	[ -n "$SERIES" ] || own="$own mutant"
	if [ ${#variants[@]} = 0 ]; then
		[ -z "$SERIES" ] || die "$a is a record of series $SERIES: name its variants (one of: $own)"
		continue
	fi
	for v in "${variants[@]}"; do
		case " $own " in
		*" $v "*) ;;
		*) die "$a/$v: $a is a record of series ${SERIES:-main}, whose variants are: $own" ;;
		esac
	done
done
[ ${#variants[@]} -gt 0 ] || variants=(patched)
for v in "${variants[@]}"; do
	variant_label "$v" >/dev/null || exit 1
done
need_cmd python3
JOBS=${JOBS:-2}
case $JOBS in
'' | *[!0-9]* | 0) die "JOBS=$JOBS: expected a positive number of jobs" ;;
esac

secs=${STRESS_SECONDS:-120}
grace=${STRESS_GRACE:-600}
case "$secs$grace" in
*[!0-9]*) die "STRESS_SECONDS and STRESS_GRACE must be numbers of seconds" ;;
esac
frags=${STRESS_FRAGMENTS-debug}
suffix=
for x in $frags; do suffix=$suffix-$x; done
st=$TOP/selftests/swap_exclusive
# swap_stress.c has main(); its other files, the helpers it shares with the
# selftest and the benchmark, and the vm selftests' vm_util.c link with it
stress_srcs="$TOP/stress/common.c $TOP/stress/workers.c $TOP/stress/odirect.c $TOP/stress/race.c"
stress_srcs="$stress_srcs $TOP/stress/faults.c"
stress_srcs="$stress_srcs $st/test_util.c $st/swap_helpers.c $st/pagemap.c $st/test_devs.c"
stress_srcs="$stress_srcs $st/cgroup_helpers.c"
stress_srcs="$stress_srcs $TREES/upstream/tools/testing/selftests/vm/vm_util.c"

export RUN_ID=${RUN_ID:-stress-$(date -u +%Y%m%d-%H%M%S)}
res=$OUT/results/$RUN_ID
mkdir -p "$res"
info "run $RUN_ID: ${archs[*]} x ${variants[*]}, ${secs}s each, kernel config +${frags:-nothing}, jobs at a time: $JOBS"

pairs=()
for variant in "${variants[@]}"; do
	for a in "${archs[@]}"; do
		pairs+=("$a/$variant")
	done
done
# stress_run <arch> <variant> <run> <expect>: one guest.
stress_run() {
	# The judge knows pass and fail; "caught" is the report's own verdict.
	SELFTEST=0 EXTRA_TESTS=$TOP/stress/swap_stress.c \
	EXTRA_SOURCES="$stress_srcs" \
	EXTRA_ARGS="-t $secs -g $grace ${STRESS_ARGS:-}" \
	EXTRA_CMDLINE="${STRESS_CMDLINE-page_owner=on} ${EXTRA_CMDLINE:-}" \
	MEM=${MEM:-${STRESS_MEM:-256}} COWSWAP_TIMEOUT=${COWSWAP_TIMEOUT:-$((secs + grace + 600))} \
	EXPECT=$([ "$4" = pass ] && echo pass || echo fail) FRAGMENTS_EXTRA=$frags QUIET=${QUIET:-1} \
		stage "stress $3" "$TOP/scripts/run-qemu.sh" "$1" "$2" || true
}

runs=()
built=" "
for p in "${pairs[@]}"; do
	a=${p%/*} variant=${p#*/}
	load_arch "$a"
	# The kernels without the fix (the main series' baseline, an LTS
	# record's stock) must lose data; expect_of names both.
	expect=pass
	[ "$(expect_of "$variant")" != reproduced ] || expect=fail
	[ "$variant" != mutant ] || expect=caught
	run=$NAME-$(variant_label "$variant")$suffix
	runs+=("$run:$expect")
	kimg=$BUILDS/$BUILD-$variant$suffix/$KERNEL_IMAGE
	# A kernel two records boot (ppc64le-hash boots ppc64le's) is built
	# once: not again under a guest that may be loading it.
	if [[ "$built" == *" $kimg "* ]]; then
		:
	elif FRAGMENTS_EXTRA=$frags ensure_kernel STRESS_BUILD "$kimg" "$a" "$variant"; then
		built="$built$kimg "
	else
		[ "$KERNEL_MISSING" != "no kernel" ] ||
			info "$run: no kernel at ${kimg#"$TOP"/} and STRESS_BUILD=never"
		mkdir -p "$res/$run"
		echo "$KERNEL_MISSING" >"$res/$run/build-failed"
		continue
	fi
	rm -f "$res/$run/build-failed"
	if [ "$JOBS" = 1 ]; then
		stress_run "$a" "$variant" "$run" "$expect"
		continue
	fi
	# at most JOBS-1 guests, so that the next build has its place
	while [ "$(jobs -pr | wc -l)" -ge $((JOBS > 2 ? JOBS - 1 : 1)) ]; do
		wait -n || true
	done
	mkdir -p "$res/$run"
	{
		stress_run "$a" "$variant" "$run" "$expect" >"$res/$run/run.log" 2>&1
		info "$run: $(grep -m1 -E "^$NAME/[^:]*: [A-Z]" "$res/$run/run.log" ||
			echo "no verdict, see ${res#"$TOP"/}/$run/run.log")"
	} &
done
wait

python3 "$TOP/scripts/stress_report.py" "$res" --fragments "$frags" --runs "${runs[@]}"

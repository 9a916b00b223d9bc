#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# smoke.sh [stage...]: the short form of every make target that the rest
# of 'make check' does not run, on the kernels check.sh's matrix stage has
# already built (nothing is built here), so that a target that stops
# working fails CI instead of rotting until someone runs it by hand.
#
#   bench     make bench: one short round of swap_bench on x86_64 patched
#             (the benchmark's own QEMU setup: -icount, one CPU)
#   stress    make stress: 30 s of the stress test on the x86_64 patched
#             kernel (the plain kernel, not the debug one)
#   lava      make lava and make lava-artifacts (x86_64): the jobs
#             written and checked with LAVA's schema, one initramfs
#   distro    make distro-check --dry-run: every distribution record and
#             the tools its boot needs, nothing downloaded
#   vmtests   make vmtests: four of 6.1's vm selftests
#             (scripts/guest/vmtests-smoke.list) on x86_64 patched
#   defconfig make lts-defconfig: i386_defconfig's W=1 comparison, stock
#             vs fixed, without the vmlinux (DEFCONFIG_VMLINUX=0)
#
# The mutant (one deliberate bug) and one 6.1-LTS record are booted by
# check.sh's matrix stage (CHECK_RUNS), not here. Default: every stage.
# SMOKE_TIMEOUT: the wall-clock limit of each boot (default 420 s: a
# healthy boot takes a minute or two; a guest that hangs must fail CI
# long before its full-length limit).
. "$(dirname "$0")/lib/lib.sh"

[ $# -gt 0 ] || set -- bench stress lava distro vmtests defconfig
limit=${SMOKE_TIMEOUT:-420}
# Each short form writes its own run, <RUN_ID>-<stage> (two boots of
# x86_64 patched must not share a result directory).
RUN_ID=${RUN_ID:-smoke-$(date -u +%Y%m%d-%H%M%S)}

smoke_bench() {
	mkdir -p "$OUT/results/$RUN_ID-bench"
	RUN_ID=$RUN_ID-bench BENCH_VARIANTS=patched BENCH_BUILD=never COWSWAP_TIMEOUT=$limit QUIET=1 \
		BENCH_ARGS="-r 1 -c 16 -W 2 -f 64 -s 16 -k 1" BENCH_SWAP_MIB=512 MEM=1024 \
		"$TOP/scripts/bench.sh" x86_64 >"$OUT/results/$RUN_ID-bench/bench.out" 2>&1 || {
		tail -n 20 "$OUT/results/$RUN_ID-bench/bench.out" >&2
		return 1
	}
	# Every measurement of that round must have reached the report.
	python3 - "$OUT/results/$RUN_ID-bench/bench-x86_64.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
metrics = {r["metric"] for r in rows if r.get("patched")}
want = {"copies_held_ref", "fork_us", "swapin_cache_us", "swapin_disk_us"}
missing = sorted(want - metrics)
if missing:
    sys.exit(f"smoke: bench: no result for {', '.join(missing)}")
print(f"smoke: bench: {len(rows)} measurements on x86_64 patched")
PY
}

smoke_stress() {
	RUN_ID=$RUN_ID-stress STRESS_FRAGMENTS="" STRESS_BUILD=never STRESS_SECONDS=30 STRESS_GRACE=120 \
		COWSWAP_TIMEOUT=$limit QUIET=1 \
		"$TOP/scripts/stress.sh" x86_64 patched
}

smoke_lava() {
	# lava-jobs.py runs under Debian's python3 (its shebang), which has
	# lava-common's schema.
	"$TOP/scripts/lava-jobs.py" generate &&
		"$TOP/scripts/lava-jobs.py" validate &&
		"$TOP/scripts/lava-jobs.py" initramfs x86_64
}

smoke_distro() {
	"$TOP/scripts/distro-check.sh" --dry-run
}

smoke_vmtests() {
	RUN_ID=$RUN_ID-vmtests VMTESTS_VARIANTS=patched VMTESTS_LIST=$TOP/scripts/guest/vmtests-smoke.list \
		COWSWAP_TIMEOUT=$limit QUIET=1 "$TOP/scripts/vmtests.sh" x86_64
}

smoke_defconfig() {
	RUN_ID=$RUN_ID-defconfig DEFCONFIG_VMLINUX=0 DEFCONFIGS_ONLY=i386_defconfig \
		"$TOP/scripts/defconfig-build.sh" i386
}

mkdir -p "$OUT/results"
failed=
for s in "$@"; do
	case $s in
	bench | stress | lava | distro | vmtests | defconfig) ;;
	*) die "unknown stage '$s' (known: bench stress lava distro vmtests defconfig)" ;;
	esac
done
for s in "$@"; do
	stage "smoke: $s" "smoke_$s" || failed="$failed $s"
done
[ -z "$failed" ] || die "short forms that failed:$failed (results: out/results/$RUN_ID-<stage>)"
info "every short form passed: $*"

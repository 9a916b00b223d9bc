#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [arch]: run bench/swap_bench.c on the baseline, patched and
# upstream kernels of one architecture (default x86_64), one QEMU boot
# each, and compare them: out/results/<run>/bench.json and bench.md
# (scripts/bench_report.py).
#
# Kernels are not built here: each must exist in out/build/<arch>-<variant>
# (scripts/build.sh <arch> <variant>).
#
# Every boot gets one more disk, a sparse BENCH_SWAP_MIB image with the
# virtio serial "cowswap-bench", which swap_bench formats and uses as its
# only swap area (the harness's 512 MiB swap disk is too small for the
# 1024 MiB fork test and for swapping in 256 MiB from disk, which needs the
# area at most half full).
#
# Environment:
#   BENCH_ARGS       swap_bench options (default: the program's defaults,
#                    e.g. "-r 5 -c 64 -f 64,256,1024 -s 64,256")
#   BENCH_VARIANTS   variants to run (default "baseline patched upstream")
#   BENCH_KERNEL_<VARIANT>  boot this image instead of the built one, e.g.
#                    BENCH_KERNEL_BASELINE=/path/to/bzImage
#   BENCH_SWAP_MIB   size of the bench swap disk (default 3072)
#   MEM              guest RAM in MiB (default 2048)
#   COWSWAP_TIMEOUT  wall-clock limit per boot (default 1200 s)
#   BENCH_ICOUNT     1 (default): guest time counts instructions (QEMU
#                    -icount shift=0,sleep=on), immune to host load;
#                    0: wall-clock time
#   BENCH_TSC_KHZ    x86_64: the guest TSC rate, passed as tsc_early_khz=
#                    (default: 1000000 with icount, else the host's
#                    "cpu MHz", right under TCG on an x86_64 host)
#   RUN_ID           results directory name (default bench-<UTC date>)
#   QEMU_EXTRA, QUIET as for run-qemu.sh
. "$(dirname "$0")/lib.sh"

[ $# -le 1 ] || die "usage: $PROG [arch]"
load_arch "${1:-x86_64}"
need_cmd "$QEMU" python3 truncate
variants=${BENCH_VARIANTS:-baseline patched upstream}

# Check every kernel before booting any.
declare -A kimg
for v in $variants; do
	check_variant "$v"
	var=BENCH_KERNEL_${v^^}
	if [ -n "${!var:-}" ]; then
		[ -f "${!var}" ] || die "$var=${!var}: no such file"
		kimg[$v]=${!var}
	else
		kimg[$v]=$BUILDS/$BUILD-$v/$KERNEL_IMAGE
		[ -f "${kimg[$v]}" ] ||
			die "no $v kernel for $NAME at ${kimg[$v]#"$TOP"/}; build it first with 'scripts/build.sh $BUILD $v' (this script does not build kernels)"
	fi
done

# Guest clock.  By default QEMU runs with -icount shift=0,sleep=on: the
# virtual clock advances by 1 ns per guest instruction while the guest runs
# (and with real time while it idles, e.g. waiting for a disk), so CPU-bound
# times count executed instructions and do not depend on how busy the host
# is (measured here: spreads < 1% with other builds running, against
# +-50% in wall-clock mode).  BENCH_ICOUNT=0 measures wall-clock time.
#
# The x86_64 test kernel (tinyconfig: no ACPI PM timer, no HPET) may fail to
# calibrate the TSC and fall back to jiffies, CLOCK_MONOTONIC then moves in
# 4 ms steps: give it the TSC rate, 1 GHz under icount shift=0, the host's
# TSC rate otherwise.  swap_bench reports the clock step it sees.
cmdline=${EXTRA_CMDLINE:-}
qemu_extra=${QEMU_EXTRA:-}
khz=${BENCH_TSC_KHZ:-}
if [ "${BENCH_ICOUNT:-1}" != 0 ]; then
	qemu_extra="-icount shift=0,sleep=on $qemu_extra"
	khz=${khz:-1000000}
	clock="icount (1 ns per guest instruction)"
else
	clock="wall clock"
fi
if [ "$KARCH" = x86_64 ]; then
	if [ -z "$khz" ] && [ "$(uname -m)" = x86_64 ]; then
		khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
	fi
	if [ -n "$khz" ]; then
		cmdline="tsc_early_khz=$khz tsc=reliable $cmdline"
	else
		info "warning: host TSC rate unknown (set BENCH_TSC_KHZ): guest clock may tick in jiffies"
	fi
fi

RUN_ID=${RUN_ID:-bench-$(date -u +%Y%m%d-%H%M%S)}
# swap_bench.c has main(); its other files and the helpers it shares with
# the selftest and the stress test link with it
st=$TOP/selftests/swap_exclusive
bench_srcs="$TOP/bench/copies.c $TOP/bench/fork_swapin.c $st/test_util.c $st/swap_helpers.c $st/pagemap.c"
dir=$OUT/results/$RUN_ID
mkdir -p "$dir"
failed=
for v in $variants; do
	img=$dir/bench-swap-$NAME-$v.img
	rm -f "$img"
	truncate -s "${BENCH_SWAP_MIB:-3072}M" "$img"
	info "$NAME/$v: swap_bench ${BENCH_ARGS:-} (kernel ${kimg[$v]#"$TOP"/}, $clock)"
	rc=0
	RUN_ID=$RUN_ID EXPECT=pass SELFTEST=0 \
		KERNEL=${kimg[$v]} \
		EXTRA_TESTS=$TOP/bench/swap_bench.c \
		EXTRA_SOURCES="$bench_srcs" \
		EXTRA_ARGS="${BENCH_ARGS:-}" \
		COWSWAP_TIMEOUT=${COWSWAP_TIMEOUT:-1200} \
		MEM=${MEM:-2048} \
		EXTRA_CMDLINE="$cmdline" \
		QEMU_EXTRA="-drive if=none,id=benchswap,format=raw,file=$img -device $DISK_DEVICE,drive=benchswap,serial=cowswap-bench $qemu_extra" \
		"$TOP/scripts/run-qemu.sh" "$NAME" "$v" || rc=$?
	rm -f "$img"
	[ "$rc" = 0 ] || failed="$failed $v"
done

python3 "$TOP/scripts/bench_report.py" --arch "$NAME" --variants "$variants" \
	--clock "$clock" --args "${BENCH_ARGS:-}" "$dir" ||
	die "bench_report.py failed"
info "report: ${dir#"$TOP"/}/bench.md"
[ -z "$failed" ] || die "boot not clean (see result.json) for:$failed"

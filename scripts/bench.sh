#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [record...]: run bench/swap_bench.c on every variant of each
# record's series, one QEMU boot per kernel, and compare them: the main
# series' baseline, patched and upstream kernels (default record x86_64),
# a 6.1-LTS record's stock and fixed kernels (e.g. i386-pae). Results:
# out/results/<run>/bench-<record>.json and .md (scripts/bench_report.py),
# and bench.md with every record's table.
#
# Every kernel goes through scripts/build.sh first (incremental: seconds
# when it is current), so a changed fragment is never benchmarked stale;
# BENCH_BUILD=never takes the image as it is and fails when it is missing.
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
#   BENCH_VARIANTS   variants to run (default: every variant of the
#                    record's series, "baseline patched upstream" or
#                    "stock fixed")
#   BENCH_KERNEL_<VARIANT>  boot this image instead of the built one, e.g.
#                    BENCH_KERNEL_BASELINE=/path/to/bzImage (one record)
#   BENCH_BUILD      never | always (default: build what is missing)
#   BENCH_SWAP_MIB   size of the bench swap disk (default 3072)
#   MEM              guest RAM in MiB (default 2048)
#   COWSWAP_TIMEOUT  wall-clock limit per boot (default 1200 s)
#   BENCH_ICOUNT     1 (default): guest time counts instructions (QEMU
#                    -icount shift=0,sleep=on), immune to host load;
#                    0: wall-clock time
#   BENCH_SMP        guest CPUs (default 1 with icount, else the record's):
#                    an SMP guest under -icount does not get past
#                    bringing up its second CPU (x86_64, measured)
#   BENCH_TSC_KHZ    x86: the guest TSC rate, passed as tsc_early_khz=
#                    (default: 1000000 with icount, else the host's
#                    "cpu MHz", right under TCG on an x86_64 host)
#   RUN_ID           results directory name (default bench-<UTC date>)
#   QEMU_EXTRA, QUIET as for run-qemu.sh
. "$(dirname "$0")/lib/lib.sh"

records=${*:-x86_64}
need_cmd python3 truncate

# variants_of: the variants bench.sh runs for the loaded record.
variants_of() {
	if [ -n "${BENCH_VARIANTS:-}" ]; then
		echo "$BENCH_VARIANTS"
	elif [ "${SERIES:-}" = lts-6.1 ]; then
		echo "stock fixed"
	else
		echo "baseline patched upstream"
	fi
}

# Check every record and kernel before booting any; build what is missing.
declare -A kimg
for r in $records; do
	load_arch "$r"
	refuse_no_boot
	need_cmd "$QEMU"
	for v in $(variants_of); do
		check_variant "$v"
		var=BENCH_KERNEL_${v^^}
		if [ -n "${!var:-}" ]; then
			[ "$(echo $records | wc -w)" = 1 ] || die "$var is for one record; got: $records"
			[ -f "${!var}" ] || die "$var=${!var}: no such file"
			kimg[$r/$v]=${!var}
			continue
		fi
		kimg[$r/$v]=$BUILDS/$BUILD-$v/$KERNEL_IMAGE
		ensure_kernel BENCH_BUILD "${kimg[$r/$v]}" "$BUILD" "$v" ||
			case $KERNEL_MISSING in
			"no kernel") die "no $v kernel for $NAME at ${kimg[$r/$v]#"$TOP"/} and BENCH_BUILD=never (build it with 'scripts/build.sh $BUILD $v')" ;;
			*) die "cannot build the $v kernel of $NAME" ;;
			esac
	done
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
# An SMP guest under -icount stops while bringing up its second CPU (the
# x86_64 kernel sat at "x86: Booting SMP configuration:" until the time
# limit), and with one vCPU the instruction count of the timed code does
# not depend on how the host schedules QEMU's vCPU threads either: the
# benchmark boots one CPU unless BENCH_SMP says otherwise.
qemu_extra=${QEMU_EXTRA:-}
smp=${BENCH_SMP:-}
if [ "${BENCH_ICOUNT:-1}" != 0 ]; then
	qemu_extra="-icount shift=0,sleep=on $qemu_extra"
	smp=${smp:-1}
	clock="icount (1 ns per guest instruction)"
else
	clock="wall clock"
fi

RUN_ID=${RUN_ID:-bench-$(date -u +%Y%m%d-%H%M%S)}
# swap_bench.c has main(); its other files and the helpers it shares with
# the selftest and the stress test link with it
st=$TOP/selftests/swap_exclusive
bench_srcs="$TOP/bench/copies.c $TOP/bench/fork_swapin.c $st/test_util.c $st/swap_helpers.c $st/pagemap.c"
dir=$OUT/results/$RUN_ID
mkdir -p "$dir"
failed=
: >"$dir/bench.md.tmp"
for r in $records; do
	load_arch "$r"
	variants=$(variants_of)
	cmdline=${EXTRA_CMDLINE:-}
	khz=${BENCH_TSC_KHZ:-}
	[ "${BENCH_ICOUNT:-1}" = 0 ] || khz=${khz:-1000000}
	if [ "$KARCH" = x86_64 ] || [ "$KARCH" = i386 ]; then
		if [ -z "$khz" ] && [ "$(uname -m)" = x86_64 ]; then
			khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
		fi
		if [ -n "$khz" ]; then
			cmdline="tsc_early_khz=$khz tsc=reliable $cmdline"
		else
			info "warning: host TSC rate unknown (set BENCH_TSC_KHZ): guest clock may tick in jiffies"
		fi
	fi
	for v in $variants; do
		img=$dir/bench-swap-$NAME-$v.img
		rm -f "$img"
		truncate -s "${BENCH_SWAP_MIB:-3072}M" "$img"
		info "$NAME/$v: swap_bench ${BENCH_ARGS:-} (kernel ${kimg[$r/$v]#"$TOP"/}, $clock${smp:+, $smp CPU})"
		rc=0
		RUN_ID=$RUN_ID EXPECT=pass SELFTEST=0 \
			KERNEL=${kimg[$r/$v]} \
			EXTRA_TESTS=$TOP/bench/swap_bench.c \
			EXTRA_SOURCES="$bench_srcs" \
			EXTRA_ARGS="${BENCH_ARGS:-}" \
			COWSWAP_TIMEOUT=${COWSWAP_TIMEOUT:-1200} \
			MEM=${MEM:-2048} \
			QEMU_SMP=$smp \
			EXTRA_CMDLINE="$cmdline" \
			QEMU_EXTRA="-drive if=none,id=benchswap,format=raw,file=$img -device $DISK_DEVICE,drive=benchswap,serial=cowswap-bench $qemu_extra" \
			"$TOP/scripts/run-qemu.sh" "$NAME" "$v" || rc=$?
		rm -f "$img"
		[ "$rc" = 0 ] || failed="$failed $NAME/$v"
	done
	python3 "$TOP/scripts/bench_report.py" --arch "$NAME" --variants "$variants" \
		--clock "$clock${smp:+, $smp CPU}" --args "${BENCH_ARGS:-}" "$dir" >/dev/null ||
		die "bench_report.py failed for $NAME"
	cat "$dir/bench-$NAME.md" >>"$dir/bench.md.tmp"
	echo >>"$dir/bench.md.tmp"
done
mv "$dir/bench.md.tmp" "$dir/bench.md"
cat "$dir/bench.md"
info "report: ${dir#"$TOP"/}/bench.md and bench-<record>.json"
[ -z "$failed" ] || die "boot not clean (see result.json) for:$failed"

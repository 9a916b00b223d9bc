#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-qemu.sh <arch> <variant>: boot one kernel under QEMU (TCG) with the
# test initramfs and judge the console log.
#
# Disks (DISKS=full, the default; each named by its role in the virtio
# serial, cowswap-<role>, which /init reads from /sys/block/*/serial):
#   slow_read  read-only test data, reads throttled to 4 IOPS, so an
#              O_DIRECT read stays in flight for ~250 ms
#   swap       swap disk, set up by /init
#   slow_swap  writes throttled to 4 IOPS: pages stay under writeback
#   fast_read  the same test data, not throttled
# DISKS=plain gives only the swap disk (a user's machine with swap), and
# DISKS=none no disk at all: the selftest then makes its own devices
# (null_blk, dm-delay, zram). Both add -plain / -none to the result name.
# KSFT_RUNNER=1 runs the selftest through the kernel's run_kselftest.sh
# (see initramfs.sh) and adds -ksft; KSFT_RUNNER=tree runs it the same
# way as the kernel tree KSFT_TREE (default $TREES/patched) carries it
# after the series (its vm target) and adds -ksft-tree.
#
# Output in $OUT/results/$RUN_ID/<arch>-<variant>[-<mutation>][-<extra>...]/:
# console.log, result.json, qemu.cmd. Exit status 0 when the outcome is the
# expected one (EXPECT, by default "reproduced" for baseline, "pass" for
# upstream and patched; for the mutant "fail", with exactly the tests its
# mutation names in patches/mutants failing).
#
# Environment: MUTATION (mutant only: which deliberate bug to switch on),
# KERNEL (boot this image instead), RUN_ID, RESULT_DIR (instead of the
# directory named above),
# COWSWAP_TIMEOUT (seconds, wall clock), MEM,
# QEMU_EXTRA (more QEMU arguments), QEMU_SMP (CPUs, instead of the
# record's -smp), EXTRA_CMDLINE, EXTRA_TESTS, VMTESTS and
# SELFTEST_ARGS (see initramfs.sh), EXPECT, FRAGMENTS_EXTRA (see build.sh),
# QUIET=1 (do not echo the test output).
. "$(dirname "$0")/lib/lib.sh"

[ $# -eq 2 ] || die "usage: $PROG <arch> <variant>"
load_arch "$1"
refuse_no_boot
variant=$2
# A distribution record (distro-<debian-arch>, configs/distro) boots a
# kernel that is not one of our variants: KERNEL=<its image> distro.
if [[ $NAME == distro-* ]]; then
	[ "$variant" = distro ] && [ -n "${KERNEL:-}" ] || die "usage: KERNEL=<image> $PROG $1 distro"
else
	check_variant "$variant"
fi
need_cmd "$QEMU" timeout python3
# QEMU_SMP=<n>: boot with n CPUs instead of the record's -smp (bench.sh
# boots one CPU under -icount); with one CPU, the record's UP_QEMU_ARGS
# if it has them (a machine set up for SMP may not boot one CPU).
if [ -n "${QEMU_SMP:-}" ]; then
	[[ $QEMU_SMP =~ ^[1-9][0-9]*$ ]] || die "QEMU_SMP=$QEMU_SMP: expected a number of CPUs"
	if [ "$QEMU_SMP" = 1 ] && [ -n "${UP_QEMU_ARGS:-}" ]; then
		QEMU_ARGS=$UP_QEMU_ARGS
	elif [[ " $QEMU_ARGS " == *" -smp "* ]]; then
		QEMU_ARGS=$(sed -E "s/(^| )-smp [^ ]+/\1-smp $QEMU_SMP/" <<<"$QEMU_ARGS")
	else
		QEMU_ARGS="$QEMU_ARGS -smp $QEMU_SMP"
	fi
fi
# FRAGMENTS_EXTRA as for build.sh: boot the <build>-<variant>-<extra> kernel.
suffix=
for x in ${FRAGMENTS_EXTRA:-}; do suffix=$suffix-$x; done
kimg=${KERNEL:-$BUILDS/$BUILD-$variant$suffix/$KERNEL_IMAGE}
[ -f "$kimg" ] || die "no kernel at ${kimg#$TOP/}; run '${FRAGMENTS_EXTRA:+FRAGMENTS_EXTRA=\"$FRAGMENTS_EXTRA\" }scripts/build.sh $BUILD $variant' first"

RUN_ID=${RUN_ID:-$(date -u +%Y%m%d-%H%M%S)}
# The mutant boots with one of its deliberate bugs switched on.
label=$(variant_label "$variant") || exit 1
if [ "$variant" = mutant ]; then
	sel=$(mutation_field "$MUTATION" select)
	EXTRA_CMDLINE="${EXTRA_CMDLINE:-} cowswap_mutant=$MUTATION"
	if [ "$sel" != all ]; then
		for s in $sel; do SELFTEST_ARGS="${SELFTEST_ARGS:-} -s $s"; done
		export SELFTEST_ARGS
	fi
fi
disks_mode=${DISKS:-full}
case $disks_mode in
full) ;;
plain | none) suffix=$suffix-$disks_mode ;;
*) die "DISKS=$disks_mode: expected full, plain or none" ;;
esac
case ${KSFT_RUNNER:-0} in
0) runner=direct ;;
1) runner=kselftest suffix=$suffix-ksft ;;
tree) runner=kselftest-tree suffix=$suffix-ksft-tree ;;
*) die "KSFT_RUNNER=$KSFT_RUNNER: expected 0, 1 or tree" ;;
esac
res=${RESULT_DIR:-$OUT/results/$RUN_ID/$NAME-$label$suffix}
mkdir -p "$res"
note_commit "$(dirname "$res")"
# The swap images are sparse, but the guest fills them: a disk that runs
# full under QEMU shows up as I/O errors in the guest, far from the cause.
need_space "$res" "${COWSWAP_RUN_MB:-640}" "a QEMU run (swap images)"
expect=${EXPECT:-$(expect_of "$variant")}
# The mutant's deliberate bug must be caught by exactly these tests.
must_fail=
[ "$variant" != mutant ] || [ -n "${EXPECT:-}" ] ||
	must_fail=$(mutation_field "$MUTATION" must-fail)

# Test data: deterministic, non-zero, not a multiple of any sector.
data=$OUT/disks/data.img
if [ ! -f "$data" ]; then
	mkdir -p "$OUT/disks"
	# yes(1) dies of SIGPIPE when head has enough: not an error.
	yes "cowswap O_DIRECT test data, sector by sector" | head -c $((4 << 20)) >"$data.tmp.$$" || true
	[ "$(stat -c %s "$data.tmp.$$")" = $((4 << 20)) ] || {
		rm -f "$data.tmp.$$"
		die "cannot create $data (disk full?)"
	}
	mv "$data.tmp.$$" "$data"
fi
rm -f "$res/swap.img" "$res/slow_swap.img"
truncate -s 512M "$res/swap.img"
truncate -s 64M "$res/slow_swap.img"

# role:file:options; the guest finds each by its serial, not by order.
case $disks_mode in
full)
	disks="slow_read:$data:readonly=on,throttling.iops-total=4
swap:$res/swap.img:
slow_swap:$res/slow_swap.img:throttling.iops-write=4
fast_read:$data:readonly=on"
	;;
plain) disks="swap:$res/swap.img:" ;;
none) disks= ;;
esac
[ -z "$disks" ] || [ -n "$DISK_DEVICE" ] ||
	die "$NAME: its machine has no disk device (DISK_DEVICE is empty): only DISKS=none boots it"

drives=()
while IFS=: read -r role file opts; do
	[ -n "$role" ] || continue
	drives+=(-drive "if=none,id=$role,format=raw,file=$file${opts:+,$opts}"
		-device "$DISK_DEVICE,drive=$role,serial=cowswap-$role")
done <<<"$disks"

cpio=$res/initramfs.cpio
# the selftest built against the variant's kselftest directory (6.12's
# mm/vm_util.c for the v6.12 control)
[[ $NAME == distro-* ]] || export KSFT_SRC=${KSFT_SRC:-$(ksft_of "$variant")}
"$TOP/scripts/guest/initramfs.sh" "$NAME" "$cpio"

append="$CMDLINE panic=-1 ${EXTRA_CMDLINE:-}"
# shellcheck disable=SC2206
cmd=("$QEMU" $QEMU_ARGS -m "$(guest_mem 1024)" -nographic -no-reboot
	-kernel "$kimg" -initrd "$cpio" -append "$append" "${drives[@]}" ${QEMU_EXTRA:-})
printf '%q ' "${cmd[@]}" >"$res/qemu.cmd"
echo >>"$res/qemu.cmd"

info "booting $NAME/$label under $(basename "$QEMU") (TCG, limit ${TIMEOUT}s); console: ${res#$TOP/}/console.log"
# A machine the guest cannot power off or reset (NO_EXIT in the record
# says why) would sit halted until the time limit: once /init has said
# COWSWAP-DONE, a watcher gives the kernel a few seconds for its last
# words and then ends QEMU itself; that counts as a clean exit.
rm -f "$res/qemu.pid" "$res/stopped-after-done"
watch_pid=
if [ -n "${NO_EXIT:-}" ]; then
	cmd+=(-pidfile "$res/qemu.pid")
	(
		while sleep 2; do
			grep -q '^COWSWAP-DONE' "$res/console.log" 2>/dev/null && break
		done
		sleep 5
		: >"$res/stopped-after-done"
		kill "$(cat "$res/qemu.pid")" 2>/dev/null || true
	) &
	watch_pid=$!
fi
t0=$(date +%s)
rc=0
if [ "${QUIET:-0}" = 1 ]; then
	timeout -k 10 "$TIMEOUT" "${cmd[@]}" </dev/null >"$res/console.log" 2>&1 || rc=$?
else
	set +o pipefail
	timeout -k 10 "$TIMEOUT" "${cmd[@]}" </dev/null 2>&1 | tee "$res/console.log" |
		grep --line-buffered -E '^(COWSWAP|ok |not ok |# |1\.\.)|Kernel panic|Oops|BUG:|WARNING:' |
		sed -u "s/^/  [$NAME\/$label] /"
	rc=${PIPESTATUS[0]}
	set -o pipefail
fi
elapsed=$(($(date +%s) - t0))
if [ -n "$watch_pid" ]; then
	kill "$watch_pid" 2>/dev/null || true
	wait "$watch_pid" 2>/dev/null || true
	if [ -f "$res/stopped-after-done" ]; then
		info "$NAME cannot leave QEMU by itself ($NO_EXIT): ended it after COWSWAP-DONE"
		rc=0
	fi
fi
echo "$rc $elapsed" >"$res/qemu.exit"
rm -f "$res/swap.img" "$res/slow_swap.img"

# The selftest must report every check that it lists itself for the
# arguments it ran with (swap_exclusive -l, built for the host).
selftest=(--no-selftest)
if [ "${SELFTEST:-1}" != 0 ]; then
	# shellcheck disable=SC2086
	(selftest_names ${SELFTEST_ARGS:-}) >"$res/expected-tests" || true
	selftest=(--selftest-list "$res/expected-tests" --selftest-args "${SELFTEST_ARGS:-}")
fi
python3 "$TOP/scripts/results.py" judge --arch "$NAME" --variant "$label" \
	--expect "$expect" --must-fail "$must_fail" --qemu-exit "$rc" --timeout "$TIMEOUT" --seconds "$elapsed" \
	--may-skip "$MAY_SKIP" "${selftest[@]}" --disks "$disks_mode" --runner "$runner" \
	--log "$res/console.log" --json "$res/result.json"

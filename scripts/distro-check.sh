#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# distro-check.sh [--dry-run] [record...]: is Debian's own kernel affected?
# (Debian 12's records, and those of Debian 11 and 13: RELEASE= in each)
#
# --dry-run checks the records and the tools a boot needs, says what it
# would fetch and boot, and stops (no download; CI's short form).
#
# For each distribution record (configs/distro/<record>.conf, default:
# all of them): fetch and unpack the Debian kernel package of that
# architecture (scripts/distro-fetch.sh; the machine's apt and dpkg state
# is left alone), boot it under QEMU TCG with our initramfs and the
# modules the selftest needs from the same package (run-qemu.sh
# distro-<record> distro), and give one verdict per kernel
# (scripts/distro_report.py): affected (an odirect_inflight check lost
# the O_DIRECT data), not affected (they ran and passed), or unknown,
# with the reason. Prints one line per finished kernel, then the table.
#
# Environment:
#   JOBS=2        guests booted side by side (TCG guests mostly wait for
#                 their I/O; the machine has 2 cores)
#   DISKS         none: no disk, the selftest makes its own devices
#                 (dm-delay over a memory-backed null_blk as the slow
#                 O_DIRECT source, null_blk and zram as swap); full: the
#                 harness's throttled virtio disks. Default: none when the
#                 selftest can make its own devices, else full.
#   SELFTEST_ARGS selftest options for every kernel (a record's
#                 DISTRO_SELFTEST_ARGS otherwise; the table says so)
#   RUN_ID        results go to out/results/$RUN_ID/distro-<record>/
#   COWSWAP_TIMEOUT  wall-clock limit per boot (seconds, default 900)
# Exit status: 0 when every kernel got a verdict, 1 when one is unknown.
. "$(dirname "$0")/lib/lib.sh"

t_start=$(date +%s)
dry_run=0
if [ "${1:-}" = --dry-run ]; then
	dry_run=1
	shift
fi
if [ $# -gt 0 ]; then
	records=("$@")
else
	mapfile -t records < <(DISTROS_ALL)
fi
[ ${#records[@]} -gt 0 ] || die "no distribution records in configs/distro"
JOBS=${JOBS:-2}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "JOBS=$JOBS: expected a positive number"
if [ -z "${DISKS:-}" ]; then
	DISKS=full
	! grep -q nullb "$TOP"/selftests/swap_exclusive/*.c || DISKS=none
fi
case $DISKS in
none) disks_note="no disks: the selftest made its own devices (dm-delay over a memory-backed null_blk as the slow O_DIRECT source, null_blk and zram swap)" ;;
full) disks_note="the harness's virtio disks (O_DIRECT source throttled to 4 IOPS in QEMU, swap disks)" ;;
*) die "DISKS=$DISKS: expected none or full" ;;
esac
export DISKS

# Everything a boot needs, checked before anything is downloaded.
need_cmd python3 timeout
ksft=$TREES/upstream/tools/testing/selftests
[ -f "$ksft/kselftest.h" ] || die "$ksft/kselftest.h missing; run 'make trees' first"
for r in "${records[@]}"; do
	load_distro "$r"
	command -v "$QEMU" >/dev/null 2>&1 ||
		die "$r: $QEMU not found (scripts/deps.sh --distro installs it)"
	command -v "$USER_CC" >/dev/null 2>&1 ||
		die "$r: cross compiler $USER_CC not found (scripts/deps.sh --distro installs it)"
	[ "$DISKS" = none ] || [ -n "$DISK_DEVICE" ] ||
		die "$r: the $MACHINE machine has no disk device for DISKS=$DISKS (DISK_DEVICE is empty): use DISKS=none"
done

if [ "$dry_run" = 1 ]; then
	for r in "${records[@]}"; do
		load_distro "$r"
		info "$r: would fetch linux-image-$FLAVOUR ($RELEASE $DEBIAN_ARCH), boot $QEMU -machine $MACHINE${CPU:+ -cpu $CPU} -smp $SMP -m $MEM, selftest built with $USER_CC${DISTRO_SELFTEST_ARGS:+, options $DISTRO_SELFTEST_ARGS}"
	done
	info "dry run: ${#records[@]} record(s) checked, nothing fetched or booted"
	exit 0
fi

export RUN_ID=${RUN_ID:-distro-$(date -u +%Y%m%d-%H%M%S)}
res=$OUT/results/$RUN_ID
mkdir -p "$res"
info "run $RUN_ID: ${records[*]}; $JOBS at a time; disks: $DISKS"

info "fetching the Debian kernel packages"
# One record whose package cannot be had (the archive answers 404 for a
# file its index lists) gets an unknown verdict naming why; the others
# are still booted.
declare -A fetch_err=()
fetched=()
for r in "${records[@]}"; do
	if "$TOP/scripts/distro-fetch.sh" "$r" 2>"$res/fetch-$r.log"; then
		fetched+=("$r")
	else
		fetch_err[$r]=$(sed -n 's/^.*error: //p' "$res/fetch-$r.log" | head -n1)
		info "$r: no kernel package: ${fetch_err[$r]:-see ${res#$TOP/}/fetch-$r.log}"
	fi
	grep -v 'error: ' "$res/fetch-$r.log" >&2 || true
done
[ ${#fetched[@]} -gt 0 ] || die "no kernel package could be fetched (see above)"
# initramfs.sh builds the kernel's cpio generator on first use: do it
# once here, not in two boots at the same time.
[ -x "$OUT/tools/gen_init_cpio" ] ||
	MODULES_FROM=$OUT/distro/${fetched[0]}/root \
		"$TOP/scripts/guest/initramfs.sh" "distro-${fetched[0]}" "$res/first.cpio" >/dev/null 2>&1 ||
	die "cannot build the initramfs for distro-${fetched[0]}; run 'MODULES_FROM=$OUT/distro/${fetched[0]}/root scripts/guest/initramfs.sh distro-${fetched[0]} /tmp/x.cpio' to see why"
rm -f "$res/first.cpio"

# boot_one <record>: boot, then write verdict.json and verdict.txt.
boot_one() {
	local rec=$1 d=$res/distro-$1 rc=0 secs=0 args note= err=
	load_distro "$rec"
	if [ -n "${fetch_err[$rec]+set}" ]; then
		mkdir -p "$d"
		: >"$d/console.log"
		python3 "$TOP/scripts/distro_report.py" verdict --log "$d/console.log" --json "$d/verdict.json" \
			--record "$rec" --package "linux-image-$FLAVOUR" --version "?" --release "$RELEASE" \
			--setup-error "no kernel package: ${fetch_err[$rec]:-the fetch failed}" >"$d/verdict.txt" 2>&1 ||
			echo "UNKNOWN: distro_report.py failed" >"$d/verdict.txt"
		return 0
	fi
	# shellcheck disable=SC1091
	. "$OUT/distro/$rec/kernel.env"
	args=${SELFTEST_ARGS:-${DISTRO_SELFTEST_ARGS:-}}
	[ -z "$args" ] || note="selftest run with $args"
	mkdir -p "$d"
	rm -f "$d/qemu.exit"
	KERNEL=$KERNEL MODULES_FROM=$ROOT RESULT_DIR=$d QUIET=1 SELFTEST_ARGS=$args \
		QEMU_EXTRA="${DTB:+-dtb $DTB}" \
		"$TOP/scripts/run-qemu.sh" "distro-$rec" distro >"$d/run.log" 2>&1 || true
	if [ -f "$d/qemu.exit" ]; then
		read -r rc secs <"$d/qemu.exit"
	else
		err=$(grep -m1 'error:' "$d/run.log" || tail -n1 "$d/run.log")
		: >>"$d/console.log"
	fi
	python3 "$TOP/scripts/distro_report.py" verdict --log "$d/console.log" --json "$d/verdict.json" \
		--qemu-exit "$rc" --timeout "$TIMEOUT" --seconds "$secs" --record "$rec" \
		--package "$PACKAGE" --version "$VERSION" --release "$RELEASE" --note "$note" --setup-error "$err" \
		>"$d/verdict.txt" 2>&1 || echo "UNKNOWN: distro_report.py failed" >"$d/verdict.txt"
}

declare -A job_of started_at
running=0
finished=0
reap() {
	local pid= rec
	wait -n -p pid || true
	[ -n "$pid" ] || return 0
	rec=${job_of[$pid]}
	running=$((running - 1))
	finished=$((finished + 1))
	PACKAGE="linux-image-$(load_distro "$rec"; echo "$FLAVOUR")" VERSION="(none)"
	# shellcheck disable=SC1091
	[ -n "${fetch_err[$rec]+set}" ] || . "$OUT/distro/$rec/kernel.env"
	info "[$finished/${#records[@]}] $rec $PACKAGE $VERSION: $(cat "$res/distro-$rec/verdict.txt")" \
		"(wall $(($(date +%s) - ${started_at[$rec]}))s)"
}
for r in "${records[@]}"; do
	while [ "$running" -ge "$JOBS" ]; do reap; done
	[ -n "${fetch_err[$r]+set}" ] || info "booting $r ($(sed -n 's/^PACKAGE=//p' "$OUT/distro/$r/kernel.env"))"
	started_at[$r]=$(date +%s)
	boot_one "$r" &
	job_of[$!]=$r
	running=$((running + 1))
done
while [ "$running" -gt 0 ]; do reap; done

{
	echo "Debian kernels booted with the cowswap initramfs ($(date -u +%F), run $RUN_ID)."
	echo "Disks: $disks_note."
	echo
	python3 "$TOP/scripts/distro_report.py" table "$res"
} >"$res/distro-table.md"
echo
cat "$res/distro-table.md"
echo
unknown=$(grep -l '"verdict": "unknown"' "$res"/distro-*/verdict.json | wc -l) || true
info "done in $(($(date +%s) - t_start))s; table: ${res#$TOP/}/distro-table.md"
[ "$unknown" = 0 ] || die "$unknown of ${#records[@]} kernels without a verdict (see the table)"

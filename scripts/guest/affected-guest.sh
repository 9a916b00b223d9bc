#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# affected-guest.sh [--user-swap] [--interrupt S]: the guest side of
# scripts/affected-qemu.sh, under busybox. Runs scripts/affected.sh (as
# /bin/affected.sh, with the static selftest) the way a user would, and
# shows that it left the machine as it found it: the swap areas (with
# priorities), loaded modules and block devices before and after.
#   --user-swap     first make a swap area of "the user's" (zram0, 64 MiB,
#                   priority 5 where swapon has -p), which the checks
#                   must switch off while they run and on again afterwards
#   --interrupt S   send affected.sh SIGTERM S seconds after the checks
#                   started, as a kill would (a Ctrl-C is SIGINT, handled
#                   the same way), instead of letting it finish
set -u
user_swap=0
interrupt=
while [ $# -gt 0 ]; do
	case $1 in
	--user-swap) user_swap=1 ;;
	--interrupt) interrupt=$2; shift ;;
	*) echo "affected-guest.sh: unknown argument $1" >&2; exit 3 ;;
	esac
	shift
done

state() {
	echo "swaps: $(sed -n '2,$p' /proc/swaps | awk '{ printf "%s(prio %s) ", $1, $NF }')"
	echo "modules: $(awk '{ print $1 }' /proc/modules | sort | tr '\n' ' ')"
	printf 'block devices:'
	for d in /sys/block/*; do
		[ -e "$d" ] && printf ' %s' "${d##*/}"
	done
	printf '\nnull_blk (configfs):'
	for d in /sys/kernel/config/nullb/*; do
		[ -d "$d" ] && printf ' %s' "${d##*/}"
	done
	echo
	echo "configfs mounted on: $(awk '$3 == "configfs" { print $2 }' /proc/mounts)"
}

if [ "$user_swap" = 1 ]; then
	# Debian's busybox-static swapon has no -p: the kernel then gives
	# the area a negative priority of its own, which must survive too.
	if ! { modprobe zram num_devices=1 && echo 64M >/sys/block/zram0/disksize &&
		mkswap /dev/zram0 >/dev/null &&
		{ swapon -p 5 /dev/zram0 2>/dev/null || swapon /dev/zram0; }; }; then
		echo "guest: cannot make the user's swap area" >&2
		exit 3
	fi
fi
state >/tmp/state.before
sed 's/^/guest: before: /' /tmp/state.before

if [ -n "$interrupt" ]; then
	/bin/affected.sh -y --binary /tests/swap_exclusive &
	pid=$!
	# once the checks run (their output file exists), S seconds more
	while ! ls /tmp/affected.*/tap >/dev/null 2>&1 && kill -0 "$pid" 2>/dev/null; do
		sleep 1
	done
	sleep "$interrupt"
	echo "guest: sending SIGTERM to affected.sh ${interrupt}s into the checks"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
else
	/bin/affected.sh -y --binary /tests/swap_exclusive
	rc=$?
fi
echo "guest: affected.sh exit status $rc"

state >/tmp/state.after
sed 's/^/guest: after: /' /tmp/state.after
if cmp -s /tmp/state.before /tmp/state.after; then
	echo "guest: state restored: yes"
else
	echo "guest: state restored: NO"
fi
if [ "$user_swap" = 1 ]; then
	swapoff /dev/zram0 && rmmod zram zsmalloc 2>/dev/null
fi
exit "$rc"

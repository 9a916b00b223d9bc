#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# affected.sh [-y] [--binary FILE]: does the running kernel lose O_DIRECT
# data when a page under an in-flight read is swapped out and written?
#
# Runs only the selftest's O_DIRECT reproducer (odirect_inflight on the
# setups that make their own devices: zram, stable, thp_pte, thp_subpage,
# and fault/swapoff when no swap area is active, which then get a null_blk
# of their own), never on a disk of this machine, and ends with ONE line:
#   verdict: affected (<the selftest's evidence>)
#   verdict: not affected (<what ran>)
#   verdict: cannot tell: <what is missing: a CONFIG_ option, a module, root>
# Exit status 1, 0 and 2 respectively; 3 for usage and build errors.
#
# Steps:
#   1. build selftests/swap_exclusive for this machine with its Makefile
#      (kselftest.h from KSFT_DIR, default out/trees/upstream: run
#      'make source trees' first), unless --binary names a built one;
#   2. check, changing nothing, what the reproducer needs: root, and in the
#      kernel config (/proc/config.gz or /boot/config-<release>) SWAP,
#      BLK_DEV_NULL_BLK, CONFIGFS_FS, BLK_DEV_DM and DM_DELAY, built in or
#      as a module this machine has;
#   3. say what it will do and ask (-y or AFFECTED_YES=1: do not ask);
#   4. note the swap areas (with priorities), modules, null_blk, zram and
#      device-mapper devices and configfs mounts there are, load the
#      missing modules, run the
#      checks, and put all of it back as it was (also on Ctrl-C or
#      SIGTERM: the selftest is stopped first and restores its own
#      settings, then this script removes what is left);
#   5. judge its TAP output and print the verdict line.
#
# Plain POSIX sh: the same script runs under busybox in a test guest
# (scripts/affected-qemu.sh), with --binary a static selftest.
#
# Environment: AFFECTED_YES=1 (as -y), AFFECTED_ITERATIONS (the
# selftest's -n, default its own), KSFT_DIR, COWSWAP_OUT (where the
# build goes: $COWSWAP_OUT/affected), AFFECTED_KCONFIG (read this kernel
# config instead of the running kernel's: scripts/test-tooling.sh).
set -u
PROG=affected.sh

why=
die() {
	echo "$PROG: error: $*" >&2
	why=$*
	exit 3
}
say() {
	echo "$PROG: $*" >&2
}

yes=${AFFECTED_YES:-0}
bin=
while [ $# -gt 0 ]; do
	case $1 in
	-y | --yes) yes=1 ;;
	--binary) [ $# -ge 2 ] || die "--binary needs a file"; bin=$2; shift ;;
	-h | --help) sed -n '4,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "$PROG: unknown argument '$1' (usage: $PROG [-y] [--binary FILE])" >&2; exit 3 ;;
	esac
	shift
done

rel=$(uname -r)
verdict_done=0
kernel="kernel $rel $(uname -m)"
# From here on every way out prints a verdict line, and once the state is
# noted (step 4) puts it back first.
tmp=
child=
# shellcheck disable=SC2317 # called by the EXIT trap
on_exit() {
	rc=$?
	if [ -n "$tmp" ]; then
		restore
		rm -rf "$tmp"
	fi
	[ "$verdict_done" = 1 ] || echo "verdict: cannot tell: ${why:-stopped before the checks finished} ($kernel)"
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
verdict() {
	# verdict <exit status> <text>: the one verdict line, then exit.
	echo "verdict: $2"
	verdict_done=1
	exit "$1"
}
cannot_tell() {
	verdict 2 "cannot tell: $* ($kernel)"
}

# --- 1. the selftest ---------------------------------------------------
if [ -z "$bin" ]; then
	top=$(cd "$(dirname "$0")/.." && pwd)
	out=${COWSWAP_OUT:-$top/out}
	ksft=${KSFT_DIR:-$out/trees/upstream/tools/testing/selftests}
	[ -f "$ksft/kselftest.h" ] ||
		die "$ksft/kselftest.h missing: run 'make source trees' first (or set KSFT_DIR=<a 6.1 kernel tree>/tools/testing/selftests)"
	for c in make gcc; do
		command -v "$c" >/dev/null 2>&1 || die "'$c' not found (apt-get install make gcc libc6-dev)"
	done
	say "building selftests/swap_exclusive for $(uname -m) into $out/affected"
	mkdir -p "$out/affected" || die "cannot create $out/affected"
	make -s -C "$top/selftests/swap_exclusive" KSFT_DIR="$ksft" CROSS_COMPILE= \
		OUTPUT="$out/affected" >"$out/affected/make.log" 2>&1 || {
		cat "$out/affected/make.log" >&2
		die "cannot build selftests/swap_exclusive (log above)"
	}
	bin=$out/affected/swap_exclusive
fi
[ -x "$bin" ] || die "no selftest at $bin"

# --- 2. what the reproducer needs, changing nothing --------------------
[ "$(id -u)" = 0 ] ||
	cannot_tell "root (it makes block devices and swaps pages out: run it as root, e.g. sudo make affected)"
[ -r /proc/swaps ] || cannot_tell "CONFIG_SWAP (no /proc/swaps)"

config=
kcfg() {
	# kcfg <OPTION>: y, m or n from the kernel config (empty: no config)
	[ -n "$config" ] || return 0
	v=$(printf '%s\n' "$config" | sed -n "s/^CONFIG_$1=\\(.*\\)/\\1/p")
	echo "${v:-n}"
}
if [ -n "${AFFECTED_KCONFIG:-}" ]; then
	# (the tooling tests: a config of their own)
	config=$(cat "$AFFECTED_KCONFIG") || die "cannot read AFFECTED_KCONFIG=$AFFECTED_KCONFIG"
elif [ -r /proc/config.gz ] && command -v zcat >/dev/null 2>&1; then
	config=$(zcat /proc/config.gz) || config=
fi
if [ -z "$config" ] && [ -r "/boot/config-$rel" ]; then
	config=$(cat "/boot/config-$rel")
fi
moddir=/lib/modules/$rel
# has_module <name>: a loadable module file for this kernel
has_module() {
	[ -d "$moddir" ] && [ -n "$(find "$moddir" -name "$1.ko*" 2>/dev/null | head -n1)" ]
}
# loaded <name>: loaded or built in with a /sys/module entry
loaded() {
	[ -d "/sys/module/$1" ]
}

# option:module pairs; the module's file name (dm-delay) may differ from
# its name in /proc/modules (dm_delay).
needs="SWAP: BLK_DEV_NULL_BLK:null_blk CONFIGFS_FS:configfs BLK_DEV_DM:dm-mod DM_DELAY:dm-delay"
missing=
to_load=
for n in $needs; do
	opt=${n%%:*}
	mod=${n#*:}
	modu=$(echo "$mod" | tr - _)
	case $(kcfg "$opt") in
	y) continue ;;
	m)
		loaded "$modu" && continue
		if has_module "$mod"; then
			to_load="$to_load $mod"
		else
			missing="$missing; module $mod (CONFIG_$opt=m, but not in $moddir)"
		fi
		;;
	n) missing="$missing; CONFIG_$opt (not set in this kernel)" ;;
	*)
		# no config to read: what is there now, or a module file
		[ -z "$mod" ] && continue
		loaded "$modu" && continue
		if has_module "$mod"; then
			to_load="$to_load $mod"
		else
			missing="$missing; CONFIG_$opt (no kernel config to read, $modu is not loaded, no $mod module in $moddir)"
		fi
		;;
	esac
done
# zram is a setup of its own; without it the null_blk setups still run.
case $(kcfg ZRAM) in
m) loaded zram || ! has_module zram || to_load="$to_load zram" ;;
"") loaded zram || ! has_module zram || to_load="$to_load zram" ;;
esac
[ -z "$missing" ] || cannot_tell "${missing#; }"
if [ -n "$to_load" ]; then
	command -v modprobe >/dev/null 2>&1 ||
		cannot_tell "modprobe (to load$to_load)"
fi

# The checks: odirect_inflight on the setups that make their devices;
# fault and swapoff swap to the active swap area if there is one, so
# they run only when there is none (and then make a null_blk of their
# own).
swaps_now() {
	# "<name> <priority>" of every active swap area
	sed -n '2,$p' /proc/swaps | awk '{ print $1, $NF }'
}
sel="zram stable thp_pte thp_subpage"
[ -n "$(swaps_now)" ] || sel="fault swapoff $sel"
args=
for s in $sel; do args="$args -s odirect_inflight/$s"; done
[ -z "${AFFECTED_ITERATIONS:-}" ] || args="$args -n $AFFECTED_ITERATIONS"
# Only devices the selftest makes itself: none of the harness's disks.
unset COWSWAP_SLOW_READ_DEV COWSWAP_FAST_READ_DEV COWSWAP_SWAP_DEV COWSWAP_SLOW_SWAP_DEV \
	COWSWAP_ODIRECT_DIR COWSWAP_ZRAM
# shellcheck disable=SC2086
names=$("$bin" -l $args) || die "'$bin -l$args' failed"
[ -n "$names" ] || die "the selftest lists no check for$args (renamed?)"

# --- 3. say what happens, and ask --------------------------------------
swaps0=$(swaps_now)
used_kb=$(awk '/^SwapTotal:/ { t = $2 } /^SwapFree:/ { f = $2 } END { print t - f }' /proc/meminfo)
avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
{
	echo "$PROG will, as root, on this machine (kernel $rel):"
	[ -z "$to_load" ] || echo "  - load the modules$to_load (and unload them afterwards)"
	echo "  - make its own devices: memory-backed null_blk disks (configfs), a dm-delay"
	echo "    device over one of them (reads wait 250 ms)$(case $sel in *zram*) echo ', a zram device' ;; esac)"
	if [ -n "$swaps0" ]; then
		echo "  - switch off your swap areas while each check runs (its own device must be"
		echo "    the only one) and switch them on again with their priorities:"
		echo "$swaps0" | sed 's/^/      /'
		echo "    $((used_kb / 1024)) MiB are in swap now and must fit in RAM meanwhile"
		echo "    ($((avail_kb / 1024)) MiB available)"
	fi
	echo "  - swap out pages of its own while O_DIRECT reads into them are in flight:"
	echo "$names" | sed 's/^/      /'
	echo "  - remove its devices and put everything back, also when interrupted"
	echo "No disk of this machine is written."
} >&2
if [ -n "$swaps0" ] && [ "$used_kb" -gt $((avail_kb / 2)) ]; then
	cannot_tell "memory: $((used_kb / 1024)) MiB in swap, $((avail_kb / 1024)) MiB available; switching swap off for the checks needs room for it (free some memory)"
fi
if [ "$yes" != 1 ]; then
	if ! (true </dev/tty) 2>/dev/null; then
		die "no terminal to ask on: run with -y (or AFFECTED_YES=1) to go ahead without asking"
	fi
	printf '%s' "Go ahead? [y/N] " >&2
	read -r answer </dev/tty || answer=
	case $answer in
	y | Y | yes | YES) ;;
	*) why="not run: the answer was no"; exit 3 ;;
	esac
fi

# --- 4. note the state, run, put it back --------------------------------
t=$(mktemp -d /tmp/affected.XXXXXX) || die "mktemp failed"
list_dirs() {
	# list_dirs <glob>: the names that exist, one per line
	for d in $1; do [ -e "$d" ] && basename "$d"; done
}
dm_names() {
	for d in /sys/block/dm-*/dm/name; do [ -r "$d" ] && cat "$d"; done
}
note_state() {
	# note_state <dir>
	mkdir -p "$1"
	swaps_now >"$1/swaps"
	awk '{ print $1 }' /proc/modules 2>/dev/null | sort >"$1/modules"
	list_dirs '/sys/kernel/config/nullb/*' | grep -v '^features$' >"$1/nullb" || true
	list_dirs '/sys/block/zram*' >"$1/zram"
	dm_names | sort >"$1/dm"
	awk '$3 == "configfs" { print $2 }' /proc/mounts >"$1/mounts"
}

# new_in <before> <after>: the lines of <after> that <before> lacks
new_in() {
	if [ -s "$1" ]; then grep -vxF -f "$1" "$2"; else cat "$2"; fi
}
restore() {
	[ "$restored" = 0 ] || return 0
	restored=1
	trap '' INT TERM
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		say "stopping the selftest (it puts back its own settings)"
		kill -TERM "$child" 2>/dev/null
		i=0
		while kill -0 "$child" 2>/dev/null && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
		kill -KILL "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	note_state "$tmp/after"
	# swap areas that were not on before: off (they are ours)
	while read -r name prio; do
		grep -q "^$name " "$tmp/before/swaps" || { swapoff "$name" && say "swapoff $name (left by the checks)"; }
	done <"$tmp/after/swaps"
	# device-mapper devices that are new
	for n in $(new_in "$tmp/before/dm" "$tmp/after/dm"); do
		if command -v dmsetup >/dev/null 2>&1 && dmsetup remove "$n"; then
			say "removed device-mapper device $n"
		else
			say "warning: cannot remove device-mapper device $n (no dmsetup?)"
		fi
	done
	# null_blk devices made through configfs
	for n in $(new_in "$tmp/before/nullb" "$tmp/after/nullb"); do
		echo 0 >"/sys/kernel/config/nullb/$n/power" 2>/dev/null
		rmdir "/sys/kernel/config/nullb/$n" && say "removed null_blk $n"
	done
	# zram devices that are new (hot-added)
	for n in $(new_in "$tmp/before/zram" "$tmp/after/zram"); do
		echo 1 >"/sys/block/$n/reset" 2>/dev/null
		[ ! -w /sys/class/zram-control/hot_remove ] ||
			echo "${n#zram}" >/sys/class/zram-control/hot_remove 2>/dev/null &&
			say "removed $n"
	done
	# swap areas that were on before: on again, with their priority
	while read -r name prio; do
		grep -q "^$name " "$tmp/after/swaps" && continue
		# (a negative priority cannot be asked for: the kernel picks one)
		if [ "$prio" -ge 0 ] 2>/dev/null && swapon -p "$prio" "$name"; then
			say "swapon $name (priority $prio)"
		elif swapon "$name"; then
			say "swapon $name (priority $prio before, now $(swaps_now | sed -n "s|^$name ||p"))"
		fi
	done <"$tmp/before/swaps"
	# configfs mounted by the checks (it keeps its module busy)
	for mp in $(new_in "$tmp/before/mounts" "$tmp/after/mounts"); do
		umount "$mp" && say "unmounted configfs from $mp"
	done
	# modules loaded since: unloaded, users first (a few passes)
	for _ in 1 2 3 4; do
		awk '{ print $1 }' /proc/modules 2>/dev/null | sort >"$tmp/mods"
		new=$(new_in "$tmp/before/modules" "$tmp/mods")
		[ -n "$new" ] || break
		for m in $new; do rmmod "$m" 2>/dev/null && say "unloaded module $m"; done
	done
	note_state "$tmp/final"
	left=
	for f in swaps modules nullb zram dm mounts; do
		cmp -s "$tmp/before/$f" "$tmp/final/$f" ||
			left="$left $f: before [$(tr '\n' ' ' <"$tmp/before/$f")], now [$(tr '\n' ' ' <"$tmp/final/$f")];"
	done
	if [ -n "$left" ]; then
		say "warning: not everything is as it was:$left"
	else
		say "swap areas, modules and devices are as they were"
	fi
}

restored=0
note_state "$t/before"
tmp=$t

for m in $to_load; do
	p=
	[ "$m" != null_blk ] || p=nr_devices=0 # its default nullb0 is not memory backed
	# shellcheck disable=SC2086
	modprobe "$m" $p 2>"$tmp/modprobe.err" ||
		cannot_tell "module $m: modprobe failed: $(head -n1 "$tmp/modprobe.err")"
	say "loaded module $m${p:+ $p}"
done

say "running:$(echo "$names" | tr '\n' ' ')(output: $tmp/tap while it runs)"
# In the background, so that a signal reaches this script's traps while
# it waits; the selftest gets its own SIGTERM from restore().
# shellcheck disable=SC2086
"$bin" $args >"$tmp/tap" 2>&1 &
child=$!
wait "$child"
rc=$?
child=
grep -E '^(ok|not ok) |^# odirect_inflight/|^# [0-9]+ of [0-9]+ iterations' "$tmp/tap" >&2 || true
restore

# --- 5. judge -------------------------------------------------------------
lost=$(sed -n 's/^# \(odirect_inflight\/[^:]*: [1-9][0-9]* of [0-9]* iterations lost the O_DIRECT data\).*/\1/p' "$tmp/tap")
failed=$(grep -E '^not ok [0-9]+ (- )?odirect_inflight/' "$tmp/tap")
passed=$(grep -E '^ok [0-9]+ (- )?odirect_inflight/' "$tmp/tap" | grep -v '# SKIP')
skipped=$(sed -n 's/^ok [0-9]* \(- \)\{0,1\}# SKIP //p' "$tmp/tap")
if [ -n "$lost" ]; then
	verdict 1 "affected ($kernel: $(echo "$lost" | head -n2 | tr '\n' ';' | sed 's/;$//; s/;/; /g'))"
elif [ -n "$failed" ]; then
	cannot_tell "a check failed without losing data: $(echo "$failed" | head -n1) (see the lines above)"
elif [ -n "$passed" ]; then
	# the selftest's per-check summaries: lost, iterations, raced
	sums=$(awk '/^# [0-9]+ of [0-9]+ iterations lost data; [0-9]+ raced/ { l += $2; n += $4; r += $8 }
		END { if (n) printf "%d of %d iterations had the page swapped out with the read in flight, %d lost data", r, n, l
		      else printf "no iteration summary" }' "$tmp/tap")
	verdict 0 "not affected ($kernel: $(echo "$passed" | wc -l) of $(echo "$names" | wc -l) checks ran and passed, $sums: $(echo "$passed" | sed 's/^ok [0-9]* \(- \)\{0,1\}//' | tr '\n' ' ' | sed 's/ $//'))"
elif [ -n "$skipped" ]; then
	cannot_tell "$(echo "$skipped" | sed 's/^[^:]*: //' | sort -u | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
else
	cannot_tell "the selftest printed no result (exit $rc): $(tail -n1 "$tmp/tap")"
fi

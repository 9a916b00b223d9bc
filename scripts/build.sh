#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh <arch> <variant>: configure and build one kernel.
#
#   tree:   $TREES/<variant>  (override with TREE=<dir>)
#   output: $BUILDS/<build>-<variant>[-<extra>...]  (override with O=<dir>)
#
# The configuration is tinyconfig plus configs/common.config and the
# architecture's fragment, merged with the kernel's merge_config.sh.
# FRAGMENTS_EXTRA="debug ..." adds configs/<extra>.config and, when it
# exists, configs/<extra>-<arch fragment> (e.g. debug-x86_64.config), and
# builds in a separate directory with a -<extra> suffix.
# configs/<variant>-<fragment> (configs/v6.12-riscv64.config) adds options
# that only that variant's kernel has.
# Every option the fragments ask for must survive olddefconfig.
# TARGETS="mm/memory.o ..." builds only those targets (quick checks).
# CONFIGURE_ONLY=1 stops after the configuration and its check (a new
# record's fragment, in seconds).
# PROFILE=1 records the time of every compiler run (see below).
. "$(dirname "$0")/lib/lib.sh"

[ $# -eq 2 ] || die "usage: $PROG <arch> <variant>"
load_arch "$1"
variant=$2
check_variant "$variant"
tree=${TREE:-$TREES/$(tree_of "$variant")}
frags="$TOP/configs/common.config"
# KCONFIG may name several fragments ("x86_64.config preempt.config"):
# a record that is another record plus one option group.
for k in $KCONFIG; do
	frags="$frags $TOP/configs/$k"
done
# Options only a variant's kernel has (the v6.12 control): when it
# exists, configs/<variant>-<fragment> after each fragment, e.g.
# v6.12-riscv64.config.
for k in $KCONFIG; do
	[ ! -f "$TOP/configs/$variant-$k" ] || frags="$frags $TOP/configs/$variant-$k"
done
kconfig_first=${KCONFIG%% *}
suffix=
for x in ${FRAGMENTS_EXTRA:-}; do
	case "$x" in
	*[!a-z0-9_]*) die "FRAGMENTS_EXTRA: bad fragment name '$x'" ;;
	esac
	[ -f "$TOP/configs/$x.config" ] || die "FRAGMENTS_EXTRA: configs/$x.config missing"
	frags="$frags $TOP/configs/$x.config"
	[ ! -f "$TOP/configs/$x-$kconfig_first" ] || frags="$frags $TOP/configs/$x-$kconfig_first"
	suffix=$suffix-$x
done
obj=${O:-$BUILDS/$BUILD-$variant$suffix}
jobs=${JOBS:-$(nproc)}

[ -f "$tree/Makefile" ] || die "kernel tree '$tree' missing; run 'make trees' first"
need_cmd make "${CROSS_COMPILE}gcc" flex bison bc
tree=$(cd "$tree" && pwd)
mkdir -p "$obj"
obj=$(cd "$obj" && pwd)
# The v6.12 control builds the records' 6.1 fragments; options 6.12 names
# otherwise are renamed on the way, from configs/v6.12.renames ("<6.1
# name> <6.12 name>" lines; "<6.1 name> -" leaves the option's line out:
# one 6.12 no longer has), into copies in the build directory.
renames=$TOP/configs/$variant.renames
if [ -f "$renames" ]; then
	mkdir -p "$obj/fragments"
	sed_args=()
	while read -r from to rest; do
		case $from in "" | "#"*) continue ;; esac
		[ -n "$to" ] && [ -z "$rest" ] || die "$renames: expected '<old option> <new option>', got '$from $to $rest'"
		if [ "$to" = - ]; then
			sed_args+=(-e "/^CONFIG_$from=/d" -e "/^# CONFIG_$from is not set\$/d")
		else
			sed_args+=(-e "s/^CONFIG_$from=/CONFIG_$to=/" -e "s/^# CONFIG_$from is not set\$/# CONFIG_$to is not set/")
		fi
	done <"$renames"
	renamed=
	for f in $frags; do
		[ -f "$f" ] || die "config fragment $f missing"
		sed "${sed_args[@]}" "$f" >"$obj/fragments/$(basename "$f")"
		renamed="$renamed $obj/fragments/$(basename "$f")"
	done
	frags=$renamed
fi
# Our tinyconfig-based builds take 90-120 MiB, debug ones (KASAN) far more.
need_space "$obj" "${COWSWAP_BUILD_MB:-1024}" "a kernel build"

cc="${CROSS_COMPILE}gcc"
if command -v ccache >/dev/null 2>&1 && [ "${CCACHE:-1}" != 0 ]; then
	export CCACHE_DIR=${CCACHE_DIR:-$OUT/ccache}
	cc="ccache $cc"
fi
# PROFILE=1: time every compiler run (scripts/cc-time.sh) into
# $obj/profile.tsv; scripts/build-profile.py sums it up.
if [ "${PROFILE:-0}" = 1 ]; then
	export COWSWAP_PROFILE=$obj/profile.tsv
	: >"$COWSWAP_PROFILE"
	cc="$TOP/scripts/cc-time.sh $cc"
fi
kargs=(-C "$tree" O="$obj" ARCH="$KARCH" CROSS_COMPILE="$CROSS_COMPILE" CC="$cc")
kmake() {
	make "${kargs[@]}" "$@"
}

for f in $frags; do
	[ -f "$f" ] || die "config fragment $f missing"
done

# verify_config: every CONFIG_FOO=val and "# CONFIG_FOO is not set"
# line of the fragments must be in the final .config. When several
# fragments set one option, the last one wins (as in merge_config.sh):
# a 32-bit record's "# CONFIG_64BIT is not set" overrides common.config.
verify_config() {
	local f line opt missing=
	local -A want=()
	local -a order=()
	for f in $frags; do
		while IFS= read -r line; do
			case "$line" in
			CONFIG_*=*) opt=${line%%=*} ;;
			"# CONFIG_"*" is not set") opt=${line#\# } opt=${opt%% *} ;;
			*) continue ;;
			esac
			[ -n "${want[$opt]+set}" ] || order+=("$opt")
			want[$opt]=$line
		done <"$f"
	done
	for opt in "${order[@]}"; do
		line=${want[$opt]}
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$obj/.config" || missing="$missing $line"
			;;
		*)
			! grep -q "^$opt=" "$obj/.config" || missing="$missing $opt=n"
			;;
		esac
	done
	if [ -n "$missing" ]; then
		echo "$PROG: options dropped by olddefconfig (unmet dependencies?):" >&2
		for line in $missing; do echo "    $line" >&2; done
		die "$NAME/$variant: kernel configuration incomplete"
	fi
}

configure() {
	info "configuring $NAME/$variant: tinyconfig + $(echo $frags | sed "s|$TOP/||g")"
	kmake -s tinyconfig >/dev/null
	(cd "$obj" && ARCH=$KARCH CROSS_COMPILE=$CROSS_COMPILE \
		"$tree/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" $frags) \
		>"$obj/merge_config.log" 2>&1 || { cat "$obj/merge_config.log" >&2; die "merge_config.sh failed"; }
	kmake -s olddefconfig >/dev/null
	verify_config
	cat $frags | md5sum >"$obj/.cowswap-config"
}

if [ ! -f "$obj/.config" ] || ! cat $frags | md5sum | cmp -s - "$obj/.cowswap-config"; then
	configure
else
	verify_config
fi
if [ "${CONFIGURE_ONLY:-0}" = 1 ]; then
	info "$NAME/$variant: configuration in ${obj#$TOP/} has every option of the fragments"
	exit 0
fi

info "building $NAME/$variant in ${obj#$TOP/} with -j$jobs ($cc); log: ${obj#$TOP/}/build.log"
t0=$(date +%s)
# In its own process group, so that an interruption stops the compilers
# too, not only make.
# shellcheck disable=SC2086
# setsid gives the build its own scheduling autogroup, in which a plain
# nice level counts for nothing against other sessions' builds: carry
# this process's nice level over to the group ('nice -n 10 build.sh'
# then really gives way to a build at nice 0).
niceness=$(nice)
# Without TARGETS, what the record boots: a record that boots vmlinux
# needs no boot wrapper, and 6.12's e500 one does not even link with our
# configuration (cuImage.mpc8544ds: no decompressor for __decompress).
boots=
[ "$KERNEL_IMAGE" != vmlinux ] || boots=vmlinux
setsid bash -c 'echo "$1" >/proc/self/autogroup 2>/dev/null; shift; exec "$@"' _ "$niceness" \
	make "${kargs[@]}" -j"$jobs" ${TARGETS:-$boots} >"$obj/build.log" 2>&1 &
pid=$!
# Progress: one line every 30 seconds instead of the full make output.
interrupted=
stop_make() {
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
}
trap stop_make EXIT
trap 'interrupted=1; stop_make' INT TERM HUP
while kill -0 $pid 2>/dev/null; do
	for _ in $(seq 30); do
		kill -0 $pid 2>/dev/null || break
		sleep 1
	done
	kill -0 $pid 2>/dev/null || break
	info "  ... $NAME/$variant: $(($(date +%s) - t0))s, $(grep -c '^  CC' "$obj/build.log" || true) objects compiled, last: $(grep '^  [A-Z]' "$obj/build.log" | tail -1 | awk '{print $2}')"
done
rc=0
wait $pid || rc=$?
trap - EXIT INT TERM HUP
# make removes the targets it was building when killed (kbuild uses
# .DELETE_ON_ERROR), so a rerun simply carries on.
[ -z "$interrupted" ] ||
	die "$NAME/$variant: build interrupted after $(($(date +%s) - t0))s; rerun to carry on from where it stopped"
if [ $rc -ne 0 ]; then
	grep -E 'error|Error' "$obj/build.log" | head -20 >&2 || true
	die "$NAME/$variant: kernel build failed (exit $rc), see $obj/build.log"
fi
grep -E '(^|[^-])[Ww]arning:' "$obj/build.log" | head -5 >&2 || true
if [ -n "${TARGETS:-}" ]; then
	info "$NAME/$variant: built $TARGETS in $(($(date +%s) - t0))s"
	exit 0
fi
[ -f "$obj/$KERNEL_IMAGE" ] || die "$NAME/$variant: build finished but $KERNEL_IMAGE is missing"
info "$NAME/$variant: built $KERNEL_IMAGE in $(($(date +%s) - t0))s"

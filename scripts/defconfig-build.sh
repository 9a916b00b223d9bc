#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# defconfig-build.sh [record...]: the 6.1-LTS series on the kernel's own
# configurations, not only our tinyconfig-based ones. For every LTS
# record (default: all of them, build-only ones included) and every
# configuration in its DEFCONFIGS field:
#
#   1. the "fixed" tree (stock + patches/lts-6.1) configured with that
#      defconfig and its vmlinux built (modules are not: they compile the
#      same headers the built-in code does, at many times the cost);
#   2. the files that see the series most directly (mm/memory.o,
#      mm/swapfile.o, mm/rmap.o, mm/mprotect.o, mm/swap_state.o and the
#      architecture's arch/<arch>/mm/) compiled with W=1 in both the stock
#      and the fixed tree; a warning the fixed tree has and stock has not
#      (same file and message, line numbers ignored: the series moves
#      lines) fails the configuration.
#
# A DEFCONFIGS entry is a make target of the kernel ("multi_v7_defconfig"),
# optionally with options switched on after it: "multi_v7_defconfig+ARM_LPAE"
# (6.1 has no LPAE defconfig) or "i386_defconfig+HIGHMEM64G" (PAE).
#
# Output: $OUT/defconfig/<record>-<config>-{stock,fixed}/ (kept: an
# interrupted run continues where make stopped), and
# $OUT/results/$RUN_ID/defconfig.json plus defconfig.md, the table
# (scripts/cowswap/defconfig.py) of every configuration done under that
# RUN_ID so far: a configuration done again replaces its row.
# Hours on two cores for all records: nightly tier.
# Environment: RUN_ID, JOBS, NICE=15, DEFCONFIGS_ONLY=<entry> (one
# configuration of the one record given), DEFCONFIG_VMLINUX=0 (the W=1
# comparison only, minutes instead of tens of minutes: CI's short form).
. "$(dirname "$0")/lib/lib.sh"

RUN_ID=${RUN_ID:-defconfig-$(date -u +%Y%m%d-%H%M)}
res=$OUT/results/$RUN_ID
jobs=${JOBS:-$(nproc)}
nice=${NICE:-15}
if [ $# = 0 ]; then
	for f in "$TOP"/configs/arch/*.conf "$TOP"/configs/arch/build-only/*.conf; do
		grep -q '^SERIES=lts-6.1' "$f" && grep -q '^DEFCONFIGS=' "$f" && set -- "$@" "$(basename "$f" .conf)"
	done
fi
[ $# -gt 0 ] || die "no LTS record has DEFCONFIGS"
for tree in upstream fixed; do
	[ -f "$TREES/$tree/Makefile" ] || die "no $tree tree; run 'make trees' and 'scripts/mktrees.sh fixed' first"
done
mkdir -p "$res"
need_space "$OUT" 4096 "a defconfig build"

W1_OBJS="mm/memory.o mm/swapfile.o mm/rmap.o mm/mprotect.o mm/swap_state.o"

# configure <tree> <dir> <entry>: <dir>/.config from the entry.
configure() {
	local tree=$1 dir=$2 entry=$3 target opt
	target=${entry%%+*}
	mkdir -p "$dir"
	kmake "$tree" "$dir" "$target" >"$dir/config.log" 2>&1 ||
		{ tail -5 "$dir/config.log" >&2; return 1; }
	if [ "$target" != "$entry" ]; then
		for opt in $(echo "${entry#*+}" | tr '+' ' '); do
			"$TREES/$tree/scripts/config" --file "$dir/.config" --enable "$opt"
		done
		kmake "$tree" "$dir" olddefconfig >>"$dir/config.log" 2>&1 || return 1
		for opt in $(echo "${entry#*+}" | tr '+' ' '); do
			grep -qx "CONFIG_$opt=y" "$dir/.config" || {
				echo "$PROG: $entry: CONFIG_$opt did not survive olddefconfig" >&2
				return 1
			}
		done
	fi
}

kmake() {
	local tree=$1 dir=$2
	shift 2
	nice -n "$nice" make -C "$TREES/$tree" O="$dir" ARCH="$KARCH" CROSS_COMPILE="$CROSS_COMPILE" \
		-j"$jobs" "$@"
}

# w1 <tree> <dir>: the W=1 warnings of the files the series touches
# most, one "file: message" per line, line numbers dropped.
w1() {
	local tree=$1 dir=$2 src
	src=$(cd "$TREES/$tree" && pwd -P)
	kmake "$tree" "$dir" prepare >"$dir/prepare.log" 2>&1 ||
		{ tail -5 "$dir/prepare.log" >&2; return 1; }
	# shellcheck disable=SC2086
	# Compiled again every time: an object make finds up to date
	# prints no warnings.
	(cd "$dir" && rm -f $W1_OBJS && { [ ! -d "arch/$SRCARCH/mm" ] ||
		find "arch/$SRCARCH/mm" -name '*.o' -delete; })
	# -Wno-error: defconfigs with CONFIG_WERROR would stop at the first
	# W=1 warning; here every warning is counted instead.
	# shellcheck disable=SC2086 # W1_OBJS is a list
	kmake "$tree" "$dir" W=1 KCFLAGS=-Wno-error $W1_OBJS "arch/$SRCARCH/mm/" >"$dir/w1.log" 2>&1 ||
		{ tail -5 "$dir/w1.log" >&2; return 1; }
	{ grep -E ': warning: ' "$dir/w1.log" || true; } |
		sed -E "s|^$src/||; s|^\.\./||; s|:[0-9]+:[0-9]+: warning: |: |; s|:[0-9]+: warning: |: |" |
		sort -u >"$dir/w1.warnings"
}

# The run's table grows: a configuration done again under the same
# RUN_ID replaces its row, the others stay (the W=1 comparison of every
# record first, then one vmlinux after another, across sittings).
touch "$res/rows.tsv"
failed=0
total=0
for rec in "$@"; do
	load_arch "$rec"
	[ "$SERIES" = lts-6.1 ] || die "$rec is not a 6.1-LTS record (SERIES=lts-6.1)"
	[ -n "$DEFCONFIGS" ] || die "$rec: no DEFCONFIGS in its record"
	[ -z "${DEFCONFIGS_ONLY:-}" ] || DEFCONFIGS=$DEFCONFIGS_ONLY
	need_cmd "${CROSS_COMPILE}gcc"
	case $KARCH in
	i386 | x86_64) SRCARCH=x86 ;;
	*) SRCARCH=$KARCH ;;
	esac
	for entry in $DEFCONFIGS; do
		total=$((total + 1))
		slug=$(echo "$entry" | tr '+' '-')
		base=$OUT/defconfig/$rec-$slug
		rm -f "$base-stock/w1.warnings" "$base-fixed/w1.warnings"
		info "[$total] $rec $entry: stock W=1 files"
		t0=$(date +%s)
		build=fail new=
		if configure upstream "$base-stock" "$entry" && w1 upstream "$base-stock" &&
			info "[$total] $rec $entry: fixed W=1 files" &&
			configure fixed "$base-fixed" "$entry" && w1 fixed "$base-fixed"; then
			new=$(comm -13 "$base-stock/w1.warnings" "$base-fixed/w1.warnings")
			if [ "${DEFCONFIG_VMLINUX:-1}" = 0 ]; then
				build=skipped
			else
				info "[$total] $rec $entry: fixed vmlinux (log ${base#"$OUT"/}-fixed/vmlinux.log; tens of minutes)"
			fi
			if [ "$build" = skipped ]; then
				:
			elif kmake fixed "$base-fixed" vmlinux >"$base-fixed/vmlinux.log" 2>&1; then
				build=ok
			else
				tail -5 "$base-fixed/vmlinux.log" >&2
			fi
		fi
		secs=$(($(date +%s) - t0))
		nstock=- nfixed=-
		[ ! -f "$base-stock/w1.warnings" ] || nstock=$(wc -l <"$base-stock/w1.warnings")
		[ ! -f "$base-fixed/w1.warnings" ] || nfixed=$(wc -l <"$base-fixed/w1.warnings")
		nnew=$(printf '%s' "$new" | grep -c . || true)
		verdict=pass
		if [ "$build" = fail ] || [ "$nnew" != 0 ]; then
			verdict=fail
			failed=$((failed + 1))
		fi
		info "[$total] $rec $entry: vmlinux $build, W=1 warnings stock $nstock fixed $nfixed new $nnew: $verdict (${secs}s)"
		[ -z "$new" ] || printf '    new: %s\n' "$new" >&2
		printf '%s\n' "$new" | sed '/^$/d' >"$res/$rec-$slug.new"
		awk -F'\t' -v r="$rec" -v e="$entry" '!($1 == r && $3 == e)' "$res/rows.tsv" >"$res/rows.tsv.new"
		mv "$res/rows.tsv.new" "$res/rows.tsv"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rec" "$KARCH" "$entry" "$build" \
			"$nstock" "$nfixed" "$verdict" "$secs" >>"$res/rows.tsv"
	done
done
PYTHONPATH=$TOP/scripts python3 -m cowswap.defconfig "$res" \
	"$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)" \
	"$W1_OBJS arch/<arch>/mm/"
[ "$failed" = 0 ] || die "$failed of $total configuration(s) failed; see $res/defconfig.json"
info "PASS: $total configuration(s) build with the series and add no W=1 warning"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sparse-check.sh [--existing] [arch...]: run sparse (make C=2, Debian's
# sparse) over the objects the series can change, in the series' base
# tree and in the patched tree, and fail when the patched tree has a
# warning the base does not have. Default: every record.
# sparse-check.sh --compare <base log> <patched log>: only compare two
# sparse outputs (what the tooling test feeds it).
#
# Pairs: a main-series record compares baseline with patched, a 6.1-LTS
# record (SERIES=lts-6.1) stock with fixed. Records with the same
# lib.sh sources_key (ppc64le-hash boots ppc64le's kernel,
# x86_64-preempt declares SOURCES_AS=x86_64.config) are checked once, as
# in bisect-build.sh.
#
# Objects: every .c file that differs between the two trees' commits,
# plus the objects that expand the swap PTE helpers of the headers the
# series changes (see HELPER_USERS below), the ones the configuration
# builds.
#
# Build directories: a finished $BUILDS/<build>-<variant> (its kernel
# image there, no make running with that O=, configured from the
# current fragments) is reused: make C=2 <objects> re-runs only sparse,
# nothing is recompiled. Otherwise a scratch directory
# $OUT/scratch/sparse/<build>-<variant> is configured by build.sh (same
# code as every build) and given 'make prepare' and the objects, which
# is what it costs. --existing skips such records instead.
#
# Warnings are compared as multisets of "file: warning: message" with
# line and column numbers and the tree's path removed (sparse's
# "expected ... / got ..." continuation lines are kept with their
# warning). Table and details: $OUT/results/sparse/<date>.md.
. "$(dirname "$0")/lib/lib.sh"

# The headers of both series (arch pgtable headers, include/linux/
# pgtable.h, swapops.h) change inline swap PTE helpers (pte_swp_*
# exclusive, the swap entry encoding, pte_swp_clear_flags), and sparse
# only looks at a header where a .c file includes it. These files expand
# the helpers: memory.c (do_swap_page, copy_nonpresent_pte, zap),
# swapfile.c (unuse_pte), rmap.c (try_to_unmap_one), debug_vm_pgtable.c
# (the helpers' own tests), swap_state.c (swap readahead walks swap
# PTEs), madvise.c (MADV_COLD/PAGEOUT and MADV_WILLNEED on swap
# entries), mprotect.c (uffd-wp changes on swap PTEs), huge_memory.c
# (THP split into swap/migration PTEs).
HELPER_USERS="mm/memory.o mm/swapfile.o mm/rmap.o mm/debug_vm_pgtable.o mm/swap_state.o
mm/madvise.o mm/mprotect.o mm/huge_memory.o"

# normalise <raw log> [path prefix...]: one line per sparse diagnostic,
# "<file>: warning|error: <message>[ | <continuation>...]", with the
# prefixes (tree, build directory) and "./" removed from file names.
# make's own lines and the compiler's on <stdin> (checksyscalls.sh, which
# every make in the directory runs) are left out.
normalise() {
	local log=$1
	shift
	awk -v prefixes="$*" '
	BEGIN { np = split(prefixes, pre, " ") }
	function flush() { if (rec != "") print rec; rec = "" }
	function strip(f,   i) {
		for (i = 1; i <= np; i++)
			if (index(f, pre[i] "/") == 1) { f = substr(f, length(pre[i]) + 2); break }
		sub(/^(\.\/)+/, "", f)
		return f
	}
	match($0, /^[^ :]+:[0-9]+:[0-9]+: /) {
		file = $0; sub(/:[0-9]+:[0-9]+: .*/, "", file)
		rest = substr($0, RLENGTH + 1)
		if (file == "<stdin>") {
			# the compiler on scripts/checksyscalls.sh, not sparse
			flush()
		} else if (rest ~ /^(warning|error): /) {
			flush()
			rec = strip(file) ": " rest
		} else if (rec != "") {
			gsub(/^[ \t]+/, "", rest)
			rec = rec " | " rest
		}
		next
	}
	{ flush() }
	END { flush() }' "$log"
}

# compare <base.norm> <patched.norm> <out prefix>: writes <out>.new (in
# patched more often than in base, once per extra occurrence) and
# <out>.gone (the reverse). Returns 1 when <out>.new is not empty.
compare() {
	local b=$1 p=$2 o=$3
	awk -v out="$o" '
	FNR == NR { base[$0]++; next }
	{ patched[$0]++ }
	END {
		for (k in patched)
			for (i = base[k]; i < patched[k]; i++) print k > (out ".new")
		for (k in base)
			for (i = patched[k]; i < base[k]; i++) print k > (out ".gone")
	}' "$b" "$p"
	touch "$o.new" "$o.gone"
	sort -o "$o.new" "$o.new"
	sort -o "$o.gone" "$o.gone"
	[ ! -s "$o.new" ]
}

# --compare: two raw sparse outputs, no kernel involved.
if [ "${1:-}" = --compare ]; then
	[ $# -eq 3 ] || die "usage: $PROG --compare <base log> <patched log>"
	for f in "$2" "$3"; do [ -r "$f" ] || die "cannot read '$f'"; done
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/cowswap-sparse.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	normalise "$2" >"$tmp/base"
	normalise "$3" >"$tmp/patched"
	rc=0
	compare "$tmp/base" "$tmp/patched" "$tmp/cmp" || rc=1
	sed 's/^/gone: /' "$tmp/cmp.gone"
	sed 's/^/NEW: /' "$tmp/cmp.new"
	summary="$(wc -l <"$tmp/base") in base, $(wc -l <"$tmp/patched") in patched, $(wc -l <"$tmp/cmp.new") new, $(wc -l <"$tmp/cmp.gone") gone"
	[ $rc = 0 ] || die "the patched side has new sparse warnings ($summary)"
	info "no new sparse warning ($summary)"
	exit 0
fi

cmdline="$PROG${*:+ $*}"
existing=0
if [ "${1:-}" = --existing ]; then
	existing=1
	shift
fi
case ${1:-} in -*) die "usage: $PROG [--existing] [arch...] | --compare <base log> <patched log>" ;; esac
[ $# -gt 0 ] || mapfile -t archs < <(ARCHS_ALL)
[ $# -eq 0 ] || archs=("$@")
need_cmd sparse git make awk

# One check per set of sources (lib.sh's sources_key, as in
# bisect-build.sh); the records that share it are named in the row.
# The record checked is the plainest of its group: fewest fragments, and
# its own build directory (x86_64 rather than x86_64-preempt, ppc64le
# rather than ppc64le-hash).
declare -A also=() rep=() rank=()
keys=()
for a in "${archs[@]}"; do
	load_arch "$a"
	key=$(sources_key)
	# shellcheck disable=SC2086
	r=$(($(echo $KCONFIG | wc -w) * 2))
	[ "$BUILD" = "$a" ] || r=$((r + 1))
	if [ -z "${rep[$key]+set}" ]; then
		keys+=("$key")
		rep[$key]=$a rank[$key]=$r also[$key]=
	elif [ "$r" -lt "${rank[$key]}" ]; then
		also[$key]="${also[$key]} ${rep[$key]}"
		rep[$key]=$a rank[$key]=$r
	else
		also[$key]="${also[$key]} $a"
	fi
done
records=()
for key in "${keys[@]}"; do records+=("${rep[$key]}"); done

# obj_built <tree> <.config> <dir/file.o>: whether the configuration
# builds the object, from the line of <dir>/Makefile that names it
# (continuation lines joined): "obj-y" always, "<anything>-$(CONFIG_FOO)"
# when CONFIG_FOO is y; any other line (mm's "mmu-y := nommu.o") or none:
# not built. Nesting (ifdef) is not followed, so a reused build directory
# must also have the .o (see below).
obj_built() {
	local tree=$1 config=$2 o=$3 lhs sym
	[ -f "$tree/$(dirname "$o")/Makefile" ] || return 1
	lhs=$(awk -v o="$(basename "$o")" '
		{ if (sub(/\\$/, "")) { buf = buf $0 " "; next } $0 = buf $0; buf = "" }
		{ for (i = 2; i <= NF; i++) if ($i == o) { print $1; exit } }' \
		"$tree/$(dirname "$o")/Makefile")
	# shellcheck disable=SC2016
	case $lhs in
	obj-y | obj-y+=) return 0 ;;
	*'-$(CONFIG_'*')'*) sym=${lhs#*-\$(} sym=${sym%%)*} ;;
	*) return 1 ;;
	esac
	grep -qx "$sym=y" "$config"
}

# frags_sum: what build.sh records in .cowswap-config for a record
# built without FRAGMENTS_EXTRA.
frags_sum() {
	local k frags="$TOP/configs/common.config"
	for k in $KCONFIG; do frags="$frags $TOP/configs/$k"; done
	# shellcheck disable=SC2086
	cat $frags | md5sum
}

# reusable <dir>: a finished build of the current fragments.
reusable() {
	[ -f "$1/$KERNEL_IMAGE" ] && [ -f "$1/.cowswap-config" ] || return 1
	! pgrep -f "O=$1( |\$)" >/dev/null || return 1
	frags_sum | cmp -s - "$1/.cowswap-config"
}

# prepare_scratch <arch> <variant> <dir>: configure and prepare a
# scratch build directory through build.sh.
prepare_scratch() {
	info "$1/$2: no finished build directory, preparing ${3#"$TOP"/} (tinyconfig + fragments, make prepare)"
	O=$3 TARGETS=prepare "$TOP/scripts/build.sh" "$1" "$2"
}

# run_sparse <tree> <dir> <log> <objects...>: make C=2 over the objects,
# which are up to date, so only sparse runs. CC must be the one the
# objects were compiled with (kbuild would recompile them for another
# command line): taken from the first object's .cmd file.
run_sparse() {
	local tree=$1 dir=$2 log=$3 cmdf cc rc=0 stamp rebuilt t0=$SECONDS
	shift 3
	cmdf=$dir/$(dirname "$1")/.$(basename "$1").cmd
	[ -f "$cmdf" ] || die "$cmdf missing: $1 was never compiled in ${dir#"$TOP"/}"
	cc=$(sed -n '1{s/^\(saved\)\{0,1\}cmd_[^ ]* := //; s/ -.*//; p}' "$cmdf")
	[ -n "$cc" ] || die "cannot tell the compiler from $cmdf"
	stamp=$(mktemp "${TMPDIR:-/tmp}/cowswap-sparse-stamp.XXXXXX")
	info "  sparse over $# objects in ${dir#"$TOP"/} (CC=$cc)"
	# CHECK: sparse through scripts/sparse-march.sh, which takes riscv's
	# multi-letter extensions off -march (sparse 0.6.4 refuses them).
	make -k -C "$tree" O="$dir" ARCH="$KARCH" CROSS_COMPILE="$CROSS_COMPILE" CC="$cc" \
		C=2 CHECK="$TOP/scripts/sparse-march.sh" -j"${JOBS:-$(nproc)}" --output-sync=target "$@" >"$log" 2>&1 || rc=$?
	rebuilt=$(find "$dir" -name '*.o' -newer "$stamp" | head -3 | tr '\n' ' ')
	rm -f "$stamp"
	[ -z "$rebuilt" ] || info "  warning: make rebuilt objects in ${dir#"$TOP"/}: $rebuilt"
	info "  ... sparse done in $((SECONDS - t0))s (make exit $rc)"
	return $rc
}

# failure_reason <log>: what sparse said when it gave up (the first line
# that is neither make's nor a diagnostic, with the file it was
# checking), else make's first error.
failure_reason() {
	{
		awk '/^  CHECK / { f = $2; next }
			/^make|^  [A-Z0-9]+ |^[[:space:]]*$|^[^ :]+:[0-9]+:[0-9]+: |: note: / { next }
			{ print "sparse on " f ": " $0; found = 1; exit }
			END { exit !found }' "$1" ||
			grep -m1 -E '^make.*(Error|\*\*\*)' "$1" || tail -1 "$1"
	} | sed "s|$TOP/out/trees/[^/]*/||g; s|$TOP/||g" | cut -c1-160
}

day=$(date -u +%Y%m%d-%H%M%S)
res=$OUT/results/sparse
logs=$res/$day
mkdir -p "$logs"
report=$res/$day.md
rows=()
details=()
fail='' limited='' skipped=''

for a in "${records[@]}"; do
	load_arch "$a"
	key=$(sources_key)
	label=$a${also[$key]:+ (also${also[$key]})}
	if [ -n "$SERIES" ]; then bv=stock pv=fixed; else bv=baseline pv=patched; fi
	t0=$(date +%s)
	info ">>> $label: $bv vs $pv"
	# Each record in a subshell: one record's error (no compiler, no tree)
	# is its row, and the others still run.
	set +e
	row=$(
		set -e
		# die also leaves its message as the row's last line.
		die() {
			echo "ERROR: $*"
			echo "$PROG: error: $*" >&2
			exit 1
		}
		btree=$TREES/$(tree_of $bv) ptree=$TREES/$(tree_of $pv)
		for t in "$btree" "$ptree"; do
			[ -e "$t/.git" ] || die "no tree ${t#"$TOP"/}; run 'scripts/mktrees.sh $(basename "$t")' first"
		done
		need_cmd "${CROSS_COMPILE}gcc"
		# The .c files the series touches (not the selftest's, under tools/).
		touched=$(git -C "$ptree" diff --name-only "$(git -C "$btree" rev-parse HEAD)" HEAD -- '*.c' |
			{ grep -vE '^(tools|scripts|samples|Documentation|usr)/' || true; } | sed 's/\.c$/.o/')
		how=
		declare -A dirs=()
		for v in $bv $pv; do
			d=$(realpath -m "$BUILDS/$BUILD-$v")
			if reusable "$d"; then
				how="$how $v:reused"
			elif [ $existing = 1 ]; then
				echo "| $label | skipped: no finished build directory ${d#"$TOP"/} (--existing) | | | | |"
				exit 0
			else
				d=$OUT/scratch/sparse/$BUILD-$v
				prepare_scratch "$a" "$v" "$d" >&2 || die "cannot prepare ${d#"$TOP"/}"
				how="$how $v:scratch"
			fi
			dirs[$v]=$d
		done
		objs=
		# shellcheck disable=SC2086
		for o in $(printf '%s\n' $touched $HELPER_USERS | sort -u); do
			obj_built "$ptree" "${dirs[$pv]}/.config" "$o" || continue
			objs="$objs $o"
		done
		[ -n "$objs" ] || die "the configuration builds none of: $touched $HELPER_USERS"
		echo "OBJS:$objs"
		for v in $bv $pv; do
			d=${dirs[$v]}
			case $how in
			*" $v:scratch"*)
				# shellcheck disable=SC2086
				O=$d TARGETS="${objs# }" "$TOP/scripts/build.sh" "$a" "$v" >&2 ||
					die "cannot compile the objects in ${d#"$TOP"/}"
				;;
			*)
				for o in $objs; do
					[ -f "$d/$o" ] || die "the configuration builds $o but ${d#"$TOP"/} has none"
				done
				;;
			esac
		done
		brc=0 prc=0
		# shellcheck disable=SC2086
		run_sparse "$btree" "${dirs[$bv]}" "$logs/$BUILD-$bv.log" $objs || brc=$?
		# shellcheck disable=SC2086
		run_sparse "$ptree" "${dirs[$pv]}" "$logs/$BUILD-$pv.log" $objs || prc=$?
		normalise "$logs/$BUILD-$bv.log" "$btree" "${dirs[$bv]}" >"$logs/$BUILD-$bv.txt"
		normalise "$logs/$BUILD-$pv.log" "$ptree" "${dirs[$pv]}" >"$logs/$BUILD-$pv.txt"
		note=
		verdict=ok
		# Sparse failing on the base too (e.g. an option it cannot parse)
		# is the tool's limit, not the series': the row says so instead
		# of "ok", and fails only if a new warning shows all the same.
		if [ $brc != 0 ]; then
			verdict="sparse fails on base too: $(failure_reason "$logs/$BUILD-$bv.log")"
			[ $prc != 0 ] || verdict="sparse fails on $bv only: $(failure_reason "$logs/$BUILD-$bv.log")"
		elif [ $prc != 0 ]; then
			verdict=FAIL
			note="sparse fails on $pv only: $(failure_reason "$logs/$BUILD-$pv.log")"
		fi
		compare "$logs/$BUILD-$bv.txt" "$logs/$BUILD-$pv.txt" "$logs/$BUILD" || verdict=FAIL
		nb=$(wc -l <"$logs/$BUILD-$bv.txt") np=$(wc -l <"$logs/$BUILD-$pv.txt")
		nn=$(wc -l <"$logs/$BUILD.new") ng=$(wc -l <"$logs/$BUILD.gone")
		[ "$nn" = 0 ] || note="${note:+$note; }new: $(head -1 "$logs/$BUILD.new" | cut -c1-200)"
		[ "$ng" = 0 ] || note="${note:+$note; }$ng fewer in $pv"
		# shellcheck disable=SC2086
		echo "| $label | $bv/$pv, $(echo $objs | wc -w) objects,$how | $nb | $np | $nn | $verdict${note:+: $note} |"
	)
	rc=$?
	set -e
	objs_line=$(printf '%s\n' "$row" | sed -n 's/^OBJS: *//p')
	[ -z "$objs_line" ] || details+=("- $label: $objs_line")
	if [ $rc != 0 ]; then
		row="| $label | error: $(printf '%s\n' "$row" | sed -n 's/^ERROR: //p' | tail -1) | | | | FAIL |"
	else
		row=$(printf '%s\n' "$row" | tail -1)
	fi
	case $row in
	*"| FAIL"*) fail="$fail $a" ;;
	*"| sparse fails on "*) limited="$limited $a" ;;
	*"| skipped: "*) skipped="$skipped $a" ;;
	esac
	rows+=("$row")
	info "<<< $label: $(($(date +%s) - t0))s: $row"
done

{
	echo "# sparse over the files the series touches: base vs patched ($day)"
	echo
	echo "\`scripts/$cmdline\` ($(sparse --version 2>&1 | head -1), make C=2; objects: the"
	echo "series' .c files and the swap PTE helpers' users the configuration builds)"
	echo
	echo "| record | pair, objects, build dirs | base | patched | new | verdict |"
	echo "|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	if [ ${#details[@]} -gt 0 ]; then
		echo
		echo "Objects checked:"
		echo
		printf '%s\n' "${details[@]}"
	fi
	for f in "$logs"/*.new "$logs"/*.gone; do
		[ -s "$f" ] || continue
		echo
		case $f in
		*.new) echo "## $(basename "$f" .new): new in the patched tree" ;;
		*) echo "## $(basename "$f" .gone): gone in the patched tree" ;;
		esac
		echo
		sed 's/^/    /' "$f"
	done
} >"$report"
cp "$report" "$OUT/sparse.md"
echo
sed -n '/^| record/,/^$/p' "$report"
echo
[ -z "$fail" ] || die "FAILED:$fail: a new sparse warning, or sparse could not run (see ${report#"$TOP"/}, logs in ${logs#"$TOP"/})"
info "no new sparse warning in any record sparse checked (${report#"$TOP"/})${limited:+; sparse cannot check:$limited}${skipped:+; skipped:$skipped}"

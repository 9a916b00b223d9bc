#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# apply-series.sh <kernel-tree> <baseline|series|dir>: apply patches/baseline,
# the cowswap series (patches/) or another quilt directory to a tree of your own with quilt,
# refusing to touch a tree that is not 6.1, has local changes or already
# carries the patches. Nothing is left half-applied: on failure every
# patch quilt pushed is popped again. 'quilt pop -a' in the tree undoes
# a successful run (QUILT_PATCHES is printed).
. "$(dirname "$0")/lib/lib.sh"

[ $# -eq 2 ] || die "usage: $PROG <kernel-tree> <baseline|series|quilt-dir>"
tree=$1
case $2 in
baseline) pdir=$TOP/patches/baseline ;;
series) pdir=$TOP/patches ;;
*) [ -f "$2/series" ] || die "unknown patch set '$2' (baseline, series or a quilt directory)"
	pdir=$(cd "$2" && pwd) ;;
esac
need_cmd quilt patch
[ -d "$tree" ] || die "'$tree' is not a directory"
tree=$(cd "$tree" && pwd)
[ -f "$tree/Makefile" ] && [ -f "$tree/mm/memory.c" ] || die "'$tree' is not a Linux source tree"
v=$(sed -n 's/^VERSION = //p;s/^PATCHLEVEL = /./p' "$tree/Makefile" | head -2 | tr -d '\n')
[ "$v" = 6.1 ] || die "'$tree' is Linux $v, the patches are for 6.1"
[ -f "$pdir/series" ] || die "$pdir/series missing"
first=$(grep -v -e '^#' -e '^$' "$pdir/series" | head -1 || true)
if [ -z "$first" ]; then
	info "$2: the series is empty, nothing to apply"
	exit 0
fi

if [ -d "$tree/.pc" ] && [ -s "$tree/.pc/applied-patches" ]; then
	die "'$tree' already has quilt patches applied ($(wc -l <"$tree/.pc/applied-patches")); 'quilt pop -a' first"
fi
if patch -d "$tree" -p1 -R --dry-run -s -f <"$pdir/$first" >/dev/null 2>&1; then
	die "'$tree' already contains $first; refusing to apply it twice"
fi

# Checked last: an already patched tree is also a dirty one, and the
# more precise message wins.
if git -C "$tree" rev-parse --git-dir >/dev/null 2>&1; then
	[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
		die "'$tree' has uncommitted changes; refusing to patch it"
fi
mkdir -p "$OUT"
export QUILT_PATCHES=$pdir QUILT_PC=.pc
info "applying $(grep -cv -e '^#' -e '^$' "$pdir/series") patches from ${pdir#$TOP/} to $tree (quilt, no fuzz)"
if ! (cd "$tree" && quilt push -a -q --fuzz=0 >"$OUT/quilt.log" 2>&1); then
	cat "$OUT/quilt.log" >&2
	(cd "$tree" && quilt pop -a -q -f >/dev/null 2>&1 || true)
	[ -s "$tree/.pc/applied-patches" ] || rm -rf "$tree/.pc"
	die "$(grep -m1 -o 'Patch [^ ]* does not apply' "$OUT/quilt.log" || echo 'quilt push failed'); tree restored"
fi
info "applied; undo with: cd $tree && QUILT_PATCHES=$pdir quilt pop -a"

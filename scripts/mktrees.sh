#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mktrees.sh [variant...]: create or refresh the kernel trees.
#
#   upstream  $TREES/upstream  Debian's 6.1 as shipped (reference, control)
#   baseline  $TREES/baseline  upstream + patches/baseline (pre-fix kernel)
#   patched   $TREES/patched   baseline + patches/series (our fix)
#   mutant    $TREES/mutant    patched + patches/mutants (only when asked)
#   fixed     $TREES/fixed     upstream + patches/lts-6.1 (the 6.1-LTS series
#                              for the other architectures; only when asked)
#   stock     the upstream tree itself (the 6.1-LTS records' control)
#   v6.12     $TREES/v6.12     Debian 13's 6.12 as shipped (cowswap/v6.12 of
#                              'scripts/get-source.sh 6.12'; only when asked)
#   distro-6.1.N/stock, distro-6.1.N/fixed  $TREES/distro-6.1.N/{stock,fixed}
#                              another 6.1 point release as Debian ships it
#                              (cowswap/debian-6.1.N of 'scripts/get-source.sh
#                              6.1 <Debian version>'), and it + patches/lts-6.1:
#                              the trees of a distribution record whose Debian
#                              kernel is that release (scripts/lib/distro-fix.sh;
#                              only when asked)
#
# All three are git worktrees of $OUT/src/linux.git, so patches become
# commits (git log, git bisect work in them). A tree with local changes
# is never touched. A tree that already carries the current patches is
# left alone (its files keep their timestamps, builds stay incremental).
# If a patch does not apply, the tree is put back where it was.
. "$(dirname "$0")/lib/lib.sh"

need_cmd git
git --git-dir="$SRC_GIT" rev-parse -q --verify cowswap/upstream >/dev/null 2>&1 ||
	die "no imported kernel source; run 'make source' (scripts/get-source.sh) first"

export GIT_AUTHOR_NAME=cowswap GIT_AUTHOR_EMAIL=cowswap@localhost
export GIT_COMMITTER_NAME=cowswap GIT_COMMITTER_EMAIL=cowswap@localhost
export GIT_COMMITTER_DATE="2022-01-01T00:00:00Z"

# series_files <dir>: the patch files a quilt series file lists, in order.
series_files() {
	local dir=$1 line
	[ -f "$dir/series" ] || return 0
	while read -r line _; do
		case "$line" in
		"" | "#"*) continue ;;
		esac
		[ -f "$dir/$line" ] || die "$dir/series lists '$line', which does not exist"
		echo "$dir/$line"
	done <"$dir/series"
}

# is_distro_tree <variant>: one of the per-release trees distro-6.1.N/*.
is_distro_tree() {
	[[ $1 =~ ^distro-6\.1\.[0-9]+/(stock|fixed)$ ]]
}

# meta_of <variant>: the prefix of the variant's bookkeeping files in
# $TREES (.<variant>.stamp, .applied, ...; a / of the name becomes -).
meta_of() {
	echo "$TREES/.${1//\//-}"
}

# variant_base <variant>: the tree each variant starts from;
# variant_patches <variant>: its patches.
variant_base() {
	case $1 in
	distro-*) local r=${1%/*}; echo "cowswap/debian-${r#distro-}" ;;
	upstream) echo cowswap/upstream ;;
	baseline) echo cowswap/upstream ;;
	patched) echo cowswap/baseline ;;
	mutant) echo cowswap/patched ;;
	fixed) echo cowswap/upstream ;;
	v6.12) echo cowswap/v6.12 ;;
	esac
}
variant_patches() {
	case $1 in
	upstream) ;;
	baseline) series_files "$TOP/patches/baseline" ;;
	patched) series_files "$TOP/patches" ;;
	mutant) series_files "$TOP/patches/mutants" ;;
	fixed | distro-*/fixed) series_files "$TOP/patches/lts-6.1" ;;
	esac
}

# keep_mtimes <tree> <old commit> <list>: every file of <list> ("<mtime>
# <path>" lines) whose content in the tree is what it was at <old commit>
# gets its old mtime back.
keep_mtimes() {
	local wt=$1 old=$2 list=$3 t f kept=0
	[ -s "$list" ] || return 0
	while read -r t f; do
		git -C "$wt" diff --quiet "$old" -- "$f" 2>/dev/null || continue
		touch -m -d "@$t" "$wt/$f" && kept=$((kept + 1))
	done <"$list"
	rm -f "$list"
	[ "$kept" = 0 ] || info "kept the timestamps of $kept unchanged files in ${wt#$TOP/}"
}

# record_applied <variant> <base> <tree> <patches>: $TREES/.<variant>.applied
# says which commit of the tree each patch file (by its sha1) made: the
# base on the first line, then "<sha1 of the patch> <commit>" per patch.
record_applied() {
	local v=$1 base=$2 wt=$3 patches=$4
	{
		git --git-dir="$SRC_GIT" rev-parse "$base"
		# shellcheck disable=SC2086
		[ -z "$patches" ] || paste -d' ' <(sha1sum $patches | cut -d' ' -f1) \
			<(git -C "$wt" rev-list --reverse "$base..HEAD")
	} >"$(meta_of "$v").applied"
}

# applied_prefix <variant> <base> <old HEAD> <patches>: "<commit> <k>": the
# first k patches are the ones that made the tree's first k commits
# (same files, same base), <commit> the k-th; "<base> 0" when nothing
# can be kept or no record matches the tree.
applied_prefix() {
	local v=$1 base=$2 old=$3 patches=$4 rec k=0 at sum c p
	rec=$(meta_of "$v").applied
	at=$(git --git-dir="$SRC_GIT" rev-parse "$base")
	if [ -f "$rec" ] && [ "$(head -1 "$rec")" = "$at" ] && [ "$(tail -1 "$rec" | cut -d' ' -f2)" = "$old" ]; then
		while read -r sum c; do
			p=$(echo "$patches" | sed -n "$((k + 1))p")
			[ -n "$p" ] && [ "$(sha1sum <"$p" | cut -d' ' -f1)" = "$sum" ] || break
			k=$((k + 1)) at=$c
		done < <(tail -n +2 "$rec")
	fi
	echo "$at $k"
}

# tag_tree <variant> <tree>: cowswap/<variant> names the tree's commit;
# not for the trees as shipped (their import's tag names them) nor for
# the per-release trees (a record's own, not the matrix's).
tag_tree() {
	case $1 in
	upstream | v6.12 | distro-*) ;;
	*) git --git-dir="$SRC_GIT" tag -f "cowswap/$1" "$(git -C "$2" rev-parse HEAD)" >/dev/null ;;
	esac
}

make_tree() {
	local v=$1 wt=$TREES/$1 base patches stamp want old meta
	base=$(variant_base "$v")
	git --git-dir="$SRC_GIT" rev-parse -q --verify "$base" >/dev/null ||
		die "$v: base $base does not exist (create the trees in order: upstream baseline patched; v6.12 needs 'scripts/get-source.sh 6.12', distro-6.1.N/* 'scripts/get-source.sh 6.1 <Debian version of 6.1.N>')"
	patches=$(variant_patches "$v")
	want=$({
		git --git-dir="$SRC_GIT" rev-parse "$base"
		# shellcheck disable=SC2086
		[ -z "$patches" ] || cat $patches
	} | sha1sum | cut -d' ' -f1)
	meta=$(meta_of "$v")
	stamp=$meta.stamp

	if [ ! -e "$wt/.git" ]; then
		[ ! -e "$wt" ] || die "$wt exists but is not a worktree of $SRC_GIT; move it away"
		info "$v: creating worktree ${wt#$TOP/}"
		mkdir -p "$(dirname "$wt")"
		need_space "$TREES" "${COWSWAP_TREE_MB:-1600}" "a kernel worktree"
		git --git-dir="$SRC_GIT" worktree prune
		if ! git --git-dir="$SRC_GIT" worktree add -q --detach "$wt" "$base"; then
			# Only what we just created: a half checked out tree
			# would otherwise look like one with local changes.
			git --git-dir="$SRC_GIT" worktree remove --force "$wt" 2>/dev/null || rm -rf "$wt"
			git --git-dir="$SRC_GIT" worktree prune
			die "$v: could not check out $base into $wt (disk full?); removed the partial tree"
		fi
		rm -f "$stamp"
	fi
	[ -z "$(git -C "$wt" status --porcelain --untracked-files=no)" ] ||
		die "$v: $wt has local changes; commit, stash or discard them (nothing was changed)"
	if [ -d "$wt/.git/rebase-apply" ] || [ -d "$(git -C "$wt" rev-parse --git-dir)/rebase-apply" ]; then
		die "$v: an interrupted 'git am' is pending in $wt; run 'git -C $wt am --abort'"
	fi
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want $(git -C "$wt" rev-parse HEAD)" ]; then
		info "$v: up to date ($(git -C "$wt" log --oneline "$base"..HEAD | wc -l) patches on $base)"
		[ -f "$meta.applied" ] || record_applied "$v" "$base" "$wt" "$patches"
		tag_tree "$v" "$wt"
		return 0
	fi

	old=$(git -C "$wt" rev-parse HEAD)
	# Start from the last commit of the patches that did not change
	# (applied_prefix), not from the base: a new last patch (the
	# selftest, tools/ only) then leaves the kernel's files alone.
	local start keep
	read -r start keep < <(applied_prefix "$v" "$base" "$old" "$patches")
	# Going back and applying the patches again rewrites every file the
	# dropped patches touched; keep_mtimes gives back the old timestamp
	# to those whose content comes out the same, so a build directory
	# rebuilds only what really changed.
	git -C "$wt" diff --name-only "$start" "$old" | (cd "$wt" && xargs -r -d '\n' stat -c '%Y %n' 2>/dev/null) \
		>"$meta.mtimes" || true
	git -C "$wt" checkout -q --detach "$start"
	patches=$(echo "$patches" | tail -n +$((keep + 1)))
	[ "$keep" = 0 ] || info "$v: the first $keep patches are unchanged, kept"
	if [ -n "$patches" ]; then
		info "$v: applying $(echo "$patches" | wc -l) patches with git am"
		# shellcheck disable=SC2086
		if ! git -C "$wt" am -q --whitespace=error-all $patches >"$meta.am.log" 2>&1; then
			cat "$meta.am.log" >&2
			git -C "$wt" am --abort >/dev/null 2>&1 || true
			git -C "$wt" checkout -q --detach "$old"
			keep_mtimes "$wt" "$old" "$meta.mtimes"
			# git am numbers the patches it was given (the unchanged
			# first ones kept are not among them): name the file.
			why=$(sed -n 's/^Patch failed at \([0-9]*\) .*/\1/p' "$meta.am.log" | head -1)
			[ -z "$why" ] || why=$(echo "$patches" | sed -n "$((10#$why))p")
			[ -z "$why" ] || why="patch ${why#$TOP/} ($(sed -n 's/^Subject: //p' "$why" | head -1)) does not apply"
			die "$v: ${why:-git am failed, see $meta.am.log} (tree left as it was)"
		fi
	fi
	keep_mtimes "$wt" "$old" "$meta.mtimes"
	record_applied "$v" "$base" "$wt" "$(variant_patches "$v")"
	tag_tree "$v" "$wt"
	echo "$want $(git -C "$wt" rev-parse HEAD)" >"$stamp"
	info "$v: ${wt#$TOP/} at $(git -C "$wt" log -1 --format='%h %s')"
}

[ $# -gt 0 ] || set -- $VARIANTS
for v in "$@"; do
	is_distro_tree "$v" || check_variant "$v"
done
made=" "
for v in "$@"; do
	v=$(tree_of "$v")
	[[ "$made" != *" $v "* ]] || continue
	make_tree "$v"
	made="$made$v "
done

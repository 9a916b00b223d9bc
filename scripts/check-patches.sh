#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-patches.sh: static checks of patches/ that need no kernel build.
#   1. the baseline tree has no trace of the swap PTE exclusive bit
#   2. the series applies to a fresh baseline tree with quilt, no fuzz,
#      and gives exactly the tree 'git am' gave (out/trees/patched)
#   3. scripts/checkpatch.pl --strict: no ERROR and no WARNING
#   4. scripts/get_maintainer.pl reads MAINTAINERS and finds an owner for
#      every file of this project
#   5. own words: no comment line the series adds appears verbatim in the
#      upstream implementation (scripts/own_words.py)
#   6. the 6.1-LTS series (patches/lts-6.1, for stock 6.1): applies with
#      quilt and with git am to the upstream tree, both giving the same
#      tree; checkpatch --strict and own words as in 3. and 5.
#   7. the last patch of each series (the selftest in tools/testing/
#      selftests/vm) is what scripts/gen-selftest-patch.sh makes from
#      selftests/swap_exclusive today
#   8. the mainline patch (the same test in 6.12's selftests/mm, made
#      from selftests/swap_exclusive into $OUT/mainline beside the cover
#      letter of patches/mainline; not stored) applies with git am to
#      Debian 13's 6.12 (cowswap/v6.12, fetched with scripts/get-source.sh
#      6.12 when missing) and passes that tree's checkpatch.pl --strict
# That patch is checked with four finding types ignored, each one that a
# userspace test cannot avoid (see selftest_ignore below and "The selftest
# in a kernel tree" in docs/selftest.md); any other finding in it, a CHECK
# included, fails.
. "$(dirname "$0")/lib/lib.sh"

need_cmd git perl quilt python3 flock
# The checks work in fixed scratch worktrees (out/scratch/): a second
# check-patches at the same time (a nightly beside make check) waits
# instead of pulling a worktree from under the first.
mkdir -p "$OUT/scratch"
exec 9>"$OUT/scratch/check-patches.lock"
if ! flock -n 9; then
	info "another check-patches is running on $OUT; waiting for it"
	flock 9
fi
for v in $VARIANTS; do
	[ -d "$TREES/$v" ] || die "$TREES/$v missing; run 'make trees' first"
done
# Step 2 compares quilt's tree with cowswap/patched, the git am tree that
# mktrees.sh made: refresh it (nothing happens when it carries the
# current patches), else a series changed since the last 'make trees'
# looks like a quilt/git am mismatch (a nightly run that calls this
# script directly once did).
# shellcheck disable=SC2086
"$TOP/scripts/mktrees.sh" $VARIANTS || die "cannot bring $TREES up to the current patches"
# patches/mainline needs Debian 13's 6.12 (a download of some 150 MB from
# Debian's archive the first time, no kernel build)
ml=$TOP/patches/mainline
if [ -f "$ml/0000-cover-letter.patch" ]; then
	"$TOP/scripts/get-source.sh" 6.12 || die "cannot import Debian 13's linux-source-6.12 (for patches/mainline)"
	"$TOP/scripts/mktrees.sh" v6.12 || die "cannot create $TREES/v6.12"
fi
fail=0

info "1/8 baseline: looking for pte_swp_*exclusive and __HAVE_ARCH_PTE_SWP_EXCLUSIVE"
pat='pte_swp_[a-z_]*exclusive|__HAVE_ARCH_PTE_SWP_EXCLUSIVE'
# -P: Perl regexps, which git matches with PCRE's JIT, 1 s a tree here
# instead of 20 s with -E
if hits=$(git -C "$TREES/baseline" grep -n -P "$pat"); then
	echo "$hits" | head -20 >&2
	info "FAIL: the baseline still has the feature ($(echo "$hits" | wc -l) lines)"
	fail=1
else
	info "ok: no match in the baseline tree; upstream has $(git -C "$TREES/upstream" grep -P "$pat" | wc -l) lines"
fi

info "2/8 series: quilt push -a --fuzz=0 on a fresh baseline worktree"
scratch=$OUT/scratch/quilt-check
mapfile -t main_patches < <(series_patches "$TOP/patches")
# only the files the series touches: the index holds the rest as the
# baseline has them, so the comparison below is still of whole trees
mapfile -t main_paths < <(patch_paths "${main_patches[@]}")
# (and what apply-series.sh looks at to tell a 6.1 tree)
scratch_worktree "$scratch" cowswap/baseline Makefile mm/memory.c "${main_paths[@]}"
# staged_vs <worktree>: stage what quilt did, new files included (git
# diff alone does not see untracked files; -f: Debian's .gitignore
# ignores the whole top level).
staged_vs() {
	git -C "$1" add -f -A -- . ':!.pc'
}
if "$TOP/scripts/apply-series.sh" "$scratch" series; then
	staged_vs "$scratch"
	if git -C "$scratch" diff --cached --quiet cowswap/patched -- . ':!.pc'; then
		info "ok: quilt result is identical to the git am tree"
	else
		git -C "$scratch" diff --cached --stat cowswap/patched -- . ':!.pc' >&2
		info "FAIL: quilt and git am give different trees"
		fail=1
	fi
else
	fail=1
fi
git --git-dir="$SRC_GIT" worktree remove --force "$scratch"

# selftest_ignore <patch>: checkpatch's --ignore for the selftest patch
# (nothing for the other patches). Only what the copied test sources
# (vm/swap_exclusive_src/) cannot avoid:
#   FILE_PATH_CHANGES  the patch adds files; MAINTAINERS already covers
#                      tools/testing/selftests/vm/ (mm/ in 6.12; MEMORY
#                      MANAGEMENT)
#   ENOSYS             io_uring_setup() fails with ENOSYS when the kernel
#                      has no CONFIG_IO_URING: the syscall is not there,
#                      which is what ENOSYS means; the test SKIPs on it
#   PREFER_DEFINED_ATTRIBUTE_MACRO
#                      the one definition of __printf() in swap_helpers.h:
#                      6.1's kselftest.h has none and tools/include (which
#                      has one) is not on the test's include path; every
#                      use is __printf() (6.12's kselftest.h has it, so
#                      there the #ifndef keeps the definition out; the
#                      one source serves both)
#   OPEN_ENDED_LINE    ksft_print_msg() takes the format first and is not
#                      one of the kernel log functions checkpatch lets end
#                      a long line in a string: a message that does not fit
#                      after the call starts a line of its own, whole (split
#                      it and it is SPLIT_STRING, keep it there and it is
#                      LONG_LINE_STRING)
selftest_ignore() {
	grep -q '^Subject: \[PATCH [0-9]*/[0-9]*\] selftests/[vm]m: add swap_exclusive$' "$1" || return 0
	echo "--ignore FILE_PATH_CHANGES,ENOSYS,PREFER_DEFINED_ATTRIBUTE_MACRO,OPEN_ENDED_LINE"
}

# Every patch: the LTS patches name the upstream commits they correspond
# to in the kernel's style, 'commit <12 hex> ("<subject>")'. checkpatch
# looks such ids up with git in the tree, and our trees are an import of
# Debian's source tarball without upstream history, so every id would be
# UNKNOWN_COMMIT_ID here. In a tree with upstream history checkpatch finds
# them and checks the subjects (GIT_COMMIT_ID); here it cannot, so that
# one type is not checked.
ALL_IGNORE="--ignore UNKNOWN_COMMIT_ID"

# checkpatch_dir <patch dir> <tree>: checkpatch --strict on every patch
# of a series but its cover letter, with the tree's own checkpatch.pl.
# The patches are checked all at once (checkpatch is single-threaded and
# the selftest patch alone takes some 14 s), then reported in order.
checkpatch_dir() {
	local p out ignore n=0 res
	local -a patches=() ignores=()
	res=$(mktemp -d)
	for p in "$1"/[0-9]*.patch; do
		[ -f "$p" ] || continue
		case $(basename "$p") in 0000-*) continue ;; esac
		patches+=("$p")
		ignore=$(selftest_ignore "$p")
		ignores+=("$ignore")
		# Debian's python3 first: scripts/spdxcheck.py needs its ply and git.
		# (set -e holds in the subshell: the exit status is caught, not
		# fatal, or a patch with findings would leave no .rc behind.)
		# shellcheck disable=SC2086
		(rc=0
		 cd "$2" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict --terse --show-types $ALL_IGNORE $ignore "$p" \
			>"$res/${#patches[@]}" 2>&1 || rc=$?
		 echo $rc >"$res/${#patches[@]}.rc") &
	done
	wait
	for p in "${patches[@]}"; do
		ignore=${ignores[$n]}
		n=$((n + 1))
		out=$(cat "$res/$n")
		# a non-zero exit with no finding: checkpatch itself failed
		if { [ "$(cat "$res/$n.rc")" != 0 ] && ! grep -qE ': (ERROR|WARNING|CHECK):' <<<"$out"; } ||
			grep -qE ': (ERROR|WARNING):' <<<"$out" ||
			{ [ -n "$ignore" ] && grep -qE ': CHECK:' <<<"$out"; }; then
			echo "$out" >&2
			info "FAIL: $(basename "$p")"
			fail=1
		else
			info "ok: $(basename "$p")$(echo "$out" | grep -c ': CHECK:' | sed 's/^0$//;s/^[1-9].*/ (& checks, see below)/')"
			echo "$out" | grep ': CHECK:' >&2 || true
		fi
	done
	rm -rf "$res"
	[ "$n" -gt 0 ] || info "note: the series in ${1#"$TOP"/} is empty"
}

# own_words_dir <patch dir>: step 5 for one series.
own_words_dir() {
	local out
	if out=$(python3 "$TOP/scripts/own_words.py" "$TREES/upstream" "$1"/[0-9]*.patch); then
		info "ok: $out"
	else
		echo "$out" >&2
		info "FAIL: the series in ${1#"$TOP"/} repeats upstream comments"
		fail=1
	fi
}

info "3/8 checkpatch.pl --strict"
checkpatch_dir "$TOP/patches" "$TREES/patched"

info "4/8 get_maintainer.pl --mpath MAINTAINERS"
while read -r f; do
	m=$(cd "$TOP" && perl "$TREES/upstream/scripts/get_maintainer.pl" --no-tree --no-git \
		--mpath MAINTAINERS -f "$f" 2>/dev/null) || true
	if [ -z "$m" ]; then
		info "FAIL: no maintainer for $f"
		fail=1
	fi
done < <(cd "$TOP" && git ls-files 2>/dev/null | grep -v '^\.gitignore$')
[ $fail = 0 ] && info "ok: every tracked file has a maintainer"

info "5/8 own words: comments added by the series vs. the upstream implementation"
own_words_dir "$TOP/patches"

# am_in <worktree> <log> <what> <patch>...: git am of the patches there;
# on failure prints git's output and a FAIL line naming <what>.
am_in() {
	local wt=$1 log=$2 what=$3
	shift 3
	git -C "$wt" -c user.name=cowswap -c user.email=cowswap@localhost \
		am -q --whitespace=error-all "$@" >"$log" 2>&1 && return 0
	cat "$log" >&2
	info "FAIL: git am of $what"
	return 1
}

lts=$TOP/patches/lts-6.1
if [ -f "$lts/series" ]; then
	info "6/8 lts-6.1: quilt and git am on fresh upstream worktrees, checkpatch --strict, own words"
	qwt=$OUT/scratch/lts-quilt awt=$OUT/scratch/lts-am
	mapfile -t lts_patches < <(series_patches "$lts")
	mapfile -t lts_paths < <(patch_paths "${lts_patches[@]}")
	scratch_worktree "$qwt" cowswap/upstream Makefile mm/memory.c "${lts_paths[@]}"
	scratch_worktree "$awt" cowswap/upstream "${lts_paths[@]}"
	if ! "$TOP/scripts/apply-series.sh" "$qwt" "$lts"; then
		fail=1
	elif ! am_in "$awt" "$OUT/lts-am.log" "patches/lts-6.1 on the upstream tree" "${lts_patches[@]}"; then
		fail=1
	elif ! staged_vs "$qwt" || ! git -C "$qwt" diff --cached --quiet "$(git -C "$awt" rev-parse HEAD)" -- . ':!.pc'; then
		git -C "$qwt" diff --cached --stat "$(git -C "$awt" rev-parse HEAD)" -- . ':!.pc' >&2
		info "FAIL: quilt and git am give different trees for patches/lts-6.1"
		fail=1
	else
		info "ok: ${#lts_patches[@]} patches; quilt result is identical to the git am tree"
	fi
	git --git-dir="$SRC_GIT" worktree remove --force "$qwt"
	git --git-dir="$SRC_GIT" worktree remove --force "$awt"
	checkpatch_dir "$lts" "$TREES/upstream"
	own_words_dir "$lts"
fi

info "7/8 selftest patch: regenerated from selftests/swap_exclusive and compared"
"$TOP/scripts/gen-selftest-patch.sh" --check || fail=1

if [ -f "$ml/0000-cover-letter.patch" ]; then
	info "8/8 mainline: the patch made from selftests/swap_exclusive (${OUT#"$TOP"/}/mainline), git am on Debian 13's 6.12 (cowswap/v6.12), checkpatch --strict with its checkpatch.pl"
	mwt=$OUT/scratch/mainline-am
	if ! "$TOP/scripts/gen-selftest-patch.sh" mainline; then
		info "FAIL: cannot make the mainline patch"
		fail=1
	else
		ml_patches=("$OUT"/mainline/0001-*.patch)
		mapfile -t ml_paths < <(patch_paths "${ml_patches[@]}")
		scratch_worktree "$mwt" cowswap/v6.12 "${ml_paths[@]}"
		if ! am_in "$mwt" "$OUT/mainline-am.log" "the mainline patch on Debian 13's 6.12" "${ml_patches[@]}"; then
			fail=1
		else
			info "ok: $(basename "${ml_patches[0]}") applies with git am to $(git --git-dir="$SRC_GIT" log -1 --format=%s cowswap/v6.12)"
		fi
		git --git-dir="$SRC_GIT" worktree remove --force "$mwt"
		checkpatch_dir "$OUT/mainline" "$TREES/v6.12"
	fi
fi

[ $fail = 0 ] || die "patch checks failed"
info "all patch checks passed"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bisect-build.sh [arch...]: build every architecture after every patch
# of the series, so that 'git bisect' never lands on a broken kernel.
# Uses one scratch worktree and one O= directory per architecture, so
# each step only rebuilds what the patch touched.
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || set -- x86_64 arm64 s390x ppc64le
git --git-dir="$SRC_GIT" rev-parse -q --verify cowswap/patched >/dev/null ||
	die "no patched tree; run 'make trees' first"
commits=$(git --git-dir="$SRC_GIT" rev-list --reverse cowswap/baseline..cowswap/patched)
[ -n "$commits" ] || die "the series is empty: nothing to bisect"
wt=$OUT/scratch/bisect
if [ ! -e "$wt/.git" ]; then
	git --git-dir="$SRC_GIT" worktree prune
	git --git-dir="$SRC_GIT" worktree add -q --detach "$wt" cowswap/baseline
fi
[ -z "$(git -C "$wt" status --porcelain --untracked-files=no)" ] || die "$wt has local changes"

report=$OUT/bisect.md
echo "| patch |$(printf ' %s |' "$@")" >"$report"
echo "|---$(printf '|---%.0s' "$@")|" >>"$report"
fail=0 i=0
for c in $commits; do
	i=$((i + 1))
	git -C "$wt" checkout -q --detach "$c"
	subj=$(git -C "$wt" log -1 --format=%s)
	row="| $i $subj |"
	for a in "$@"; do
		load_arch "$a"
		if stage "bisect $i/$a" env TREE="$wt" O="$BUILDS/bisect-$BUILD" \
			"$TOP/scripts/build.sh" "$a" patched; then
			row="$row ok |"
		else
			row="$row **FAIL** |"
			fail=1
		fi
	done
	echo "$row" >>"$report"
done
cat "$report"
[ $fail = 0 ] || die "some step of the series does not build (see $report)"
info "every patch builds on: $*"

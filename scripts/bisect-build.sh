#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bisect-build.sh [arch...]: build every architecture after every patch
# of the series, so that 'git bisect' never lands on a broken kernel.
# Uses one scratch worktree and one O= directory per architecture, so
# each step only rebuilds what the patch touched.
# SERIES=lts-6.1: the 6.1-LTS series instead (upstream..fixed, the
# records' "fixed" variant); TARGETS= as for build.sh limits each step
# to some objects.
. "$(dirname "$0")/lib/lib.sh"

base=cowswap/baseline tip=cowswap/patched variant=patched tag=
SERIES_WANTED=${SERIES:-}
case $SERIES_WANTED in
'') ;;
lts-6.1) base=cowswap/upstream tip=cowswap/fixed variant=fixed tag=lts- ;;
*) die "SERIES=$SERIES: only lts-6.1 is known" ;;
esac
[ $# -gt 0 ] || set -- x86_64 arm64 s390x ppc64le
git --git-dir="$SRC_GIT" rev-parse -q --verify $tip >/dev/null ||
	die "no $variant tree; run 'make trees' (or 'scripts/mktrees.sh $variant') first"
commits=$(git --git-dir="$SRC_GIT" rev-list --reverse $base..$tip)
[ -n "$commits" ] || die "the series is empty: nothing to bisect"
wt=$OUT/scratch/${tag}bisect
if [ ! -e "$wt/.git" ]; then
	git --git-dir="$SRC_GIT" worktree prune
	git --git-dir="$SRC_GIT" worktree add -q --detach "$wt" $base
fi
[ -z "$(git -C "$wt" status --porcelain --untracked-files=no)" ] || die "$wt has local changes"

# One build per set of sources (lib.sh's sources_key): a record that
# boots another record's kernel (ppc64le-hash) or declares SOURCES_AS
# (x86_64-preempt) compiles the same files, and records of the other
# series do not apply. Default: every record.
archs=()
declare -A seen=()
for a in "$@"; do
	load_arch "$a"
	if [ "$SERIES" != "${SERIES_WANTED:-}" ]; then
		info "$a: a record of series '${SERIES:-main}', not bisected here"
		continue
	fi
	key=$(sources_key)
	if [ -n "${seen[$key]:-}" ]; then
		info "$a: same sources and fragment as ${seen[$key]}, not built twice"
		continue
	fi
	seen[$key]=$a
	archs+=("$a")
done
[ ${#archs[@]} -gt 0 ] || die "no record of series '${SERIES_WANTED:-main}' among: $*"
set -- "${archs[@]}"

report=$OUT/${tag}bisect.md
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
		if stage "bisect $i/$a" env TREE="$wt" O="$BUILDS/${tag}bisect-$BUILD" \
			"$TOP/scripts/build.sh" "$a" $variant; then
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

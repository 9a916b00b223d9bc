#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# export-series.sh <branch> [cover-text]: write the commits of <branch>
# on top of cowswap/baseline to patches/ as a quilt series (series file
# + git format-patch files with a 0000 cover letter).
#
# The cover letter's subject and text come from cover-text (first line
# "Subject: ...", then the body) or, when not given, from the current
# patches/0000-cover-letter.patch, so regenerating keeps the letter and
# refreshes its shortlog and diffstat.
. "$(dirname "$0")/lib/lib.sh"

[ $# -ge 1 ] || die "usage: $PROG <branch> [cover-text]"
branch=$1
need_cmd git python3
git --git-dir="$SRC_GIT" rev-parse -q --verify "$branch" >/dev/null || die "no branch '$branch' in $SRC_GIT"
cover=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$cover" ]; then
	[ -f "$TOP/patches/0000-cover-letter.patch" ] || die "no cover text given and no existing cover letter"
	python3 - "$TOP/patches/0000-cover-letter.patch" >"$tmp/cover.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
subj = re.search(r"^Subject: \[PATCH[^\]]*\] (.*(?:\n .*)*)", text, re.M).group(1).replace("\n", "")
body = text.split("\n\n", 1)[1]
body = body[:body.index("\nCowswap Developers (")] if "\nCowswap Developers (" in body else body
print("Subject: " + subj + "\n\n" + body.rstrip())
PY
	cover=$tmp/cover.txt
fi
[ -f "$cover" ] || die "cover text '$cover' not found"

n=$(git --git-dir="$SRC_GIT" rev-list --count cowswap/baseline.."$branch")
[ "$n" -gt 0 ] || die "'$branch' has no commits on top of cowswap/baseline"
git --git-dir="$SRC_GIT" -c user.name="Cowswap Developers" -c user.email=cowswap@localhost \
	format-patch -q --cover-letter --no-signature --zero-commit \
	-o "$tmp/out" cowswap/baseline.."$branch"
python3 - "$tmp/out/0000-cover-letter.patch" "$cover" <<'PY'
import sys
path, cover = sys.argv[1:]
letter = open(path).read()
text = open(cover).read()
subj, body = text.split("\n", 1)
subj = subj.replace("Subject: ", "", 1)
subj = subj.split("] ", 1)[1] if subj.startswith("[PATCH") else subj
letter = letter.replace("*** SUBJECT HERE ***", subj)
letter = letter.replace("*** BLURB HERE ***", body.strip())
open(path, "w").write(letter)
PY
rm -f "$TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch
cp "$tmp"/out/*.patch "$TOP/patches/"
(cd "$tmp/out" && ls [0-9]*.patch | grep -v '^0000-') >"$TOP/patches/series"
info "exported $n patches and a cover letter from $branch to patches/"

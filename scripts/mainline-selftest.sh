#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mainline-selftest.sh: the selftest as today's kernels would carry it,
# built in the kernel's own tree the way a lab (KernelCI, LKFT) builds
# kselftest-mm:
#
#   1. scripts/gen-selftest-patch.sh makes the mainline patch from
#      selftests/swap_exclusive ($OUT/mainline);
#   2. a fresh sparse worktree of Debian 13's 6.12 (cowswap/v6.12,
#      imported with scripts/get-source.sh 6.12 when missing; only what
#      steps 3 and 4 read) takes it with git am;
#   3. 'make headers' and 'make -C tools/testing/selftests TARGETS=mm'
#      there, out of tree (O=), for the host: the mm target must build
#      swap_exclusive (and the rest of mm/ as it builds without us);
#   4. the binary lists the same checks as the one built from
#      selftests/swap_exclusive against 6.1 (swap_exclusive -l).
#
# Output in $OUT/mainline-selftest/ (the kselftest build, logs); the
# worktree ($OUT/scratch/mainline-selftest) is removed afterwards. No
# kernel is built. Takes a few minutes (checkout, headers, mm/).
. "$(dirname "$0")/lib/lib.sh"

[ $# = 0 ] || die "usage: $PROG"
need_cmd git make gcc
"$TOP/scripts/get-source.sh" 6.12 || die "cannot import Debian 13's linux-source-6.12"

info "1/4 the mainline patch, made from selftests/swap_exclusive"
"$TOP/scripts/gen-selftest-patch.sh" mainline || die "cannot make the mainline patch"
patches=("$OUT"/mainline/0001-*.patch)
[ -f "${patches[0]}" ] || die "gen-selftest-patch.sh wrote no patch into $OUT/mainline"
wt=$OUT/scratch/mainline-selftest
o=$OUT/mainline-selftest
cleanup() {
	git --git-dir="$SRC_GIT" worktree remove --force "$wt" 2>/dev/null || rm -rf "$wt"
	git --git-dir="$SRC_GIT" worktree prune
}
trap cleanup EXIT

info "2/4 git am of the mainline patch on $(git --git-dir="$SRC_GIT" log -1 --format=%s cowswap/v6.12)"
need_space "$OUT" "${COWSWAP_TREE_MB:-1600}" "a kernel worktree"
# Only what make headers and the mm target read (the top-level build
# files, scripts/, include/, the host's arch/, tools/, usr/, and mm/ and
# lib/ for the uapi headers of gup_test and hmm-tests): a quarter of the
# files, which makes checking out and removing the worktree minutes
# shorter (CI runs this: smoke.sh's mainline stage).
case $(uname -m) in
x86_64 | i?86) srcarch=x86 ;;
aarch64*) srcarch=arm64 ;;
arm*) srcarch=arm ;;
s390*) srcarch=s390 ;;
ppc* | powerpc*) srcarch=powerpc ;;
mips*) srcarch=mips ;;
riscv*) srcarch=riscv ;;
loongarch*) srcarch=loongarch ;;
*) die "no kernel ARCH known for this host ($(uname -m))" ;;
esac
scratch_worktree "$wt" cowswap/v6.12 Makefile Kbuild Kconfig scripts include "arch/$srcarch" tools usr mm lib
git -C "$wt" -c user.name=cowswap -c user.email=cowswap@localhost \
	am -q --whitespace=error-all "${patches[@]}" >"$OUT/mainline-selftest.am.log" 2>&1 || {
	cat "$OUT/mainline-selftest.am.log" >&2
	die "git am of the mainline patch failed on cowswap/v6.12"
}
info "ok: $(git -C "$wt" log --oneline cowswap/v6.12..HEAD | sed 's/^[0-9a-f]* //' | paste -sd,)"

info "3/4 make headers; make -C tools/testing/selftests TARGETS=mm (O=${o#"$TOP"/})"
rm -rf "$o"
mkdir -p "$o"
make -s -C "$wt" O="$o" headers >"$o/headers.log" 2>&1 ||
	{ cat "$o/headers.log" >&2; die "make headers failed in the 6.12 tree"; }
# -k: a test of mm/ that does not build on this host (a missing library)
# must not hide whether ours does
rc=0
make -C "$wt/tools/testing/selftests" TARGETS=mm O="$o" -j"${JOBS:-$(nproc)}" -k \
	>"$o/build.log" 2>&1 || rc=$?
bin=$o/kselftest/mm/swap_exclusive
if [ ! -x "$bin" ]; then
	grep -B2 -A8 'swap_exclusive' "$o/build.log" | head -40 >&2
	die "the mm target did not build swap_exclusive (see ${o#"$TOP"/}/build.log)"
fi
if grep -E 'swap_exclusive_src/.*(warning|error):' "$o/build.log" >&2; then
	die "swap_exclusive builds in mm/ with warnings (above)"
fi
[ $rc = 0 ] || info "note: make -k exited $rc: another mm test did not build here ($(grep -c 'Error [0-9]' "$o/build.log") make errors, see ${o#"$TOP"/}/build.log); swap_exclusive built"
info "ok: built ${bin#"$TOP"/} in the mm target"

info "4/4 the checks it lists against the 6.1 build's"
"$bin" -l >"$o/list.mm" || die "'swap_exclusive -l' (6.12 mm/ build) failed"
selftest_names >"$o/list.61" || exit 1
if ! diff -u --label "6.1 build" --label "6.12 mm/ build" "$o/list.61" "$o/list.mm" >&2; then
	die "the 6.12 mm/ build lists other checks than the 6.1 build"
fi
info "ok: $(wc -l <"$o/list.mm") checks, the same as the 6.1 build"
info "the selftest builds in 6.12's tools/testing/selftests/mm from the mainline patch"

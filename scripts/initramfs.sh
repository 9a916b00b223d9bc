#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh <arch> <output.cpio>: build the test initramfs.
#
# No busybox: a static C /init (scripts/init/init.c) and static test
# binaries, packed with the kernel's own usr/gen_init_cpio. Contents:
#   /init                     runs the tests listed in /etc/cowswap-tests
#   /tests/swap_exclusive     the kselftest (selftests/swap_exclusive)
#   /tests/<name>             one per C file in EXTRA_TESTS (space separated)
# SELFTEST_ARGS adds arguments to the swap_exclusive command line,
# SELFTEST=0 leaves it out. Extra tests are built with kselftest.h and
# selftests/swap_exclusive on the include path, linked with
# EXTRA_SOURCES (e.g. its swap_helpers.c), and run with EXTRA_ARGS.
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: $PROG <arch> <output.cpio>"
load_arch "$1"
cpio=$2
ksft=$TREES/upstream/tools/testing/selftests
[ -f "$ksft/kselftest.h" ] || die "$ksft/kselftest.h missing; run 'make trees' first"
need_cmd "$USER_CC" make
st=${SELFTEST_DIR:-$TOP/selftests/swap_exclusive}

work=$(mktemp -d "${cpio%.cpio}.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tests"

# The kernel's cpio generator, built once for the host.
gen=$OUT/tools/gen_init_cpio
if [ ! -x "$gen" ]; then
	mkdir -p "$OUT/tools"
	gcc -O2 -o "$gen" "$TREES/upstream/usr/gen_init_cpio.c" || die "cannot build gen_init_cpio"
fi

info "building static /init and tests for $NAME with $USER_CC"
"$USER_CC" -static -O2 -Wall -Wextra -I"$st" -o "$work/init" \
	"$TOP/scripts/init/init.c" "$st/swap_helpers.c" ||
	die "$NAME: cannot build /init (is the static libc for $USER_CC installed?)"

: >"$work/cowswap-tests"
if [ "${SELFTEST:-1}" != 0 ]; then
	make -s -C "$st" KSFT_DIR="$ksft" CROSS_COMPILE="$CROSS_COMPILE" \
		OUTPUT="$work/tests" STATIC=1 >"$work/make.log" 2>&1 ||
		{ cat "$work/make.log" >&2; die "$NAME: cannot build selftests/swap_exclusive"; }
	[ -x "$work/tests/swap_exclusive" ] || die "$NAME: selftest build produced no swap_exclusive binary"
	echo "swap_exclusive /tests/swap_exclusive ${SELFTEST_ARGS:-}" >>"$work/cowswap-tests"
fi

for src in ${EXTRA_TESTS:-}; do
	[ -f "$src" ] || die "EXTRA_TESTS: $src does not exist"
	name=$(basename "$src" .c)
	# shellcheck disable=SC2086
	"$USER_CC" -static -O2 -Wall -pthread -I"$ksft" -I"$st" -o "$work/tests/$name" "$src" \
		${EXTRA_SOURCES:-} || die "cannot build extra test $src"
	echo "$name /tests/$name ${EXTRA_ARGS:-}" >>"$work/cowswap-tests"
done

{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	for d in proc sys tmp etc tests bin; do
		echo "dir /$d 0755 0 0"
	done
	echo "file /init $work/init 0755 0 0"
	echo "file /etc/cowswap-tests $work/cowswap-tests 0644 0 0"
	for t in "$work"/tests/*; do
		[ -x "$t" ] && [ -f "$t" ] && echo "file /tests/$(basename "$t") $t 0755 0 0"
	done
} >"$work/cpio.list"
"$gen" "$work/cpio.list" >"$cpio.tmp" || die "gen_init_cpio failed"
mv "$cpio.tmp" "$cpio"
info "$NAME: initramfs $(du -h "$cpio" | cut -f1) with: $(cut -d' ' -f1 "$work/cowswap-tests" | tr '\n' ' ')"

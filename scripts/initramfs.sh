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
#
# Kernel modules (for kernels that are not ours, e.g. a distribution's):
# MODULES_FROM=<root of an unpacked kernel package> and MODULES="<name>..."
# put those modules and everything they depend on (the package's
# modules.dep, made with depmod -b if missing) into /lib/modules/, in
# dependency order in /etc/cowswap-modules, which /init loads with
# finit_module(2) before anything else. Compressed modules are unpacked
# here. MODULE_PARAMS="<module>.<param>=<value> ..." adds parameters.
# A distribution record (distro-<arch>) sets MODULES and MODULE_PARAMS.
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

# modname <path of a .ko[.xz|.zst|.gz]>: its module name.
modname() {
	local n=${1##*/}
	n=${n%%.ko*}
	echo "${n//-/_}"
}

: >"$work/cowswap-modules"
if [ -n "${MODULES:-}" ]; then
	[ -n "${MODULES_FROM:-}" ] || die "$NAME: MODULES needs MODULES_FROM=<unpacked kernel package>"
	mdir=$(ls -d "$MODULES_FROM"/lib/modules/*/ 2>/dev/null) || true
	[ "$(echo "$mdir" | wc -w)" = 1 ] && [ -f "$mdir/modules.dep" ] ||
		die "$NAME: no single lib/modules/<release>/modules.dep under $MODULES_FROM"
	declare -A mod_file mod_deps placed
	while IFS= read -r line; do
		n=$(modname "${line%%:*}")
		mod_file[$n]=${line%%:*}
		mod_deps[$n]=${line#*:}
	done <"$mdir/modules.dep"
	order=()
	# place <name>: its dependencies first, then itself, each once.
	place() {
		local d
		[ -z "${placed[$1]:-}" ] || return 0
		placed[$1]=1
		for d in ${mod_deps[$1]}; do
			place "$(modname "$d")"
		done
		order+=("$1")
	}
	for m in $MODULES; do
		m=${m//-/_}
		if [ -n "${mod_file[$m]:-}" ]; then
			place "$m"
		elif sed 's,.*/,,; s,\.ko.*,,; s,-,_,g' "$mdir/modules.builtin" | grep -qx "$m"; then
			info "$NAME: module $m is built into the kernel"
		else
			die "$NAME: module $m is neither a module nor built in (${mdir#$TOP/})"
		fi
	done
	mkdir -p "$work/modules"
	for m in "${order[@]}"; do
		src=$mdir/${mod_file[$m]}
		case $src in
		*.ko) cp "$src" "$work/modules/$m.ko" ;;
		*.ko.xz) xz -dc "$src" >"$work/modules/$m.ko" ;;
		*.ko.zst) zstd -q -dc "$src" >"$work/modules/$m.ko" ;;
		*.ko.gz) gzip -dc "$src" >"$work/modules/$m.ko" ;;
		*) die "$NAME: cannot unpack module file $src" ;;
		esac || die "$NAME: cannot unpack $src"
		params=
		for p in ${MODULE_PARAMS:-}; do
			[ "${p%%.*}" != "$m" ] || params="$params ${p#*.}"
		done
		echo "/lib/modules/$m.ko$params" >>"$work/cowswap-modules"
	done
	info "$NAME: modules in load order: ${order[*]}"
fi

{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	for d in proc sys tmp etc tests bin lib lib/modules; do
		echo "dir /$d 0755 0 0"
	done
	if [ -s "$work/cowswap-modules" ]; then
		echo "file /etc/cowswap-modules $work/cowswap-modules 0644 0 0"
		for m in "$work"/modules/*.ko; do
			echo "file /lib/modules/$(basename "$m") $m 0644 0 0"
		done
	fi
	echo "file /init $work/init 0755 0 0"
	echo "file /etc/cowswap-tests $work/cowswap-tests 0644 0 0"
	for t in "$work"/tests/*; do
		[ -x "$t" ] && [ -f "$t" ] && echo "file /tests/$(basename "$t") $t 0755 0 0"
	done
} >"$work/cpio.list"
"$gen" "$work/cpio.list" >"$cpio.tmp" || die "gen_init_cpio failed"
mv "$cpio.tmp" "$cpio"
info "$NAME: initramfs $(du -h "$cpio" | cut -f1) with: $(cut -d' ' -f1 "$work/cowswap-tests" | tr '\n' ' ')"

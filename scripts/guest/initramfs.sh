#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh <arch> <output.cpio>: build the test initramfs.
#
# No busybox: a static C /init (scripts/guest/init.c) and static test
# binaries, packed with the kernel's own usr/gen_init_cpio. Contents:
#   /init                     runs the tests listed in /etc/cowswap-tests
#   /tests/swap_exclusive     the kselftest (selftests/swap_exclusive)
#   /tests/<name>             one per C file in EXTRA_TESTS (space separated)
# SELFTEST_ARGS adds arguments to the swap_exclusive command line,
# SELFTEST=0 leaves it out.
#
# KSFT_RUNNER=1 runs the selftest the kselftest way instead: the kernel's
# tools/testing/selftests Makefile installs it (TARGETS=swap_exclusive
# install, USERLDFLAGS=-static) into /kselftest (run_kselftest.sh,
# kselftest/runner.sh, kselftest-list.txt, swap_exclusive/), and the line
# of /etc/cowswap-tests is "/bin/sh /etc/cowswap-ksft.sh", which makes
# /dev/stdout and its kin and execs /bin/sh /kselftest/run_kselftest.sh,
# with Debian's busybox-static as /bin/busybox and the applets the runner
# calls. SELFTEST_ARGS then reach the test through the runner's
# KSELFTEST_SWAP_EXCLUSIVE_ARGS. busybox-static is the host's (amd64):
# only targets of the host's architecture can have it.
#
# KSFT_RUNNER=tree: the same runner, but the selftest as the kernel tree
# carries it after the series (tools/testing/selftests/vm/swap_exclusive_src
# and vm/Makefile's rule, patch 0009) instead of selftests/swap_exclusive:
# the tree's own "make TARGETS=vm install" (static, out of tree with O=),
# and "run_kselftest.sh -t vm:swap_exclusive" in the guest. The tree is
# KSFT_TREE (default $TREES/patched); nothing is written into it.
#
# Extra tests are built with kselftest.h, the vm selftests (vm_util.h) and
# selftests/swap_exclusive on the include path, linked with
# EXTRA_SOURCES (e.g. its test_util.c), and run with EXTRA_ARGS.
#
# VMTESTS=1 adds 6.1's own mm selftests (tools/testing/selftests/vm of
# VMTESTS_TREE) and their runner, /tests/vmtests: see the block below and
# docs/vmtests.md. VMTESTS_LIST=<file> runs another list than
# scripts/guest/vmtests.list (a few tests, or one test many times).
#
# Kernel modules (for kernels that are not ours, e.g. a distribution's):
# MODULES_FROM=<root of an unpacked kernel package> and MODULES="<name>..."
# put those modules and everything they depend on (the package's
# modules.dep, made with depmod -b if missing) into /lib/modules/, in
# dependency order in /etc/cowswap-modules, which /init loads with
# finit_module(2) before anything else. Compressed modules are unpacked
# here. MODULE_PARAMS="<module>.<param>=<value> ..." adds parameters.
# MODULES_OPTIONAL="<name>..." the same for modules the selftest can do
# without (its checks then SKIP naming the option): put in when the
# package has them, otherwise only named here.
# A distribution record (distro-<arch>) sets MODULES, MODULES_OPTIONAL and
# MODULE_PARAMS; MODULES_ONLY="<name>..." loads those modules instead and
# no others (scripts/distro-guest.sh: the disk and ext4 drivers that reach
# a Debian root on a disk, with SELFTEST=0 and EXTRA_TESTS=root-run.c).
#
# AFFECTED=1 packs the guest of scripts/affected-qemu.sh instead of the
# selftest run: the static selftest as /tests/swap_exclusive, BUSYBOX
# (static, built for the guest) as /bin/sh with all its applets,
# scripts/affected.sh and scripts/guest/affected-guest.sh in /bin, and
# MODULES not loaded by /init but laid out as on an installed system
# (/lib/modules/<release>/... with a modules.dep, for busybox's modprobe)
# with the package's /boot/config-<release>: the script finds, loads and
# unloads them itself. AFFECTED_ARGS are the guest script's arguments.
. "$(dirname "$0")/../lib/lib.sh"

[ $# -eq 2 ] || die "usage: $PROG <arch> <output.cpio>"
load_arch "$1"
[ -z "${MODULES_ONLY:-}" ] || { MODULES=$MODULES_ONLY MODULES_OPTIONAL= MODULE_PARAMS=; }
cpio=$2
# KSFT_SRC: the kselftest directory the selftest is built against (run-qemu.sh
# names the variant's, ksft_of in lib.sh); 6.1's upstream tree by default.
ksft=${KSFT_SRC:-$TREES/upstream/tools/testing/selftests}
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
	# parallel guests of the matrix may get here at the same time
	gcc -O2 -o "$gen.$$" "$TREES/upstream/usr/gen_init_cpio.c" && mv "$gen.$$" "$gen" ||
		die "cannot build gen_init_cpio"
fi

info "building static /init and tests for $NAME with $USER_CC"
"$USER_CC" -static -O2 -Wall -Wextra -I"$st" -o "$work/init" \
	"$TOP/scripts/guest/init.c" "$st/swap_helpers.c" ||
	die "$NAME: cannot build /init (is the static libc for $USER_CC installed?)"

: >"$work/cowswap-tests"
# static_elf <file>: no program interpreter, so it runs without a libc
# in the initramfs.
static_elf() {
	! grep -q 'program interpreter' < <(readelf -lW "$1" 2>/dev/null)
}
# elf_machine <file>: the ELF header's e_machine field.
elf_machine() {
	od -An -tx2 -j18 -N2 "$1" | tr -d ' '
}

# ksft_install <dir>: the selftest installed the kselftest way. The
# selftests Makefile wants the target as a subdirectory of
# tools/testing/selftests; a private copy of that directory's top level
# (links to the upstream tree's files and kselftest/, and one to the
# selftest) leaves the shared tree alone while parallel guests build.
ksft_install() {
	local sk=$work/ksft-src/tools/testing/selftests f
	mkdir -p "$sk"
	for f in "$ksft"/*; do
		# kselftest/ for the runner, vm/ for the vm_util.c the
		# selftest links
		if [ -f "$f" ] || [ "$f" = "$ksft/kselftest" ] || [ "$f" = "$ksft/vm" ]; then
			ln -s "$f" "$sk/"
		fi
	done
	ln -s "$st" "$sk/swap_exclusive"
	# the Makefile includes scripts/subarch.include from three levels up
	ln -s "$TREES/upstream/scripts" "$work/ksft-src/scripts"
	make -C "$sk" TARGETS=swap_exclusive CROSS_COMPILE="$CROSS_COMPILE" \
		USERLDFLAGS=-static O="$work/ksft-build" INSTALL_PATH="$1" install \
		>"$work/make.log" 2>&1 ||
		{ tail -20 "$work/make.log" >&2; die "$NAME: 'make TARGETS=swap_exclusive install' failed"; }
	ksft_installed "$1" swap_exclusive
}

# ksft_tree_install <dir>: the selftest from KSFT_TREE, built and
# installed by that tree's selftests Makefile as any vm test is. The
# whole vm target, not swap_exclusive alone: lib.mk's install builds
# all of a target's programs and has no way to pick one, and the vm
# target links statically where libnuma-dev and libcap-dev are installed
# (ksm_tests, migration; memfd_secret, mlock-random-test). The guest
# runs only vm:swap_exclusive; the other programs are packed unused.
ksft_tree_install() {
	local tree=${KSFT_TREE:-$TREES/patched} sk
	sk=$tree/tools/testing/selftests
	[ -d "$sk/vm/swap_exclusive_src" ] ||
		die "KSFT_RUNNER=tree: ${tree#"$TOP"/} has no tools/testing/selftests/vm/swap_exclusive_src (not a patched tree?)"
	grep -qx 'TEST_GEN_PROGS += swap_exclusive' "$sk/vm/Makefile" ||
		die "KSFT_RUNNER=tree: the vm/Makefile of ${tree#"$TOP"/} does not build swap_exclusive"
	make -C "$sk" TARGETS=vm CROSS_COMPILE="$CROSS_COMPILE" \
		USERLDFLAGS=-static O="$work/ksft-build" INSTALL_PATH="$1" install \
		>"$work/make.log" 2>&1 ||
		{ tail -20 "$work/make.log" >&2; die "$NAME: 'make TARGETS=vm install' in ${tree#"$TOP"/} failed (static libnuma and libcap: libnuma-dev, libcap-dev)"; }
	ksft_installed "$1" vm
}

# ksft_installed <dir> <collection>: the install has the runner and a
# static swap_exclusive listed as <collection>:swap_exclusive.
ksft_installed() {
	local f
	for f in run_kselftest.sh kselftest/runner.sh kselftest-list.txt "$2/swap_exclusive"; do
		[ -s "$1/$f" ] || die "$NAME: the kselftest install has no $f"
	done
	grep -qx "$2:swap_exclusive" "$1/kselftest-list.txt" ||
		die "$NAME: kselftest-list.txt does not list $2:swap_exclusive"
	static_elf "$1/$2/swap_exclusive" ||
		die "$NAME: the installed swap_exclusive is not static (USERLDFLAGS=-static lost?)"
}

# What the 6.1 run_kselftest.sh and kselftest/runner.sh call besides
# shell builtins. Not timeout: the runner only uses /usr/bin/timeout,
# with --foreground, which busybox's does not know; without it the test
# runs under the harness's wall clock and its own watchdog. Not perl:
# without /usr/bin/perl the runner prefixes the test's lines with sed.
KSFT_APPLETS="sh basename dirname realpath cat cut grep head sed tr uniq wc mkdir mktemp ln"
BUSYBOX=${BUSYBOX:-/bin/busybox}

case ${KSFT_RUNNER:-0} in
0 | 1 | tree) ;;
*) die "KSFT_RUNNER=$KSFT_RUNNER: expected 0, 1 or tree" ;;
esac
if [ "${SELFTEST:-1}" != 0 ] && [ "${KSFT_RUNNER:-0}" != 0 ]; then
	kr="KSFT_RUNNER=$KSFT_RUNNER"
	[ -x "$BUSYBOX" ] || die "$kr needs $BUSYBOX (apt-get install busybox-static)"
	static_elf "$BUSYBOX" || die "$kr: $BUSYBOX is not static (install busybox-static, not busybox)"
	# run_kselftest.sh's arguments: the one test of the tree's vm list
	ksft_sel=
	if [ "$KSFT_RUNNER" = tree ]; then
		ksft_tree_install "$work/kselftest"
		ksft_sel=" -t vm:swap_exclusive"
	else
		ksft_install "$work/kselftest"
	fi
	[ "$(elf_machine "$BUSYBOX")" = "$(elf_machine "$work/init")" ] ||
		die "$kr: $BUSYBOX is not built for $NAME (Debian's busybox-static is the host's architecture)"
	applets=" $("$BUSYBOX" --list | tr '\n' ' ') "
	for a in $KSFT_APPLETS; do
		[[ "$applets" = *" $a "* ]] || die "$kr: $BUSYBOX has no '$a' applet"
	done
	# What a real system has before it runs the kselftests: the runner
	# writes the test's lines to /dev/stdout, which udev or systemd
	# provide and devtmpfs does not (the runner would create a plain file
	# there and the console would see nothing of the test). init.c splits
	# its lines at blanks, so SELFTEST_ARGS go in this script too.
	{
		echo "for f in 0:stdin 1:stdout 2:stderr; do"
		echo "	[ -e /dev/\${f#*:} ] || ln -s /proc/self/fd/\${f%:*} /dev/\${f#*:}"
		echo "done"
		echo "[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd"
		[ -z "${SELFTEST_ARGS:-}" ] ||
			echo "export KSELFTEST_SWAP_EXCLUSIVE_ARGS='${SELFTEST_ARGS//\'/\'\\\'\'}'"
		echo "exec /bin/sh /kselftest/run_kselftest.sh$ksft_sel"
	} >"$work/cowswap-ksft.sh"
	echo "swap_exclusive /bin/sh /etc/cowswap-ksft.sh" >>"$work/cowswap-tests"
elif [ "${SELFTEST:-1}" != 0 ]; then
	# a selftest directory in the mm/ layout (6.12): its vm_util.c needs
	# the tree's uapi headers for the record's architecture
	khdr=()
	if [ -f "$ksft/mm/vm_util.c" ]; then
		[ -n "$KARCH" ] || die "$NAME: $ksft is in the mm/ layout, which needs the record's KARCH for its uapi headers"
		inc=$(uapi_headers "$(cd "$ksft/../../.." && pwd)" "$KARCH") || exit 1
		khdr=(KHDR=1 "KHDR_INCLUDES=-isystem $inc")
	fi
	make -s -C "$st" KSFT_DIR="$ksft" CROSS_COMPILE="$CROSS_COMPILE" "${khdr[@]}" \
		OUTPUT="$work/tests" STATIC=1 >"$work/make.log" 2>&1 ||
		{ cat "$work/make.log" >&2; die "$NAME: cannot build selftests/swap_exclusive"; }
	[ -x "$work/tests/swap_exclusive" ] || die "$NAME: selftest build produced no swap_exclusive binary"
	if [ "${AFFECTED:-0}" = 1 ]; then
		[ -x "$BUSYBOX" ] && static_elf "$BUSYBOX" || die "AFFECTED=1: $BUSYBOX is not a static busybox"
		[ "$(elf_machine "$BUSYBOX")" = "$(elf_machine "$work/init")" ] ||
			die "AFFECTED=1: $BUSYBOX is not built for $NAME"
		echo "affected /bin/sh /bin/affected-guest.sh ${AFFECTED_ARGS:-}" >>"$work/cowswap-tests"
	else
		echo "swap_exclusive /tests/swap_exclusive ${SELFTEST_ARGS:-}" >>"$work/cowswap-tests"
	fi
fi

# VMTESTS=1: the 6.1 tree's own mm selftests (docs/vmtests.md), run by
# the static runner scripts/guest/vmtests.c from /tests/vmtests with the
# list scripts/guest/vmtests.list resolved for this record in
# /etc/cowswap-vmtests; the binaries in /tests/vm. They come from
# VMTESTS_TREE's tools/testing/selftests/vm (default: the upstream tree,
# stock 6.1: the vm tests are the same in every variant's tree but for
# the patched trees' swap_exclusive). Each binary is compiled directly
# with the record's USER_CC, -static, with the flags and the extra
# sources and libraries vm/Makefile gives it: that Makefile builds all of
# its programs for the host's machine (uname -m) and cannot pick some.
if [ "${VMTESTS:-0}" = 1 ]; then
	vtree=${VMTESTS_TREE:-$TREES/upstream}
	vm=$vtree/tools/testing/selftests/vm
	[ -f "$vm/Makefile" ] || die "VMTESTS=1: no $vm/Makefile"
	"$USER_CC" -static -O2 -Wall -Wextra -o "$work/tests/vmtests" "$TOP/scripts/guest/vmtests.c" ||
		die "$NAME: cannot build the vmtests runner"
	lp64=0
	case $("$USER_CC" -dM -E - </dev/null) in *__LP64__*) lp64=1 ;; esac
	# has_lib <name>: the record's compiler has a static lib<name>
	trim() {
		local x=${1#"${1%%[![:space:]]*}"}
		echo "${x%"${x##*[![:space:]]}"}"
	}
	has_lib() { [ "$("$USER_CC" -print-file-name="lib$1.a")" != "lib$1.a" ]; }
	mkdir -p "$work/vm"
	: >"$work/cowswap-vmtests"
	built=" "
	while IFS='|' read -r vname vtime vneeds vcmd; do
		vname=$(trim "$vname")
		[ -n "$vname" ] && [[ $vname != \#* ]] || continue
		vneeds=$(trim "$vneeds")
		vcmd=$(trim "$vcmd")
		why=
		IFS=';' read -ra words <<<"$vneeds"
		for w in "${words[@]}"; do
			case $w in
			lacks=*)
				# lacks=<word>[:<what that does to this test>]
				lw=${w#lacks=} more=
				[[ $lw != *:* ]] || more=": ${lw#*:}" lw=${lw%%:*}
				[[ " $LACKS " != *" $lw "* ]] || why=$(lacks_why "$lw")$more ||
					die "vmtests.list: $vname: unknown LACKS word '$lw'" ;;
			bits=64*)
				# bits=64[:<why>]
				[ "$lp64" = 1 ] || why=${w#bits=64:}
				[ "$why" != bits=64 ] || why="64-bit only (vm/Makefile builds it for 64-bit machines)" ;;
			lib=*) has_lib "${w#lib=}" || why="needs a static lib${w#lib=}, which $USER_CC lacks (Debian packages it for the host only)" ;;
			cpp=*)
				# cpp=<macro>[,<macro>...]:<why>: the test's own #if, which
				# makes the binary exit KSFT_SKIP without a word unless the
				# record's compiler defines one of the macros
				ms=${w#cpp=} ok=
				IFS=, read -ra macros <<<"${ms%%:*}"
				defs=$("$USER_CC" -dM -E - </dev/null)
				for m in "${macros[@]}"; do
					[[ $defs != *"#define $m "* ]] || ok=1
				done
				[ -n "$ok" ] || why=${ms#*:} ;;
			env=*) why=${w#env=} ;;
			path=* | uid=* | sysctl=* | thp=* | cpuflag=* | retry=* | -) ;;
			*) die "vmtests.list: $vname: unknown need '$w'" ;;
			esac
			[ -z "$why" ] || break
		done
		if [ -n "$why" ]; then
			echo "$vname|$vtime|skip=$why|-" >>"$work/cowswap-vmtests"
			continue
		fi
		# the guest's needs: the host's are met
		gneeds=
		for w in "${words[@]}"; do
			case $w in path=* | uid=* | sysctl=* | thp=* | cpuflag=* | retry=*) gneeds=$gneeds${gneeds:+;}$w ;; esac
		done
		echo "$vname|$vtime|${gneeds:--}|$vcmd" >>"$work/cowswap-vmtests"
		bin=${vcmd%% *}
		[[ $built == *" $bin "* ]] && continue
		[ -f "$vm/$bin.c" ] || die "vmtests.list: $vname: no $vm/$bin.c"
		# vm/Makefile's "$(OUTPUT)/<bin> ...: <sources>" and
		# "...: LDLIBS += <libs>" lines for this binary
		extra=$(sed -n "s|^\(\$(OUTPUT)/[^:]*\):|\1 :|p" "$vm/Makefile" |
			awk -v b="\$(OUTPUT)/$bin" '{ for (i = 1; $i != ":"; i++) if ($i == b) { sub(/^[^:]*: */, ""); print; next } }')
		srcs='' libs=''
		case $extra in
		*LDLIBS*) libs=${extra#*+=} ;;
		?*) srcs=$extra ;;
		esac
		src_paths=()
		for f in $srcs; do src_paths+=("$vm/$f"); done
		lib_args=()
		for l in $libs; do
			# no static libnuma for a cross compiler: the stand-in
			if [ "$l" = -lnuma ] && ! has_lib numa; then
				src_paths+=("$TOP/scripts/guest/nonuma.c")
			else
				lib_args+=("$l")
			fi
		done
		# -include sys/syscall.h: mrelease_test uses __NR_process_mrelease
		# and __NR_pidfd_open without including it, and falls back to -1
		# (ENOSYS: a SKIP that tests nothing)
		(cd "$vm" && "$USER_CC" -static -O2 -Wall -include sys/syscall.h \
			-I "$vtree" -I "$vtree/tools/testing/selftests" \
			-o "$work/vm/$bin" "$bin.c" "${src_paths[@]}" "${lib_args[@]}" -lrt -lpthread) \
			>>"$work/vm.log" 2>&1 || { tail -20 "$work/vm.log" >&2; die "$NAME: cannot build vm/$bin"; }
		built="$built$bin "
	done <"${VMTESTS_LIST:-$TOP/scripts/guest/vmtests.list}"
	info "$NAME: vm selftests from ${vtree#"$TOP"/}:$built"
	echo "vmtests /tests/vmtests /etc/cowswap-vmtests /tests/vm" >>"$work/cowswap-tests"
fi

for src in ${EXTRA_TESTS:-}; do
	[ -f "$src" ] || die "EXTRA_TESTS: $src does not exist"
	name=$(basename "$src" .c)
	# shellcheck disable=SC2086
	"$USER_CC" -static -O2 -Wall -pthread -I"$ksft" -I"$ksft/vm" -I"$st" -o "$work/tests/$name" "$src" \
		${EXTRA_SOURCES:-} -latomic || die "cannot build extra test $src"
	echo "$name /tests/$name ${EXTRA_ARGS:-}" >>"$work/cowswap-tests"
done

# modname <path of a .ko[.xz|.zst|.gz]>: its module name.
modname() {
	local n=${1##*/}
	n=${n%%.ko*}
	echo "${n//-/_}"
}

: >"$work/cowswap-modules"
if [ -n "${MODULES:-}${MODULES_OPTIONAL:-}" ]; then
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
	for m in ${MODULES:-} ${MODULES_OPTIONAL:-}; do
		m=${m//-/_}
		if [ -n "${mod_file[$m]:-}" ]; then
			place "$m"
		elif grep -qx "$m" < <(sed 's,.*/,,; s,\.ko.*,,; s,-,_,g' "$mdir/modules.builtin"); then
			info "$NAME: module $m is built into the kernel"
		elif [[ " ${MODULES_OPTIONAL:-} " == *" $m "* || " ${MODULES_OPTIONAL:-} " == *" ${m//_/-} "* ]]; then
			info "$NAME: optional module $m is not in this kernel (the checks that need it SKIP)"
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
		if [ "${AFFECTED:-0}" = 1 ]; then
			# where an installed system has it, for modprobe
			rel=${mod_file[$m]%.ko*}.ko
			mkdir -p "$work/modtree/$(dirname "$rel")"
			mv "$work/modules/$m.ko" "$work/modtree/$rel"
			continue
		fi
		params=
		for p in ${MODULE_PARAMS:-}; do
			[ "${p%%.*}" != "$m" ] || params="$params ${p#*.}"
		done
		echo "/lib/modules/$m.ko$params" >>"$work/cowswap-modules"
	done
	if [ "${AFFECTED:-0}" = 1 ]; then
		krel=$(basename "$mdir")
		mkdir -p "$work/modroot/lib/modules"
		mv "$work/modtree" "$work/modroot/lib/modules/$krel"
		for f in modules.order modules.builtin modules.builtin.modinfo; do
			[ ! -f "$mdir/$f" ] || cp "$mdir/$f" "$work/modroot/lib/modules/$krel/"
		done
		depmod -b "$work/modroot" "$krel" || die "$NAME: depmod for the guest's modules failed"
		info "$NAME: modules for modprobe in /lib/modules/$krel: ${order[*]}"
	else
		info "$NAME: modules in load order: ${order[*]}"
	fi
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
	if [ -d "$work/modroot" ]; then
		(cd "$work/modroot" && find lib/modules -mindepth 1 | LC_ALL=C sort) | while read -r f; do
			if [ -d "$work/modroot/$f" ]; then
				echo "dir /$f 0755 0 0"
			else
				echo "file /$f $work/modroot/$f 0644 0 0"
			fi
		done
		cfg=$(ls "$MODULES_FROM"/boot/config-* 2>/dev/null | head -n1) || true
		[ -z "$cfg" ] || { echo "dir /boot 0755 0 0"; echo "file /boot/$(basename "$cfg") $cfg 0644 0 0"; }
	fi
	if [ "${AFFECTED:-0}" = 1 ]; then
		echo "file /bin/busybox $BUSYBOX 0755 0 0"
		for a in $("$BUSYBOX" --list 2>/dev/null || /bin/busybox --list); do
			[ "$a" = busybox ] || echo "slink /bin/$a busybox 0777 0 0"
		done
		echo "file /bin/affected.sh $TOP/scripts/affected.sh 0755 0 0"
		echo "file /bin/affected-guest.sh $TOP/scripts/guest/affected-guest.sh 0755 0 0"
	fi
	echo "file /init $work/init 0755 0 0"
	echo "file /etc/cowswap-tests $work/cowswap-tests 0644 0 0"
	for t in "$work"/tests/*; do
		[ -x "$t" ] && [ -f "$t" ] && echo "file /tests/$(basename "$t") $t 0755 0 0"
	done
	if [ -s "$work/cowswap-vmtests" ]; then
		echo "file /etc/cowswap-vmtests $work/cowswap-vmtests 0644 0 0"
		echo "dir /tests/vm 0755 0 0"
		for t in "$work"/vm/*; do
			[ -f "$t" ] && echo "file /tests/vm/$(basename "$t") $t 0755 0 0"
		done
	fi
	if [ -d "$work/kselftest" ]; then
		echo "file /bin/busybox $BUSYBOX 0755 0 0"
		echo "file /etc/cowswap-ksft.sh $work/cowswap-ksft.sh 0644 0 0"
		for a in $KSFT_APPLETS; do
			echo "slink /bin/$a busybox 0777 0 0"
		done
		(cd "$work" && find kselftest | LC_ALL=C sort) | while read -r f; do
			if [ -d "$work/$f" ]; then
				echo "dir /$f 0755 0 0"
			else
				echo "file /$f $work/$f $(stat -c %a "$work/$f") 0 0"
			fi
		done
	fi
} >"$work/cpio.list"
"$gen" "$work/cpio.list" >"$cpio.tmp" || die "gen_init_cpio failed"
mv "$cpio.tmp" "$cpio"
info "$NAME: initramfs $(du -h "$cpio" | cut -f1) with: $(cut -d' ' -f1 "$work/cowswap-tests" | tr '\n' ' ')"

# SPDX-License-Identifier: GPL-2.0
# Common helpers for the cowswap scripts. Source it, do not run it.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${COWSWAP_OUT:-$TOP/out}
SRC_GIT=$OUT/src/linux.git
TREES=$OUT/trees
BUILDS=$OUT/build
PROG=$(basename "$0")

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

info() {
	echo "$PROG: $*" >&2
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "required command '$c' not found (run 'make deps' or apt-get install it)"
	done
}

# need_space <dir> <MiB> <what>: fail early, with the numbers, when the
# file system holding <dir> has less than <MiB> free, rather than dying
# half way with ENOSPC and a truncated log.
need_space() {
	local avail
	avail=$(df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print int($4 / 1024) }')
	[ -n "$avail" ] || die "cannot tell the free space in $1"
	[ "$avail" -ge "$2" ] ||
		die "only ${avail} MiB free in $1, $3 needs about $2 MiB (set COWSWAP_OUT= elsewhere or free some space)"
}

# Run a named stage, print how long it took and keep a record of it in
# $OUT/timings.log so that the matrix summary can show stage timings.
stage() {
	local name=$1 t0 t1 rc=0
	shift
	t0=$(date +%s)
	info ">>> $name"
	"$@" || rc=$?
	t1=$(date +%s)
	mkdir -p "$OUT"
	printf '%s\t%s\t%d\t%d\n' "$(date -u +%FT%TZ)" "$name" $((t1 - t0)) "$rc" >>"$OUT/timings.log"
	if [ "$rc" -ne 0 ]; then
		info "<<< $name FAILED after $((t1 - t0))s (exit $rc)"
		return "$rc"
	fi
	info "<<< $name done in $((t1 - t0))s"
}

# The three trees of the matrix, and "mutant": patched plus
# patches/mutants, deliberate bugs the selftest must catch.
VARIANTS="upstream baseline patched"
# Records with SERIES=lts-6.1 (the 6.1-LTS architectures) have two
# variants instead: "stock", Debian's 6.1 as shipped (the upstream tree,
# which still loses the data there), and "fixed", stock plus
# patches/lts-6.1.
LTS_VARIANTS="stock fixed"
# "v6.12": Debian 13's Linux 6.12 as shipped (scripts/get-source.sh 6.12,
# tree $TREES/v6.12), a control of today's kernels for any record: the
# marker is there on every architecture with swap PTEs and O_DIRECT pins
# with FOLL_PIN, so every check must pass. Built and booted only when
# asked for (ARCH=<record> VARIANT=v6.12, or <record>/v6.12 in a matrix).
MAINLINE_VARIANTS="v6.12"
ALL_VARIANTS="$VARIANTS mutant $LTS_VARIANTS $MAINLINE_VARIANTS"

# tree_of <variant>: the worktree under $TREES a variant builds from.
tree_of() {
	case $1 in
	stock) echo upstream ;;
	*) echo "$1" ;;
	esac
}

# ksft_of <variant>: the kselftest directory the guest's selftest is
# built against (kselftest.h, and vm/ or mm/ for vm_util.c): the
# variant's own tree for the 6.12 control, 6.1's upstream tree otherwise
# (our 6.1 trees all carry the same tools/testing/selftests).
ksft_of() {
	case " $MAINLINE_VARIANTS " in
	*" $1 "*) echo "$TREES/$(tree_of "$1")/tools/testing/selftests" ;;
	*) echo "$TREES/upstream/tools/testing/selftests" ;;
	esac
}

# check_tree <dir> <what> [<version>]: <dir> must look like a kernel source
# tree and be Linux <version>.y (default 6.1); otherwise one error line
# that names <what> (e.g. "KDIR").
check_tree() {
	local d=$1 what=$2 want=${3:-6.1} v p
	[ -d "$d" ] || die "$what='$d' does not exist or is not a directory"
	[ -f "$d/Makefile" ] && [ -f "$d/mm/memory.c" ] && [ -d "$d/arch/x86" ] ||
		die "$what='$d' is not a Linux source tree (no Makefile/mm/memory.c)"
	v=$(sed -n 's/^VERSION = //p' "$d/Makefile" | head -1)
	p=$(sed -n 's/^PATCHLEVEL = //p' "$d/Makefile" | head -1)
	[ "$v.$p" = "$want" ] ||
		die "$what='$d' is Linux $v.$p, but cowswap needs a $want.y tree"
}

# arch_variants <arch>: the variants the matrix runs for one record.
arch_variants() {
	(
		load_arch "$1"
		if [ -n "$SERIES" ]; then echo "$LTS_VARIANTS"; else echo "$VARIANTS"; fi
	)
}

check_variant() {
	case " $ALL_VARIANTS " in
	*" $1 "*) ;;
	*) die "unknown variant '$1' (expected one of: $ALL_VARIANTS)" ;;
	esac
}

# expect_of <variant>: the outcome scripts/results.py must report.
expect_of() {
	case $1 in
	baseline | stock) echo reproduced ;;
	mutant*) echo fail ;;
	*) echo pass ;;
	esac
}

# The mutant kernel carries deliberate bugs, one switched on per boot
# with cowswap_mutant=<name>. patches/mutants declares each with a line
#   # mutation <name>: select <selftest names|all>; must-fail <prefixes>
# (after the patch's '---', so not part of the commit): which checks
# that boot runs and which of them must fail.
mutations() {
	cat "$TOP"/patches/mutants/*.patch 2>/dev/null |
		sed -n 's/^# mutation \([a-z0-9_]*\): .*/\1/p'
}

# mutation_field <name> select|must-fail
mutation_field() {
	local line
	line=$(cat "$TOP"/patches/mutants/*.patch | grep -m1 "^# mutation $1: select .*; must-fail ") ||
		die "unknown mutation '$1' (patches/mutants declares: $(mutations | tr '\n' ' '))"
	case $2 in
	select) line=${line#*: select }; echo "${line%%;*}" ;;
	must-fail) echo "${line#*; must-fail }" ;;
	*) die "mutation_field: bad field '$2'" ;;
	esac
}

# variant_label <variant>: the name a boot of the variant runs under
# (results/<run>/<arch>-<label>...): the mutant's carries MUTATION, which
# it must have, naming a declared mutation.
variant_label() {
	if [ "$1" != mutant ]; then
		echo "$1"
		return
	fi
	[ -n "${MUTATION:-}" ] ||
		die "the mutant kernel needs MUTATION=<name> (one of: $(mutations | tr '\n' ' '))"
	mutation_field "$MUTATION" select >/dev/null
	echo "mutant-$MUTATION"
}

# SKIPs every record allows, on top of its own MAY_SKIP: the race checks
# give up (SKIP, with the number of iterations tried) when the two
# threads never overlapped within their bound, which under TCG is a
# matter of timing, not of the kernel.
NL='
'
COMMON_MAY_SKIP="race_*/* the two threads never overlapped within the check's bound (-f iterations, -T seconds): under TCG a matter of timing
fork_race_swapin/* the fork never overlapped the swap-in within the check's bound: under TCG a matter of timing"
# (RECORD_MAY_SKIP keeps the record's own lines: what a healthy boot
# there always SKIPs, for scripts/tests/console_log.py.)

# note_commit <run dir>: which commit of this repository made the run
# (the first boot of a run writes it; snapshots of the run quote it).
note_commit() {
	[ -s "$1/commit" ] ||
		git -C "$TOP" describe --always --dirty --abbrev=12 >"$1/commit" 2>/dev/null ||
		echo unknown >"$1/commit"
}

# lacks_may_skip <record file>: the MAY_SKIP lines of the record's LACKS,
# the mm features 6.1 does not have on its architecture. Each feature's
# checks SKIP there, and name the option in their SKIP line.
#   soft-dirty  no HAVE_ARCH_SOFT_DIRTY (6.1: x86_64, s390, book3s64 only)
#   uffd-wp     no HAVE_ARCH_USERFAULTFD_WP (6.1: x86 only)
#   thp-swap    no THP_SWAP: reclaim splits a THP before swap-out, so no
#               THP is swapped out whole (6.1: x86_64, arm64 4K pages)
lacks_may_skip() {
	local x c why
	for x in $LACKS; do
		why=$(lacks_why "$x") || die "$1: LACKS: unknown feature '$x' (soft-dirty, uffd-wp, thp-swap)"
		case $x in
		soft-dirty) for c in softdirty softdirty_swapped; do echo "$c/* $why"; done ;;
		uffd-wp) for c in uffd_wp uffd_wp_swapped race_read_wp; do echo "$c/* $why"; done ;;
		thp-swap) for c in thp_whole thp_partial; do echo "*/$c $why"; done ;;
		esac
	done
}

# add_lacks <record file>: the record's MAY_SKIP with the lines of its
# LACKS in front (architecture and distribution records alike).
add_lacks() {
	local lacks
	lacks=$(lacks_may_skip "$1") || exit 1
	MAY_SKIP=$lacks${lacks:+${MAY_SKIP:+$NL}}$MAY_SKIP
}

# lacks_why <LACKS word>: why a check needing it SKIPs (the same words for
# the selftest's MAY_SKIP and the vm selftests' SKIPs, vmtests.list).
lacks_why() {
	case $1 in
	soft-dirty) echo "soft-dirty does not exist here in 6.1 (only x86_64, s390 and book3s64 select HAVE_ARCH_SOFT_DIRTY)" ;;
	uffd-wp) echo "anonymous uffd-wp exists only on x86_64 in 6.1 (only x86 selects HAVE_ARCH_USERFAULTFD_WP)" ;;
	thp-swap) echo "a THP with the marker in every subpage entry needs it swapped out whole, which 6.1 does only with CONFIG_THP_SWAP (x86_64, arm64 with 4K pages); here reclaim splits it" ;;
	*) return 1 ;;
	esac
}

# Architecture records live in configs/arch/<name>.conf: one small
# declarative file per QEMU target. Load one into the current shell.
ARCHS_ALL() {
	local f
	for f in "$TOP"/configs/arch/*.conf; do
		basename "$f" .conf
	done
}

load_arch() {
	case $1 in distro-*) load_distro "${1#distro-}" && return ;; esac
	local f=$TOP/configs/arch/$1.conf
	# configs/arch/build-only/: targets whose kernels build but do not
	# boot here (NO_BOOT says why); builds and bisects take them, boots
	# refuse them, and ARCHS_ALL leaves them out.
	[ -f "$f" ] || f=$TOP/configs/arch/build-only/$1.conf
	[ -f "$f" ] || die "unknown architecture '$1' (known: $(ARCHS_ALL | tr '\n' ' '))"
	# Defaults, overridden by the record.
	NAME=$1
	BUILD=$1
	KARCH=
	CROSS_COMPILE=
	KCONFIG=
	KERNEL_IMAGE=
	QEMU=
	QEMU_ARGS=
	# UP_QEMU_ARGS: QEMU_ARGS for a one-CPU boot (run-qemu.sh QEMU_SMP=1),
	# where the record's machine needs another setup for that.
	UP_QEMU_ARGS=
	CMDLINE=
	DISK_DEVICE=virtio-blk-pci
	USER_CC=gcc
	TIMEOUT=${COWSWAP_TIMEOUT:-900}
	# Selftest checks that may SKIP on this architecture, one per line:
	# "<glob of check/setup> <why>". Any other SKIP is an error.
	MAY_SKIP=
	# SERIES=lts-6.1: a 6.1-LTS record (variants stock and fixed).
	SERIES=
	# SOURCES_AS: see sources_key.
	SOURCES_AS=
	# LACKS: see lacks_may_skip.
	LACKS=
	# NO_BOOT: why this target cannot be booted (build-only records).
	NO_BOOT=
	# DEFCONFIGS: the kernel's own configurations of this architecture
	# that scripts/defconfig-build.sh builds with the 6.1-LTS series.
	DEFCONFIGS=
	# MEM_MAX: the most guest RAM (MiB) this record boots with, where that
	# is less than a suite asks for (vmtests.sh 2048): run-qemu.sh caps MEM.
	MEM_MAX=
	# STRESS_MEM: guest RAM (MiB) for stress.sh's debug kernels where its
	# default 256 is too little for the kernel itself to boot.
	STRESS_MEM=
	# shellcheck disable=SC1090
	. "$f"
	add_lacks "$f"
	RECORD_MAY_SKIP=$MAY_SKIP
	MAY_SKIP=${MAY_SKIP:+$MAY_SKIP$NL}$COMMON_MAY_SKIP
	[ -n "$KARCH" ] && [ -n "$KERNEL_IMAGE" ] && [ -n "$QEMU" ] ||
		die "$f: KARCH, KERNEL_IMAGE and QEMU must be set"
	[ -z "$SERIES" ] || [ -f "$TOP/patches/$SERIES/series" ] ||
		die "$f: SERIES=$SERIES but patches/$SERIES/series does not exist"
	case $f in
	*/build-only/*) [ -n "$NO_BOOT" ] || die "$f: a build-only record must say why in NO_BOOT" ;;
	*) [ -z "$NO_BOOT" ] || die "$f: NO_BOOT is set; the record belongs in configs/arch/build-only/" ;;
	esac
}

# guest_mem <default>: after load_arch, the guest RAM in MiB a boot of
# this record gets: MEM, else <default>, capped at the record's MEM_MAX
# (with a line that says so, on stderr).
guest_mem() {
	local mem=${MEM:-$1}
	if [ -n "${MEM_MAX:-}" ] && [ "$mem" -gt "$MEM_MAX" ]; then
		info "$NAME: $mem MiB asked, its machine boots with at most $MEM_MAX (MEM_MAX)"
		mem=$MEM_MAX
	fi
	echo "$mem"
}

# ensure_kernel <POLICY_VAR> <image> <record> <variant>: make sure the
# kernel image of <record>/<variant> (with FRAGMENTS_EXTRA, as build.sh)
# is there and current: build.sh runs (nice, incremental: seconds when
# nothing changed) unless the variable named POLICY_VAR (BENCH_BUILD,
# STRESS_BUILD) says "never", which takes the image as it is and fails
# when it is missing. An image that exists is not trusted by default: a
# fragment changed since it was built (a new option in common.config)
# would otherwise be tested without the change. Returns 1 with
# KERNEL_MISSING set to "no kernel" or "kernel build failed".
ensure_kernel() {
	local policy=${!1:-} kimg=$2 rec=$3 v=$4 sfx= x
	case $policy in
	'' | never | always) ;;
	*) die "$1=$policy: expected never or always" ;;
	esac
	KERNEL_MISSING=
	if [ "$policy" = never ]; then
		[ -f "$kimg" ] && return 0
		KERNEL_MISSING="no kernel"
		return 1
	fi
	for x in ${FRAGMENTS_EXTRA:-}; do sfx=$sfx-$x; done
	stage "build $rec/$v$sfx" nice -n 10 "$TOP/scripts/build.sh" "$rec" "$v" && return 0
	KERNEL_MISSING="kernel build failed"
	return 1
}

# refuse_no_boot: die if the loaded record cannot be booted.
refuse_no_boot() {
	[ -z "${NO_BOOT:-}" ] ||
		die "$NAME is built, never booted here: $NO_BOOT (scripts/build.sh $NAME <variant> builds it)"
}

# DEBIAN_RELEASES: the releases a record or source import may name, as
# "<codename>:<version>". Debian 11 (bullseye, Linux 5.10), 12 (bookworm,
# Linux 6.1, the default) and 13 (trixie, Linux 6.12).
DEBIAN_RELEASES="bullseye:11 bookworm:12 trixie:13"

# check_release <codename>: die unless it is one of DEBIAN_RELEASES.
check_release() {
	case " $DEBIAN_RELEASES " in
	*" $1:"*) ;;
	*) die "unknown Debian release '$1' (known: $(release_names))" ;;
	esac
}

release_names() {
	local r
	for r in $DEBIAN_RELEASES; do printf '%s ' "${r%%:*}"; done
}

# release_version <codename>: 11, 12 or 13.
release_version() {
	local r
	for r in $DEBIAN_RELEASES; do
		[ "${r%%:*}" != "$1" ] || { echo "${r#*:}"; return 0; }
	done
	die "unknown Debian release '$1' (known: $(release_names))"
}

# Distribution kernel records live in configs/distro/<record>.conf: one
# per Debian kernel flavour that 'make distro-check' boots, named after
# the Debian architecture (amd64.conf) or, for a further flavour of it,
# <debian-arch>-<flavour> (i386-686.conf); the record name is only a
# name, DEBIAN_ARCH and FLAVOUR say what is fetched. load_distro
# <record> (or load_arch distro-<record>) loads one and derives the
# variables of an architecture record from it, so run-qemu.sh and
# initramfs.sh take it as the target "distro-<record>". Fields:
# RELEASE (the Debian release's codename: bookworm, the default, trixie
# or bullseye; see DEBIAN_RELEASES); DEBIAN_ARCH; FLAVOUR (the meta
# package linux-image-<FLAVOUR>);
# KERNEL_IMAGE (a glob inside the package); DTB (a glob inside the
# package: the device tree QEMU passes with -dtb, for machines that
# bring none); QEMU, MACHINE, CPU, QEMU_MEM (MiB), SMP, CONSOLE,
# CMDLINE_EXTRA, DISK_DEVICE (empty: the machine has no virtio, only
# DISKS=none boots it); CROSS_COMPILE and USER_CC for the static /init
# and selftest; MODULES for /init to load (their dependencies are
# added), MODULES_OPTIONAL the same where the package has them (the
# checks that need one SKIP without it) and MODULE_PARAMS
# (<module>.<param>=<value>);
# DISTRO_SELFTEST_ARGS (selftest options, e.g. to run fewer checks);
# NO_EXIT (why the guest cannot end QEMU by itself: run-qemu.sh then
# ends it once /init is done).
DISTROS_ALL() {
	local f
	for f in "$TOP"/configs/distro/*.conf; do
		[ -f "$f" ] && basename "$f" .conf
	done
}

load_distro() {
	local f=$TOP/configs/distro/$1.conf
	[ -f "$f" ] || die "unknown distribution record '$1' (known: $(DISTROS_ALL | tr '\n' ' '))"
	NAME=distro-$1
	BUILD=
	RELEASE=bookworm
	KARCH=
	DEBIAN_ARCH=
	FLAVOUR=
	KERNEL_IMAGE=
	DTB=
	QEMU=
	MACHINE=
	CPU=
	QEMU_MEM=1024
	SMP=1
	CONSOLE=
	CMDLINE_EXTRA=
	DISK_DEVICE=virtio-blk-pci
	CROSS_COMPILE=
	USER_CC=gcc
	MODULES=
	MODULES_OPTIONAL=
	MODULE_PARAMS=
	DISTRO_SELFTEST_ARGS=
	NO_EXIT=
	MAY_SKIP=
	LACKS=
	TIMEOUT=${COWSWAP_TIMEOUT:-900}
	# shellcheck disable=SC1090
	. "$f"
	add_lacks "$f"
	RECORD_MAY_SKIP=$MAY_SKIP
	MAY_SKIP=${MAY_SKIP:+$MAY_SKIP$NL}$COMMON_MAY_SKIP
	( check_release "$RELEASE" ) || die "$f: RELEASE=$RELEASE"
	[ -n "$DEBIAN_ARCH" ] && [ -n "$FLAVOUR" ] && [ -n "$KERNEL_IMAGE" ] && [ -n "$QEMU" ] &&
		[ -n "$MACHINE" ] || die "$f: DEBIAN_ARCH, FLAVOUR, KERNEL_IMAGE, QEMU and MACHINE must be set"
	QEMU_ARGS="-machine $MACHINE${CPU:+ -cpu $CPU} -smp $SMP"
	CMDLINE="${CONSOLE:+console=$CONSOLE }$CMDLINE_EXTRA"
	# run-qemu.sh's MEM; the caller's value wins. What the caller set is
	# kept aside on the first call: a second record loaded by the same
	# script gets its own QEMU_MEM, not the first record's.
	[ -n "${CALLER_MEM+set}" ] || CALLER_MEM=${MEM:-}
	MEM=${CALLER_MEM:-$QEMU_MEM}
}

# sources_key: after load_arch, what decides which files a record's
# kernel compiles: its series, kernel ARCH and fragments. Records with
# the same key need not be compiled twice to check the sources
# (bisect-build.sh, sparse-check.sh): ppc64le-hash boots ppc64le's
# kernel. A record whose extra fragment changes options but no file the
# series touches says so with SOURCES_AS=<fragments> (x86_64-preempt is
# checked as x86_64); one that changes the layout the series encodes
# (ppc64 big-endian, ppc64le-4k) keeps its own key.
sources_key() {
	echo "${SERIES:-main} $KARCH ${SOURCES_AS:-$KCONFIG}"
}

# arch_field <arch> <VAR>: one field of an architecture record, for the
# tools that are not shell (results.py reads MAY_SKIP with it).
arch_field() {
	load_arch "$1"
	printf '%s\n' "${!2}"
}

# selftest_names [swap_exclusive options]: the "<check>/<setup>" names
# the selftest runs with these options, as `swap_exclusive -l` prints them
# (the list does not depend on the architecture, so a host build tells
# what every guest must report). The host binary is kept in $OUT/tools
# and rebuilt by make when the source changes; flock keeps parallel
# boots from building it at the same time.
selftest_names() {
	local st=${SELFTEST_DIR:-$TOP/selftests/swap_exclusive} o=$OUT/tools/selftest-list
	local ksft=$TREES/upstream/tools/testing/selftests
	[ -f "$ksft/kselftest.h" ] || die "$ksft/kselftest.h missing; run 'make trees' first"
	need_cmd gcc make flock
	mkdir -p "$o"
	(
		flock 9
		make -s -C "$st" KSFT_DIR="$ksft" CROSS_COMPILE= OUTPUT="$o" >"$o/make.log" 2>&1 ||
			{ cat "$o/make.log" >&2; die "cannot build selftests/swap_exclusive for the host (to list its checks)"; }
		"$o/swap_exclusive" -l "$@" || die "'swap_exclusive -l $*' failed"
	) 9>"$o.lock"
}

# uapi_headers <tree> <kernel ARCH>: the tree's exported uapi headers for
# that architecture ('make headers' out of tree, once, in
# $OUT/headers/<tree name>-<ARCH>): a selftest directory in the mm/ layout
# (6.12) has a vm_util.c that needs uapi newer than the build host's
# (PAGE_IS_* of linux/fs.h, 6.7), as the kernel's own kselftest build
# gets them with KHDR_INCLUDES. Prints the include directory.
uapi_headers() {
	local tree=$1 karch=$2 h
	h=$OUT/headers/$(basename "$tree")-$karch
	need_cmd make flock
	mkdir -p "$OUT/headers"
	(
		flock 9
		[ -f "$h/.done" ] && [ "$(cat "$h/.done")" = "$(git -C "$tree" rev-parse HEAD 2>/dev/null)" ] && exit 0
		info "installing the uapi headers of ${tree#"$TOP"/} for ARCH=$karch into ${h#"$TOP"/}"
		rm -rf "$h"
		make -s -C "$tree" O="$h" ARCH="$karch" headers >"$h.log" 2>&1 ||
			{ cat "$h.log" >&2; die "make headers ARCH=$karch in $tree failed"; }
		git -C "$tree" rev-parse HEAD >"$h/.done" 2>/dev/null || echo unknown >"$h/.done"
	) 9>"$h.lock" || exit 1
	echo "$h/usr/include"
}

# series_patches <dir>: the patch files <dir>/series lists, in order.
series_patches() {
	grep -v -e '^#' -e '^$' "$1/series" | sed "s|^|$1/|"
}

# patch_paths <patch>...: every file the patches touch (both sides of
# each 'diff --git' line), once each.
patch_paths() {
	[ $# -gt 0 ] || return 0
	sed -n 's|^diff --git a/\([^ ]*\) b/\([^ ]*\)$|\1\n\2|p' "$@" | sort -u
}

# scratch_worktree <dir> <commit> <path>...: a worktree of $SRC_GIT at
# <commit> with only <path>... checked out (a sparse checkout; a path
# ending in / is a directory). Patching, git am and 'git add -A' work on
# those paths, and the index still has every other file at <commit>, so
# a diff against another commit is whole. A full checkout of the 6.1
# tree takes some 30 s; this takes under a second.
scratch_worktree() {
	local wt=$1 commit=$2 p
	shift 2
	local -a pats=()
	for p in "$@"; do pats+=("/$p"); done
	git --git-dir="$SRC_GIT" worktree remove --force "$wt" 2>/dev/null || rm -rf "$wt"
	git --git-dir="$SRC_GIT" worktree prune
	mkdir -p "$(dirname "$wt")"
	git --git-dir="$SRC_GIT" worktree add -q --no-checkout --detach "$wt" "$commit" &&
		git -C "$wt" sparse-checkout set --no-cone "${pats[@]}" &&
		git -C "$wt" checkout -q ||
		die "cannot check out $commit into $wt"
}

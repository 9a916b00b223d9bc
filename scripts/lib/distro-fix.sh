# SPDX-License-Identifier: GPL-2.0
# Helpers of distro-fix.sh and distro-deb.sh: Debian's own kernel config
# for a distribution record, checked against the source tree. Source it
# after lib.sh, do not run it.

# karch_of <debian arch>: the kernel's ARCH and the image make builds.
karch_of() {
	case $1 in
	i386 | amd64) echo "x86 arch/x86/boot/bzImage" ;;
	armhf | armel) echo "arm arch/arm/boot/zImage" ;;
	arm64) echo "arm64 arch/arm64/boot/Image" ;;
	mipsel | mips64el) echo "mips vmlinux" ;;
	ppc64el) echo "powerpc vmlinux" ;;
	s390x) echo "s390 arch/s390/boot/bzImage" ;;
	*) return 1 ;;
	esac
}

# tree_version <tree>: VERSION.PATCHLEVEL.SUBLEVEL of its Makefile.
tree_version() {
	awk -F' = ' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2 } END { if (v != "") print v "." p "." s }' "$1/Makefile"
}

# debian_config <record>: the path of Debian's config for the record,
# fetching the package if it is not unpacked yet.
debian_config() {
	local rec=$1 cfg
	if [ -n "${DEBIAN_CONFIG:-}" ]; then
		[ -f "$DEBIAN_CONFIG" ] || die "$rec: DEBIAN_CONFIG=$DEBIAN_CONFIG does not exist"
		echo "$DEBIAN_CONFIG"
		return
	fi
	[ -f "$OUT/distro/$rec/kernel.env" ] || "$TOP/scripts/distro-fetch.sh" "$rec" >&2 ||
		die "$rec: cannot fetch Debian's kernel package (scripts/distro-fetch.sh $rec)"
	# shellcheck disable=SC1091
	. "$OUT/distro/$rec/kernel.env"
	cfg=$ROOT/boot/config-$KREL
	[ -f "$cfg" ] || die "$rec: $PACKAGE has no boot/config-$KREL"
	echo "$cfg"
}

# check_config_version <record> <config> <kernel ARCH>: the config was
# made for this architecture and for a 6.1 release whose source Debian
# has, else the rebuild would not be Debian's kernel; then
# pick_source for the config's release.
check_config_version() {
	local rec=$1 cfg=$2 karch=$3 head cver carch
	head=$(sed -n '3s/^# Linux\/\([^ ]*\) \([^ ]*\) Kernel Configuration$/\1 \2/p' "$cfg")
	[ -n "$head" ] || die "$rec: $cfg has no '# Linux/<arch> <version> Kernel Configuration' line: not a kernel config?"
	read -r carch cver <<<"$head"
	# A config made with ARCH=i386 or x86_64 says so; both are x86.
	case $carch in i386 | x86_64) carch=x86 ;; esac
	[ "$carch" = "$karch" ] ||
		die "$rec: $cfg is a Linux/$carch config, the record needs Linux/$karch (wrong record or DEBIAN_CONFIG?)"
	pick_source "$rec" "$cver"
}

# debian_source_of <6.1.N> [<Debian version>]: the Debian version of
# linux-source-6.1 that is Linux 6.1.N: <Debian version> (the record's
# package's: Debian builds the kernel packages of a version from the
# source of that version) when it is of 6.1.N, else the newest one the
# machine's apt lists (apt-cache madison, no download); nothing when
# there is none.
debian_source_of() {
	local up=$1 want=${2:-}
	if [ -n "$want" ] && [ "${want%-*}" = "$up" ]; then
		echo "$want"
		return
	fi
	source_versions | awk -v up="$up" 'index($0, up "-") == 1' | sort -V | tail -n1
}

# source_versions: the versions of linux-source-6.1 the machine's apt
# lists, one a line.
source_versions() {
	apt-cache madison linux-source-6.1 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }'
}

# pick_source <record> <6.1.N>: the trees a config of Linux 6.1.N builds
# from. The default ones ($TREES/upstream, $TREES/fixed) when they are
# 6.1.N; else Debian's linux-source-6.1 of 6.1.N, imported
# (scripts/get-source.sh 6.1 <Debian version>) and made into
# $TREES/distro-6.1.N/{stock,fixed} (scripts/mktrees.sh) the first
# time. Sets FIX_TREE_stock, FIX_TREE_fixed and FIX_SOURCE (what the
# trees were imported from); says which.
pick_source() {
	local rec=$1 cver=$2 def debver log rel
	def=$(tree_version "$TREES/upstream")
	if [ "$cver" = "$def" ]; then
		FIX_TREE_stock=$TREES/upstream FIX_TREE_fixed=$TREES/fixed
		FIX_SOURCE=$(git --git-dir="$SRC_GIT" log -1 --format=%s cowswap/upstream 2>/dev/null || echo "Linux $def")
		info "$rec: Debian's config is for Linux $cver: the default trees (${TREES#$TOP/}/upstream, ${TREES#$TOP/}/fixed)"
		return 0
	fi
	rel=distro-$cver
	FIX_TREE_stock=$TREES/$rel/stock FIX_TREE_fixed=$TREES/$rel/fixed
	# One import and one making of the trees at a time (two records of
	# the same release run side by side): the second finds them made.
	need_cmd flock
	mkdir -p "$OUT/src" "$TREES"
	log=$TREES/.$rel.mktrees.log
	(
		flock 9
		if ! git --git-dir="$SRC_GIT" rev-parse -q --verify "cowswap/debian-$cver" >/dev/null; then
			debver=
			[ -n "${DEBIAN_CONFIG:-}" ] || [ ! -f "$OUT/distro/$rec/kernel.env" ] ||
				debver=$(sed -n 's/^VERSION=//p' "$OUT/distro/$rec/kernel.env")
			debver=$(debian_source_of "$cver" "$debver")
			[ -n "$debver" ] ||
				die "$rec: Debian's config is for Linux $cver, and Debian has no linux-source-6.1 of it (apt-cache madison linux-source-6.1: $(source_versions | paste -s -d' ')); use DEBIAN_CONFIG=<a config of the default trees' $def or of one of those releases>"
			info "$rec: Debian's config is for Linux $cver, the default trees are $def: importing linux-source-6.1 $debver (scripts/get-source.sh 6.1 $debver)"
			"$TOP/scripts/get-source.sh" 6.1 "$debver" ||
				die "$rec: could not import linux-source-6.1 $debver (scripts/get-source.sh 6.1 $debver)"
		fi
		info "$rec: Debian's config is for Linux $cver, the default trees are $def: the trees of $cver, ${TREES#$TOP/}/$rel/{stock,fixed} (scripts/mktrees.sh $rel/stock $rel/fixed; a minute or two the first time)"
		"$TOP/scripts/mktrees.sh" "$rel/stock" "$rel/fixed" 2>"$log" ||
			die "$rec: the trees of Linux $cver: $(sed -n 's/^mktrees\.sh: error: //p' "$log" | tail -n1) (log: $log)"
		sed 's/^/  /' "$log" >&2
	) 9>"$OUT/src/.distro-trees.lock" || exit 1
	FIX_SOURCE=$(git --git-dir="$SRC_GIT" log -1 --format=%s "cowswap/debian-$cver")
	info "$rec: source: $FIX_SOURCE"
}

# fix_source_lines <tree>: the "source=" and "tree=" lines of a build's
# stamp: what pick_source imported, and the tree and commit built from.
fix_source_lines() {
	echo "source=$FIX_SOURCE"
	echo "tree=${1#"$TOP"/} $(git -C "$1" rev-parse --short=12 HEAD)"
}

# fix_tree <variant>: the tree pick_source chose for stock or fixed.
fix_tree() {
	case $1 in
	stock) echo "$FIX_TREE_stock" ;;
	fixed) echo "$FIX_TREE_fixed" ;;
	*) die "fix_tree: unknown variant '$1'" ;;
	esac
}


# check_distro_build <record>: after load_distro, what building Debian's
# config of the record needs: a kernel ARCH for its Debian architecture
# and its cross compiler.
check_distro_build() {
	[ "$RELEASE" = bookworm ] ||
		die "$1: a Debian $(release_version "$RELEASE") ($RELEASE) record; Debian 12's 6.1 is the only kernel fixed here (patches/lts-6.1): Debian 13's 6.12 needs no fix, for Debian 11's 5.10 none exists in this project (docs/distro.md)"
	karch_of "$DEBIAN_ARCH" >/dev/null ||
		die "$1: no kernel ARCH known for Debian architecture $DEBIAN_ARCH (add it to karch_of in scripts/lib/distro-fix.sh)"
	[ -n "$CROSS_COMPILE" ] || die "$1: configs/distro/$1.conf sets no CROSS_COMPILE"
	command -v "${CROSS_COMPILE}gcc" >/dev/null 2>&1 ||
		die "$1: cross compiler ${CROSS_COMPILE}gcc not found (scripts/deps.sh --distro installs it)"
	[ -f "$TREES/upstream/Makefile" ] || die "no source tree at $TREES/upstream; run 'make trees' first"
}

# no_debug_info <tree> <config>: switch debug info off. Not code: Debian
# builds DWARF for its -dbg package; a test boot or a user's package
# needs none, and without it linking and the build directory are several
# times smaller. The caller runs olddefconfig after.
no_debug_info() {
	"$1/scripts/config" --file "$2" -d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT \
		-d DEBUG_INFO_DWARF4 -d DEBUG_INFO_DWARF5 -e DEBUG_INFO_NONE
}

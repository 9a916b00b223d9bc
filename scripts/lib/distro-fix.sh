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

# check_config_version <record> <config> <kernel ARCH>: the config was made for this
# source version and architecture, else the rebuild would not be
# Debian's kernel.
check_config_version() {
	local rec=$1 cfg=$2 karch=$3 head cver carch src_ver
	src_ver=$(tree_version "$TREES/upstream")
	head=$(sed -n '3s/^# Linux\/\([^ ]*\) \([^ ]*\) Kernel Configuration$/\1 \2/p' "$cfg")
	[ -n "$head" ] || die "$rec: $cfg has no '# Linux/<arch> <version> Kernel Configuration' line: not a kernel config?"
	read -r carch cver <<<"$head"
	# A config made with ARCH=i386 or x86_64 says so; both are x86.
	case $carch in i386 | x86_64) carch=x86 ;; esac
	[ "$carch" = "$karch" ] ||
		die "$rec: $cfg is a Linux/$carch config, the record needs Linux/$karch (wrong record or DEBIAN_CONFIG?)"
	[ "$cver" = "$src_ver" ] ||
		die "$rec: Debian's config is for Linux $cver, the source tree is $src_ver; use the matching source (make source KDIR=<linux-source of $cver>) or DEBIAN_CONFIG=<a $src_ver config>"
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

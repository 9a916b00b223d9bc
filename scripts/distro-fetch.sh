#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# distro-fetch.sh <record>...: download and unpack Debian's own kernel
# package for each distribution record (configs/distro/<record>.conf), from
# the record's RELEASE (bookworm, Debian 12, by default; trixie, bullseye).
#
# The machine's apt and dpkg setup is never used for writing: apt runs
# with its own configuration (APT_CONFIG), state, cache, source list and
# an empty dpkg status under $OUT/distro/<record>/apt, for the record's
# release and Debian architecture only (no dpkg --add-architecture;
# scripts/lib/apt.sh). The mirrors are
# the ones the machine's own sources use (DEBIAN_MIRROR= and
# DEBIAN_SECURITY_MIRROR= override them). The meta package
# linux-image-<flavour> is resolved to the versioned package it depends
# on, which is unpacked with dpkg-deb -x (no dpkg database involved) into
# $OUT/distro/<record>/root. $OUT/distro/<record>/kernel.env then says:
#   PACKAGE=linux-image-<version>-<flavour>  VERSION=<Debian version>
#   RELEASE=<codename>
#   KREL=<kernel release>  KERNEL=<image>  ROOT=<unpacked package>
#   DTB=<the record's device tree in the package, or empty>
# A package already unpacked at the same version is not fetched again.
#
# distro-fetch.sh --flavours <debian-arch>...: list the kernel flavours
# Debian ships for each architecture ("<arch> <flavour> <package>"), from
# the package lists alone; RELEASE=<codename> (default bookworm) says
# which release (state in $OUT/distro/apt-<arch>, apt-<release>-<arch>
# for another release than bookworm).
. "$(dirname "$0")/lib/lib.sh"
. "$TOP/scripts/lib/apt.sh"

[ $# -gt 0 ] || die "usage: $PROG <record>... (records: $(DISTROS_ALL | tr '\n' ' ')), or $PROG --flavours <debian-arch>..."
need_cmd apt-get apt-cache dpkg-deb depmod
apt_mirrors

fetch_one() {
	local rec=$1 dir apt meta pkg ver old_ver deb krel img dtb
	load_distro "$rec"
	dir=$OUT/distro/$rec
	apt=$dir/apt
	apt_state "$apt" "$DEBIAN_ARCH" "$RELEASE" "$rec"
	meta=linux-image-$FLAVOUR
	apt-cache show "$meta" >/dev/null 2>&1 ||
		die "$rec: package $meta not found for $RELEASE $DEBIAN_ARCH in $mirror"
	# Each version of the meta package (one per suite: the release, its
	# updates, security) depends on exactly one versioned image package,
	# newest first. The archive here does not serve every file its
	# indexes list (a 404 for Debian 13's armel package in
	# trixie-security): the next version is taken then, and said so.
	mapfile -t cands < <(apt-cache madison "$meta" | awk -F' [|] ' '{ print $2 }' | while read -r mv; do
		apt-cache show "$meta=$mv" 2>/dev/null |
			sed -n 's/^Depends: \(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -n1
	done)
	[ ${#cands[@]} -gt 0 ] || die "$rec: $meta depends on no versioned linux-image package"
	# Then the older image packages of the flavour the indexes still list
	# (Debian 13's security suite keeps several), newest first: the
	# archive here served none of the two versions the meta package
	# named for ppc64el, s390x and armel (404, December 2026), but
	# served older ones.
	mapfile -t -O ${#cands[@]} cands < <(apt-cache search --names-only "^linux-image-[0-9][0-9.]*(-[0-9]+|\+deb[0-9.]+)-$FLAVOUR\$" |
		awk '{ print $1 }' | while read -r p; do
		apt-cache madison "$p" | awk -F' [|] ' -v p="$p" '{ print p, $2 }'
	done | sort -u | sort -k2,2Vr | grep -v -x -F -f <(printf '%s\n' "${cands[@]}"))
	old_ver=
	[ ! -f "$dir/kernel.env" ] || old_ver=$(sed -n 's/^VERSION=//p' "$dir/kernel.env")
	pkg= ver=
	for c in "${cands[@]}"; do
		read -r pkg ver <<<"$c"
		if [ "$old_ver" = "$ver" ] && [ -d "$dir/root/lib/modules" ]; then
			info "$rec: $pkg $ver already unpacked"
			break
		fi
		info "$rec: downloading $pkg $ver ($meta)"
		rm -rf "$dir/root" "$dir/kernel.env" "$dir"/*.deb
		if ! (cd "$dir" && apt-get -q -q download "$pkg=$ver" >"$apt/log/download.log" 2>&1); then
			if grep -q ' 404 ' "$apt/log/download.log" && [ "$c" != "${cands[-1]}" ]; then
				info "$rec: the archive does not serve $pkg $ver (404), though its index lists it; trying the next version"
				pkg= ver=
				continue
			fi
			die "$rec: apt-get download $pkg=$ver failed (see ${apt#$TOP/}/log/download.log)"
		fi
		deb=$(ls "$dir"/"${pkg}"_*.deb)
		info "$rec: unpacking $(basename "$deb") with dpkg-deb -x"
		mkdir -p "$dir/root.tmp"
		dpkg-deb -x "$deb" "$dir/root.tmp" || die "$rec: dpkg-deb -x $deb failed"
		# Debian 13 installs modules under /usr/lib (merged /usr): the
		# /lib of the unpacked package is that, as on an installed system
		if [ ! -e "$dir/root.tmp/lib" ] && [ -d "$dir/root.tmp/usr/lib/modules" ]; then
			ln -s usr/lib "$dir/root.tmp/lib"
		fi
		mv "$dir/root.tmp" "$dir/root"
		rm -f "$deb"
		break
	done
	[ -n "$pkg" ] || die "$rec: no version of $meta could be downloaded"
	krel=$(ls "$dir/root/lib/modules")
	[ "$(echo "$krel" | wc -w)" = 1 ] || die "$rec: expected one kernel release in $pkg, found: $krel"
	# The package leaves modules.dep to its postinst: make it here.
	[ -f "$dir/root/lib/modules/$krel/modules.dep" ] ||
		depmod -b "$dir/root" "$krel" || die "$rec: depmod for $krel failed"
	# shellcheck disable=SC2086
	img=$(cd "$dir/root" && ls -d $KERNEL_IMAGE 2>/dev/null | head -n1) || true
	[ -n "$img" ] && [ -f "$dir/root/$img" ] || die "$rec: no $KERNEL_IMAGE in $pkg"
	dtb=
	if [ -n "$DTB" ]; then
		# shellcheck disable=SC2086
		dtb=$(cd "$dir/root" && ls -d $DTB 2>/dev/null | head -n1) || true
		[ -n "$dtb" ] && [ -f "$dir/root/$dtb" ] || die "$rec: no device tree $DTB in $pkg"
		dtb=$dir/root/$dtb
	fi
	{
		echo "PACKAGE=$pkg"
		echo "VERSION=$ver"
		echo "RELEASE=$RELEASE"
		echo "KREL=$krel"
		echo "KERNEL=$dir/root/$img"
		echo "DTB=$dtb"
		echo "ROOT=$dir/root"
	} >"$dir/kernel.env"
	unset APT_CONFIG
	info "$rec: $pkg $ver ($RELEASE), kernel release $krel, image $img"
}

# flavours <debian-arch>: the kernel flavours $RELEASE ships there: the
# meta packages linux-image-<flavour> that depend on a versioned
# linux-image-<version>-<flavour> (6.1.0-NN in bookworm, 6.12.NN+deb13 in
# trixie, 5.10.0-NN in bullseye; so not -unsigned or -template; the -dbg
# metas are left out).
flavours() {
	local arch=$1 m pkg dir
	dir=$OUT/distro/apt-$arch
	[ "$RELEASE" = bookworm ] || dir=$OUT/distro/apt-$RELEASE-$arch
	apt_state "$dir" "$arch" "$RELEASE" "flavours"
	for m in $(apt-cache pkgnames linux-image- | grep -E '^linux-image-[a-z0-9][a-z0-9-]*$' | grep -v -e '-dbg$' | LC_ALL=C sort); do
		pkg=$(apt-cache depends "$m" 2>/dev/null |
			sed -n "s/^ *Depends: \(linux-image-[0-9][0-9.]*[-+][0-9a-z+.]*-${m#linux-image-}\)\$/\1/p" | head -n1)
		[ -z "$pkg" ] || echo "$arch ${m#linux-image-} $pkg"
	done
	unset APT_CONFIG
}

if [ "$1" = --flavours ]; then
	shift
	RELEASE=${RELEASE:-bookworm}
	check_release "$RELEASE"
	[ $# -gt 0 ] || die "usage: $PROG --flavours <debian-arch>..."
	for a in "$@"; do
		flavours "$a"
	done
	exit 0
fi
for r in "$@"; do
	load_distro "$r"
done
for r in "$@"; do
	fetch_one "$r"
done

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# distro-fetch.sh <record>...: download and unpack Debian 12's own kernel
# package for each distribution record (configs/distro/<record>.conf).
#
# The machine's apt and dpkg setup is never used for writing: apt runs
# with its own configuration (APT_CONFIG), state, cache, source list and
# an empty dpkg status under $OUT/distro/<record>/apt, for the record's
# Debian architecture only (no dpkg --add-architecture). The mirrors are
# the ones the machine's own sources use (DEBIAN_MIRROR= and
# DEBIAN_SECURITY_MIRROR= override them). The meta package
# linux-image-<flavour> is resolved to the versioned package it depends
# on, which is unpacked with dpkg-deb -x (no dpkg database involved) into
# $OUT/distro/<record>/root. $OUT/distro/<record>/kernel.env then says:
#   PACKAGE=linux-image-6.1.0-NN-<flavour>  VERSION=<Debian version>
#   KREL=<kernel release>  KERNEL=<image>  ROOT=<unpacked package>
#   DTB=<the record's device tree in the package, or empty>
# A package already unpacked at the same version is not fetched again.
#
# distro-fetch.sh --flavours <debian-arch>...: list the kernel flavours
# Debian 12 ships for each architecture ("<arch> <flavour> <package>"),
# from the package lists alone (state in $OUT/distro/apt-<arch>).
. "$(dirname "$0")/lib/lib.sh"

[ $# -gt 0 ] || die "usage: $PROG <record>... (records: $(DISTROS_ALL | tr '\n' ' ')), or $PROG --flavours <debian-arch>..."
need_cmd apt-get apt-cache dpkg-deb depmod

# mirror_of <path>: the first URI of the machine's enabled apt sources
# whose path ends in /<path> (deb822 .sources and one-line .list files).
mirror_of() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?//p' |
		tr ' \t' '\n\n' | grep -m1 -E "^https?://[^ ]*/$1/?\$" | sed 's,/$,,'
}
mirror=${DEBIAN_MIRROR:-$(mirror_of debian || true)}
security=${DEBIAN_SECURITY_MIRROR:-$(mirror_of debian-security || true)}
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*; set DEBIAN_MIRROR=<url>"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"

# apt_state <dir> <debian-arch> <what>: a private apt configuration
# (APT_CONFIG=<dir>/apt.conf, exported) for one Debian architecture with
# bookworm's main, updates and security suites, and its package lists.
apt_state() {
	local apt=$1 arch=$2
	mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/empty" "$apt/log"
	: >"$apt/state/status"
	{
		echo "deb [signed-by=$keyring] $mirror bookworm main"
		echo "deb [signed-by=$keyring] $mirror bookworm-updates main"
		[ -z "$security" ] || echo "deb [signed-by=$keyring] $security bookworm-security main"
	} >"$apt/sources.list"
	# Read first by apt; the machine's apt.conf.d (update hooks and all)
	# and preferences are replaced by empty ones.
	cat >"$apt/apt.conf" <<EOF
Dir::Etc::Parts "$apt/empty";
Dir::Etc::main "/dev/null";
Dir::Etc::SourceList "$apt/sources.list";
Dir::Etc::SourceParts "$apt/empty";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$apt/empty";
Dir::State "$apt/state";
Dir::State::status "$apt/state/status";
Dir::Cache "$apt/cache";
Dir::Log "$apt/log";
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
APT::Sandbox::User "root";
EOF
	export APT_CONFIG=$apt/apt.conf
	info "$3: apt-get update for $arch (private state in ${apt#$TOP/})"
	apt-get -q -q update >"$apt/log/update.log" 2>&1 ||
		die "$3: apt-get update for $arch failed (see ${apt#$TOP/}/log/update.log)"
}

fetch_one() {
	local rec=$1 dir apt meta pkg ver old_ver deb krel img dtb
	load_distro "$rec"
	dir=$OUT/distro/$rec
	apt=$dir/apt
	apt_state "$apt" "$DEBIAN_ARCH" "$rec"
	meta=linux-image-$FLAVOUR
	apt-cache show "$meta" >/dev/null 2>&1 ||
		die "$rec: package $meta not found for $DEBIAN_ARCH in $mirror"
	# The meta package depends on exactly one versioned image package.
	pkg=$(apt-cache depends "$meta" | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1)
	[ -n "$pkg" ] || die "$rec: $meta depends on no versioned linux-image package"
	ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "$rec: no candidate version of $pkg"
	old_ver=
	[ ! -f "$dir/kernel.env" ] || old_ver=$(sed -n 's/^VERSION=//p' "$dir/kernel.env")
	if [ "$old_ver" = "$ver" ] && [ -d "$dir/root/lib/modules" ]; then
		info "$rec: $pkg $ver already unpacked"
	else
		info "$rec: downloading $pkg $ver ($meta)"
		rm -rf "$dir/root" "$dir/kernel.env" "$dir"/*.deb
		(cd "$dir" && apt-get -q -q download "$pkg=$ver" >"$apt/log/download.log" 2>&1) ||
			die "$rec: apt-get download $pkg=$ver failed (see ${apt#$TOP/}/log/download.log)"
		deb=$(ls "$dir"/"${pkg}"_*.deb)
		info "$rec: unpacking $(basename "$deb") with dpkg-deb -x"
		mkdir -p "$dir/root.tmp"
		dpkg-deb -x "$deb" "$dir/root.tmp" || die "$rec: dpkg-deb -x $deb failed"
		mv "$dir/root.tmp" "$dir/root"
		rm -f "$deb"
	fi
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
		echo "KREL=$krel"
		echo "KERNEL=$dir/root/$img"
		echo "DTB=$dtb"
		echo "ROOT=$dir/root"
	} >"$dir/kernel.env"
	unset APT_CONFIG
	info "$rec: $pkg $ver, kernel release $krel, image $img"
}

# flavours <debian-arch>: the kernel flavours Debian 12 ships there: the
# meta packages linux-image-<flavour> that depend on a versioned
# linux-image-6.1.0-NN-<flavour> (so not -unsigned or -template; the -dbg metas are left out).
flavours() {
	local arch=$1 m pkg
	apt_state "$OUT/distro/apt-$arch" "$arch" "flavours"
	for m in $(apt-cache pkgnames linux-image- | grep -E '^linux-image-[a-z0-9][a-z0-9-]*$' | grep -v -e '-dbg$' | LC_ALL=C sort); do
		pkg=$(apt-cache depends "$m" 2>/dev/null |
			sed -n "s/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-${m#linux-image-}\)\$/\1/p" | head -n1)
		[ -z "$pkg" ] || echo "$arch ${m#linux-image-} $pkg"
	done
	unset APT_CONFIG
}

if [ "$1" = --flavours ]; then
	shift
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

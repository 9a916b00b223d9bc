#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# get-source.sh [6.1 [<Debian version>]|6.12]: import a kernel source
# tree into $OUT/src/linux.git, once.
#
#   6.1   (default) Debian 12's linux-source-6.1, the tree the series are
#         made for; tagged cowswap/upstream (the trees of mktrees.sh
#         grow from it).
#   6.12  Debian 13's (trixie) linux-source-6.12, the control of today's
#         kernels: the selftest as the kernel's mm/ selftests carry it
#         (patches/mainline) and the v6.12 kernels of the QEMU records;
#         tagged cowswap/v6.12, a commit of its own with no parent.
#   6.1 <Debian version>  (e.g. 6.1 6.1.176-1) linux-source-6.1 of that
#         exact version, for a distribution record whose Debian kernel is
#         another 6.1 point release than the default import
#         (scripts/lib/distro-fix.sh): tagged cowswap/debian-<6.1.N>, a
#         commit of its own; mktrees.sh makes distro-<6.1.N>/{stock,fixed}
#         from it. Downloaded with the machine's apt (apt-get download,
#         nothing installed) into $OUT/src/debian-<6.1.N>.
#
# The source is Debian's tarball: /usr/src/linux-source-<v>.tar.xz when
# installed (6.1: installed with apt-get when missing; TARBALL= names
# another file); 6.12, which Debian 12 does not have, is downloaded from
# trixie with a private apt state in $OUT/src/debian-6.12/apt
# (scripts/lib/apt.sh: nothing in /etc/apt changes) and unpacked with
# dpkg-deb -x. KDIR=<dir> imports a tree the user names instead: a clean
# git checkout or a pristine unpacked tree of that version.
. "$(dirname "$0")/lib/lib.sh"

KV=${1:-6.1}
DEBVER=${2:-}
[ $# -le 2 ] || die "usage: $PROG [6.1 [<Debian version>]|6.12]"
case $KV in
6.1) TAG=cowswap/upstream PKG=linux-source-6.1 ;;
6.12) TAG=cowswap/v6.12 PKG=linux-source-6.12 ;;
*) die "usage: $PROG [6.1 [<Debian version>]|6.12] (got '$KV')" ;;
esac
KDIR=${KDIR:-}
# A point release of its own: the upstream version is the Debian
# version up to its revision (6.1.176-1: 6.1.176).
UPVER=
if [ -n "$DEBVER" ]; then
	[ "$KV" = 6.1 ] || die "a Debian version goes with 6.1 only (got '$KV $DEBVER')"
	[[ $DEBVER =~ ^(6\.1\.[0-9]+)-[0-9A-Za-z.+~]+$ ]] ||
		die "'$DEBVER' is not a Debian version of linux-source-6.1 (e.g. 6.1.176-1)"
	UPVER=${BASH_REMATCH[1]}
	[ -z "$KDIR" ] || die "KDIR= imports the default tree only, not Debian's $DEBVER"
	TAG=cowswap/debian-$UPVER
	[ -z "${TARBALL:-}" ] || die "TARBALL= names the default tree's tarball, not Debian's $DEBVER"
	TARBALL=$OUT/src/debian-$UPVER/root/usr/src/$PKG.tar.xz
fi
TARBALL=${TARBALL:-/usr/src/$PKG.tar.xz}

[ -z "$KDIR" ] || check_tree "$KDIR" KDIR "$KV"
if git --git-dir="$SRC_GIT" rev-parse -q --verify "$TAG" >/dev/null 2>&1; then
	info "kernel source ${UPVER:-$KV} already imported: $(git --git-dir="$SRC_GIT" log -1 --format=%s "$TAG")"
	[ -z "$KDIR" ] || info "note: KDIR ignored; 'make distclean' first to import another tree"
	exit 0
fi

need_cmd git tar
mkdir -p "$OUT/src"
tmp=$OUT/src/import.$$
new_repo=0
[ -d "$SRC_GIT" ] || new_repo=1
cleanup() {
	rm -rf "$tmp" "$tmp.index"
	# A failed import must not leave a half-made repository behind (one
	# that holds the other version's import stays).
	if [ $new_repo = 1 ] && ! git --git-dir="$SRC_GIT" rev-parse -q --verify "$TAG" >/dev/null 2>&1; then
		rm -rf "$SRC_GIT"
	fi
}
trap cleanup EXIT

# fetch_deb <dir> <release> [<version>]: $PKG's tarball, unpacked from
# its package with dpkg-deb -x into <dir>/root, <dir>/version saying
# which. <release> (trixie for 6.12) gets a private apt state in
# <dir>/apt (scripts/lib/apt.sh) and its candidate; an empty one, the
# machine's own apt, which must know <version>.
fetch_deb() {
	local d=$1 rel=$2 ver=${3:-} deb log
	need_cmd dpkg-deb dpkg apt-get apt-cache
	mkdir -p "$d"
	log=$d/download.log
	if [ -n "$rel" ]; then
		. "$TOP/scripts/lib/apt.sh"
		apt_state "$d/apt" "$(dpkg --print-architecture)" "$rel" "$PKG"
		ver=$(apt-cache policy "$PKG" | sed -n 's/^ *Candidate: //p')
		[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no $PKG in $rel (see $d/apt/log/update.log)"
		log=$d/apt/log/download.log
	fi
	rm -rf "$d/root" "$d"/*.deb
	info "downloading $PKG $ver${rel:+ from $rel} (about 150 MB)"
	(cd "$d" && apt-get -q -q download "$PKG=$ver" >"$log" 2>&1) ||
		die "apt-get download $PKG=$ver failed (see $log)"
	deb=$(ls "$d"/"$PKG"_*.deb) || die "apt-get download left no $PKG .deb in $d"
	dpkg-deb -x "$deb" "$d/root" || die "dpkg-deb -x $deb failed"
	rm -f "$deb"
	[ -f "$d/root/usr/src/$PKG.tar.xz" ] || die "$PKG $ver has no usr/src/$PKG.tar.xz"
	echo "$ver" >"$d/version"
	TARBALL=$d/root/usr/src/$PKG.tar.xz
}

if [ -n "$KDIR" ]; then
	KDIR=$(cd "$KDIR" && pwd)
	if git -C "$KDIR" rev-parse --show-toplevel >/dev/null 2>&1 &&
	   [ "$(git -C "$KDIR" rev-parse --show-toplevel)" = "$KDIR" ]; then
		[ -z "$(git -C "$KDIR" status --porcelain --untracked-files=no)" ] ||
			die "KDIR='$KDIR' has uncommitted changes; commit or stash them first"
		info "importing git tree $KDIR ($(git -C "$KDIR" describe --always HEAD))"
		[ -d "$SRC_GIT" ] || git init -q --bare "$SRC_GIT"
		git --git-dir="$SRC_GIT" fetch -q "$KDIR" HEAD
		git --git-dir="$SRC_GIT" tag "$TAG" FETCH_HEAD
		exit 0
	fi
	if [ -e "$KDIR/.config" ] || [ -e "$KDIR/vmlinux" ]; then
		die "KDIR='$KDIR' contains build output (.config/vmlinux); use a pristine tree or run 'make mrproper' there"
	fi
	src=$KDIR
	what="tree $KDIR"
else
	pkgver=
	if [ -n "$DEBVER" ]; then
		d=$OUT/src/debian-$UPVER
		[ -f "$TARBALL" ] && [ "$(cat "$d/version" 2>/dev/null)" = "$DEBVER" ] ||
			fetch_deb "$d" "" "$DEBVER"
		pkgver=$DEBVER
	elif [ ! -f "$TARBALL" ] && [ "$KV" = 6.12 ] && [ -f "$OUT/src/debian-6.12/root/usr/src/$PKG.tar.xz" ]; then
		TARBALL=$OUT/src/debian-6.12/root/usr/src/$PKG.tar.xz
		pkgver=$(cat "$OUT/src/debian-6.12/version" 2>/dev/null || true)
	elif [ ! -f "$TARBALL" ] && [ "$KV" = 6.12 ]; then
		fetch_deb "$OUT/src/debian-6.12" trixie
		pkgver=$(cat "$OUT/src/debian-6.12/version")
	elif [ ! -f "$TARBALL" ]; then
		[ "$(id -u)" = 0 ] || die "$TARBALL is missing and we are not root: apt-get install $PKG"
		info "installing $PKG with apt-get"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$PKG" >&2 ||
			die "apt-get install $PKG failed"
		[ -f "$TARBALL" ] || die "$PKG installed but $TARBALL is still missing"
	fi
	[ -n "$pkgver" ] || pkgver=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null || echo unknown)
	need_cmd xz
	info "extracting $TARBALL (about a minute)"
	mkdir -p "$tmp"
	tar -xJf "$TARBALL" -C "$tmp" || die "could not extract $TARBALL"
	src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -1)
	check_tree "$src" "$(basename "$TARBALL")" "$KV"
	what="$(basename "$TARBALL") ($pkgver)"
fi

ver=$(make -s -C "$src" kernelversion 2>/dev/null || echo "$KV")
[ -z "$UPVER" ] || [ "$ver" = "$UPVER" ] ||
	die "$PKG $DEBVER holds Linux $ver, not $UPVER: not imported"
info "importing Linux $ver from $what into $SRC_GIT"
[ -d "$SRC_GIT" ] || git init -q --bare "$SRC_GIT"
export GIT_DIR=$SRC_GIT GIT_WORK_TREE=$src GIT_INDEX_FILE=$tmp.index
export GIT_AUTHOR_NAME=cowswap GIT_AUTHOR_EMAIL=cowswap@localhost
export GIT_COMMITTER_NAME=cowswap GIT_COMMITTER_EMAIL=cowswap@localhost
# Debian's tarball carries a top-level .gitignore that ignores
# everything; -f imports the tree as shipped regardless. A commit with
# no parent, on no branch: each version's import stands alone.
git add -f -A .
commit=$(git commit-tree -m "Linux $ver as shipped ($what)" "$(git write-tree)") ||
	die "git commit-tree failed"
git tag "$TAG" "$commit"
rm -f "$GIT_INDEX_FILE"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
info "imported: $TAG = $(git --git-dir="$SRC_GIT" rev-parse --short "$TAG")"

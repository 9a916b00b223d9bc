#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Import a Linux 6.1.y source tree into $OUT/src/linux.git, once.
#
# The source is Debian's linux-source-6.1 tarball (installed with apt-get
# when missing) or, with KDIR=<dir>, a tree the user names: a clean git
# checkout or a pristine unpacked tree. The imported commit is tagged
# cowswap/upstream; the upstream, baseline and patched trees are git
# worktrees of this one object store (see mktrees.sh).
. "$(dirname "$0")/lib/lib.sh"

TARBALL=${TARBALL:-/usr/src/linux-source-6.1.tar.xz}
KDIR=${KDIR:-}

[ -z "$KDIR" ] || check_61 "$KDIR" KDIR
if git --git-dir="$SRC_GIT" rev-parse -q --verify cowswap/upstream >/dev/null 2>&1; then
	info "kernel source already imported: $(git --git-dir="$SRC_GIT" log -1 --format=%s cowswap/upstream)"
	[ -z "$KDIR" ] || info "note: KDIR ignored; 'make distclean' first to import another tree"
	exit 0
fi

need_cmd git tar
mkdir -p "$OUT/src"
tmp=$OUT/src/import.$$
cleanup() {
	rm -rf "$tmp"
	# A failed import must not leave a half-made repository behind.
	if ! git --git-dir="$SRC_GIT" rev-parse -q --verify cowswap/upstream >/dev/null 2>&1; then
		rm -rf "$SRC_GIT"
	fi
}
trap cleanup EXIT

if [ -n "$KDIR" ]; then
	KDIR=$(cd "$KDIR" && pwd)
	check_61 "$KDIR" KDIR
	if git -C "$KDIR" rev-parse --show-toplevel >/dev/null 2>&1 &&
	   [ "$(git -C "$KDIR" rev-parse --show-toplevel)" = "$KDIR" ]; then
		[ -z "$(git -C "$KDIR" status --porcelain --untracked-files=no)" ] ||
			die "KDIR='$KDIR' has uncommitted changes; commit or stash them first"
		info "importing git tree $KDIR ($(git -C "$KDIR" describe --always HEAD))"
		git init -q --bare "$SRC_GIT"
		git --git-dir="$SRC_GIT" fetch -q "$KDIR" HEAD
		git --git-dir="$SRC_GIT" tag cowswap/upstream FETCH_HEAD
		exit 0
	fi
	if [ -e "$KDIR/.config" ] || [ -e "$KDIR/vmlinux" ]; then
		die "KDIR='$KDIR' contains build output (.config/vmlinux); use a pristine tree or run 'make mrproper' there"
	fi
	src=$KDIR
	what="tree $KDIR"
else
	if [ ! -f "$TARBALL" ]; then
		[ "$(id -u)" = 0 ] || die "$TARBALL is missing and we are not root: apt-get install linux-source-6.1"
		info "installing linux-source-6.1 with apt-get"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-source-6.1 >&2 ||
			die "apt-get install linux-source-6.1 failed"
		[ -f "$TARBALL" ] || die "linux-source-6.1 installed but $TARBALL is still missing"
	fi
	need_cmd xz
	info "extracting $TARBALL (about a minute)"
	mkdir -p "$tmp"
	tar -xJf "$TARBALL" -C "$tmp" || die "could not extract $TARBALL"
	src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -1)
	check_61 "$src"
	what="$(basename "$TARBALL") ($(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown))"
fi

ver=$(make -s -C "$src" kernelversion 2>/dev/null || echo 6.1)
info "importing Linux $ver from $what into $SRC_GIT"
git init -q --bare "$SRC_GIT"
export GIT_DIR=$SRC_GIT GIT_WORK_TREE=$src
export GIT_AUTHOR_NAME=cowswap GIT_AUTHOR_EMAIL=cowswap@localhost
export GIT_COMMITTER_NAME=cowswap GIT_COMMITTER_EMAIL=cowswap@localhost
# Debian's tarball carries a top-level .gitignore that ignores
# everything; -f imports the tree as shipped regardless.
git add -f -A .
git commit -q -m "Linux $ver as shipped ($what)"
git tag cowswap/upstream
unset GIT_DIR GIT_WORK_TREE
info "imported: $(git --git-dir="$SRC_GIT" rev-parse --short cowswap/upstream)"

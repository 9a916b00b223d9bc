#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# distro-deb.sh [--config-only] <record>: a Debian kernel package (make
# bindeb-pkg) of Debian's own config for the record's flavour
# (configs/distro/<record>.conf; the boot/config-* of its linux-image
# package), built from Debian's linux-source-6.1 with patches/lts-6.1.
# The source is that of the config's own 6.1 release: the default trees,
# or Debian's linux-source-6.1 of that release in
# $TREES/distro-6.1.N/{stock,fixed}, imported the first time (as
# distro-fix.sh does; scripts/lib/distro-fix.sh: pick_source).
#
# The kernel release says what it carries: 6.1.N-cowswap1 (the series),
# or 6.1.N-cowswap-stock for the control (DEB_VARIANT=stock, the source
# as shipped, built the same way). The package installs next to Debian's
# own kernel (linux-image-6.1.N-cowswap1) and is removed like any other.
#
# A whole Debian config builds some 4000 modules: hours here. The usual
# way to trim it to one machine: LSMOD=<file>, the output of lsmod on the
# machine that will run the kernel; make localmodconfig then keeps only
# the modules listed there (built-in options stay as Debian has them).
# The modules the selftest needs (the record's MODULES and
# MODULES_OPTIONAL) are added to the list, so that the installed kernel
# can be checked with the selftest
# (DEB_SELFTEST_MODULES=0 leaves them out). Debug info is off (Debian's
# -dbg package is not needed to run the kernel; DEB_DEBUG_INFO=1 keeps it).
#
# Output: $OUT/distrofix/deb/<record>-<variant>/packages/*.deb, and
# config.diff there (Debian's config vs the package's). The build
# directory next to it is kept: an interrupted build continues, a
# finished one is packaged again only when something changed.
#
# Environment: LSMOD, DEB_VARIANT=fixed|stock, JOBS=2, NICE=15,
# DEBIAN_CONFIG=<file> (instead of the package's), DEB_SELFTEST_MODULES,
# DEB_DEBUG_INFO.
. "$(dirname "$0")/lib/lib.sh"
. "$TOP/scripts/lib/distro-fix.sh"

config_only=0
if [ "${1:-}" = --config-only ]; then
	config_only=1
	shift
fi
[ $# = 1 ] || die "usage: $PROG [--config-only] <record> (records: $(DISTROS_ALL | tr '\n' ' ')); LSMOD=<lsmod output> to trim"
rec=$1
variant=${DEB_VARIANT:-fixed}
case $variant in
fixed) lv=-cowswap1 ;;
stock) lv=-cowswap-stock ;;
*) die "DEB_VARIANT=$variant: expected fixed (with patches/lts-6.1) or stock (the control)" ;;
esac
JOBS=${JOBS:-2}
NICE=${NICE:-15}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "JOBS=$JOBS: expected a positive number"
load_distro "$rec"
check_distro_build "$rec"
need_cmd make dpkg-deb dpkg-gencontrol sha1sum
tree=$TREES/$(tree_of "$variant")
[ -f "$tree/Makefile" ] ||
	die "no $variant tree at $tree; run 'scripts/mktrees.sh fixed' (upstream + patches/lts-6.1) first"
if [ -n "${LSMOD:-}" ]; then
	[ -f "$LSMOD" ] || die "LSMOD=$LSMOD does not exist (give the output of lsmod on the target machine)"
	head -n1 "$LSMOD" | grep -q '^Module *Size *Used by' ||
		die "LSMOD=$LSMOD is not lsmod output (its first line must be 'Module Size Used by')"
fi
read -r karch _ < <(karch_of "$DEBIAN_ARCH")
cfg=$(debian_config "$rec")
check_config_version "$rec" "$cfg" "$karch"
tree=$(fix_tree "$variant")

D=$OUT/distrofix/deb/$rec-$variant${LSMOD:+-lsmod}
b=$D/build
mkdir -p "$b"
need_space "$D" 4000 "a kernel package build"
# The config is made in a scratch object directory and copied into the
# build only when it differs (an unchanged .config keeps the build
# incremental).
k=$D/kconfig
mkdir -p "$k"
kmake() {
	make -s -C "$tree" O="$k" ARCH="$karch" CROSS_COMPILE="$CROSS_COMPILE" "$@" \
		>>"$D/kconfig.log" 2>&1 || die "$rec: make $* failed (see ${D#$TOP/}/kconfig.log)"
}
: >"$D/kconfig.log"
cp "$cfg" "$k/.config"
kmake olddefconfig
if [ -n "${LSMOD:-}" ]; then
	cp "$LSMOD" "$D/lsmod"
	if [ "${DEB_SELFTEST_MODULES:-1}" = 1 ]; then
		for m in $MODULES $MODULES_OPTIONAL; do echo "$m 0 0"; done >>"$D/lsmod"
	fi
	kmake LSMOD="$D/lsmod" localmodconfig
fi
if [ "${DEB_DEBUG_INFO:-0}" != 1 ]; then
	no_debug_info "$tree" "$k/.config"
	kmake olddefconfig
fi
new=$k/.config
"$tree/scripts/diffconfig" "$cfg" "$new" >"$D/config.diff.tmp" && mv "$D/config.diff.tmp" "$D/config.diff"
info "$rec: Debian's $(basename "$cfg")${LSMOD:+ trimmed to $LSMOD}: $(grep -c '=m$' "$new") modules (Debian: $(grep -c '=m$' "$cfg")), $(grep -c '=y$' "$new") options =y; diff: ${D#$TOP/}/config.diff"
[ "$config_only" = 0 ] || exit 0
cmp -s "$new" "$b/.config" || cp "$new" "$b/.config"

key=$({
	sha1sum <"$b/.config"
	git -C "$tree" rev-parse HEAD 2>/dev/null || echo "no git"
	git -C "$tree" status --porcelain --untracked-files=no 2>/dev/null | sha1sum
	"${CROSS_COMPILE}gcc" --version | head -n1
	echo "$lv $DEBIAN_ARCH"
} | sha1sum | cut -d' ' -f1)
if [ -f "$D/packages/done" ] && [ "$(cat "$D/packages/done")" = "$key" ]; then
	info "$rec: already packaged: $(cd "$D/packages" && ls ./*.deb | tr '\n' ' ')"
	exit 0
fi
trap 'echo; info "interrupted; run the same command again: the build continues where it stopped"; exit 130' INT TERM
rm -f "$D"/*.deb "$D"/*.buildinfo "$D"/*.changes
info "$rec: make bindeb-pkg from ${tree#$TOP/} ($FIX_SOURCE) in ${b#$TOP/}, release 6.1.x$lv (make -j$JOBS, nice $NICE; log: ${D#$TOP/}/build.log)"
t0=$(date +%s)
# KBUILD_DEBARCH: the record's Debian architecture, not kbuild's guess
# (which made an i386 kernel an _amd64.deb here).
nice -n "$NICE" make -C "$tree" O="$b" ARCH="$karch" CROSS_COMPILE="$CROSS_COMPILE" LOCALVERSION="$lv" \
	KDEB_SOURCENAME=linux-cowswap KBUILD_DEBARCH="$DEBIAN_ARCH" -j"$JOBS" bindeb-pkg >"$D/build.log" 2>&1 || {
	grep -m5 -E 'error|Error' "$D/build.log" >&2 || tail -n5 "$D/build.log" >&2
	die "$rec: make bindeb-pkg failed after $(($(date +%s) - t0))s (log: ${D#$TOP/}/build.log); run the same command again to continue"
}
secs=$(($(date +%s) - t0))
ls "$D"/linux-image-*.deb >/dev/null 2>&1 || die "$rec: bindeb-pkg left no linux-image package in ${D#$TOP/}"
for f in "$D"/*.deb; do
	[ "$(dpkg-deb -f "$f" Architecture)" = "$DEBIAN_ARCH" ] ||
		die "$rec: $(basename "$f") is for $(dpkg-deb -f "$f" Architecture), not $DEBIAN_ARCH"
done
rm -rf "$D/packages.tmp"
mkdir -p "$D/packages.tmp"
mv "$D"/*.deb "$D/packages.tmp/"
echo "$key" >"$D/packages.tmp/done"
# How long this make took (a resumed build: only its own part), for the
# docs' table (python3 -m cowswap.deb snapshot).
{
	echo "seconds=$secs"
	fix_source_lines "$tree"
} >"$D/packages.tmp/build.txt"
rm -rf "$D/packages"
mv "$D/packages.tmp" "$D/packages"
info "$rec: packaged in ${secs}s: $(cd "$D/packages" && ls ./*.deb | tr '\n' ' ')"

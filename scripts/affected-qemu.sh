#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# affected-qemu.sh <record> [guest options]: 'make affected' as a user of
# a Debian 12 kernel would see it, in QEMU: boot the kernel package of a
# distribution record (configs/distro/<record>.conf, fetched by
# distro-fetch.sh) with an initramfs holding Debian's busybox-static for
# that architecture as the shell, scripts/affected.sh, the static selftest
# and the package's modules and config where an installed system has
# them. In the guest scripts/guest/affected-guest.sh runs affected.sh
# (which checks the config, loads the modules, runs the checks, unloads
# them and judges) and prints the state before and after. Guest options:
# --user-swap (a swap area of "the user's" must survive the run) and
# --interrupt S (SIGTERM after S seconds).
#
# Prints the guest's lines and ends with affected.sh's verdict line; exit
# status 1 affected, 0 not affected, 2 cannot tell, 3 no verdict (boot
# failed; see the console log), as affected.sh.
# Environment: RUN_ID (results in $OUT/results/$RUN_ID/affected-<record>),
# COWSWAP_TIMEOUT.
. "$(dirname "$0")/lib/lib.sh"
# exit status 1 means "affected" here: errors are 3
die() {
	echo "$PROG: error: $*" >&2
	exit 3
}

[ $# -ge 1 ] || die "usage: $PROG <record> [--user-swap] [--interrupt S] (records: $(DISTROS_ALL | tr '\n' ' '))"
rec=$1
shift
load_distro "$rec"
need_cmd "$QEMU" "$USER_CC" apt-get dpkg-deb depmod

"$TOP/scripts/distro-fetch.sh" "$rec"
# shellcheck disable=SC1090,SC1091
. "$OUT/distro/$rec/kernel.env"

# Debian's busybox-static of the record's architecture, through the
# record's own apt state (distro-fetch.sh made it; the machine's dpkg
# is not involved).
bbdir=$OUT/distro/$rec/busybox
if [ ! -x "$bbdir/root/bin/busybox" ]; then
	info "$rec: downloading busybox-static for $DEBIAN_ARCH"
	rm -rf "$bbdir"
	mkdir -p "$bbdir"
	(cd "$bbdir" && APT_CONFIG=$OUT/distro/$rec/apt/apt.conf apt-get -q -q download busybox-static) \
		>"$bbdir/download.log" 2>&1 ||
		die "$rec: apt-get download busybox-static failed (see $bbdir/download.log)"
	dpkg-deb -x "$bbdir"/busybox-static_*.deb "$bbdir/root" || die "$rec: cannot unpack busybox-static"
	rm -f "$bbdir"/busybox-static_*.deb
fi

RUN_ID=${RUN_ID:-affected-$(date -u +%Y%m%d-%H%M%S)}
res=$OUT/results/$RUN_ID/affected-$rec
mkdir -p "$res"
info "$rec: booting $PACKAGE $VERSION with affected.sh under busybox (console: ${res#$TOP/}/console.log)"
# run-qemu.sh's own judgement is about full selftest runs: not this one.
AFFECTED=1 AFFECTED_ARGS="$*" BUSYBOX=$bbdir/root/bin/busybox DISKS=none SELFTEST_ARGS='' \
	KERNEL=$KERNEL MODULES_FROM=$ROOT RESULT_DIR=$res QUIET=1 QEMU_EXTRA="${DTB:+-dtb $DTB}" \
	"$TOP/scripts/run-qemu.sh" "distro-$rec" distro >"$res/run.log" 2>&1 || true
[ -s "$res/console.log" ] || die "$rec: no console output (see ${res#$TOP/}/run.log)"

tr -d '\r' <"$res/console.log" | sed -n -e '/^guest: /p' -e '/^affected\.sh: /p' \
	-e '/^\(not \)\{0,1\}ok [0-9]/p' -e '/^# odirect_inflight/p' -e '/^# [0-9]* of [0-9]* iterations/p' >&2
line=$(tr -d '\r' <"$res/console.log" | grep -m1 '^verdict: ') ||
	die "$rec: the guest printed no verdict line (see ${res#$TOP/}/console.log)"
echo "$line"
case $line in
"verdict: affected"*) exit 1 ;;
"verdict: not affected"*) exit 0 ;;
*) exit 2 ;;
esac

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh [--check] [--distro] [--lts] [--lava-run] [--browser]: install the Debian packages
# cowswap needs (root), or with --check only list what is missing.
# --lts adds what the 6.1-LTS records need (make lts-*). --distro adds the
# set 'make distro-check' needs on top (cross compilers for the static
# /init of the 32-bit (i386, armhf, armel), MIPS and riscv64 (Debian 13)
# Debian kernels, QEMU for MIPS; dpkg-dev for make deb's bindeb-pkg, debootstrap for the
# Debian guest of scripts/distro-guest.sh); CI's 'make deps' does not
# install it.
. "$(dirname "$0")/lib/lib.sh"

# rsync: the kselftest install (lib.mk copies with it); busybox-static:
# the shell and tools of the guest that runs run_kselftest.sh;
# libnuma-dev, libcap-dev: the static link of the patched tree's whole
# vm selftest target (KSFT_RUNNER=tree, +ksft-tree);
# lava-common (with python3-voluptuous) and python3-yaml: 'make lava'
# writes the LAVA jobs and checks them with LAVA's own schema, which the
# tooling tests do too (lava-common alone, not lava-dispatcher: that one
# pulls in some 276 packages, systemd-sysv among them); sparse: make C=2
# in scripts/sparse-check.sh (CI's x86_64 stage, make sparse, nightly);
# the ppc64 (big-endian) record's compiler and static libc;
# python3-matplotlib: the figures of 'make report' (scripts/cowswap/plots.py);
# python3-ply, python3-git: the SPDX check checkpatch.pl runs
# (scripts/spdxcheck.py; without them it prints a traceback per file and
# checks nothing).
PKGS="linux-source-6.1 make gcc libc6-dev git quilt patch flex bison bc
libelf-dev libssl-dev cpio xz-utils python3 perl ccache kmod
rsync busybox-static libnuma-dev libcap-dev python3-yaml python3-voluptuous lava-common sparse
python3-matplotlib python3-ply python3-git
gcc-aarch64-linux-gnu libc6-dev-arm64-cross
gcc-s390x-linux-gnu libc6-dev-s390x-cross
gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross
gcc-powerpc64-linux-gnu libc6-dev-ppc64-cross
qemu-system-x86 qemu-system-arm qemu-system-misc qemu-system-ppc"
PKGS_DISTRO="gcc-i686-linux-gnu libc6-dev-i386-cross
gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
gcc-arm-linux-gnueabi libc6-dev-armel-cross
gcc-mipsel-linux-gnu libc6-dev-mipsel-cross
gcc-mips64el-linux-gnuabi64 libc6-dev-mips64el-cross
gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
qemu-system-mips
dpkg-dev debootstrap"

# --lts: what the 6.1-LTS records (configs/arch with SERIES=lts-6.1)
# need: the distro set's compilers and QEMU, riscv64, 32-bit powerpc
# (mkimage: the ppce500 kernel's default target is a uImage), sparc64,
# m68k, sh4 and hppa (their QEMU is in qemu-system-misc).
PKGS_LTS="$PKGS_DISTRO
gcc-powerpc-linux-gnu libc6-dev-powerpc-cross u-boot-tools
gcc-sparc64-linux-gnu libc6-dev-sparc64-cross qemu-system-sparc
gcc-m68k-linux-gnu libc6-dev-m68k-cross
gcc-sh4-linux-gnu libc6-dev-sh4-cross
gcc-hppa-linux-gnu libc6-dev-hppa-cross"

# --lava-run: the Python modules LAVA's dispatcher imports (lava-run.sh
# unpacks the dispatcher itself instead of installing it).
PKGS_LAVA_RUN="python3-configobj python3-jinja2 python3-magic python3-netifaces
python3-pexpect python3-pyudev python3-requests python3-setproctitle python3-tz"

# --browser: headless Chromium for the report's browser test
# (scripts/tests/test_browser.py; it SKIPs without it, except in CI).
PKGS_BROWSER="chromium"

check_only=0
for a in "$@"; do
	case $a in
	--check) check_only=1 ;;
	--distro) PKGS="$PKGS $PKGS_DISTRO" ;;
	--lts) PKGS="$PKGS $PKGS_LTS" ;;
	--lava-run) PKGS="$PKGS $PKGS_LAVA_RUN" ;;
	--browser) PKGS="$PKGS $PKGS_BROWSER" ;;
	*) die "usage: $PROG [--check] [--distro] [--lts] [--lava-run] [--browser]" ;;
	esac
done

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	info "all $(echo $PKGS | wc -w) packages present"
	exit 0
fi
[ "$check_only" = 0 ] || die "missing Debian packages:$missing"
[ "$(id -u)" = 0 ] || die "missing Debian packages:$missing (run as root to install them)"
info "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || die "apt-get update failed"
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2 || die "apt-get install failed"

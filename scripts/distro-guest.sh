#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# distro-guest.sh <record> lsmod
# distro-guest.sh <record> deb <linux-image .deb>
#
# A Debian 12 system of the record's architecture, booted whole under
# QEMU (its own systemd, udev and initramfs-tools initrd), to show what a
# user's machine does, not our test initramfs:
#
#   lsmod  boot it with Debian's own kernel (linux-image-<FLAVOUR>,
#          installed by debootstrap) and write the guest's lsmod to
#          $OUT/distrofix/guest/<record>/lsmod: the LSMOD= input of
#          make deb.
#   deb    install the kernel package into a copy of that root with
#          dpkg -i (its postinst makes the initrd, as on a user's
#          machine), boot that kernel, run the selftest there and judge
#          it as distro-check judges Debian's kernel (verdict.json).
#
# The root is made once with debootstrap from Debian's archive (the
# machine's mirror as scripts/distro-fetch.sh found it; DEBIAN_MIRROR=
# overrides it) into
# $OUT/distrofix/guest/<record>/rootfs, and reused. debootstrap's second
# stage runs the root's own programs, so only architectures this
# machine runs natively are taken (i386 and amd64 on x86-64).
#
# In the guest a systemd unit runs /usr/local/sbin/cowswap-guest once
# the system is up; it speaks the console protocol of our /init
# (COWSWAP-INIT/BEGIN/END/DONE lines, scripts/guest/init.c), so
# results.py and distro_report.py read its log unchanged, and powers off.
#
# Environment: RUN_ID (deb: results in $OUT/results/$RUN_ID/guest-<pkg>),
# COWSWAP_TIMEOUT (seconds per boot, default 1800), SELFTEST_ARGS.
. "$(dirname "$0")/lib/lib.sh"
. "$TOP/scripts/lib/distro-fix.sh"

[ $# -ge 2 ] || die "usage: $PROG <record> lsmod | $PROG <record> deb <linux-image .deb>"
rec=$1 mode=$2
load_distro "$rec"
case $mode in
lsmod) [ $# = 2 ] || die "usage: $PROG <record> lsmod" ;;
deb)
	[ $# = 3 ] || die "usage: $PROG <record> deb <linux-image .deb>"
	pkg=$(realpath -e "$3" 2>/dev/null) || die "$3 does not exist (make deb builds one)"
	dpkg-deb -f "$pkg" Package | grep -q '^linux-image-' ||
		die "$3 is not a linux-image package (make deb builds one)"
	;;
*) die "unknown mode '$mode' (lsmod or deb)" ;;
esac
case $DEBIAN_ARCH in
i386 | amd64) ;;
*) die "$rec: debootstrap's second stage runs $DEBIAN_ARCH programs, which this machine cannot run natively (qemu-user-static and binfmt would be needed)" ;;
esac
[ "$(id -u)" = 0 ] || die "debootstrap, chroot and mkfs.ext4 -d need root"
need_cmd debootstrap mkfs.ext4 chroot dpkg-deb "$QEMU" timeout python3
# The mirror distro-fetch.sh found in the machine's apt sources (it
# writes them into the record's private apt state), or DEBIAN_MIRROR.
if [ -z "${DEBIAN_MIRROR:-}" ] && [ ! -f "$OUT/distro/$rec/apt/sources.list" ]; then
	"$TOP/scripts/distro-fetch.sh" "$rec" >&2 || die "$rec: scripts/distro-fetch.sh $rec failed"
fi
mirror=${DEBIAN_MIRROR:-$(sed -n '1s/^deb \[[^]]*\] \([^ ]*\) bookworm main$/\1/p' "$OUT/distro/$rec/apt/sources.list")}
[ -n "$mirror" ] || die "no Debian mirror found; set DEBIAN_MIRROR=<url>"
G=$OUT/distrofix/guest/$rec
TIMEOUT=${COWSWAP_TIMEOUT:-1800}
mkdir -p "$G"

# The root, made once: Debian's kernel of the flavour, systemd, udev.
root=$G/rootfs
if [ ! -f "$G/rootfs.done" ]; then
	need_space "$G" 3000 "a Debian root file system"
	rm -rf "$root" "$root.tmp"
	info "$rec: debootstrap bookworm $DEBIAN_ARCH with linux-image-$FLAVOUR from $mirror (some minutes; log: ${G#$TOP/}/debootstrap.log)"
	debootstrap --arch="$DEBIAN_ARCH" --variant=minbase \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		--include="linux-image-$FLAVOUR,systemd-sysv,udev,kmod,initramfs-tools" \
		bookworm "$root.tmp" "$mirror" >"$G/debootstrap.log" 2>&1 ||
		die "$rec: debootstrap failed (see ${G#$TOP/}/debootstrap.log)"
	echo "cowswap-$rec" >"$root.tmp/etc/hostname"
	echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$root.tmp/etc/fstab"
	# No login is needed: the unit write_runner installs does the work and
	# powers off; root has no password.
	chroot "$root.tmp" passwd -d root >/dev/null
	mv "$root.tmp" "$root"
	touch "$G/rootfs.done"
fi

# The guest's runner, written fresh each time. No login on the serial
# console: a getty there takes the line over (vhangup) and the runner's
# output would be lost.
write_runner() {
	ln -sf /dev/null "$1/etc/systemd/system/serial-getty@${CONSOLE:-ttyS0}.service"
	cat >"$1/etc/systemd/system/cowswap-guest.service" <<'EOF'
[Unit]
Description=cowswap: report lsmod, run the selftest, power off
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/cowswap-guest
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TTYVHangup=no
TTYReset=no
[Install]
WantedBy=multi-user.target
EOF
	mkdir -p "$1/etc/systemd/system/multi-user.target.wants"
	ln -sf ../cowswap-guest.service "$1/etc/systemd/system/multi-user.target.wants/cowswap-guest.service"
	cat >"$1/usr/local/sbin/cowswap-guest" <<'EOF'
#!/bin/sh
# cowswap: the console protocol of scripts/guest/init.c, from a whole
# Debian system. Runs once, as root, when the system is up.
echo "COWSWAP-INIT start (Debian guest $(uname -r), systemd)"
echo "COWSWAP-INIT lsmod begin"
lsmod
echo "COWSWAP-INIT lsmod end"
if [ -x /usr/local/sbin/swap_exclusive ]; then
	echo "COWSWAP-BEGIN swap_exclusive"
	# shellcheck disable=SC2086
	/usr/local/sbin/swap_exclusive $(cat /etc/cowswap-selftest-args 2>/dev/null)
	echo "COWSWAP-END swap_exclusive exit=$?"
fi
echo "COWSWAP-DONE"
systemctl poweroff
EOF
	chmod 755 "$1/usr/local/sbin/cowswap-guest"
}

# boot <rootfs> <kernel> <initrd> <console log>
boot() {
	local r=$1 img=$G/disk.img rc=0
	need_space "$G" 3000 "the guest's disk image"
	rm -f "$img"
	truncate -s 2G "$img"
	mkfs.ext4 -q -F -d "$r" "$img" || die "$rec: mkfs.ext4 -d $r failed"
	info "$rec: booting $(basename "$2") under $QEMU (TCG, limit ${TIMEOUT}s; console: ${4#$TOP/})"
	# shellcheck disable=SC2086
	timeout -k 10 "$TIMEOUT" "$QEMU" $QEMU_ARGS -m "$MEM" -nographic -no-reboot \
		-kernel "$2" -initrd "$3" -append "root=/dev/vda rw ${CONSOLE:+console=$CONSOLE} panic=-1" \
		-drive "if=none,id=root,format=raw,file=$img" -device "$DISK_DEVICE,drive=root" \
		</dev/null >"$4" 2>&1 || rc=$?
	rm -f "$img"
	echo "$rc"
}

case $mode in
lsmod)
	write_runner "$root"
	rm -f "$root/usr/local/sbin/swap_exclusive"
	k=$(ls "$root"/boot/vmlinuz-* | head -n1)
	rc=$(boot "$root" "$k" "$root/boot/initrd.img-${k##*/vmlinuz-}" "$G/lsmod-console.log")
	sed -n '/COWSWAP-INIT lsmod begin/,/COWSWAP-INIT lsmod end/p' "$G/lsmod-console.log" |
		sed '1d;$d' | tr -d '\r' >"$G/lsmod.tmp"
	head -n1 "$G/lsmod.tmp" | grep -q '^Module' ||
		die "$rec: no lsmod in the guest's console (QEMU exit $rc; see ${G#$TOP/}/lsmod-console.log)"
	mv "$G/lsmod.tmp" "$G/lsmod"
	info "$rec: $(($(wc -l <"$G/lsmod") - 1)) modules loaded in the Debian guest: ${G#$TOP/}/lsmod"
	;;
deb)
	name=$(dpkg-deb -f "$pkg" Package)
	RUN_ID=${RUN_ID:-guest-$(date -u +%Y%m%d-%H%M%S)}
	d=$OUT/results/$RUN_ID/guest-$name
	mkdir -p "$d"
	note_commit "$(dirname "$d")"
	r=$G/rootfs-$name
	rm -rf "$r"
	info "$rec: copying the root and installing $(basename "$pkg") with dpkg -i"
	cp -a "$root" "$r"
	cp "$pkg" "$r/tmp/"
	chroot "$r" dpkg -i "/tmp/$(basename "$pkg")" >"$d/dpkg.log" 2>&1 ||
		die "$rec: dpkg -i $(basename "$pkg") failed in the guest's root (see ${d#$TOP/}/dpkg.log)"
	rm -f "$r/tmp/$(basename "$pkg")"
	krel=${name#linux-image-}
	[ -f "$r/boot/vmlinuz-$krel" ] && [ -f "$r/boot/initrd.img-$krel" ] ||
		die "$rec: $name installed no /boot/vmlinuz-$krel and initrd.img-$krel"
	# The selftest, static, as our initramfs carries it.
	ksft=$TREES/upstream/tools/testing/selftests
	make -s -C "$TOP/selftests/swap_exclusive" KSFT_DIR="$ksft" CROSS_COMPILE="$CROSS_COMPILE" \
		OUTPUT="$d/selftest" STATIC=1 >"$d/selftest-make.log" 2>&1 ||
		die "$rec: cannot build the selftest (see ${d#$TOP/}/selftest-make.log)"
	cp "$d/selftest/swap_exclusive" "$r/usr/local/sbin/"
	echo "${SELFTEST_ARGS:-}" >"$r/etc/cowswap-selftest-args"
	write_runner "$r"
	t0=$(date +%s)
	rc=$(boot "$r" "$r/boot/vmlinuz-$krel" "$r/boot/initrd.img-$krel" "$d/console.log")
	secs=$(($(date +%s) - t0))
	rm -rf "$r"
	python3 "$TOP/scripts/distro_report.py" verdict --log "$d/console.log" --json "$d/verdict.json" \
		--qemu-exit "$rc" --timeout "$TIMEOUT" --seconds "$secs" --record "$rec" \
		--package "$name" --version "$(dpkg-deb -f "$pkg" Version)" \
		--note "installed with dpkg -i into a debootstrapped Debian 12 root, booted with its own initrd and systemd" \
		| tee "$d/verdict.txt"
	(selftest_names ${SELFTEST_ARGS:-}) >"$d/expected-tests" || true
	python3 "$TOP/scripts/results.py" judge --arch "distro-$rec" --variant "guest" \
		--expect pass --qemu-exit "$rc" --timeout "$TIMEOUT" --seconds "$secs" \
		--may-skip "$MAY_SKIP" --selftest-list "$d/expected-tests" --selftest-args "${SELFTEST_ARGS:-}" \
		--disks none --runner direct --log "$d/console.log" --json "$d/result.json" || true
	info "$rec: $name: $(cat "$d/verdict.txt"); results in ${d#$TOP/}"
	;;
esac

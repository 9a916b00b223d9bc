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
# $OUT/distrofix/guest/<record>/rootfs, and reused; the stamp rootfs.done
# is written last, so an interrupted run starts the root again.
#
# What runs the root's own programs (debootstrap's second stage, passwd,
# dpkg -i): chroot where this machine runs them natively (i386 and amd64
# on x86-64); for any other architecture (armhf, mipsel, mips64el ...) a
# QEMU system guest of the record, with no change to the host:
# debootstrap --foreign unpacks the root here, the record's Debian
# kernel (the package distro-fetch.sh unpacked into $OUT/distro/<record>)
# boots with our initramfs, whose /init (scripts/guest/init.c) loads the
# package's disk and ext4 modules and runs scripts/guest/root-run.c: the
# command in a chroot of the root on a virtio disk, then the root's own
# tar of the whole root onto a second disk, which replaces the directory
# here. Not qemu-user-static with binfmt_misc: this machine is a
# container, and a binfmt_misc entry is global to the host's kernel
# (every other container would run foreign binaries through it while it
# exists); a system guest is slower (TCG emulates the kernel too, see
# docs/distro-fix.md for the minutes) but touches nothing outside
# $OUT. A record whose QEMU machine has no virtio disk (DISK_DEVICE
# empty, armel-rpi) is refused.
#
# In the guest a systemd unit runs /usr/local/sbin/cowswap-guest once
# the system is up; it speaks the console protocol of our /init
# (COWSWAP-INIT/BEGIN/END/DONE lines, scripts/guest/init.c), so
# results.py and distro_report.py read its log unchanged, and powers off.
#
# Environment: RUN_ID (deb: results in $OUT/results/$RUN_ID/guest-<pkg>),
# COWSWAP_TIMEOUT (seconds per boot, default 1800), COWSWAP_SETUP_TIMEOUT
# (seconds for a guest that runs the second stage or dpkg -i, default
# 7200), SELFTEST_ARGS.
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
# The Debian architectures this machine runs natively (chroot works).
case $(uname -m) in
x86_64) native="amd64 i386" ;;
*) native=$(dpkg --print-architecture) ;;
esac
foreign=
[[ " $native " == *" $DEBIAN_ARCH "* ]] || foreign=1
if [ -n "$foreign" ]; then
	[ -n "$DISK_DEVICE" ] ||
		die "$rec: $DEBIAN_ARCH programs run here only in a QEMU guest, and the record's machine ($MACHINE) has no virtio disk to hold the root (DISK_DEVICE is empty); give the record a QEMU machine with one"
	[ -z "$NO_EXIT" ] ||
		die "$rec: $DEBIAN_ARCH programs run here only in a QEMU guest, and the record's guest cannot end QEMU ($NO_EXIT); give the record a QEMU machine that can power off"
	# the disk's virtio transport, a module of Debian's kernel or built in
	case ${DISK_DEVICE%%,*} in	# the device, without options (sparc64's bus=pciB)
	*-pci) transport=virtio_pci ;;
	*-ccw) transport=virtio_ccw ;;
	*-device) transport=virtio_mmio ;;
	*) die "$rec: DISK_DEVICE=$DISK_DEVICE: no virtio transport known for it (add it in $PROG)" ;;
	esac
	command -v "$USER_CC" >/dev/null 2>&1 ||
		die "$rec: $USER_CC not found, which builds the guest's static /init (scripts/deps.sh --distro installs it)"
fi
command -v "$QEMU" >/dev/null 2>&1 || die "$rec: $QEMU not found (scripts/deps.sh --distro installs it)"
[ "$(id -u)" = 0 ] || die "debootstrap, chroot and mkfs.ext4 -d need root"
need_cmd debootstrap mkfs.ext4 chroot dpkg-deb tar timeout python3
# The mirror distro-fetch.sh found in the machine's apt sources (it
# writes them into the record's private apt state), or DEBIAN_MIRROR.
if [ -z "${DEBIAN_MIRROR:-}" ] && [ ! -f "$OUT/distro/$rec/apt/sources.list" ]; then
	"$TOP/scripts/distro-fetch.sh" "$rec" >&2 || die "$rec: scripts/distro-fetch.sh $rec failed"
fi
mirror=${DEBIAN_MIRROR:-$(sed -n '1s/^deb \[[^]]*\] \([^ ]*\) bookworm main$/\1/p' "$OUT/distro/$rec/apt/sources.list")}
[ -n "$mirror" ] || die "no Debian mirror found; set DEBIAN_MIRROR=<url>"
G=$OUT/distrofix/guest/$rec
TIMEOUT=${COWSWAP_TIMEOUT:-1800}
SETUP_TIMEOUT=${COWSWAP_SETUP_TIMEOUT:-7200}
mkdir -p "$G"

# qemu_run <limit s> <kernel> <initrd> <kernel command line> <console log>
#   [<disk image> <serial>]...: boot the record's QEMU machine, each disk
# a $DISK_DEVICE with that serial (none if empty), and wait for it to
# end, with a line of progress every 5 minutes (the guest's last console
# line). Prints QEMU's exit status (124: the limit).
qemu_run() {
	local limit=$1 kernel=$2 initrd=$3 append=$4 log=$5 rc=0 pid t0 next n=0
	local disks=()
	shift 5
	while [ $# -ge 2 ]; do
		n=$((n + 1))
		disks+=(-drive "if=none,id=disk$n,format=raw,file=$1"
			-device "$DISK_DEVICE,drive=disk$n${2:+,serial=$2}")
		shift 2
	done
	# shellcheck disable=SC2086
	timeout -k 10 "$limit" "$QEMU" $QEMU_ARGS -m "$MEM" -nographic -no-reboot \
		-kernel "$kernel" -initrd "$initrd" -append "$append" "${disks[@]}" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	t0=$(date +%s)
	next=$((t0 + 300))
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		if [ "$(date +%s)" -ge "$next" ]; then
			next=$((next + 300))
			info "$rec: ... $((($(date +%s) - t0) / 60)) min, the guest's last line: $(tr -d '\r' <"$log" | grep -v '^[[:space:]]*$' | tail -n1 | cut -c1-100)"
		fi
	done
	wait "$pid" || rc=$?
	echo "$rc"
}

# The record's Debian kernel as distro-fetch.sh unpacked it, for the
# guest that runs commands in a foreign root.
if [ -n "$foreign" ]; then
	[ -f "$OUT/distro/$rec/kernel.env" ] || "$TOP/scripts/distro-fetch.sh" "$rec" >&2 ||
		die "$rec: scripts/distro-fetch.sh $rec failed"
	# shellcheck disable=SC1090,SC2153
	read -r pkg_kernel pkg_root < <(. "$OUT/distro/$rec/kernel.env" && echo "$KERNEL $ROOT")
	[ -f "$pkg_kernel" ] || die "$rec: no kernel at $pkg_kernel; run scripts/distro-fetch.sh $rec again"
fi

# foreign_run <root dir> <console log> <shell command>: run the command
# as root in the root, in a QEMU guest of the record (see the header),
# and replace the directory with the root as the guest left it.
foreign_run() {
	local dir=$1 log=$2 cmd=$3 mb img=$G/run-root.img out=$G/run-out.img cpio=$G/root-run.cpio rc t0
	# made each time (seconds): its modules must be those of the kernel
	# distro-fetch.sh has unpacked now
	MODULES_ONLY="$transport virtio_blk crc32c_generic ext4" MODULES_FROM=$pkg_root \
		SELFTEST=0 EXTRA_TESTS=$TOP/scripts/guest/root-run.c EXTRA_ARGS="/bin/sh /cowswap-run.sh" \
		"$TOP/scripts/guest/initramfs.sh" "distro-$rec" "$cpio" >"$G/root-run-initramfs.log" 2>&1 ||
		die "$rec: cannot build the root-run initramfs (see ${G#$TOP/}/root-run-initramfs.log)"
	printf '#!/bin/sh\n# written by %s, run by root-run in the guest\nset -e\n%s\n' "$PROG" "$cmd" >"$dir/cowswap-run.sh"
	mb=$(du -sm "$dir" | cut -f1)
	# room for what the command installs, and the root's tar after it
	need_space "$G" $((2 * (mb + 2048))) "the guest's two disks"
	rm -f "$img" "$out"
	truncate -s $((mb + 2048))M "$img" "$out"
	mkfs.ext4 -q -F -d "$dir" "$img" || die "$rec: mkfs.ext4 -d $dir failed"
	t0=$(date +%s)
	info "$rec: running '$cmd' in a $QEMU guest (Debian's $(basename "$pkg_kernel"), TCG, limit ${SETUP_TIMEOUT}s; console: ${log#$TOP/})"
	rc=$(qemu_run "$SETUP_TIMEOUT" "$pkg_kernel" "$cpio" "$CMDLINE panic=-1 cowswap.halt=poweroff" "$log" \
		"$img" cowswap-root "$out" cowswap-out)
	rm -f "$img"
	grep -q '^COWSWAP-END root-run exit=0' < <(tr -d '\r' <"$log") || {
		rm -f "$out"
		die "$rec: '$cmd' failed in the guest after $(($(date +%s) - t0)) s (QEMU exit $rc; see ${log#$TOP/})"
	}
	rm -rf "$dir.new"
	mkdir "$dir.new"
	tar -x -f "$out" -C "$dir.new" --numeric-owner --same-permissions --xattrs --xattrs-include='*' ||
		die "$rec: cannot unpack the root the guest wrote (${out#$TOP/})"
	rm -f "$out" "$dir.new/cowswap-run.sh"
	rm -rf "$dir"
	mv "$dir.new" "$dir"
	info "$rec: '$cmd' done in the guest in $(($(date +%s) - t0)) s"
}

# in_root <root dir> <log> <shell command>: run the command as root in
# the root: chroot where this machine runs its programs, else a guest
# (log: the guest's console).
in_root() {
	if [ -n "$foreign" ]; then
		foreign_run "$@"
	else
		chroot "$1" /bin/sh -c "$3" >"$2" 2>&1
	fi
}

# The root, made once: Debian's kernel of the flavour, systemd, udev.
root=$G/rootfs
if [ ! -f "$G/rootfs.done" ]; then
	need_space "$G" 3000 "a Debian root file system"
	rm -rf "$root" "$root.tmp" "$root.tmp.new"
	info "$rec: debootstrap ${foreign:+--foreign }bookworm $DEBIAN_ARCH with linux-image-$FLAVOUR from $mirror (some minutes; log: ${G#$TOP/}/debootstrap.log)"
	debootstrap ${foreign:+--foreign} --arch="$DEBIAN_ARCH" --variant=minbase \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		--include="linux-image-$FLAVOUR,systemd-sysv,udev,kmod,initramfs-tools" \
		bookworm "$root.tmp" "$mirror" >"$G/debootstrap.log" 2>&1 ||
		die "$rec: debootstrap failed (see ${G#$TOP/}/debootstrap.log)"
	echo "cowswap-$rec" >"$root.tmp/etc/hostname"
	echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$root.tmp/etc/fstab"
	# No login is needed: the unit write_runner installs does the work and
	# powers off; root has no password.
	cmd="passwd -d root"
	# a foreign root: the second stage (configure every package) first
	[ -z "$foreign" ] ||
		cmd="/debootstrap/debootstrap --second-stage || { tail -n 30 /debootstrap/debootstrap.log; exit 1; }; $cmd"
	in_root "$root.tmp" "$G/second-stage.log" "$cmd" ||
		die "$rec: '$cmd' failed in the root (see ${G#$TOP/}/second-stage.log)"
	mv "$root.tmp" "$root"
	touch "$G/rootfs.done"
fi

# The guest's runner, written fresh each time. No login on the serial
# console: a getty there takes the line over (vhangup) and the runner's
# output would be lost.
write_runner() {
	ln -sf /dev/null "$1/etc/systemd/system/serial-getty@${CONSOLE:-ttyS0}.service"
	cat >"$1/etc/systemd/system/cowswap-guest.service" <<EOF
[Unit]
Description=cowswap: report lsmod, run the selftest, power off
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/cowswap-guest
StandardOutput=tty
StandardError=tty
TTYPath=/dev/${CONSOLE:-ttyS0}
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

# boot <rootfs> <kernel> <initrd> <console log>: the root on a disk,
# booted whole; prints QEMU's exit status.
boot() {
	local r=$1 img=$G/disk.img rc mb
	mb=$(du -sm "$r" | cut -f1)
	need_space "$G" $((mb + 1024)) "the guest's disk image"
	rm -f "$img"
	truncate -s $((mb + 1024))M "$img"
	mkfs.ext4 -q -F -d "$r" "$img" || die "$rec: mkfs.ext4 -d $r failed"
	info "$rec: booting $(basename "$2") under $QEMU (TCG, limit ${TIMEOUT}s; console: ${4#$TOP/})"
	rc=$(qemu_run "$TIMEOUT" "$2" "$3" "root=/dev/vda rw $CMDLINE panic=-1" "$4" "$img" "")
	rm -f "$img"
	echo "$rc"
}

case $mode in
lsmod)
	write_runner "$root"
	rm -f "$root/usr/local/sbin/swap_exclusive"
	k=$(ls "$root"/boot/vmlinuz-* | head -n1)
	t0=$(date +%s)
	rc=$(boot "$root" "$k" "$root/boot/initrd.img-${k##*/vmlinuz-}" "$G/lsmod-console.log")
	sed -n '/COWSWAP-INIT lsmod begin/,/COWSWAP-INIT lsmod end/p' "$G/lsmod-console.log" |
		sed '1d;$d' | tr -d '\r' >"$G/lsmod.tmp"
	head -n1 "$G/lsmod.tmp" | grep -q '^Module' ||
		die "$rec: no lsmod in the guest's console (QEMU exit $rc; see ${G#$TOP/}/lsmod-console.log)"
	mv "$G/lsmod.tmp" "$G/lsmod"
	info "$rec: $(($(wc -l <"$G/lsmod") - 1)) modules loaded in the Debian guest ($(basename "$k"), up and down in $(($(date +%s) - t0)) s): ${G#$TOP/}/lsmod"
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
	in_root "$r" "$d/dpkg.log" "dpkg -i /tmp/$(basename "$pkg")" ||
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

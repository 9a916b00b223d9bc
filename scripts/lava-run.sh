#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lava-run.sh <arch> <variant>: run the LAVA job of one record and variant
# (scripts/lava-jobs.py) through LAVA's own dispatcher, lava-run, on this
# machine, as a lab's worker would run it on a qemu device, then judge the
# console LAVA captured with scripts/results.py, as the matrix does.
#
# The dispatcher is not installed: Debian's lava-dispatcher pulls in
# systemd-sysv and some 276 packages. Its package (of the same version
# as the lava-common that 'make deps' installs), lava-dispatcher-host
# (modules it imports) and lava-server (only for the qemu device-type
# template) are fetched with apt-get download and unpacked under
# $OUT/lava/dispatcher; the Python modules the dispatcher imports come
# from Debian (scripts/deps.sh --lava-run). One module is not: guestfs,
# which lava_dispatcher.utils.filesystem imports at load time for the
# deploy methods that build disk images (python3-guestfs would pull in
# libguestfs, udev and systemd). A stand-in that fails any use of it is
# put first on PYTHONPATH; the tmpfs deploy these jobs use never calls it.
#
# The kernel must be built (scripts/build.sh <arch> <variant>); the
# initramfs is made when missing. Output in
# $OUT/results/$RUN_ID/<arch>-<variant>-lava/: job.yaml, device.yaml,
# lava-run.log (the dispatcher's log, one JSON object per line),
# console.log (the guest's serial line as LAVA read it), result.json.
# LAVA_RUN_LIMIT=<seconds>: a wall-clock limit shorter than the job's.
# Exit status 0 when the LAVA job completed, LAVA recorded the monitor's
# results, and the judge finds the expected outcome (the job's
# cowswap.expect) in LAVA's console; the per-check results LAVA recorded
# must be those the judge read.
. "$(dirname "$0")/lib/lib.sh"

[ $# -eq 2 ] || die "usage: $PROG <arch> <variant>"
load_arch "$1"
variant=$2
check_variant "$variant"
need_cmd "$QEMU" apt-get dpkg-deb dpkg-query timeout
py=/usr/bin/python3
[ -x $py ] || die "Debian's python3 is missing"

kimg=$BUILDS/$BUILD-$variant/$KERNEL_IMAGE
[ -f "$kimg" ] || die "no kernel at ${kimg#$TOP/}; run 'scripts/build.sh $BUILD $variant' first"

# The Python modules lava_dispatcher imports (Debian packages, see
# deps.sh --lava-run); a missing one is named before anything runs.
"$TOP/scripts/deps.sh" --check --lava-run >/dev/null ||
	die "the dispatcher's Python modules are missing: run 'scripts/deps.sh --lava-run' (root)"

# The dispatcher, unpacked once per lava-common version.
ver=$(dpkg-query -W -f='${Version}' lava-common 2>/dev/null) || die "lava-common is not installed (make deps)"
disp=$OUT/lava/dispatcher/$ver
if [ ! -x "$disp/root/usr/bin/lava-run" ]; then
	info "fetching lava-dispatcher, lava-dispatcher-host and lava-server $ver (apt-get download, not installed)"
	rm -rf "$disp.tmp"
	mkdir -p "$disp.tmp/debs"
	(cd "$disp.tmp/debs" && apt-get download -q lava-dispatcher="$ver" lava-dispatcher-host="$ver" \
		lava-server="$ver") >&2 || die "apt-get download of the LAVA packages $ver failed"
	for d in "$disp.tmp"/debs/*.deb; do
		dpkg-deb -x "$d" "$disp.tmp/root" || die "cannot unpack $d"
	done
	mkdir -p "$disp.tmp/shim"
	cat >"$disp.tmp/shim/guestfs.py" <<'EOF'
# Stand-in for libguestfs' Python module, written by cowswap's
# scripts/lava-run.sh: lava_dispatcher imports guestfs at load time, and
# only its image-building deploy methods use it. Any use fails.
def __getattr__(name):
    raise RuntimeError("guestfs." + name + ": libguestfs is not installed (scripts/lava-run.sh)")
EOF
	rm -rf "$disp"
	mv "$disp.tmp" "$disp"
fi
templates=$disp/root/usr/share/lava-server/device-types
[ -f "$templates/qemu.jinja2" ] || die "no qemu.jinja2 in $templates"

RUN_ID=${RUN_ID:-lava-$(date -u +%Y%m%d-%H%M%S)}
res=$OUT/results/$RUN_ID/$NAME-$variant-lava
rm -rf "$res"
mkdir -p "$res"

[ -f "$OUT/lava/initramfs/$NAME.cpio" ] || "$TOP/scripts/lava-jobs.py" initramfs "$NAME"
"$TOP/scripts/lava-jobs.py" generate --out "$res/jobs" "$NAME" >/dev/null
mv "$res/jobs/$NAME-$variant.yaml" "$res/job.yaml"
rm -r "$res/jobs"
"$TOP/scripts/lava-jobs.py" validate "$res/job.yaml"
"$TOP/scripts/lava-jobs.py" device "$res/job.yaml" "$templates" >"$res/device.yaml"
expect=$(sed -n 's/^ *cowswap\.expect: *//p' "$res/job.yaml")
[ -n "$expect" ] || die "$res/job.yaml has no cowswap.expect"

# The job's own timeouts bound it; this only catches a dispatcher that
# hangs outside them.
limit=$(($(sed -n '/^timeouts:/,/^[a-z]/s/^    minutes: *//p' "$res/job.yaml" | head -1) * 60 + 120))
# LAVA_RUN_LIMIT=<seconds> shortens that (CI's short form: SMOKE_TIMEOUT).
if [ -n "${LAVA_RUN_LIMIT:-}" ]; then
	[[ $LAVA_RUN_LIMIT =~ ^[1-9][0-9]*$ ]] || die "LAVA_RUN_LIMIT=$LAVA_RUN_LIMIT: expected seconds"
	[ "$LAVA_RUN_LIMIT" -ge "$limit" ] || limit=$LAVA_RUN_LIMIT
fi
info "lava-run: $NAME/$variant (LAVA $ver, qemu device, TCG); log: ${res#$TOP/}/lava-run.log"
t0=$(date +%s)
rc=0
PYTHONPATH="$disp/shim:$disp/root/usr/lib/python3/dist-packages" \
	timeout -k 10 "$limit" $py "$disp/root/usr/bin/lava-run" --job-id "cowswap-$NAME-$variant" \
	--output-dir "$res/lava-output" --device "$res/device.yaml" "$res/job.yaml" \
	>"$res/lava-run.log" 2>&1 </dev/null || rc=$?
elapsed=$(($(date +%s) - t0))
info "lava-run exited $rc after ${elapsed}s"

lava_ok=0
"$TOP/scripts/lava-jobs.py" log "$res/job.yaml" "$res/lava-run.log" "$res/console.log" || lava_ok=1
[ -s "$res/console.log" ] || die "LAVA captured no console output (see ${res#$TOP/}/lava-run.log)"

# The project's judge on the console LAVA read: the same verdict the
# matrix would give a DISKS=none boot of this kernel.
(selftest_names) >"$res/expected-tests"
judge_rc=0
$py "$TOP/scripts/results.py" judge --arch "$NAME" --variant "$variant" --expect "$expect" \
	--seconds "$elapsed" --may-skip "$MAY_SKIP" --selftest-list "$res/expected-tests" \
	--disks none --log "$res/console.log" --json "$res/result.json" || judge_rc=$?

# LAVA's per-check results must be the TAP lines the judge read.
"$TOP/scripts/lava-jobs.py" match "$res/job.yaml" "$res/lava-run.log" "$res/result.json" || lava_ok=1

[ $lava_ok = 0 ] || die "$NAME/$variant: LAVA's run is not usable (see ${res#$TOP/}/lava-run.log)"
[ $judge_rc = 0 ] || die "$NAME/$variant: the judge did not find '$expect' in LAVA's console (${res#$TOP/}/result.json)"
info "$NAME/$variant through lava-run: as expected ($expect), ${elapsed}s"

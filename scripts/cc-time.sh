#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cc-time.sh <compiler> <args...>: run one compiler command and append
# "<CPU milliseconds>\t<wall milliseconds>\t<output file>" to
# $COWSWAP_PROFILE. build.sh puts it in front of CC with PROFILE=1, so
# that build-profile.py can tell where a cold build's time goes. CPU time
# (user + system of the compiler, from this shell's cutime/cstime) stays
# meaningful when other work shares the machine; wall time does not.
t0=${EPOCHREALTIME/./}
"$@"
rc=$?
t1=${EPOCHREALTIME/./}
read -ra st </proc/$$/stat
tck=$(getconf CLK_TCK)
out=-
prev=
for a in "$@"; do
	[ "$prev" != -o ] || out=$a
	prev=$a
done
printf '%d\t%d\t%s\n' $(((st[15] + st[16]) * 1000 / tck)) $(((t1 - t0) / 1000)) "$out" \
	>>"${COWSWAP_PROFILE:-/dev/null}"
exit $rc

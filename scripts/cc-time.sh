#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cc-time.sh <compiler> <args...>: run one compiler command and append
# "<microseconds>\t<output file>" to $COWSWAP_PROFILE. build.sh puts it in
# front of CC with PROFILE=1, so that build-profile.py can tell where a
# cold build's time goes.
t0=${EPOCHREALTIME/./}
"$@"
rc=$?
t1=${EPOCHREALTIME/./}
out=-
prev=
for a in "$@"; do
	[ "$prev" != -o ] || out=$a
	prev=$a
done
printf '%d\t%s\n' $((t1 - t0)) "$out" >>"${COWSWAP_PROFILE:-/dev/null}"
exit $rc

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# matrix.sh [arch/variant ...]: build and boot kernels, then summarise.
#
# Each argument is <arch>/<variant>, <arch> (all variants) or "all".
# Default: every architecture record in configs/arch x every variant.
# Results: $OUT/results/$RUN_ID/{summary.md,summary.json,<arch>-<variant>/}.
# A build failure is recorded as an "error" result and the run goes on;
# the exit status is non-zero unless every baseline reproduced the bug
# and every upstream and patched kernel passed.
. "$(dirname "$0")/lib.sh"

export RUN_ID=${RUN_ID:-$(date -u +%Y%m%d-%H%M%S)}
since=$(date -u +%FT%TZ)
[ $# -gt 0 ] || set -- all
pairs=()
for a in "$@"; do
	case $a in
	all) for x in $(ARCHS_ALL); do for v in $VARIANTS; do pairs+=("$x/$v"); done; done ;;
	*/*) pairs+=("$a") ;;
	*) for v in $VARIANTS; do pairs+=("$a/$v"); done ;;
	esac
done
for p in "${pairs[@]}"; do
	load_arch "${p%/*}"
	check_variant "${p#*/}"
done

res=$OUT/results/$RUN_ID
mkdir -p "$res"
info "run $RUN_ID: ${pairs[*]}"
trees=$VARIANTS
for p in "${pairs[@]}"; do
	[ "${p#*/}" != mutant ] || trees="$trees mutant"
done
# shellcheck disable=SC2086
stage "trees" "$TOP/scripts/mktrees.sh" $trees

# record_error <arch> <variant> <message>: a result for a run that never booted.
record_error() {
	mkdir -p "$res/$1-$2"
	python3 - "$res/$1-$2/result.json" "$1" "$2" "$3" "$(expect_of "$2")" <<'PY'
import json, sys
path, arch, variant, msg, expect = sys.argv[1:]
json.dump({"arch": arch, "variant": variant, "outcome": "error", "ok": False,
           "expected": expect,
           "seconds": 0, "problems": [msg], "failed": [], "tests": []},
          open(path, "w"), indent=1)
PY
}

built=" "
for p in "${pairs[@]}"; do
	arch=${p%/*} variant=${p#*/}
	load_arch "$arch"
	if [[ "$built" != *" $BUILD/$variant "* ]]; then
		if stage "build $BUILD/$variant" "$TOP/scripts/build.sh" "$arch" "$variant"; then
			built="$built$BUILD/$variant "
		else
			record_error "$arch" "$variant" "kernel build failed"
			continue
		fi
	fi
	if [ "$variant" = mutant ]; then
		# One boot per deliberate bug of the mutant kernel.
		for m in $(mutations); do
			stage "boot $arch/mutant-$m" env MUTATION="$m" \
				"$TOP/scripts/run-qemu.sh" "$arch" mutant || true
			[ -f "$res/$arch-mutant-$m/result.json" ] ||
				record_error "$arch" "mutant-$m" "QEMU run produced no result"
		done
		continue
	fi
	stage "boot $arch/$variant" "$TOP/scripts/run-qemu.sh" "$arch" "$variant" || true
	[ -f "$res/$arch-$variant/result.json" ] ||
		record_error "$arch" "$variant" "QEMU run produced no result"
done

python3 "$TOP/scripts/results.py" summary "$res" --timings "$OUT/timings.log" --since "$since"

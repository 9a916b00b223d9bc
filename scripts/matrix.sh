#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# matrix.sh [arch/variant[@disks][+ksft|+ksft-tree] ...]: build and boot kernels, then summarise.
#
# Each argument is <arch>/<variant>, <arch> (all variants) or "all"; an
# optional @full, @plain or @none picks the guest's disks (run-qemu.sh's
# DISKS; default $DISKS or full), and a final +ksft runs the selftest
# through the kernel's run_kselftest.sh (run-qemu.sh's KSFT_RUNNER=1;
# x86_64 only, it needs the host's busybox-static), e.g.
# x86_64/patched@none+ksft; +ksft-tree runs it so as the kernel tree
# carries it after the series (KSFT_RUNNER=tree: the vm target of
# $KSFT_TREE, default the patched tree). Default: every architecture
# record in configs/arch x every variant.
#
# Kernels are built one after the other (each build uses every core);
# a kernel's boots start as soon as it is built and run in the
# background while the next kernel builds, at most $JOBS guests at a time
# (default: one more than the number of CPUs, as far as the memory holds
# the guests: a TCG guest waits for its throttled disks part of the time,
# and a third guest on two CPUs did not slow the other two: 15 warm boots
# took 733 guest-seconds with two at a time, 730 with three, and 412 vs
# 281 s of wall time). JOBS=1 is the old serial order: each
# boot finishes before the next build starts. Either way each guest has
# its own console log and result.json, so the verdicts do not depend on
# the order. One line per finished job, with an estimate of what is left.
#
# The mutant boots once per deliberate bug of patches/mutants, or only
# the ones MUTATIONS names (e.g. MUTATIONS=fork, CI's short form).
#
# LTS_TREE=<dir> judges another 6.1.y tree as the "fixed" side of the
# 6.1-LTS records, e.g. a distribution's kernel with the upstream commits
# cherry-picked: the fixed kernels are built from <dir> (in
# $BUILDS/<build>-fixed-ltstree, so our own fixed builds stay) instead of
# stock + patches/lts-6.1, and must pass as ours must; stock stays the
# control. A <dir> that is not a clean 6.1.y source tree is refused.
#
# Results: $OUT/results/$RUN_ID/{summary.md,summary.json,<arch>-<variant>/}.
# A build failure is recorded as an "error" result and the run goes on;
# the exit status is non-zero unless every baseline reproduced the bug
# and every upstream and patched kernel passed. Each boot notes the
# commit it was made on (<name>/commit); the summary names it, and says
# MIXED COMMITS when the results of a run come from several.
#
# MATRIX_RESUME=1 RUN_ID=<run> continues that run (a run too long for one
# sitting, or one that was interrupted): with the same arguments, a boot
# whose <name>/result.json holds a verdict (pass, reproduced, fail, or an
# error the judge found on its console) is kept, with one line "kept:
# <name> (<verdict>, from <date> at <commit>)", and not booted again; a
# boot with no result, or whose kernel did not build or that gave no
# result, is booted (scripts/cowswap/resume.py). Only the kernels of the
# boots left are built. The summary covers the kept and the new results;
# its stage timings are this sitting's. To boot one again, remove its
# directory. Without MATRIX_RESUME a RUN_ID is run whole, as always (the
# boots of an existing run are booted again, over their old results).
. "$(dirname "$0")/lib/lib.sh"

case ${MATRIX_RESUME:=0} in
0) ;;
1)
	[ -n "${RUN_ID:-}" ] || die "MATRIX_RESUME=1 needs RUN_ID=<the run to continue>"
	[ -d "$OUT/results/$RUN_ID" ] || die "MATRIX_RESUME=1: there is no run $OUT/results/$RUN_ID to continue"
	;;
*) die "MATRIX_RESUME=$MATRIX_RESUME: expected 0 or 1" ;;
esac
export RUN_ID=${RUN_ID:-$(date -u +%Y%m%d-%H%M%S)}
if [ -z "${JOBS:-}" ]; then
	# MEM (MiB) per guest plus QEMU's own ~256 MiB, from what is available
	avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
	JOBS=$(($(nproc) + 1))
	fit=$((${avail:-0} / (${MEM:-1024} + 256)))
	[ "$fit" -ge "$JOBS" ] || JOBS=$((fit > 0 ? fit : 1))
fi
case $JOBS in
'' | *[!0-9]* | 0) die "JOBS=$JOBS: expected a positive number of guests" ;;
esac
since=$(date -u +%FT%TZ)
t_start=$(date +%s)
[ $# -gt 0 ] || set -- all
pairs=()
for a in "$@"; do
	disks=${DISKS:-full}
	# the runner flavour travels with the disks: <disks>[+ksft|+ksft-tree]
	ksft=
	case $a in
	*+ksft) ksft=+ksft a=${a%+ksft} ;;
	*+ksft-tree) ksft=+ksft-tree a=${a%+ksft-tree} ;;
	esac
	case $a in
	*@*) disks=${a##*@} a=${a%@*} ;;
	esac
	case $disks in
	full | plain | none) ;;
	*) die "'$a@$disks': disks must be full, plain or none" ;;
	esac
	disks=$disks$ksft
	case $a in
	all) for x in $(ARCHS_ALL); do for v in $(arch_variants "$x"); do pairs+=("$x/$v@$disks"); done; done ;;
	*/*) pairs+=("$a@$disks") ;;
	*) load_arch "$a" && for v in $(arch_variants "$a"); do pairs+=("$a/$v@$disks"); done ;;
	esac
done
for p in "${pairs[@]}"; do
	q=${p%@*}
	load_arch "${q%/*}"
	refuse_no_boot
	check_variant "${q#*/}"
done

# LTS_TREE: refused before anything is built, with one line.
lts_tree=
if [ -n "${LTS_TREE:-}" ]; then
	check_tree "$LTS_TREE" LTS_TREE
	lts_tree=$(cd "$LTS_TREE" && pwd)
	[ ! -e "$lts_tree/.config" ] ||
		die "LTS_TREE='$LTS_TREE' has a .config (built in place); run 'make mrproper' there first"
fi

res=$OUT/results/$RUN_ID
# A continued run judges the same LTS_TREE (or none) as its first sitting.
if [ "$MATRIX_RESUME" = 1 ] && [ "$(cut -f1 "$res/lts-tree.txt" 2>/dev/null)" != "$lts_tree" ]; then
	die "run $RUN_ID was made with LTS_TREE='$(cut -f1 "$res/lts-tree.txt" 2>/dev/null)'; continue it with the same LTS_TREE"
fi
mkdir -p "$res"

# The boots, in order: "<arch> <variant> <mutation or -> <disks> <result name>".
boots=()
for p in "${pairs[@]}"; do
	disks=${p##*@} q=${p%@*}
	arch=${q%/*} variant=${q#*/}
	sfx=
	[ "${disks%%+*}" = full ] || sfx=-${disks%%+*}
	[ "$disks" = "${disks%%+*}" ] || sfx=$sfx-${disks#*+}
	if [ "$variant" = mutant ]; then
		for m in ${MUTATIONS:-$(mutations)}; do
			mutation_field "$m" select >/dev/null
			boots+=("$arch $variant $m $disks $arch-mutant-$m$sfx")
		done
	else
		boots+=("$arch $variant - $disks $arch-$variant$sfx")
	fi
done
nkept=0
if [ "$MATRIX_RESUME" = 1 ]; then
	# What the earlier sittings left: keep those boots, and build and
	# boot only the pairs that still have a boot to do.
	kept=$(PYTHONPATH=$TOP/scripts python3 -m cowswap.resume "$res" "${boots[@]##* }") ||
		die "cannot read the results of run $RUN_ID"
	left=()
	for b in "${boots[@]}"; do
		grep -q "^${b##* }	" <<<"$kept" || left+=("$b")
	done
	while IFS=$'\t' read -r name verdict date commit; do
		[ -z "$name" ] || info "kept: $name ($verdict, from $date at $commit)"
	done <<<"$kept"
	nkept=$((${#boots[@]} - ${#left[@]}))
	boots=("${left[@]}")
	left=()
	for p in "${pairs[@]}"; do
		for b in "${boots[@]}"; do
			read -r barch bvariant _ disks _ <<<"$b"
			[ "$p" != "$barch/$bvariant@$disks" ] || { left+=("$p"); break; }
		done
	done
	pairs=("${left[@]}")
fi
info "run $RUN_ID: ${pairs[*]:-nothing left to boot} (guests at a time: $JOBS$([ "$nkept" = 0 ] || echo "; $nkept boot(s) kept"))"
trees=$VARIANTS
for p in "${pairs[@]}"; do
	case $p in
	*/mutant@*) trees="$trees mutant" ;;
	*/fixed@*) [ -n "$lts_tree" ] || trees="$trees fixed" ;;
	*/v6.12@*) v612=1 ;;
	esac
done
# the 6.12 control: Debian 13's source, imported once
[ -z "${v612:-}" ] || { stage "source 6.12" "$TOP/scripts/get-source.sh" 6.12 && trees="$trees v6.12"; } ||
	die "cannot import Debian 13's linux-source-6.12"
if [ -n "$lts_tree" ]; then
	# its own git description if it is the top of a git tree (not merely
	# inside one, as an export under out/ is), else its Makefile version
	if [ "$(git -C "$lts_tree" rev-parse --show-toplevel 2>/dev/null)" = "$lts_tree" ]; then
		lts_desc=$(git -C "$lts_tree" describe --always --dirty)
	else
		lts_desc=$(sed -n 's/^SUBLEVEL = /6.1./p' "$lts_tree/Makefile" | head -1)
	fi
	info "fixed = LTS_TREE $lts_tree ($lts_desc)"
	printf '%s\t%s\n' "$lts_tree" "$lts_desc" >"$res/lts-tree.txt"
fi
# shellcheck disable=SC2086
[ ${#pairs[@]} = 0 ] || stage "trees" "$TOP/scripts/mktrees.sh" $trees

# record_error <result name> <arch> <variant> <label> <message> <disks>:
# a result for a run that never booted ("booted": false: a continued
# run boots it again).
record_error() {
	mkdir -p "$res/$1"
	rm -f "$res/$1/commit"
	note_commit "$res/$1"
	python3 - "$res/$1/result.json" "$2" "$4" "$5" "$(expect_of "$3")" "$6" <<'PY'
import json, sys, time
path, arch, variant, msg, expect, disks = sys.argv[1:]
disks, _, flavour = disks.partition("+")
runner = {"ksft": "kselftest", "ksft-tree": "kselftest-tree"}.get(flavour, "direct")
# the label without the result name's -<disks> and -ksft[-tree]: those are fields
for sfx in ("-" + flavour if flavour else "", "-" + disks):
    if sfx and variant.endswith(sfx):
        variant = variant[:-len(sfx)]
json.dump({"arch": arch, "variant": variant, "outcome": "error", "ok": False,
           "expected": expect, "disks": disks, "runner": runner, "booted": False,
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "seconds": 0, "problems": [msg], "failed": [], "tests": []},
          open(path, "w"), indent=1)
PY
}

nboots=${#boots[@]}
for p in "${pairs[@]}"; do
	q=${p%@*}
	load_arch "${q%/*}"
	echo "$BUILD/${q#*/}"
done | sort -u | wc -l >"$res/.builds_left"

# Average seconds of earlier stages whose name matches (for the estimate).
past_avg() {
	awk -F'\t' -v pat="$1" -v dflt="$2" '$2 ~ pat && $4 == 0 { s += $3; n++ }
		END { print (n ? int(s / n) : dflt) }' "$OUT/timings.log" 2>/dev/null || echo "$2"
}

# progress <line>: one line per finished job, with what is left.
progress() {
	local done left_boots eta builds_left
	builds_left=$(cat "$res/.builds_left")
	done=$(find "$res" -mindepth 2 -maxdepth 2 -name result.json -newer "$res/.started" 2>/dev/null | wc -l)
	left_boots=$((nboots - done))
	eta=$(((builds_left * $(past_avg '^build ' 300) + (left_boots + JOBS - 1) / JOBS * $(past_avg '^boot ' 45)) / 60))
	info "[$done/$nboots boots done, $builds_left build(s) to go, about $eta min left, $(($(date +%s) - t_start))s so far] $1"
}

# boot_job <arch> <variant> <mutation|-> <disks> <name>: one guest,
# quietly; its own output goes to <name>/run.log, the verdict to the
# progress line.
boot_job() {
	local arch=$1 variant=$2 m=$3 disks=$4 name=$5 label=${5#"$1"-} menv=() out
	[ "$m" = - ] || menv=(MUTATION="$m")
	if [ "$variant" = fixed ] && [ -n "$lts_tree" ]; then
		load_arch "$arch"
		menv+=(KERNEL="$BUILDS/$BUILD-fixed-ltstree/$KERNEL_IMAGE")
	fi
	case $disks in
	*+ksft) menv+=(KSFT_RUNNER=1) ;;
	*+ksft-tree) menv+=(KSFT_RUNNER=tree) ;;
	esac
	mkdir -p "$res/$name"
	rm -f "$res/$name/commit"
	note_commit "$res/$name"
	stage "boot $arch/$label" env DISKS="${disks%%+*}" QUIET=1 "${menv[@]}" \
		"$TOP/scripts/run-qemu.sh" "$arch" "$variant" >"$res/$name/run.log" 2>&1 || true
	[ -f "$res/$name/result.json" ] ||
		record_error "$name" "$arch" "$variant" "$label" "QEMU run produced no result (see $name/run.log)" "$disks"
	# (no verdict line: a run-qemu.sh that stopped early; not an error here)
	out=$(grep -A3 -E "^$arch/[^:]*: [A-Z]" "$res/$name/run.log" | grep -E "^$arch/|^  failed:|^  problem" | head -4) ||
		true
	progress "${out:-$name: no verdict, see ${res#"$TOP"/}/$name/run.log}"
}

running() {
	jobs -pr | wc -l
}

touch "$res/.started"
built=" "
failed_builds=" "
for p in "${pairs[@]}"; do
	q=${p%@*}
	arch=${q%/*} variant=${q#*/}
	load_arch "$arch"
	if [[ "$built$failed_builds" != *" $BUILD/$variant "* ]]; then
		benv=()
		[ "$variant" != fixed ] || [ -z "$lts_tree" ] ||
			benv=(TREE="$lts_tree" O="$BUILDS/$BUILD-fixed-ltstree")
		if stage "build $BUILD/$variant" env "${benv[@]}" "$TOP/scripts/build.sh" "$arch" "$variant"; then
			built="$built$BUILD/$variant "
		else
			failed_builds="$failed_builds$BUILD/$variant "
		fi
		echo $(($(cat "$res/.builds_left") - 1)) >"$res/.builds_left"
	fi
	for b in "${boots[@]}"; do
		read -r barch bvariant m disks name <<<"$b"
		[ "$barch/$bvariant" = "$arch/$variant" ] && [ "${p##*@}" = "$disks" ] || continue
		if [[ "$failed_builds" = *" $BUILD/$variant "* ]]; then
			record_error "$name" "$arch" "$variant" "${name#"$arch"-}" "kernel build failed" "$disks"
			progress "$name: ERROR (kernel build failed)"
			continue
		fi
		while [ "$(running)" -ge "$JOBS" ]; do
			wait -n || true
		done
		boot_job "$barch" "$bvariant" "$m" "$disks" "$name" &
		[ "$JOBS" -gt 1 ] || wait
	done
done
wait
rm -f "$res/.started" "$res/.builds_left"
info "all jobs done in $(($(date +%s) - t_start))s"

python3 "$TOP/scripts/results.py" summary "$res" --timings "$OUT/timings.log" --since "$since"

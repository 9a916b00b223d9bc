#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# smoke.sh [stage...]: the short form of every make target that the rest
# of 'make check' does not run, on the kernels check.sh's matrix stage has
# already built (nothing is built here), so that a target that stops
# working fails CI instead of rotting until someone runs it by hand.
#
#   bench     make bench: one short round of swap_bench on x86_64 patched
#             (the benchmark's own QEMU setup: -icount, one CPU)
#   stress    make stress: 30 s of the stress test on the x86_64 patched
#             kernel (the plain kernel, not the debug one)
#   lava      make lava and make lava-artifacts (x86_64): the jobs
#             written and checked with LAVA's schema, one initramfs
#   distro    make distro-check --dry-run: every distribution record and
#             the tools its boot needs, nothing downloaded
#   vmtests   make vmtests: four of 6.1's vm selftests
#             (scripts/guest/vmtests-smoke.list) on x86_64 patched
#   defconfig make lts-defconfig: i386_defconfig's W=1 comparison, stock
#             vs fixed, without the vmlinux (DEFCONFIG_VMLINUX=0)
#   mainline  make mainline-selftest: the mainline patch with git am on
#             Debian 13's 6.12, make headers, selftests/mm built there
#   distrofix make distro-fix up to its config (--config-only i386):
#             Debian's config trimmed and checked, nothing built
#   deb       make deb up to its config (--config-only i386) with a
#             three-module LSMOD: localmodconfig on Debian's config
#   affected  make affected-qemu (i386): affected.sh in QEMU on Debian
#             12's i386 kernel, whose verdict must be "affected"
#   lava-run  make lava-run on x86_64 patched: the job through LAVA's own
#             dispatcher, its console judged (pass)
#   nightly   make nightly with NIGHTLY_STAGES=3 (one mutant boot): the
#             run's stage table must record that stage and its verdict,
#             and nightly.sh exit as that stage did
#   clean     make clean and make distclean in a scratch copy of the
#             repository with an out/ made up for it, then with
#             COWSWAP_OUT=<another made-up out> (out/ must stay), and
#             COWSWAP_OUT=<the copy, its parent, /> (refused)
#   docs      make snapshot and make docs in that kind of copy: a
#             committed fixture run must reach the page's generated block
#
# The mutant (one deliberate bug) and one 6.1-LTS record are booted by
# check.sh's matrix stage (CHECK_RUNS), not here. Default: every stage.
# SMOKE_TIMEOUT: the wall-clock limit of each boot (default 420 s: a
# healthy boot takes a minute or two; a guest that hangs must fail CI
# long before its full-length limit).
. "$(dirname "$0")/lib/lib.sh"

STAGES="bench stress lava distro vmtests defconfig mainline distrofix deb affected lava-run nightly clean docs"
# shellcheck disable=SC2086
[ $# -gt 0 ] || set -- $STAGES
limit=${SMOKE_TIMEOUT:-420}
# Each short form writes its own run, <RUN_ID>-<stage> (two boots of
# x86_64 patched must not share a result directory).
RUN_ID=${RUN_ID:-smoke-$(date -u +%Y%m%d-%H%M%S)}

smoke_bench() {
	mkdir -p "$OUT/results/$RUN_ID-bench"
	RUN_ID=$RUN_ID-bench BENCH_VARIANTS=patched BENCH_BUILD=never COWSWAP_TIMEOUT=$limit QUIET=1 \
		BENCH_ARGS="-r 1 -c 16 -W 2 -f 64 -s 16 -k 1" BENCH_SWAP_MIB=512 MEM=1024 \
		"$TOP/scripts/bench.sh" x86_64 >"$OUT/results/$RUN_ID-bench/bench.out" 2>&1 || {
		tail -n 20 "$OUT/results/$RUN_ID-bench/bench.out" >&2
		return 1
	}
	# Every measurement of that round must have reached the report.
	python3 - "$OUT/results/$RUN_ID-bench/bench-x86_64.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
metrics = {r["metric"] for r in rows if r.get("patched")}
want = {"copies_held_ref", "fork_us", "swapin_cache_us", "swapin_disk_us"}
missing = sorted(want - metrics)
if missing:
    sys.exit(f"smoke: bench: no result for {', '.join(missing)}")
print(f"smoke: bench: {len(rows)} measurements on x86_64 patched")
PY
}

smoke_stress() {
	RUN_ID=$RUN_ID-stress STRESS_FRAGMENTS="" STRESS_BUILD=never STRESS_SECONDS=30 STRESS_GRACE=120 \
		COWSWAP_TIMEOUT=$limit QUIET=1 \
		"$TOP/scripts/stress.sh" x86_64 patched
}

smoke_lava() {
	# lava-jobs.py runs under Debian's python3 (its shebang), which has
	# lava-common's schema.
	"$TOP/scripts/lava-jobs.py" generate &&
		"$TOP/scripts/lava-jobs.py" validate &&
		"$TOP/scripts/lava-jobs.py" initramfs x86_64
}

smoke_distro() {
	"$TOP/scripts/distro-check.sh" --dry-run
}

smoke_vmtests() {
	RUN_ID=$RUN_ID-vmtests VMTESTS_VARIANTS=patched VMTESTS_LIST=$TOP/scripts/guest/vmtests-smoke.list \
		COWSWAP_TIMEOUT=$limit QUIET=1 "$TOP/scripts/vmtests.sh" x86_64
}

smoke_defconfig() {
	RUN_ID=$RUN_ID-defconfig DEFCONFIG_VMLINUX=0 DEFCONFIGS_ONLY=i386_defconfig \
		"$TOP/scripts/defconfig-build.sh" i386
}

# The test in today's kernels' selftests/mm (make mainline-selftest):
# a scratch 6.12 worktree, make headers and the mm target, some minutes.
smoke_mainline() {
	local log=$OUT/results/$RUN_ID-mainline/mainline-selftest.log
	mkdir -p "${log%/*}"
	"$TOP/scripts/mainline-selftest.sh" >"$log" 2>&1 || {
		tail -n 20 "$log" >&2
		return 1
	}
	tail -n 1 "$log"
}

# make distro-fix and make deb stop after their config here: the builds
# take hours. Debian's i386 package is fetched once (the tooling tests
# use it too).
smoke_distrofix() {
	RUN_ID=$RUN_ID-distrofix "$TOP/scripts/distro-fix.sh" --config-only i386 || return 1
	[ -s "$OUT/distrofix/i386/config" ] || { echo "smoke: distrofix: no $OUT/distrofix/i386/config" >&2; return 1; }
}

smoke_deb() {
	local d=$OUT/results/$RUN_ID-deb cfg
	mkdir -p "$d"
	# lsmod of a small virtio guest: localmodconfig must keep these (and
	# the selftest's modules, which distro-deb.sh adds), not Debian's ~4000.
	printf '%s\n' "Module                  Size  Used by" "virtio_blk             20480  2" \
		"virtio_net             61440  0" "ext4                  995328  1" >"$d/lsmod"
	LSMOD=$d/lsmod "$TOP/scripts/distro-deb.sh" --config-only i386 || return 1
	cfg=$OUT/distrofix/deb/i386-fixed-lsmod/kconfig/.config
	python3 - "$cfg" <<'PY'
import re, sys
cfg = open(sys.argv[1]).read()
mods = re.findall(r"^(CONFIG_\w+)=m$", cfg, re.M)
want = ["CONFIG_VIRTIO_BLK", "CONFIG_EXT4_FS", "CONFIG_DM_DELAY"]
lost = [w for w in want if not re.search(rf"^{w}=[my]$", cfg, re.M)]
if lost or not 0 < len(mods) < 200:
    sys.exit(f"smoke: deb: localmodconfig gave {len(mods)} modules, lost: {' '.join(lost) or 'none'}")
print(f"smoke: deb: {len(mods)} modules after localmodconfig")
PY
}

# affected.sh on a kernel known to lose the data: the verdict must be
# "affected" (exit 1); 0, "cannot tell" (2) and no verdict (3) fail.
smoke_affected() {
	local rc=0
	RUN_ID=$RUN_ID-affected COWSWAP_TIMEOUT=$limit "$TOP/scripts/affected-qemu.sh" i386 || rc=$?
	[ $rc = 1 ] || { echo "smoke: affected: affected-qemu.sh i386 exited $rc, expected 1 (affected)" >&2; return 1; }
}

smoke_lava_run() {
	"$TOP/scripts/deps.sh" --lava-run >/dev/null || return 1
	RUN_ID=$RUN_ID-lava-run LAVA_RUN_LIMIT=$limit "$TOP/scripts/lava-run.sh" x86_64 patched
}

# nightly.sh's own work on the cheapest stage, 3 (the mutant), with one
# mutation (MUTATIONS=fork, whose kernel check.sh's matrix built): the
# stage asked for is the one run, the stage table records it with its
# exit status and verdict, and nightly.sh's exit status follows the
# stage's. (Stage 1 would run check-patches a second time: 4 to 7 min.)
smoke_nightly() {
	local mark=$OUT/results/.smoke-nightly.$$ table rc=0
	touch "$mark"
	NIGHTLY_STAGES=3 MUTATIONS=${MUTATIONS:-fork} "$TOP/scripts/nightly.sh" || rc=$?
	table=$(find "$OUT/results" -path "$OUT/results/nightly-*/nightly.json" -newer "$mark" | sort | tail -n 1)
	rm -f "$mark"
	[ -n "$table" ] || { echo "smoke: nightly: nightly.sh (exit $rc) wrote no nightly.json" >&2; return 1; }
	python3 - "$table" "$rc" <<'PY'
import json, sys
data, rc = json.load(open(sys.argv[1])), int(sys.argv[2])
stages = {s["stage"]: s for s in data["stages"]}
st = stages.get("mutant")
bad = []
if data["stages_asked"] != ["3"] or not st or set(stages) - {"mutant", "report"}:
    bad.append(f"asked {data['stages_asked']}, recorded {sorted(stages)}")
if st and st["verdict"] != ("pass" if st["exit"] == 0 else "fail"):
    bad.append(f"the mutant stage exited {st['exit']} but is recorded as {st['verdict']}")
if st and (rc == 0) != (st["exit"] == 0):
    bad.append(f"nightly.sh exited {rc} after a stage that exited {st['exit']}")
if bad:
    sys.exit(f"smoke: nightly: {sys.argv[1]}: " + "; ".join(bad))
print(f"smoke: nightly: {data['run']}: the mutant stage recorded ({st['verdict']}, {st['seconds']} s)")
PY
}

# scratch_repo <dir>: the files the Makefile's recipes use, copied (the
# targets below change out/, docs/ and README.md of the copy only).
scratch_repo() {
	rm -rf "$1"
	mkdir -p "$1"
	cp -r "$TOP/Makefile" "$TOP/README.md" "$TOP/scripts" "$TOP/configs" "$TOP/docs" "$1/"
}

# made_up_out <dir>: an out/ with build output, results, a source store
# and one tree, a git repository whose file f is committed.
made_up_out() {
	mkdir -p "$1"/build/x86_64-patched "$1"/results/run "$1"/report "$1"/initramfs "$1"/src/keep \
		"$1"/trees/t &&
		touch "$1"/timings.log &&
		git -C "$1"/trees/t init -q && echo a >"$1"/trees/t/f &&
		git -C "$1"/trees/t add f && git -C "$1"/trees/t -c user.name=s -c user.email=s@localhost commit -qm f
}

# clean_checks <out dir> [VAR=value...]: make clean and make distclean with
# that environment must act on <out dir>: clean keeps its src/ and results/, distclean
# refuses while its tree has a local change, then removes it.
clean_checks() {
	local o=$1 d
	shift
	env "$@" make -s clean >/dev/null || return 1
	for d in build report initramfs timings.log; do
		[ ! -e "$o/$d" ] || { echo "smoke: clean: make clean ($*) left $o/$d" >&2; return 1; }
	done
	for d in src/keep results/run; do
		[ -d "$o/$d" ] || { echo "smoke: clean: make clean ($*) removed $o/$d" >&2; return 1; }
	done
	echo b >"$o/trees/t/f"
	if env "$@" make -s distclean >distclean.log 2>&1 || [ ! -d "$o/trees/t" ]; then
		echo "smoke: clean: make distclean ($*) did not refuse a tree with local changes" >&2
		return 1
	fi
	grep -q 'has local changes' distclean.log || { cat distclean.log >&2; return 1; }
	git -C "$o/trees/t" checkout -q f
	env "$@" make -s distclean || return 1
	[ ! -e "$o" ] || { echo "smoke: clean: make distclean ($*) left $o" >&2; return 1; }
}

# In a subshell: it works in the copy's directory. The caller's
# COWSWAP_OUT is never passed on: make clean there would empty it.
smoke_clean() (
	r=$OUT/results/$RUN_ID-clean/repo
	scratch_repo "$r"
	cd "$r" || return 1
	# out/ of the copy, then COWSWAP_OUT=<elsewhere>, with out/ there too:
	# the targets must act on COWSWAP_OUT and leave out/ alone
	made_up_out out && clean_checks out -u COWSWAP_OUT || return 1
	made_up_out out && made_up_out "$r/elsewhere" && clean_checks "$r/elsewhere" COWSWAP_OUT="$r/elsewhere" ||
		return 1
	if [ ! -d out/build/x86_64-patched ] || [ ! -d out/results/run ] || [ ! -d out/trees/t ]; then
		echo "smoke: clean: make clean/distclean with COWSWAP_OUT=$r/elsewhere touched out/" >&2
		return 1
	fi
	# never the repository or a directory that holds it
	for d in "$r" "$r/.." /; do
		if COWSWAP_OUT=$d make -s distclean >distclean.log 2>&1 || [ ! -f "$r/Makefile" ]; then
			echo "smoke: clean: make distclean with COWSWAP_OUT=$d did not refuse" >&2
			return 1
		fi
		grep -q 'not removing anything there' distclean.log || { cat distclean.log >&2; return 1; }
	done
	rm -rf "$r"
	echo "smoke: clean: make clean kept src and results, make distclean refused a changed tree, then removed out/;" \
		"the same on COWSWAP_OUT, leaving out/ alone; COWSWAP_OUT=the repository, its parent or / refused"
)

smoke_docs() {
	local r=$OUT/results/$RUN_ID-docs/repo row
	scratch_repo "$r"
	# The committed nightly fixture (a failed bench stage) as the nightly
	# block of docs/ci.md.
	make -s -C "$r" snapshot RUN="$TOP/scripts/tests/data/results/fixture-nightly" NAME=nightly \
		COMMAND="smoke docs" || return 1
	make -s -C "$r" docs || return 1
	row="| bench | 2026-12-06T12:50:00Z | 0123456789ab | 1200 | **fail** |"
	grep -qF "$row" "$r/docs/ci.md" || { echo "smoke: docs: docs/ci.md of the copy lacks '$row'" >&2; return 1; }
	rm -rf "$r"
	echo "smoke: docs: make snapshot and make docs put the fixture run into docs/ci.md"
}

mkdir -p "$OUT/results"
failed=
for s in "$@"; do
	case " $STAGES " in
	*" $s "*) ;;
	*) die "unknown stage '$s' (known: $STAGES)" ;;
	esac
done
for s in "$@"; do
	stage "smoke: $s" "smoke_${s//-/_}" || failed="$failed $s"
done
[ -z "$failed" ] || die "short forms that failed:$failed (results: out/results/$RUN_ID-<stage>)"
info "every short form passed: $*"

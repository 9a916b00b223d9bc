#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-tooling.sh [--no-boot | --judge | --lava | --sparse | --distrofix |
# --affected]: feed the scripts bad input and deliberate failures; each
# must end with a clear error line and a non-zero exit, and leave the
# kernel trees as they were. TAP output.
#
# Needs 'make trees'; the boot tests need out/build/x86_64-patched (CI
# builds it; without it they are skipped, and say so).
# --judge runs only the judge's cases on hand-made console logs (no
# kernel build, no QEMU; the trees only for kselftest.h). --lava runs only
# the LAVA job cases (lava-common's schema; no trees, seconds). --sparse
# runs only the sparse comparison's cases (hand-made sparse output).
# --distrofix runs only distro-fix.sh's, distro-deb.sh's and
# distro-guest.sh's refusals (bad records, configs, compilers and QEMU;
# seconds, needs the upstream tree and Debian's i386 package, which it
# fetches once).
# --affected runs only scripts/affected.sh's cases (a stand-in selftest).
. "$(dirname "$0")/lib/lib.sh"

boot=1 only=
case ${1:-} in
--no-boot) boot=0 ;;
--judge) only=judge ;;
--lava) only=lava ;;
--sparse) only=sparse ;;
--distrofix) only=distrofix ;;
--affected) only=affected ;;
"") ;;
*) die "usage: $PROG [--no-boot | --judge | --lava | --sparse | --distrofix | --affected]" ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cowswap-tooling.XXXXXX")
cleanup() {
	git --git-dir="$SRC_GIT" worktree remove --force "$tmp/wt" 2>/dev/null || true
	! mountpoint -q "$tmp/full" 2>/dev/null || umount "$tmp/full"
	git --git-dir="$SRC_GIT" worktree prune 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0 failed=0

# expect_fail <description> <regex for the error line> <command...>
expect_fail() {
	local desc=$1 rx=$2 rc=0 out
	shift 2
	n=$((n + 1))
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -ne 0 ] && grep -qE "$rx" <<<"$out"; then
		echo "ok $n - $desc"
		echo "#   exit $rc: $(echo "$out" | grep -E "$rx" | head -1)"
	else
		echo "not ok $n - $desc (exit $rc, wanted /$rx/)"
		echo "$out" | tail -5 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
}

# check <description> <command...>: a command that must succeed.
# CHECK_SAYS=1 check ...: and show its last line.
check() {
	local desc=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $desc"
		[ "${CHECK_SAYS:-0}" = 0 ] || echo "#   $(echo "$out" | tail -1)"
	else
		echo "not ok $n - $desc"
		echo "$out" | tail -5 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
}

S=$TOP/scripts

# The judge (results.py) on console logs that scripts/tests/console_log.py
# writes as a healthy boot prints them, from the selftest's own list of
# checks (swap_exclusive -l), then damaged with sed: each damage must be
# an error with one line that says what is wrong.
judge_cases() {
	local j=$tmp/judge
	mkdir -p "$j"
	n=$((n + 1))
	if (selftest_names) >"$j/list" 2>"$j/list.err" && [ -s "$j/list" ]; then
		echo "ok $n - judge: the selftest lists its checks ($(wc -l <"$j/list") with no -s)"
	else
		echo "not ok $n - judge: the selftest lists its checks (swap_exclusive -l)"
		sed 's/^/#   /' "$j/list.err"
		failed=$((failed + 1))
		return
	fi
	# Every MAY_SKIP glob of every record names checks the selftest has
	# (or the boot-time debug_vm_pgtable): a glob left behind by a
	# renamed or removed check would allow nothing, and hide that.
	stale_globs() {
		local a line glob name hit bad=
		local -a names
		mapfile -t names <"$j/list"
		names+=(debug_vm_pgtable)
		for a in $(ARCHS_ALL); do
			while IFS= read -r line; do
				[ -n "$line" ] || continue
				glob=${line%% *} hit=
				for name in "${names[@]}"; do
					# shellcheck disable=SC2053
					[[ $name == $glob ]] && { hit=1; break; }
				done
				[ -n "$hit" ] || bad="$bad $a:$glob"
			done <<<"$(arch_field "$a" MAY_SKIP)"
		done
		[ -z "$bad" ] || { echo "MAY_SKIP globs that match no check:$bad"; return 1; }
	}
	check "judge: every record's MAY_SKIP glob matches a check of swap_exclusive -l" stale_globs
	# results.py compare: two hand-made runs of one guest; a check that
	# differs and a guest in one run only are named, and fail.
	local c=$j/compare
	mkdir -p "$c/a/g1" "$c/b/g1" "$c/c/g1" "$c/d/g1" "$c/d/g2"
	printf '%s\n' '{"outcome": "pass", "seconds": 40, "tests": [{"name": "ksm/fault", "result": "PASS"}, {"name": "race_read_write/zram", "result": "PASS"}]}' >"$c/a/g1/result.json"
	cp "$c/a/g1/result.json" "$c/b/g1/result.json"
	sed 's/"race_read_write\/zram", "result": "PASS"/"race_read_write\/zram", "result": "FAIL"/' "$c/a/g1/result.json" >"$c/c/g1/result.json"
	cp "$c/a/g1/result.json" "$c/d/g1/result.json"
	cp "$c/a/g1/result.json" "$c/d/g2/result.json"
	CHECK_SAYS=1 check "compare: two runs with the same results" python3 "$S/results.py" compare "$c/a" "$c/b"
	expect_fail "compare: a check that differs is named" "1 of 2 differ: race_read_write/zram: PASS vs FAIL" \
		python3 "$S/results.py" compare "$c/a" "$c/c"
	expect_fail "compare: a guest in one run only" "\| g2 \| missing \| PASS \| guest in one run only" \
		python3 "$S/results.py" compare "$c/a" "$c/d"
	# fake <arch> <variant> <log> [list [console_log.py options]]: a
	# healthy boot's console.
	fake() {
		python3 "$S/tests/console_log.py" --arch "$1" --variant "$2" --list "${4:-$j/list}" \
			--may-skip "$(arch_field "$1" RECORD_MAY_SKIP)" --table "$TOP/configs/expect/baseline" \
			"${@:5}" >"$3"
	}
	# judge_log <arch> <variant> <expect> <log> [results.py options]
	judge_log() {
		local a=$1 v=$2 e=$3 log=$4
		shift 4
		python3 "$S/results.py" judge --arch "$a" --variant "$v" --expect "$e" \
			--log "$log" --json "${log%.log}.json" "$@"
	}
	# judge_says <regex> <judge_log arguments>: as expected, and says regex.
	judge_says() {
		local rx=$1 out
		shift
		if out=$(judge_log "$@") && grep -qE -- "$rx" <<<"$out"; then
			return 0
		fi
		echo "$out"
		return 1
	}
	fake x86_64 patched "$j/x86_64-patched.log"
	fake arm64 patched "$j/arm64-patched.log"
	fake x86_64 baseline "$j/x86_64-baseline.log"
	fake s390x baseline "$j/s390x-baseline.log"
	check "judge: x86_64 patched, every check ok, passes" \
		judge_says "PASS \(as expected\).*: [0-9]+ pass, 0 fail, 0 skip" x86_64 patched pass "$j/x86_64-patched.log"
	check "judge: arm64 patched with its declared SKIPs (soft-dirty, uffd-wp) passes" \
		judge_says "PASS \(as expected\).*, 0 fail, ([1-9][0-9]*) skip \(\1 allowed\)" arm64 patched pass "$j/arm64-patched.log"
	check "judge: x86_64 baseline reproduces" \
		judge_says "REPRODUCED \(as expected\).*, 0 skip" x86_64 baseline reproduced "$j/x86_64-baseline.log"
	check "judge: s390x baseline with its declared SKIPs (uffd-wp) reproduces" \
		judge_says "REPRODUCED \(as expected\).* ([1-9][0-9]*) skip \(\1 allowed\)" s390x baseline reproduced "$j/s390x-baseline.log"

	sed -E 's/^(not )?ok ([0-9]+) ([^ #]+)$/ok \2 # SKIP \3: needs root/; s/exit=[01]$/exit=4/' \
		"$j/x86_64-patched.log" >"$j/all-skip.log"
	expect_fail "judge: a selftest run that SKIPs everything" \
		"problem: swap_exclusive: all [0-9]+ checks SKIPped, nothing was tested" \
		judge_log x86_64 patched pass "$j/all-skip.log"
	awk '/^1\.\./ { print "1..10"; next } /^(not )?ok / && ++t > 10 { next } { print }' \
		"$j/x86_64-patched.log" >"$j/short.log"
	expect_fail "judge: a TAP plan shorter than the selftest's list" \
		"problem: swap_exclusive: TAP plan 1\.\.10, but .swap_exclusive -l. lists [0-9]+ checks" \
		judge_log x86_64 patched pass "$j/short.log"
	sed -E 's|^ok ([0-9]+) ksm/zram$|ok \1 # SKIP ksm/zram: KSM did not merge the pages in 20 s|' \
		"$j/x86_64-patched.log" >"$j/skip.log"
	expect_fail "judge: a SKIP the architecture record does not declare" \
		"problem: swap_exclusive: ksm/zram SKIPped, which configs/arch/x86_64.conf does not allow" \
		judge_log x86_64 patched pass "$j/skip.log"
	expect_fail "judge: uffd_wp SKIPs on x86_64, where only arm64/s390x/ppc64 may" \
		"problem: swap_exclusive: uffd_wp/fault SKIPped, which configs/arch/x86_64.conf" \
		judge_log x86_64 patched pass "$j/arm64-patched.log"
	sed -E 's|^ok ([0-9]+) ksm/fault$|ok \1 reuse_pfn/fault|' "$j/x86_64-patched.log" >"$j/dup.log"
	expect_fail "judge: a check reported twice, another never" \
		"never reported: ksm/fault; reported twice: reuse_pfn/fault" \
		judge_log x86_64 patched pass "$j/dup.log"
	sed -E 's|^ok ([0-9]+) (fork_after_swapout_parent_first/fault)$|# \2: a write leaked between parent and child\nnot ok \1 \2|; s/exit=0$/exit=1/' \
		"$j/x86_64-patched.log" >"$j/fork.log"
	expect_fail "judge: a baseline whose only failure is a fork check" \
		"problem: baseline: fork_after_swapout_parent_first/fault failed, which the pre-fix kernel must pass" \
		judge_log x86_64 baseline reproduced "$j/fork.log"
	sed -E 's|^ok ([0-9]+) (ksm_write/zram)$|# \2: the KSM page was written in place\nnot ok \1 \2|' \
		"$j/x86_64-baseline.log" >"$j/baseline-ksm.log"
	expect_fail "judge: a baseline that also fails a check the pre-fix kernel passes" \
		"problem: baseline: ksm_write/zram failed, which the pre-fix kernel must pass" \
		judge_log x86_64 baseline reproduced "$j/baseline-ksm.log"
	grep -v '^# odirect_inflight/.*iterations lost the O_DIRECT data' "$j/x86_64-baseline.log" \
		>"$j/no-loss.log"
	expect_fail "judge: odirect_inflight failing without the lost-data line is no reproduction" \
		"failed: odirect_inflight/fault \(not the reproduction" \
		judge_log x86_64 upstream reproduced "$j/no-loss.log"
	expect_fail "judge: a baseline whose odirect_inflight did not lose the read data" \
		"problem: baseline: odirect_inflight/fault failed, but not by losing the read data" \
		judge_log x86_64 baseline reproduced "$j/no-loss.log"
	sed -E '/^# odirect_racy\/[a-z]+: 1 of/d; s|^not ok ([0-9]+) (odirect_racy/[a-z]+)$|ok \1 # SKIP \2: no iteration hit the race window|' \
		"$j/x86_64-baseline.log" >"$j/racy-skip.log"
	check "judge: a baseline whose odirect_racy never hit the window (SKIP) still reproduces" \
		judge_says "REPRODUCED \(as expected\).* ([1-9][0-9]*) skip \(\1 allowed\)" x86_64 baseline reproduced "$j/racy-skip.log"
	sed '/^ok 8 /i [   17.402311] _swap_info_get: Bad swap file entry 3ffffffffffff' \
		"$j/x86_64-patched.log" >"$j/bad-entry.log"
	expect_fail "judge: 'Bad swap file entry' on the console" \
		"problem: bad swap entry: _swap_info_get: Bad swap file entry" \
		judge_log x86_64 patched pass "$j/bad-entry.log"
	sed '/^ok 8 /i [   17.402311] BUG: Bad rss-counter state mm:000000003b9e7f2c type:MM_SWAPENTS val:-1' \
		"$j/x86_64-patched.log" >"$j/rss.log"
	expect_fail "judge: 'Bad rss-counter state' on the console" \
		"problem: bad mm counters: BUG: Bad rss-counter state" \
		judge_log x86_64 patched pass "$j/rss.log"
	# A mutant boot runs a selection (-s): its own list is the reference.
	(selftest_names -s ksm) >"$j/ksm.list"
	fake x86_64 patched "$j/ksm.log" "$j/ksm.list"
	sed -E 's|^ok ([0-9]+) (ksm_write/fault)$|# \2: the KSM page was written in place\nnot ok \1 \2|; s/exit=0$/exit=1/' \
		"$j/ksm.log" >"$j/mutant.log"
	check "judge: a mutant boot restricted with -s is judged by 'swap_exclusive -l -s ksm'" \
		judge_says "FAIL \(as expected, caught: ksm_write/fault\)" x86_64 mutant-ksm fail "$j/mutant.log" \
		--must-fail ksm_write/fault --selftest-args "-s ksm"
	expect_fail "judge: the same boot judged against the full list" \
		"TAP plan 1\.\.[0-9]+, but .swap_exclusive -l. lists [0-9]+ checks" \
		judge_log x86_64 mutant-ksm fail "$j/mutant.log" --must-fail ksm_write/fault

	# The selftest run by the kernel's run_kselftest.sh (KSFT_RUNNER=1):
	# its TAP nested in the runner's, judged by the same rules.
	local ksft=(--runner kselftest --disks none)
	fake x86_64 patched "$j/ksft-patched.log" "$j/list" --runner kselftest
	fake x86_64 baseline "$j/ksft-baseline.log" "$j/list" --runner kselftest
	check "judge: x86_64 patched through run_kselftest.sh passes, named @none+ksft" \
		judge_says "^x86_64/patched@none\+ksft: PASS \(as expected\).*: [0-9]+ pass, 0 fail, 0 skip" \
		x86_64 patched pass "$j/ksft-patched.log" "${ksft[@]}"
	check "judge: x86_64 baseline through run_kselftest.sh reproduces" \
		judge_says "REPRODUCED \(as expected\).*, 0 skip" x86_64 baseline reproduced "$j/ksft-baseline.log" "${ksft[@]}"
	sed -E 's/^not ok 1 (selftests: .*) # exit=1$/ok 1 \1/' "$j/ksft-baseline.log" >"$j/ksft-disagree.log"
	expect_fail "judge: the runner's 'ok' line over a selftest whose checks failed" \
		"problem: swap_exclusive: the kselftest runner says 'ok 1 selftests: swap_exclusive: swap_exclusive', but [0-9]+ TAP line\(s\) failed" \
		judge_log x86_64 baseline reproduced "$j/ksft-disagree.log" "${ksft[@]}"
	sed -E 's/^ok 1 (selftests: .*)$/not ok 1 \1 # exit=139/' "$j/ksft-patched.log" >"$j/ksft-crash.log"
	expect_fail "judge: the runner reports the selftest killed by a signal (exit=139)" \
		"problem: swap_exclusive: exited with 139 \(crash or setup failure\)" \
		judge_log x86_64 patched pass "$j/ksft-crash.log" "${ksft[@]}"
	# what a guest without /dev/stdout shows: the runner wrote the test's
	# lines into a file of that name, the console has only its own
	sed '/^# selftests: /!{/^# /d}' "$j/ksft-patched.log" >"$j/ksft-lost.log"
	expect_fail "judge: the runner's 'ok' line alone, the test's TAP lost" \
		"problem: swap_exclusive: no TAP plan line" \
		judge_log x86_64 patched pass "$j/ksft-lost.log" "${ksft[@]}"
	grep -v '^# # odirect_inflight/.*iterations lost the O_DIRECT data' "$j/ksft-baseline.log" \
		>"$j/ksft-no-loss.log"
	expect_fail "judge: through the runner, odirect_inflight failing without the lost-data line" \
		"problem: baseline: odirect_inflight/fault failed, but not by losing the read data" \
		judge_log x86_64 baseline reproduced "$j/ksft-no-loss.log" "${ksft[@]}"
	sed -E 's|^# ok ([0-9]+) ksm/zram$|# ok \1 # SKIP ksm/zram: KSM did not merge the pages in 20 s|' \
		"$j/ksft-patched.log" >"$j/ksft-skip.log"
	expect_fail "judge: through the runner, a SKIP the architecture record does not declare" \
		"problem: swap_exclusive: ksm/zram SKIPped, which configs/arch/x86_64.conf does not allow" \
		judge_log x86_64 patched pass "$j/ksft-skip.log" "${ksft[@]}"
	expect_fail "judge: a runner's log judged as if /init had run the binary itself" \
		"problem: swap_exclusive: TAP plan 1\.\.1, but .swap_exclusive -l. lists [0-9]+ checks" \
		judge_log x86_64 patched pass "$j/ksft-patched.log"
	# KSFT_RUNNER=tree: the same runner, the test from the kernel tree's
	# vm collection; only the runner's name for it differs.
	sed 's/selftests: swap_exclusive: swap_exclusive/selftests: vm: swap_exclusive/' \
		"$j/ksft-patched.log" >"$j/ksft-tree-patched.log"
	check "judge: x86_64 patched, the kernel tree's vm:swap_exclusive, passes, named @none+ksft-tree" \
		judge_says "^x86_64/patched@none\+ksft-tree: PASS \(as expected\).*: [0-9]+ pass, 0 fail, 0 skip" \
		x86_64 patched pass "$j/ksft-tree-patched.log" --runner kselftest-tree --disks none
	expect_fail "judge: a +ksft log judged as the tree's (the runner names another collection)" \
		"problem: swap_exclusive: the kselftest runner reported 'selftests: swap_exclusive: swap_exclusive', not 'selftests: vm: swap_exclusive'" \
		judge_log x86_64 patched pass "$j/ksft-patched.log" --runner kselftest-tree --disks none
}

# The LAVA jobs (scripts/lava-jobs.py): every job generated from the
# records passes LAVA's own schema (Debian's lava-common), copies damaged
# with sed are rejected with the schema's message, and a console log fed
# to a job's monitor gives one LAVA result per TAP line.
lava_cases() {
	local l=$tmp/lava want=0 a v
	mkdir -p "$l"
	for a in $(ARCHS_ALL); do
		for v in $(arch_variants "$a"); do want=$((want + 1)); done
	done
	# lava_jobs_valid: as many jobs as records x variants, each valid
	lava_jobs_valid() {
		"$S/lava-jobs.py" generate --out "$l/jobs" || return
		[ "$(find "$l/jobs" -name '*.yaml' | wc -l)" = "$want" ] ||
			{ echo "wrote $(find "$l/jobs" -name '*.yaml' | wc -l) jobs, want $want"; return 1; }
		"$S/lava-jobs.py" validate "$l"/jobs/*.yaml
	}
	CHECK_SAYS=1 check "lava: one job per record x variant ($want), each valid for LAVA's schema" lava_jobs_valid
	sed 's/^    to: tmpfs$/&\n    cowswap_bogus: 1/' "$l/jobs/x86_64-patched.yaml" >"$l/unknown-key.yaml"
	expect_fail "lava: a deploy action with a key LAVA does not know is rejected" \
		"unknown-key\.yaml: Invalid: extra keys not allowed @ data\['actions\[0\]'\]\['deploy'\]\['tmpfs'\]\['cowswap_bogus'\]" \
		"$S/lava-jobs.py" validate "$l/unknown-key.yaml"
	sed '/^    to: tmpfs$/d' "$l/jobs/x86_64-patched.yaml" >"$l/no-to.yaml"
	expect_fail "lava: a deploy action without 'to' is rejected" \
		"no-to\.yaml: Invalid: unknown action type @ data\['actions'\]\['deploy'\]\[''\]" \
		"$S/lava-jobs.py" validate "$l/no-to.yaml"
	# the monitor on a baseline console with failures and SKIPs
	printf '%s\n' odirect_inflight/fault odirect_inflight/zram softdirty/fault uffd_wp/fault \
		ksm/zram fork_after_swapout_parent_first/fault >"$l/list"
	python3 "$S/tests/console_log.py" --arch arm64 --variant baseline --list "$l/list" \
		--may-skip "$(arch_field arm64 RECORD_MAY_SKIP)" --table "$TOP/configs/expect/baseline" \
		>"$l/console.log"
	# lava_replay: LAVA's results as many as the log's TAP lines, by kind
	lava_replay() {
		local p f k out
		p=$(grep -cE '^ok [0-9]+ [^#]' "$l/console.log")
		f=$(grep -cE '^not ok [0-9]+ ' "$l/console.log")
		k=$(grep -cE '^ok [0-9]+ # SKIP ' "$l/console.log")
		out=$("$S/lava-jobs.py" replay "$l/jobs/arm64-baseline.yaml" "$l/console.log") || return
		echo "$out"
		[ $((p * f * k)) -gt 0 ] &&
			[ "$(echo "$out" | tail -1)" = "lava-jobs.py: replay: $p pass, $f fail, $k skip, 0 unknown" ]
	}
	CHECK_SAYS=1 check "lava: the monitor's pattern gives one result per TAP line (ok, not ok, SKIP)" lava_replay
	# lava_names <job> <chunk>: the check names the monitor records when
	# the serial line arrives <chunk> characters at a time are the TAP
	# lines' names, none cut short
	sed -nE 's/^(not )?ok [0-9]+ (# SKIP )?([^ :#]+).*/\3/p' "$l/console.log" |
		sed 's/[^A-Za-z0-9_]\{1,\}/_/g' | tr 'A-Z' 'a-z' >"$l/names"
	lava_names() {
		"$S/lava-jobs.py" replay --chunk "$2" "$1" "$l/console.log" | sed '$d' | awk '{print $2}' >"$l/got" &&
			diff -u "$l/names" "$l/got"
	}
	for v in 1 7 100000; do
		check "lava: the monitor records whole check names, $v characters per read" \
			lava_names "$l/jobs/arm64-baseline.yaml" $v
	done
	# without the lookahead after the name, a read that ends inside a
	# name records a cut one (what the first lava-run showed)
	sed 's/(?=\[\\s:#\])'"'"'$/'"'"'/' "$l/jobs/arm64-baseline.yaml" >"$l/no-lookahead.yaml"
	expect_fail "lava: a pattern that does not wait for the end of the name cuts names" \
		"^\+[a-z0-9_]+$" lava_names "$l/no-lookahead.yaml" 7
	# lava-jobs.py log on a hand-made lava-run log: the console (target
	# and feedback lines), the monitor's results, the job's result
	{
		echo '{"dt": "t", "lvl": "info", "msg": "start: 0 validate"}'
		echo '{"dt": "t", "lvl": "target", "msg": "COWSWAP-BEGIN swap_exclusive"}'
		echo '{"dt": "t", "lvl": "target", "msg": "ok 1 odirect_inflight/fault"}'
		echo '{"dt": "t", "lvl": "results", "msg": {"case": "odirect_inflight_fault", "definition": "cowswap-swap_exclusive", "result": "pass"}}'
		echo '{"dt": "t", "lvl": "target", "msg": "not ok 2 odirect_inflight/zram"}'
		echo '{"dt": "t", "lvl": "results", "msg": {"case": "odirect_inflight_zram", "definition": "cowswap-swap_exclusive", "result": "fail"}}'
		echo '{"dt": "t", "lvl": "results", "msg": {"case": "file-download", "size": ! "1"}}'
		echo '{"dt": "t", "lvl": "feedback", "msg": "COWSWAP-DONE", "ns": "common"}'
		echo '{"dt": "t", "lvl": "results", "msg": {"case": "job", "definition": "lava", "result": "pass"}}'
	} >"$l/lava-run.log"
	lava_log() {
		"$S/lava-jobs.py" log "$l/jobs/arm64-baseline.yaml" "$l/lava-run.log" "$l/lava-console.log" &&
			[ "$(grep -c . "$l/lava-console.log")" = 4 ] && tail -1 "$l/lava-console.log" | grep -qx COWSWAP-DONE
	}
	CHECK_SAYS=1 check "lava: a lava-run log gives its console and the monitor's results" lava_log
	sed 's/"case": "job", "definition": "lava", "result": "pass"/"case": "job", "definition": "lava", "result": "fail", "error_msg": "boot timed out"/' \
		"$l/lava-run.log" >"$l/lava-run-fail.log"
	# lava-jobs.py match: LAVA's results against the judge's result.json
	printf '%s\n' '{"tests": [{"binary": "swap_exclusive", "name": "odirect_inflight/fault", "result": "PASS"},' \
		'{"binary": "swap_exclusive", "name": "odirect_inflight/zram", "result": "FAIL"},' \
		'{"binary": "kernel", "name": "debug_vm_pgtable", "result": "PASS"}]}' >"$l/result.json"
	CHECK_SAYS=1 check "lava: LAVA's results equal the judged TAP lines" \
		"$S/lava-jobs.py" match "$l/jobs/arm64-baseline.yaml" "$l/lava-run.log" "$l/result.json"
	sed 's/"FAIL"/"PASS"/' "$l/result.json" >"$l/result-pass.json"
	expect_fail "lava: a check LAVA recorded otherwise than the judge fails, named" \
		"odirect_inflight_zram: LAVA fail, TAP pass" \
		"$S/lava-jobs.py" match "$l/jobs/arm64-baseline.yaml" "$l/lava-run.log" "$l/result-pass.json"
	expect_fail "lava: a lava-run job that did not complete fails, with LAVA's error" \
		"LAVA: boot timed out" \
		"$S/lava-jobs.py" log "$l/jobs/arm64-baseline.yaml" "$l/lava-run-fail.log" "$l/lava-console.log"
}
# The sparse comparison (sparse-check.sh --compare) on hand-made sparse
# output: the same warnings on other lines (the series moved code) pass,
# a warning the base does not have, or has fewer times, fails naming it.
sparse_cases() {
	local s=$tmp/sparse
	mkdir -p "$s"
	cat >"$s/base.log" <<'LOG'
  CHECK   /work/main/out/trees/baseline/mm/memory.c
./include/linux/pgtable.h:100:20: warning: context imbalance in 'foo' - unexpected unlock
mm/memory.c:1200:9: warning: incorrect type in argument 1 (different address spaces)
mm/memory.c:1200:9:    expected void *
mm/memory.c:1200:9:    got void [noderef] __user *p
mm/swapfile.c: note: in included file (through include/linux/swapops.h):
mm/swapfile.c:30:1: warning: symbol 'bar' was not declared. Should it be static?
LOG
	# the same warnings further down, one gone
	sed -e 's/:100:20:/:132:20:/; s/:1200:9:/:1290:9:/' -e '/bar/d' "$s/base.log" >"$s/moved.log"
	CHECK_SAYS=1 check "sparse: the same warnings on other lines, one fewer, pass" \
		"$S/sparse-check.sh" --compare "$s/base.log" "$s/moved.log"
	# a new warning with its continuation lines
	{
		cat "$s/moved.log"
		echo "mm/memory.c:1400:9: warning: incorrect type in argument 1 (different address spaces)"
		echo "mm/memory.c:1400:9:    expected void *"
		echo "mm/memory.c:1400:9:    got void [noderef] __user *q"
	} >"$s/new.log"
	expect_fail "sparse: a new warning in the patched tree fails, named with its continuation" \
		"^NEW: mm/memory\.c: warning: incorrect type in argument 1 \(different address spaces\) \| expected void \* \| got void \[noderef\] __user \*q$" \
		"$S/sparse-check.sh" --compare "$s/base.log" "$s/new.log"
	expect_fail "sparse: the failure ends in one error line with the counts" \
		"error: the patched side has new sparse warnings \(3 in base, 3 in patched, 1 new, 1 gone\)" \
		"$S/sparse-check.sh" --compare "$s/base.log" "$s/new.log"
	# a warning the base has once, twice in the patched tree
	sed '/:100:20:/p' "$s/base.log" >"$s/twice.log"
	expect_fail "sparse: a base warning reported once more in the patched tree fails" \
		"^NEW: include/linux/pgtable\.h: warning: context imbalance in 'foo' - unexpected unlock$" \
		"$S/sparse-check.sh" --compare "$s/base.log" "$s/twice.log"
	expect_fail "sparse: a log that does not exist" "error: cannot read '$s/missing.log'" \
		"$S/sparse-check.sh" --compare "$s/base.log" "$s/missing.log"
}
# distro-fix.sh refuses what would not give Debian's kernel, with one
# line that names the fix, before it writes a config or starts a build.
# A private copy of scripts/ and configs/ holds the records it needs
# broken; out/ stays the real one (COWSWAP_OUT) for the trees.
distrofix_cases() {
	local f=$tmp/distrofix top=$tmp/distrofix/top cfg
	mkdir -p "$top"
	cp -r "$TOP/scripts" "$TOP/configs" "$top/"
	export COWSWAP_OUT=$OUT
	expect_fail "distro-fix: an unknown record (flavour)" \
		"unknown distribution record 'no-such-flavour' \(known: .*i386" \
		"$S/distro-fix.sh" --config-only no-such-flavour
	sed 's/^CROSS_COMPILE=.*/CROSS_COMPILE=no-such-linux-gnu-/' "$TOP/configs/distro/i386.conf" \
		>"$top/configs/distro/nocc.conf"
	expect_fail "distro-fix: a missing cross compiler" \
		"nocc: cross compiler no-such-linux-gnu-gcc not found \(scripts/deps.sh --distro installs it\)" \
		"$top/scripts/distro-fix.sh" --config-only nocc
	sed 's/^DEBIAN_ARCH=.*/DEBIAN_ARCH=hurd-i386/' "$TOP/configs/distro/i386.conf" \
		>"$top/configs/distro/hurd.conf"
	expect_fail "distro-fix: a Debian architecture with no kernel ARCH" \
		"hurd: no kernel ARCH known for Debian architecture hurd-i386" \
		"$top/scripts/distro-fix.sh" --config-only hurd
	# Debian's own config, edited to claim a 6.1 version Debian has no
	# source of (another one would be imported and built from its own
	# trees) or another architecture: refused before anything is written
	# (the machine's apt lists say which versions there are: no download).
	"$S/distro-fetch.sh" i386 >"$f/fetch.log" 2>&1 || { cat "$f/fetch.log"; die "cannot fetch Debian's i386 package"; }
	cfg=$(ls "$OUT"/distro/i386/root/boot/config-*)
	sed '3s/ 6\.1\.[0-9]* / 6.1.999 /' "$cfg" >"$f/old.config"
	expect_fail "distro-fix: a Debian config of a 6.1 version Debian has no source of" \
		"i386: Debian's config is for Linux 6\.1\.999, and Debian has no linux-source-6\.1 of it \(apt-cache madison linux-source-6\.1: [^)]*\); use DEBIAN_CONFIG=" \
		env DEBIAN_CONFIG="$f/old.config" RUN_ID=tooling-distrofix "$S/distro-fix.sh" --config-only i386
	expect_fail "get-source: a Debian version that is not one of linux-source-6.1" \
		"'6\.1\.x' is not a Debian version of linux-source-6\.1" \
		"$S/get-source.sh" 6.1 6.1.x
	expect_fail "mktrees: the trees of a point release that is not imported" \
		"distro-6\.1\.999/fixed: base cowswap/debian-6\.1\.999 does not exist .*get-source\.sh 6\.1 <Debian version of 6\.1\.N>" \
		"$S/mktrees.sh" distro-6.1.999/fixed
	sed '3s/Linux\/x86/Linux\/arm/' "$cfg" >"$f/arm.config"
	expect_fail "distro-fix: a config of another architecture" \
		"i386: .* is a Linux/arm config, the record needs Linux/x86" \
		env DEBIAN_CONFIG="$f/arm.config" RUN_ID=tooling-distrofix "$S/distro-fix.sh" --config-only i386
	expect_fail "distro-fix: an unknown variant" "DISTROFIX_VARIANTS: unknown variant 'patched'" \
		env DISTROFIX_VARIANTS="stock patched" "$S/distro-fix.sh" i386
	# distro-deb.sh: the same checks, and its own input.
	expect_fail "distro-deb: a missing cross compiler" \
		"nocc: cross compiler no-such-linux-gnu-gcc not found" \
		"$top/scripts/distro-deb.sh" --config-only nocc
	expect_fail "distro-deb: a Debian config of a 6.1 version Debian has no source of" \
		"i386: Debian's config is for Linux 6\.1\.999, and Debian has no linux-source-6\.1 of it" \
		env DEBIAN_CONFIG="$f/old.config" "$S/distro-deb.sh" --config-only i386
	echo "virtio_blk 20480 0" >"$f/lsmod-headless"
	expect_fail "distro-deb: LSMOD that is not lsmod output" \
		"LSMOD=.*lsmod-headless is not lsmod output \(its first line must be 'Module Size Used by'\)" \
		env LSMOD="$f/lsmod-headless" "$S/distro-deb.sh" --config-only i386
	expect_fail "distro-deb: LSMOD that does not exist" "LSMOD=$f/none does not exist" \
		env LSMOD="$f/none" "$S/distro-deb.sh" --config-only i386
	expect_fail "distro-deb: an unknown variant" "DEB_VARIANT=patched: expected fixed .* or stock" \
		env DEB_VARIANT=patched "$S/distro-deb.sh" --config-only i386
	# distro-guest.sh: what it cannot boot is refused before debootstrap
	# writes anything.
	expect_fail "distro-guest: an unknown record" \
		"unknown distribution record 'no-such-flavour' \(known: .*armhf" \
		"$S/distro-guest.sh" no-such-flavour lsmod
	expect_fail "distro-guest: a foreign record whose machine has no virtio disk" \
		"armel-rpi: armel programs run here only in a QEMU guest, and the record's machine \(raspi0\) has no virtio disk to hold the root \(DISK_DEVICE is empty\); give the record a QEMU machine with one" \
		"$S/distro-guest.sh" armel-rpi lsmod
	sed 's/^QEMU=.*/QEMU=qemu-system-nosuch/' "$TOP/configs/distro/armhf.conf" >"$top/configs/distro/noqemu.conf"
	expect_fail "distro-guest: a missing QEMU" \
		"noqemu: qemu-system-nosuch not found \(scripts/deps.sh --distro installs it\)" \
		"$top/scripts/distro-guest.sh" noqemu lsmod
	sed 's/^USER_CC=.*/USER_CC=no-such-linux-gnueabihf-gcc/' "$TOP/configs/distro/armhf.conf" >"$top/configs/distro/nouser.conf"
	expect_fail "distro-guest: a foreign record without the compiler of the guest's /init" \
		"nouser: no-such-linux-gnueabihf-gcc not found, which builds the guest's static /init \(scripts/deps.sh --distro installs it\)" \
		"$top/scripts/distro-guest.sh" nouser lsmod
	sed 's/^DISK_DEVICE=.*/DISK_DEVICE=virtio-blk-isa/' "$TOP/configs/distro/armhf.conf" >"$top/configs/distro/nodisk.conf"
	expect_fail "distro-guest: a foreign record with a disk of no known virtio transport" \
		"nodisk: DISK_DEVICE=virtio-blk-isa: no virtio transport known for it" \
		"$top/scripts/distro-guest.sh" nodisk lsmod
	rm -rf "$OUT/results/tooling-distrofix"
}

# affected.sh's judgement and its refusals, with a stand-in selftest (a
# script that lists the names it is asked for and prints canned TAP) and
# a kernel config of our own (AFFECTED_KCONFIG), so nothing is loaded or
# swapped: the verdict line for each kind of output, and the cases it
# must not call "affected" or "not affected". Needs root (as CI runs);
# without it only the refusal is tested.
affected_cases() {
	local a=$tmp/affected
	mkdir -p "$a"
	printf 'CONFIG_SWAP=y\nCONFIG_BLK_DEV_NULL_BLK=y\nCONFIG_CONFIGFS_FS=y\nCONFIG_BLK_DEV_DM=y\nCONFIG_DM_DELAY=y\nCONFIG_ZRAM=y\n' >"$a/config"
	cat >"$a/fake" <<'EOF'
#!/bin/sh
# stand-in for swap_exclusive: -l lists the selected names, else $FAKE_TAP
if [ "$1" = -l ]; then
	shift
	for a in "$@"; do case $a in -s) ;; odirect_inflight/*) echo "$a" ;; esac; done
	exit 0
fi
cat "$FAKE_TAP"
EOF
	chmod +x "$a/fake"
	chmod a+rx "$tmp" "$a" # for the run as nobody
	expect_fail "affected: not root is 'cannot tell: root'" '^verdict: cannot tell: root ' \
		setpriv --reuid=65534 --regid=65534 --clear-groups env AFFECTED_KCONFIG="$a/config" \
		"$S/affected.sh" -y --binary "$a/fake"
	if [ "$(id -u)" != 0 ]; then
		echo "# affected: the verdict cases need root; skipped"
		return 0
	fi
	sed '/CONFIG_DM_DELAY/d' "$a/config" >"$a/config-nodelay"
	expect_fail "affected: a kernel without dm-delay is 'cannot tell' naming CONFIG_DM_DELAY" \
		'^verdict: cannot tell: CONFIG_DM_DELAY \(not set in this kernel\)' \
		env AFFECTED_KCONFIG="$a/config-nodelay" "$S/affected.sh" -y --binary "$a/fake"
	# fake_tap <name> <lines...>
	fake_tap() {
		local f=$a/$1.tap
		shift
		printf '%s\n' "TAP version 13" "$@" >"$f"
	}
	run_fake() {
		env AFFECTED_KCONFIG="$a/config" FAKE_TAP="$a/$1.tap" "$S/affected.sh" -y --binary "$a/fake"
	}
	fake_tap lost "# 0 of 8 iterations lost data; 8 raced (x), 0 not swapped" "ok 1 odirect_inflight/zram" \
		"# 6 of 8 iterations lost data; 8 raced (x), 0 not swapped" \
		"# odirect_inflight/stable: 6 of 8 iterations lost the O_DIRECT data" "not ok 2 odirect_inflight/stable"
	expect_fail "affected: data lost on one setup is 'affected', with the evidence" \
		'^verdict: affected \(kernel .*: odirect_inflight/stable: 6 of 8 iterations lost the O_DIRECT data\)$' run_fake lost
	fake_tap kept "# 0 of 8 iterations lost data; 8 raced (x), 0 not swapped" "ok 1 odirect_inflight/zram" \
		"# 0 of 8 iterations lost data; 5 raced (x), 3 not swapped" "ok 2 odirect_inflight/stable" \
		"ok 3 # SKIP odirect_inflight/thp_pte: no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)"
	# exit 0 and the line
	kept() {
		run_fake kept | grep -x 'verdict: not affected (kernel .*: 2 of [0-9]* checks ran and passed, 13 of 16 iterations had the page swapped out with the read in flight, 0 lost data: odirect_inflight/zram odirect_inflight/stable)'
	}
	CHECK_SAYS=1 check "affected: checks that ran and kept the data are 'not affected'" kept
	fake_tap skipped "ok 1 # SKIP odirect_inflight/zram: zram not available (CONFIG_ZRAM)" \
		"ok 2 # SKIP odirect_inflight/stable: never swapped out while the read was in flight (is /dev/x throttled?)"
	expect_fail "affected: only SKIPs are 'cannot tell' with their reasons" \
		'^verdict: cannot tell: never swapped out while the read was in flight .*; zram not available \(CONFIG_ZRAM\)' \
		run_fake skipped
	fake_tap failed "# odirect_inflight/zram: short O_DIRECT read: 0 bytes" "not ok 1 odirect_inflight/zram"
	expect_fail "affected: a failure without lost data is 'cannot tell', not 'affected'" \
		'^verdict: cannot tell: a check failed without losing data: not ok 1 odirect_inflight/zram' run_fake failed
	fake_tap silent
	expect_fail "affected: no TAP at all is 'cannot tell'" '^verdict: cannot tell: the selftest printed no result' \
		run_fake silent
}

if [ "$only" = judge ] || [ "$only" = lava ] || [ "$only" = sparse ] || [ "$only" = distrofix ] ||
	[ "$only" = affected ]; then
	"${only}_cases"
	echo "1..$n"
	[ $failed = 0 ] || die "$failed of $n $only tests failed"
	info "all $n $only tests passed"
	exit 0
fi

tree_state() {
	git -C "$1" rev-parse HEAD
	git -C "$1" status --porcelain
	ls -a "$1" | grep -c '^\.pc$' || true
}

# A scratch worktree of the upstream kernel to damage freely: what
# apply-series.sh reads and patches/baseline touches is enough.
mapfile -t baseline_patches < <(series_patches "$TOP/patches/baseline")
mapfile -t baseline_paths < <(patch_paths "${baseline_patches[@]}")
scratch_worktree "$tmp/wt" cowswap/upstream Makefile mm/memory.c "${baseline_paths[@]}"
wt=$tmp/wt

# Kernel source selection.
expect_fail "KDIR that does not exist" "KDIR=.* does not exist" \
	env KDIR=/nonexistent "$S/get-source.sh"
mkdir -p "$tmp/old/mm" "$tmp/old/arch/x86"
printf 'VERSION = 5\nPATCHLEVEL = 15\nSUBLEVEL = 0\n' >"$tmp/old/Makefile"
touch "$tmp/old/mm/memory.c"
expect_fail "KDIR with a 5.15 tree" "is Linux 5.15, but cowswap needs a 6.1.y tree" \
	env KDIR="$tmp/old" COWSWAP_OUT="$tmp/out" "$S/get-source.sh"
expect_fail "KDIR that is not a kernel" "is not a Linux source tree" \
	env KDIR="$tmp" COWSWAP_OUT="$tmp/out" "$S/get-source.sh"
# LTS_TREE (a distribution's 6.1.y tree judged as the LTS "fixed" side) is
# refused with one line, before anything is built, when it is not 6.1.
mkdir -p "$tmp/newer/mm" "$tmp/newer/arch/x86"
printf 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n' >"$tmp/newer/Makefile"
touch "$tmp/newer/mm/memory.c"
expect_fail "LTS_TREE with a 6.12 tree" "LTS_TREE=.* is Linux 6.12, but cowswap needs a 6.1.y tree" \
	env LTS_TREE="$tmp/newer" RUN_ID=tooling-lts-tree "$S/matrix.sh" i386-pae
expect_fail "LTS_TREE that is not a kernel" "LTS_TREE=.* is not a Linux source tree" \
	env LTS_TREE="$tmp" RUN_ID=tooling-lts-tree "$S/matrix.sh" i386-pae
expect_fail "LTS_TREE that does not exist" "LTS_TREE=.* does not exist" \
	env LTS_TREE=/nonexistent RUN_ID=tooling-lts-tree "$S/matrix.sh" i386-pae
check "a refused LTS_TREE left no results behind" test ! -e "$OUT/results/tooling-lts-tree"
expect_fail "no imported source" "no imported kernel source" \
	env COWSWAP_OUT="$tmp/out" "$S/mktrees.sh"

# Dirty and already patched trees are refused and left alone.
echo "/* local edit */" >>"$TREES/baseline/mm/rmap.c"
before=$(tree_state "$TREES/baseline")
expect_fail "mktrees on a dirty baseline tree" "has local changes.*nothing was changed" \
	"$S/mktrees.sh" baseline
check "dirty baseline tree left as it was" test "$before" = "$(tree_state "$TREES/baseline")"
git -C "$TREES/baseline" checkout -q -- mm/rmap.c

echo "/* local edit */" >>"$wt/mm/memory.c"
before=$(tree_state "$wt")
expect_fail "apply-series on a dirty tree" "uncommitted changes; refusing" \
	"$S/apply-series.sh" "$wt" baseline
check "dirty tree left as it was" test "$before" = "$(tree_state "$wt")"
git -C "$wt" checkout -q -- mm/memory.c

check "apply-series baseline on a clean tree" "$S/apply-series.sh" "$wt" baseline
expect_fail "apply-series twice" "already has quilt patches applied" \
	"$S/apply-series.sh" "$wt" baseline
rm -rf "$wt/.pc"
expect_fail "apply-series on a tree that already has the patches" "already contains" \
	"$S/apply-series.sh" "$wt" baseline
git -C "$wt" checkout -q -f cowswap/upstream
git -C "$wt" clean -q -fdx

mkdir -p "$tmp/bad"
cat >"$tmp/bad/0001-bad.patch" <<'PATCH'
--- a/mm/memory.c
+++ b/mm/memory.c
@@ -1,3 +1,3 @@
-this line is not in mm/memory.c
+nor is this one
 neither is this
PATCH
printf '0001-bad.patch\n' >"$tmp/bad/series"
before=$(tree_state "$wt")
expect_fail "a patch that does not apply" "does not apply; tree restored" \
	"$S/apply-series.sh" "$wt" "$tmp/bad"
check "tree restored after a failed series" test "$before" = "$(tree_state "$wt")"
expect_fail "apply-series on a 5.15 tree" "is Linux 5.15, the patches are for 6.1" \
	"$S/apply-series.sh" "$tmp/old" baseline

# Missing tools: a PATH without the arm64 cross compiler / without QEMU.
# One ln for all of them (a fork per program took some 15 s); /bin is
# /usr/bin on a merged-/usr system.
mkdir -p "$tmp/bin"
bindirs=/usr/bin
[ -L /bin ] || bindirs="$bindirs /bin"
# shellcheck disable=SC2086
find $bindirs -mindepth 1 -maxdepth 1 ! -name 'aarch64-linux-gnu-*' ! -name 'qemu-system-*' \
	-print0 | xargs -0 ln -sf -t "$tmp/bin" 2>/dev/null || true
expect_fail "missing cross compiler" "required command 'aarch64-linux-gnu-gcc' not found" \
	env PATH="$tmp/bin" "$S/build.sh" arm64 patched
expect_fail "unknown architecture" "unknown architecture 'mips'" "$S/build.sh" mips patched
# A build-only record (configs/arch/build-only) is refused for a boot,
# with its NO_BOOT reason, before anything is built, and is left out of
# the lists the matrix, nightly and LAVA runs take.
for r in "$TOP"/configs/arch/build-only/*.conf; do
	[ -f "$r" ] || continue
	r=$(basename "$r" .conf)
	expect_fail "run-qemu.sh refuses the build-only record $r" "$r is built, never booted here: ." \
		"$S/run-qemu.sh" "$r" stock
	expect_fail "matrix.sh refuses the build-only record $r" "$r is built, never booted here: ." \
		env RUN_ID=tooling-no-boot "$S/matrix.sh" "$r"
	check "the build-only record $r is not among ARCHS_ALL" \
		bash -c '. "$1/scripts/lib/lib.sh"; ! ARCHS_ALL | grep -qx "$2"' _ "$TOP" "$r"
done
expect_fail "unknown variant" "unknown variant 'vanilla'" "$S/build.sh" x86_64 vanilla
expect_fail "nightly continuing a run that is not there" "no .*nightly.json to continue" \
	env NIGHTLY_RUN=nightly-19700101-0000 "$S/nightly.sh"
# (checked after NIGHTLY_DISTROFIX: its default records pass to get here)
expect_fail "nightly with a stage that does not exist" "'12' is not a stage number \\(1-11\\)" \
	env NIGHTLY_STAGES="1 12" "$S/nightly.sh"
expect_fail "nightly with a stage 9 record that does not exist" \
	"NIGHTLY_DISTROFIX: 'i386-nosuch' is not a Debian record" \
	env NIGHTLY_STAGES=9 NIGHTLY_DISTROFIX="i386 i386-nosuch" "$S/nightly.sh"

# An interrupted build stops with one line and a rerun carries on. A
# small target in a scratch O= directory keeps this quick.
interrupt_build() {
	local pid i rc=0
	O="$tmp/obj" TARGETS="mm/" "$S/build.sh" x86_64 upstream >"$tmp/int.log" 2>&1 &
	pid=$!
	for i in $(seq 300); do
		grep -q "building x86_64/upstream" "$tmp/int.log" && break
		sleep 1
	done
	sleep 5
	kill -TERM $pid
	wait $pid || rc=$?
	cat "$tmp/int.log"
	return $rc
}
expect_fail "an interrupted build" "build interrupted after [0-9]+s; rerun" interrupt_build
# Kbuild runs the compilers in the O= directory.
no_process_in() {
	local p
	sleep 2
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/cwd" 2>/dev/null)" != "$1" ] || return 1
	done
}
check "no compiler left running after the interruption" no_process_in "$tmp/obj"
check "rerun after the interruption" env O="$tmp/obj" TARGETS="mm/memory.o" "$S/build.sh" x86_64 upstream

# A full disk: a 2 MiB tmpfs as build directory, results and tree store.
# The checks of free space fail first; with them lowered to 0 the real
# ENOSPC must still end cleanly, without a half-made tree left behind.
mkdir -p "$tmp/full"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=2m cowswap-full "$tmp/full" 2>/dev/null; then
	mkdir -p "$tmp/full/out"
	ln -s "$OUT/src" "$tmp/full/out/src"
	expect_fail "a full disk under the build directory" "MiB free in .*a kernel build needs" \
		env O="$tmp/full/obj" "$S/build.sh" x86_64 upstream
	# KERNEL only has to exist: the run stops before QEMU starts.
	expect_fail "a full disk under the results" "MiB free in .*a QEMU run" \
		env COWSWAP_OUT="$tmp/full/out" KERNEL="$TOP/Makefile" "$S/run-qemu.sh" x86_64 upstream
	expect_fail "ENOSPC writing the test data" "cannot create .*data.img \(disk full\?\)" \
		env COWSWAP_OUT="$tmp/full/out" COWSWAP_RUN_MB=0 KERNEL="$TOP/Makefile" \
		"$S/run-qemu.sh" x86_64 upstream
	expect_fail "a full disk for a new tree" "MiB free in .*a kernel worktree needs" \
		env COWSWAP_OUT="$tmp/full/out" "$S/mktrees.sh" upstream
	expect_fail "ENOSPC checking out a tree" "could not check out .*removed the partial tree" \
		env COWSWAP_OUT="$tmp/full/out" COWSWAP_TREE_MB=0 "$S/mktrees.sh" upstream
	check "no partial tree left behind" test ! -e "$tmp/full/out/trees/upstream"
	check "the source repository lists no stale worktree" \
		sh -c "! git --git-dir='$SRC_GIT' worktree list | grep -q '$tmp/full'"
	umount "$tmp/full"
else
	echo "# full-disk tests skipped (need root to mount a small tmpfs)"
fi

# The stress report judges what a run printed. fake_stress <run> <outcome>
# <corruptions> [console line ...] writes the two files run-qemu.sh leaves.
fake_stress() {
	local d=$tmp/stress/$1 variant=${1%%-*} outcome=$2 bad=$3
	shift 3
	mkdir -p "$d"
	printf '{"arch":"x86_64","variant":"%s","outcome":"%s","seconds":9,"problems":[]}\n' \
		"$variant" "$outcome" >"$d/result.json"
	{
		echo "[    0.000000] KernelAddressSanitizer initialized"
		for l in "$@"; do echo "$l"; done
		echo "COWSWAP-STRESS {\"seconds\":5,\"ops\":{\"pageout\":3${OPS:+,$OPS}},\"pages_verified\":10,\"corruptions\":$bad,\"errors\":0}"
	} >"$d/console.log"
}
report() { python3 "$S/stress_report.py" "$tmp/stress" --runs "$@"; }
# report_shows <regex> <run:expect ...>: the report passes and prints regex.
report_shows() {
	local rx=$1 out
	shift
	out=$(report "$@") && grep -qE -- "$rx" <<<"$out"
}
fake_stress patched-clean pass 0
check "stress report: a clean debug run passes and shows KASAN was on" \
	report_shows 'debug \(KASAN\)' patched-clean:pass
fake_stress patched-kasan pass 0 "[   12.000000] BUG: KASAN: use-after-free in do_swap_page+0x10/0x20"
expect_fail "stress report: a KASAN report in a run that passed its checks" \
	"patched-kasan: KASAN: .BUG: KASAN: use-after-free" report patched-kasan:pass
fake_stress patched-lost pass 3 "# CORRUPTION: page 7 of odirect worker 1"
expect_fail "stress report: corruption on a kernel that must not lose data" \
	"patched-lost: not as expected: 3 corruptions, expected 0" report patched-lost:pass
OPS='"race_iterations":40,"race_overlapped":0' fake_stress patched-norace pass 0
expect_fail "stress report: a race worker whose faulters never overlapped" \
	"patched-norace: not as expected: the race worker's two faulters never overlapped in 40 iterations" \
	report patched-norace:pass
OPS='"race_iterations":40,"race_overlapped":7' fake_stress patched-race pass 0
check "stress report: overlapping races are shown" \
	report_shows '\| 7 of 40 \(0 read/write\) \|' patched-race:pass
fake_stress baseline-quiet fail 0
expect_fail "stress report: a baseline that loses nothing" \
	"baseline-quiet: not as expected: no data lost" \
	report baseline-quiet:fail
fake_stress mutant-quiet pass 0
expect_fail "stress report: a mutant nothing noticed" \
	"mutant-quiet: not as expected: the mutant went unnoticed" report mutant-quiet:caught
fake_stress mutant-bug error 0 "[   10.208894] kernel BUG at mm/memory.c:4105!"
check "stress report: a mutant caught by a kernel BUG is as expected" \
	report_shows 'kernel BUG at mm/memory.c:4105' mutant-bug:caught
fake_stress baseline-lockdep fail 8 "WARNING: possible circular locking dependency detected"
expect_fail "stress report: a baseline that loses data but also splats" \
	"baseline-lockdep: lockdep" report baseline-lockdep:fail

# stress.sh refuses a variant of the other series before it builds.
expect_fail "stress: a 6.1-LTS record with a main-series variant" \
	"i386-pae/patched: i386-pae is a record of series lts-6.1, whose variants are: stock fixed" \
	"$S/stress.sh" i386-pae patched
expect_fail "stress: a 6.1-LTS record without its variants" \
	"i386-pae is a record of series lts-6.1: name its variants" "$S/stress.sh" i386-pae
expect_fail "stress: a main-series record with a 6.1-LTS variant" \
	"x86_64/fixed: x86_64 is a record of series main" "$S/stress.sh" x86_64 fixed

judge_cases
lava_cases
sparse_cases
distrofix_cases
affected_cases

if [ $boot = 1 ] && [ -f "$BUILDS/x86_64-patched/arch/x86/boot/bzImage" ]; then
	# A short selection of the selftest keeps these boots quick.
	export RUN_ID=tooling QUIET=1 COWSWAP_TIMEOUT=60 SELFTEST_ARGS="-s ksm/fault"
	expect_fail "QEMU missing" "required command 'qemu-system-x86_64' not found" \
		env PATH="$tmp/bin" "$S/run-qemu.sh" x86_64 patched
	expect_fail "QEMU that cannot start" "QEMU exited with status 1 before the kernel ran: qemu-system-x86_64: unsupported machine type" \
		env QEMU_EXTRA="-machine no-such-machine" "$S/run-qemu.sh" x86_64 patched
	expect_fail "a test binary that returns KSFT_FAIL" "failed: deliberate_failure" \
		env EXTRA_TESTS="$S/tests/ksft_fail.c" "$S/run-qemu.sh" x86_64 patched
	expect_fail "a test binary that never prints TAP" "problem: no_tap: no TAP plan line" \
		env EXTRA_TESTS="$S/tests/no_tap.c" "$S/run-qemu.sh" x86_64 patched
	expect_fail "a test binary killed by a signal" "problem: crash: exited with signal-11" \
		env EXTRA_TESTS="$S/tests/crash.c" "$S/run-qemu.sh" x86_64 patched
	expect_fail "a kernel that panics" "problem: kernel panic" \
		env EXTRA_CMDLINE="cowswap.fault=exit" "$S/run-qemu.sh" x86_64 patched
	expect_fail "a guest that hangs" "guest timed out after 30s" \
		env EXTRA_CMDLINE="cowswap.fault=hang" COWSWAP_TIMEOUT=30 "$S/run-qemu.sh" x86_64 patched
	expect_fail "a kernel expected to reproduce that does not" "EXPECTED REPRODUCED" \
		env EXPECT=reproduced "$S/run-qemu.sh" x86_64 patched
else
	echo "# boot tests skipped (no x86_64 patched kernel built, or --no-boot)"
fi

echo "1..$n"
[ $failed = 0 ] || die "$failed of $n tooling tests failed"
info "all $n tooling tests passed"

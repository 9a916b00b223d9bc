#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make-fixtures.sh: (re)write the fixture runs under scripts/tests/data/results/.
# They are FIXTURES, not measurements: the console logs are written by
# scripts/tests/console_log.py (as in test-tooling.sh's judge cases) or
# typed here in the format the guest programs print, and every result
# file is then written by the project's own code (results.py judge and
# summary, bench_report.py, stress_report.py, distro_report.py), so the
# files have exactly the shape a real run leaves in out/results/<run>/.
# The paths and dates those programs record are replaced with fixed ones
# so that the files do not change from one regeneration to the next.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
S=$(cd "$here/../.." && pwd)
j=$here/judge
R=$here/results
rm -rf "$R"
mkdir -p "$R"

# judge_guest <run> <guest> <arch> <variant> <expect> <log> [judge options]
judge_guest() {
	local run=$1 g=$2 arch=$3 variant=$4 expect=$5 log=$6 table=
	shift 6
	mkdir -p "$R/$run/$g"
	[ "$log" -ef "$R/$run/$g/console.log" ] || cp "$log" "$R/$run/$g/console.log"
	[ "$variant" != baseline ] || table=$j/expect-baseline
	python3 "$S/results.py" judge --arch "$arch" --variant "$variant" --expect "$expect" \
		--selftest-list "$j/selftest.list" --may-skip "$(cat "$j/$arch.may_skip")" \
		--expect-table "$table" --log "$R/$run/$g/console.log" \
		--json "$R/$run/$g/result.json" "$@" >/dev/null || true
}

# A matrix run: x86_64 three variants without disks and through the
# kselftest runner, arm64 patched with its SKIPs, and one broken guest (a
# bad swap entry on the console: an error) so that every colour shows.
m=fixture-matrix
judge_guest $m x86_64-upstream-none x86_64 upstream pass "$j/x86_64-patched.log" --disks none --seconds 301
judge_guest $m x86_64-baseline-none x86_64 baseline reproduced "$j/x86_64-baseline.log" --disks none --seconds 344
judge_guest $m x86_64-patched-none x86_64 patched pass "$j/x86_64-patched.log" --disks none --seconds 296
judge_guest $m x86_64-patched-none-ksft x86_64 patched pass "$j/x86_64-patched-ksft.log" \
	--disks none --runner kselftest --seconds 318
judge_guest $m arm64-patched-none arm64 patched pass "$j/arm64-patched.log" --disks none --seconds 655
sed '/^ok 8 /i [   17.402311] _swap_info_get: Bad swap file entry 3ffffffffffff' \
	"$j/arm64-patched.log" >"$R/bad.log"
judge_guest $m arm64-baseline-none arm64 baseline reproduced "$R/bad.log" --disks none --seconds 702
rm "$R/bad.log"
python3 "$S/results.py" summary "$R/$m" >/dev/null || true

# A bench run: swap_bench's COWSWAP-BENCH lines for the three kernels of
# x86_64 and the two of the 6.1-LTS record i386-pae.
b=fixture-bench
bench_log() {
	local scale=$1 arch=$2
	echo "[    0.000000] Linux version 6.1.0-cowswap (gcc (Debian 12.2.0-14) 12.2.0) #1 SMP"
	echo "[    0.431230] debug_vm_pgtable: [debug_vm_pgtable         ]: Validating architecture page table helpers"
	echo "COWSWAP-INIT start, page size 4096"
	echo "COWSWAP-BEGIN swap_bench"
	echo "# swap_bench on $arch 6.1.0-cowswap, 4096-byte pages"
	echo "1..3"
	awk -v s="$scale" 'BEGIN {
		printf "COWSWAP-BENCH {\"metric\":\"copies_held_ref\",\"size_mib\":64,\"median\":%.3f,\"min\":%.3f,\"max\":%.3f,\"runs\":5,\"unit\":\"pages\",\"of\":16384}\n", 16384*s, 16384*s, 16384*s
		print "ok 1 copies"
		printf "COWSWAP-BENCH {\"metric\":\"fork_us\",\"size_mib\":256,\"median\":%.3f,\"min\":%.3f,\"max\":%.3f,\"runs\":5,\"unit\":\"us\"}\n", 5210+300*s, 5100+300*s, 5400+300*s
		print "ok 2 fork"
		printf "COWSWAP-BENCH {\"metric\":\"swapin_cache_us\",\"size_mib\":64,\"median\":%.3f,\"min\":%.3f,\"max\":%.3f,\"runs\":5,\"unit\":\"us\"}\n", 1.9+0.8*s, 1.8+0.8*s, 2.1+0.8*s
		print "ok 3 swapin"
		print "COWSWAP-BENCH {\"metric\":\"clock_step_us\",\"size_mib\":0,\"median\":0.010,\"min\":0.010,\"max\":0.010,\"runs\":1,\"unit\":\"us\"}"
	}'
	echo "COWSWAP-END swap_bench exit=0"
	echo "COWSWAP-DONE"
}
for a in x86_64:baseline:1:patched:0:upstream:0 i386-pae:stock:1:fixed:0; do
	IFS=: read -r arch v1 s1 v2 s2 v3 s3 <<<"$a"
	variants=
	for v in $v1:$s1 $v2:$s2 ${v3:+$v3:$s3}; do
		mkdir -p "$R/$b/$arch-${v%:*}"
		bench_log "${v#*:}" "${arch%-*}" >"$R/$b/$arch-${v%:*}/console.log"
		judge_guest $b "$arch-${v%:*}" "$arch" "${v%:*}" pass "$R/$b/$arch-${v%:*}/console.log" \
			--no-selftest --seconds 120
		variants="$variants ${v%:*}"
	done
	python3 "$S/bench_report.py" --arch "$arch" --variants "${variants# }" \
		--clock "icount (fixture), 1 CPU" --args "-r 5" "$R/$b" >/dev/null
done

# A stress run: a clean patched kernel with races, a baseline that lost data.
s=fixture-stress
stress_run() {
	local run=$1 variant=$2 outcome=$3 bad=$4
	mkdir -p "$R/$s/$run"
	printf '{"arch":"x86_64","variant":"%s","outcome":"%s","seconds":1260,"problems":[]}\n' \
		"$variant" "$outcome" >"$R/$s/$run/result.json"
	{
		echo "[    0.000000] KernelAddressSanitizer initialized"
		echo "[    0.000000] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar"
		[ "$bad" = 0 ] || echo "# CORRUPTION: page 7 of odirect worker 1 holds stale data"
		echo "COWSWAP-STRESS {\"seconds\":900,\"ops\":{\"pageout\":5120,\"odirect_reads\":2048,\"forks\":310,\"race_iterations\":400,\"race_overlapped\":37,\"race_read_overlapped\":12,\"race_forks\":50,\"race_fork_overlapped\":4},\"vmstat\":{\"thp_fault_alloc\":20,\"thp_swpout\":3,\"thp_split_page\":2},\"pages_verified\":812000,\"corruptions\":$bad,\"errors\":0,\"hung\":0,\"crashed\":0}"
	} >"$R/$s/$run/console.log"
}
stress_run x86_64-patched-debug patched pass 0
stress_run x86_64-baseline-debug baseline fail 14
python3 "$S/stress_report.py" "$R/$s" --runs x86_64-patched-debug:pass x86_64-baseline-debug:fail \
	>/dev/null

# A distro-check run: one affected kernel, one not affected.
d=fixture-distro
for r in amd64:x86_64-baseline:linux-image-6.1.0-18-amd64:6.1.76-1 \
	arm64:x86_64-patched:linux-image-6.1.0-99-arm64:6.1.999-1; do
	IFS=: read -r rec log pkg ver <<<"$r"
	mkdir -p "$R/$d/distro-$rec"
	cp "$j/$log.log" "$R/$d/distro-$rec/console.log"
	python3 "$S/distro_report.py" verdict --log "$R/$d/distro-$rec/console.log" \
		--json "$R/$d/distro-$rec/verdict.json" --record "$rec" --package "$pkg" \
		--version "$ver" --seconds 400 >/dev/null
done

# A nightly stage table, in the shape nightly.sh writes it: two stages
# that passed, one that failed.
n=fixture-nightly
mkdir -p "$R/$n"
cat >"$R/$n/nightly.json" <<'EOF2'
{
 "run": "fixture-nightly",
 "commit": "0123456789ab",
 "stages_asked": ["1", "3", "5"],
 "stages": [
  {"stage": "check-patches", "finished": "2026-12-06T12:03:00Z", "seconds": 180, "exit": 0, "verdict": "pass"},
  {"stage": "mutant", "finished": "2026-12-06T12:30:00Z", "seconds": 1620, "exit": 0, "verdict": "pass"},
  {"stage": "bench", "finished": "2026-12-06T12:50:00Z", "seconds": 1200, "exit": 1, "verdict": "fail"}
 ]
}
EOF2

# Fixed paths and dates: what a run on the lead's machine would record.
find "$R" -name '*.json' -print0 | xargs -0 sed -i -E \
	-e "s|$R/|/work/main/out/results/|g" \
	-e 's/"date": "[^"]*"/"date": "2026-12-06T12:00:00Z"/'
echo "fixture runs written under ${R#"$PWD"/}"

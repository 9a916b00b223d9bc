#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vmtests.sh [record...]: 6.1's own mm selftests (tools/testing/selftests/vm)
# as a regression suite (docs/vmtests.md). One QEMU boot per kernel of each
# record's series (baseline, patched, upstream; stock, fixed), each running
# the tests of scripts/guest/vmtests.list (VMTESTS=1 in initramfs.sh) with
# one swap disk (DISKS=plain) and without swap_exclusive; then
# python3 -m cowswap.vmtests judges every console and compares the kernels:
# a test that passes without the series and fails with it fails the suite.
#
# Output: out/results/<run>/vmtests/<record>-<variant>/ (console.log, ...),
# out/results/<run>/vmtests.md and vmtests.json (make snapshot RUN=<run>
# NAME=vmtests keeps it for docs/vmtests.md).
#
# Kernels are not built here: a kernel that is missing is reported and
# left out (VMTESTS_VARIANTS=<variants> picks variants of every record).
#
# Environment: RUN_ID (default vmtests-<UTC date>), VMTESTS_VARIANTS,
# VMTESTS_TREE and VMTESTS_LIST (another list of tests; see initramfs.sh), COWSWAP_TIMEOUT (default 900 s per
# boot), MEM (guest RAM, default 2048 MiB: khugepaged's
# collapse_full_of_compound holds up to 512 PTE-mapped THPs, and in a
# 1 GiB guest it ran out of free 2 MiB blocks; run-qemu.sh caps it at a
# record's MEM_MAX), QEMU_EXTRA, QUIET as for
# run-qemu.sh.
. "$(dirname "$0")/lib/lib.sh"

records=${*:-x86_64}
# before any record is loaded (run-qemu.sh caps it at a record's MEM_MAX)
mem=${MEM:-2048}
need_cmd python3
RUN_ID=${RUN_ID:-vmtests-$(date -u +%Y%m%d-%H%M%S)}
dir=$OUT/results/$RUN_ID
mkdir -p "$dir/vmtests"
# run-qemu.sh notes the commit one level down, beside the boots
note_commit "$dir"

boots=() missing=
for r in $records; do
	load_arch "$r"
	refuse_no_boot
	for v in ${VMTESTS_VARIANTS:-$(arch_variants "$r")}; do
		check_variant "$v"
		img=$BUILDS/$BUILD-$v/$KERNEL_IMAGE
		if [ -f "$img" ]; then
			boots+=("$r/$v")
		else
			missing="$missing $r/$v"
			info "warning: no kernel at ${img#"$TOP"/}: $r/$v left out (scripts/build.sh $BUILD $v)"
		fi
	done
done
[ ${#boots[@]} -gt 0 ] || die "no kernel to boot for: $records"

n=0
for b in "${boots[@]}"; do
	n=$((n + 1))
	r=${b%/*} v=${b#*/}
	info "[$n/${#boots[@]}] $r/$v: 6.1's vm selftests"
	# run-qemu.sh's own verdict (EXPECT=pass: every test ok or SKIP) is
	# not the suite's: a test that fails on both kernels is no
	# regression. The comparison below decides.
	RUN_ID=$RUN_ID EXPECT=pass SELFTEST=0 VMTESTS=1 DISKS=plain MEM=$mem \
		RESULT_DIR=$dir/vmtests/$r-$v \
		"$TOP/scripts/run-qemu.sh" "$r" "$v" || info "$r/$v: run-qemu.sh's verdict is not pass (see the table)"
done

rc=0
PYTHONPATH=$TOP/scripts python3 -m cowswap.vmtests "$dir" ${VMTESTS_LIST:+--list "$VMTESTS_LIST"} || rc=$?
info "report: ${dir#"$TOP"/}/vmtests.md and vmtests.json${missing:+ (left out, no kernel:$missing)}"
case $rc in
0) ;;
1) die "vmtests: FAIL (see ${dir#"$TOP"/}/vmtests.md)" ;;
*) die "vmtests: the report could not be made (exit $rc)" ;;
esac

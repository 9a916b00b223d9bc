#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gen-selftest-patch.sh [--check] [main|lts-6.1|mainline]...: write the
# patch that puts selftests/swap_exclusive into the kernel's own tree as
# part of its memory-management selftests, so that
#
#   make -C tools/testing/selftests TARGETS=vm run_tests    (6.1)
#   make -C tools/testing/selftests TARGETS=mm run_tests    (6.12)
#
# in a patched tree builds and runs it. selftests/swap_exclusive stays the
# only copy of the test: this script makes every patch from it.
#
#   main      the last patch of patches/, on top of cowswap/baseline
#   lts-6.1   the last patch of patches/lts-6.1/, on top of cowswap/upstream
#   mainline  the test alone as a patch for today's kernels'
#             tools/testing/selftests/mm ("selftests/mm: add
#             swap_exclusive"), on top of cowswap/v6.12 (Debian 13's 6.12:
#             scripts/get-source.sh 6.12), written with the hand-written
#             cover letter of patches/mainline/ into $OUT/mainline/
#
# (main and lts-6.1 by default). The mainline patch is not stored: it is
# the 6.1 patch's test in 6.12's layout, some 8,700 lines that would say
# nothing the stored 6.1 patch and selftests/swap_exclusive do not;
# check-patches and mainline-selftest make it when they need it.
#
# 6.1 calls the directory vm/, later kernels mm/ (renamed in 6.3); the
# layouts differ only in the wiring (layout_vm, layout_mm below): the
# sources go to <dir>/swap_exclusive_src/ in both, and are linked with
# that tree's vm_util.c, of which the test uses read_pmd_pagesize(), with
# the same signature in 6.1 and 6.12 (not check_huge_anon(): it misreads
# AnonHugePages in a 32-bit process, see test_util.h). Not flat
# in mm/: 6.12's mm/ has a cow.c of its own (the test of the same name),
# and mm/ builds one binary from each top-level .c file of the same name.
# Not mm/swap_exclusive/: the binary is <dir>/swap_exclusive in an
# in-tree build (no O=), where a directory of that name cannot be.
#
# For each series, For each, a scratch worktree gets every other patch
# of the series with git am, then the test's *.c and *.h files, a rule
# and a TEST_GEN_PROGS entry in vm/Makefile, a run_test line in
# run_vmtests.sh, the options of the test's config that vm/config lacks,
# the test's timeout in vm/settings when it is longer, and the binary in
# vm/.gitignore. That is committed and written with git format-patch as
# the last patch of the series (the series file lists it last).
#
# The 6.1 patch text is stored once: both 6.1 series touch nothing under
# tools/testing/selftests/vm before it, so it is the same patch in both
# but for its "[PATCH n/m]" (9/9 in patches/, 12/12 in lts-6.1). The
# file lives in patches/; patches/lts-6.1 holds a symbolic link of its
# own name to ../<that file>, which quilt and git am read as the file.
# For lts-6.1 this script checks that the series gives the same patch
# (the Subject's numbering aside) and writes only the link; a patch that
# differs between the two series is an error.
#
# --check writes nothing: it regenerates each patch into a temporary file
# and fails, with the difference, when the committed patch is not what
# the sources give (the first line's commit hash, the blob hashes of
# the index lines and, for the link, the numbering are ignored), or when
# lts-6.1's entry is not the link. --check has nothing to compare for
# mainline: it makes the patch (the series must still give one).
#
# SELFTEST_DIR=<dir> takes the test from another directory than
# selftests/swap_exclusive (as initramfs.sh and selftest_names do).
. "$(dirname "$0")/lib/lib.sh"

AUTHOR="Cowswap Developers <cowswap@localhost>"
DATE="Wed, 2 Dec 2026 12:00:00 +0000"
ST=${SELFTEST_DIR:-$TOP/selftests/swap_exclusive}

# subject_of <series>, vmdir_of <series>: the patch's subject and the
# directory of the tree's memory-management selftests.
subject_of() {
	case $1 in
	mainline) echo "selftests/mm: add swap_exclusive" ;;
	*) echo "selftests/vm: add swap_exclusive" ;;
	esac
}
vmdir_of() {
	case $1 in
	mainline) echo tools/testing/selftests/mm ;;
	*) echo tools/testing/selftests/vm ;;
	esac
}

check=0
series=()
for a in "$@"; do
	case $a in
	--check) check=1 ;;
	main | lts-6.1 | mainline) series+=("$a") ;;
	*) die "usage: $PROG [--check] [main|lts-6.1|mainline]..." ;;
	esac
done
[ ${#series[@]} -gt 0 ] || series=(main lts-6.1)
need_cmd git sed diff
[ -f "$ST/swap_exclusive.c" ] || die "$ST/swap_exclusive.c missing"

# commit_message <series>
commit_message() {
	[ "$1" != mainline ] || { mainline_message; return; }
	cat <<'EOF'
The swap PTE marker of this series exists so that an anonymous page
keeps its exclusive state through swap-out and swap-in. The kselftest
swap_exclusive checks the consequences a user can see: an O_DIRECT
read in flight into a page that is swapped out and then written keeps
its data, an exclusive page comes back from swap at the same PFN,
soft-dirty and uffd-wp stay correct, fork(), KSM and shared pages still
copy, and a page under writeback to a swap area that needs stable
pages is copied while one on a swap area that does not is reused. It
creates the slow devices it needs (null_blk behind dm-delay, zram) and
puts the swap, KSM and THP settings back when it ends; a missing kernel
feature is a SKIP that names the option. It also pages out through a
memory cgroup's own reclaim instead of MADV_PAGEOUT, swaps a page in
into a memory cgroup with no room left for it, and swaps to a device
that fails its writes or reads on demand (dm-flakey): data comes back
intact or as a SIGBUS, never silently wrong.

It is added to the vm selftests and linked with vm_util.c. Its source
files go to a directory of their own, swap_exclusive_src/ (the binary
takes the name swap_exclusive). It is listed in
TEST_GEN_PROGS, so the kselftest runner and run_kselftest.sh know it
as vm:swap_exclusive, and run_vmtests.sh runs it as well, as it does
with soft-dirty and madv_populate.

The checks wait for delayed reads and writes and, under emulation,
take longer than the 45 seconds vm/settings allows, so the timeout of
the vm collection becomes 600 seconds. vm/config gets the options the
test needs to make its devices.

The test fails on a kernel without the marker (odirect_inflight loses
the read data there) and passes with this series.
EOF
	echo
	echo "Signed-off-by: $AUTHOR"
}

mainline_message() {
	cat <<'EOF'
An anonymous page that is exclusive to one process must stay exclusive
when it goes to swap and comes back: the kernel remembers that in the
swap PTE (pte_swp_exclusive()) and do_swap_page() maps the page
writable without a copy. When that is lost, a write fault copies the
page while something else still holds a reference to the old one, and
whatever lands in the old page later is lost to the process: before
the marker existed, an O_DIRECT read in flight during swap-out and a
write to the same page lost the read's data. Today O_DIRECT pins with
FOLL_PIN and every architecture with swap PTEs has the marker, so on a
current kernel this test must pass everywhere; it guards against a
regression in the swap-out, swap-in, swapoff and fork paths of the
marker (or an architecture that loses the bit in its swap entry
layout), which would otherwise show only as silent corruption.

swap_exclusive checks what a user can see: an O_DIRECT read in flight
into a page that is swapped out and then written keeps its data, an
exclusive page comes back from swap (page fault or swapoff, swap disk
or zram, whole or split THP) at the same PFN, fork(), KSM and shared
pages still copy, soft-dirty and uffd-wp keep working on swapped-out
pages, and a page under writeback to a swap area with stable writes is
copied while one on a swap area without them is reused. It makes the
slow devices it needs itself (a memory-backed null_blk behind dm-delay
as the O_DIRECT source, null_blk and zram as swap), puts the swap, KSM
and THP settings back when it ends, and reports a missing kernel
feature as a SKIP naming the option.

Its source files go to a directory of their own, swap_exclusive_src/,
because the binary takes the name swap_exclusive and mm/ already has a
cow.c of its own; it links with vm_util.c like the other tests. It is
built as a TEST_GEN_FILES entry and run by run_vmtests.sh in a category
of its own (run_vmtests.sh -t swap_exclusive). mm/config gets the
options it needs to make its devices, and the timeout in mm/settings
grows to 600 seconds: the checks wait for delayed reads and writes.
EOF
	echo
	echo "Signed-off-by: $AUTHOR"
}

# series_dir <name>, series_base <name>: where a series lives and the
# tag it applies to.
series_dir() {
	case $1 in
	main) echo "$TOP/patches" ;;
	lts-6.1) echo "$TOP/patches/lts-6.1" ;;
	mainline) echo "$TOP/patches/mainline" ;;
	esac
}
series_base() {
	case $1 in
	main) echo cowswap/baseline ;;
	lts-6.1) echo cowswap/upstream ;;
	mainline) echo cowswap/v6.12 ;;
	esac
}

# is_ours <patch file>: a patch this script writes, whatever its number.
is_ours() {
	grep -qs -e "^Subject: \[PATCH [0-9]*/[0-9]*\] $(subject_of main)$" \
		-e "^Subject: \[PATCH [0-9]*/[0-9]*\] $(subject_of mainline)$" "$1"
}

# other_patches <dir>: the series file's patches, ours left out.
other_patches() {
	local line
	while read -r line _; do
		case $line in "" | "#"*) continue ;; esac
		# lts-6.1's link to our patch: left out, even where it dangles
		# because patches/ renamed the patch
		[ ! -L "$1/$line" ] || continue
		[ -f "$1/$line" ] || die "$1/series lists '$line', which does not exist"
		is_ours "$1/$line" || echo "$1/$line"
	done <"$1/series"
}

# add_to_tree <worktree> <series>: the selftest and its wiring in vm/
# (6.1) or mm/ (6.12).
add_to_tree() {
	local vmdir vm f opt t_ours t_vm
	vmdir=$(vmdir_of "$2")
	vm=$1/$vmdir
	[ -f "$vm/Makefile" ] && [ -f "$vm/run_vmtests.sh" ] && [ -f "$vm/vm_util.c" ] ||
		die "$1 has no $vmdir (Makefile, run_vmtests.sh, vm_util.c)"
	mkdir -p "$vm/swap_exclusive_src"
	for f in "$ST"/*.c "$ST"/*.h; do
		cp "$f" "$vm/swap_exclusive_src/"
	done
	case $2 in
	mainline) layout_mm "$vm" ;;
	*) layout_vm "$vm" ;;
	esac

	while read -r opt; do
		case $opt in "" | "#"*) continue ;; esac
		grep -q "^${opt%%=*}=" "$vm/config" || echo "$opt" >>"$vm/config"
	done <"$ST/config"

	t_ours=$(sed -n 's/^timeout=\([0-9]*\)$/\1/p' "$ST/settings")
	t_vm=$(sed -n 's/^timeout=\([0-9]*\)$/\1/p' "$vm/settings")
	[ -n "$t_ours" ] && [ -n "$t_vm" ] || die "no timeout= line in $ST/settings or $vmdir/settings"
	[ "$t_ours" -le "$t_vm" ] || sed -i "s/^timeout=$t_vm\$/timeout=$t_ours/" "$vm/settings"

	grep -qx swap_exclusive "$vm/.gitignore" || echo swap_exclusive >>"$vm/.gitignore"
}

# the_rule <file> <what the recipe links>: the Makefile rule that builds
# swap_exclusive from swap_exclusive_src/ (both layouts), into <file>.
the_rule() {
	local srcs hdrs
	# one file a line, for the Makefile
	srcs=$(cd "$ST" && printf ' \\\n\tswap_exclusive_src/%s' ./*.c | sed 's|/\./|/|')
	hdrs=$(cd "$ST" && printf ' \\\n\tswap_exclusive_src/%s' ./*.h | sed 's|/\./|/|')
	{
		echo
		echo "# swap_exclusive is made of several files, kept in swap_exclusive_src/;"
		echo "# they include kselftest.h and vm_util.h by their bare names."
		echo "SWAP_EXCLUSIVE_SRCS :=$srcs"
		echo "SWAP_EXCLUSIVE_HDRS :=$hdrs"
		echo "\$(OUTPUT)/swap_exclusive: CFLAGS += -O2 -pthread -I\$(selfdir) -I\$(CURDIR)"
		echo "\$(OUTPUT)/swap_exclusive: \$(SWAP_EXCLUSIVE_SRCS) \$(SWAP_EXCLUSIVE_HDRS) vm_util.c vm_util.h"
		printf '\t$(LINK.c) $(%s) $(LDLIBS) -o $@\n' "$2"
	} >"$1"
}

# after_line <file> <line> <text file>: <text file> goes in after the
# exact line <line>, which must be there; <text file> is removed.
after_line() {
	grep -qxF -- "$2" "$1" || die "$(basename "$(dirname "$1")")/$(basename "$1"): no '$2' line to add the test after"
	awk -v l="$2" -v f="$3" '{ print } $0 == l { while ((getline t < f) > 0) print t }' "$1" >"$1.new" &&
		cat "$1.new" >"$1" && rm -f "$1.new" "$3"
}

# layout_vm <dir>: 6.1's vm/: a TEST_GEN_PROGS entry (the runner knows it
# as vm:swap_exclusive) and a run_test line in run_vmtests.sh.
layout_vm() {
	local vm=$1
	echo 'TEST_GEN_PROGS += swap_exclusive' >"$vm/.entry"
	after_line "$vm/Makefile" 'TEST_GEN_PROGS += split_huge_page_test' "$vm/.entry"
	the_rule "$vm/.rule" 'filter %.c,$^'
	after_line "$vm/Makefile" '$(OUTPUT)/userfaultfd: vm_util.c' "$vm/.rule"

	grep -q '^exit \$exitcode$' "$vm/run_vmtests.sh" ||
		die "$(vmdir_of main)/run_vmtests.sh: no final 'exit \$exitcode' line"
	sed -i '/^exit \$exitcode$/i # PG_anon_exclusive across swap-out and swap-in (O_DIRECT, fork, KSM)\nrun_test ./swap_exclusive\n' \
		"$vm/run_vmtests.sh"
}

# layout_mm <dir>: 6.12's mm/: a TEST_GEN_FILES entry, as every mm test
# (each one there gets vm_util.c and thp_settings.c as prerequisites, so
# the recipe links each .c once: sort), run by run_vmtests.sh in a
# category of its own, listed in its usage.
layout_mm() {
	local vm=$1
	echo 'TEST_GEN_FILES += swap_exclusive' >"$vm/.entry"
	after_line "$vm/Makefile" 'TEST_GEN_FILES += split_huge_page_test' "$vm/.entry"
	the_rule "$vm/.rule" 'sort $(filter %.c,$^)'
	after_line "$vm/Makefile" '$(OUTPUT)/uffd-unit-tests: uffd-common.c' "$vm/.rule"

	printf '%s\n' '- swap_exclusive' \
		'	test that exclusive anonymous pages stay exclusive across' \
		'	swap-out and swap-in (O_DIRECT data, fork, KSM, stable writes)' >"$vm/.usage"
	after_line "$vm/run_vmtests.sh" '	test prctl(PR_SET_MDWE, ...)' "$vm/.usage"
	printf '%s\n' '' 'CATEGORY="swap_exclusive" run_test ./swap_exclusive' >"$vm/.run"
	after_line "$vm/run_vmtests.sh" 'CATEGORY="mdwe" run_test ./mdwe_test' "$vm/.run"
}

# generate <name> <output file>
generate() {
	local name=$1 out=$2 dir base wt n others f vmdir
	dir=$(series_dir "$name")
	vmdir=$(vmdir_of "$name")
	base=$(series_base "$name")
	[ "$name" = mainline ] || [ -f "$dir/series" ] || die "$dir/series missing"
	git --git-dir="$SRC_GIT" rev-parse -q --verify "$base" >/dev/null ||
		die "no $base in $SRC_GIT; run 'make source trees' first$([ "$name" != mainline ] || echo ", and scripts/get-source.sh 6.12")"
	others=()
	[ "$name" = mainline ] || mapfile -t others < <(other_patches "$dir")
	n=$((${#others[@]} + 1))
	# one scratch tree per run: check-patches and a user may run at once
	wt=$OUT/scratch/selftest-patch-$name.$$
	mkdir -p "$OUT/scratch"
	# the files the other patches touch and vm/ (mm/), nothing else
	scratch_worktree "$wt" "$base" $(patch_paths "${others[@]}") "$vmdir/"
	export GIT_COMMITTER_NAME=cowswap GIT_COMMITTER_EMAIL=cowswap@localhost
	export GIT_COMMITTER_DATE="$DATE"
	export GIT_AUTHOR_NAME=cowswap GIT_AUTHOR_EMAIL=cowswap@localhost
	if [ ${#others[@]} -gt 0 ] &&
		! git -C "$wt" am -q --whitespace=error-all "${others[@]}" >"$wt.am.log" 2>&1; then
		cat "$wt.am.log" >&2
		die "$name: the series does not apply to $base (see above)"
	fi
	add_to_tree "$wt" "$name"
	git -C "$wt" add -f -A "$vmdir"
	{
		subject_of "$name"
		echo
		commit_message "$name"
	} | git -C "$wt" commit -q --author="$AUTHOR" --date="$DATE" -F - ||
		die "$name: git commit failed"
	rm -rf "$wt.fp"
	git -C "$wt" format-patch -q -1 -n --start-number "$n" --no-signature --zero-commit \
		-o "$wt.fp" HEAD || die "$name: git format-patch failed"
	# the file name git gives the patch, for the series file
	f=$(cd "$wt.fp" && ls ./*.patch) || die "$name: git format-patch wrote no patch"
	mv "$wt.fp/$f" "$out"
	rm -rf "$wt.fp" "$wt.am.log"
	git --git-dir="$SRC_GIT" worktree remove --force "$wt"
	basename "$f"
}

# comparable <patch>: the patch without what differs between two runs of
# identical content (abbreviated blob hashes depend on the object store).
comparable() {
	sed -e '1s/^From [0-9a-f]* /From <commit> /' \
		-e 's/^index [0-9a-f]*\.\.[0-9a-f]*/index <blobs>/' "$1"
}

# unnumbered <patch>: comparable, and without the Subject's "n/m", which
# is all that differs between the series.
unnumbered() {
	comparable "$1" | sed "s|^Subject: \[PATCH [0-9]*/[0-9]*\] |Subject: [PATCH] |"
}

# committed_in <series dir>: the series file's entry for our patch.
committed_in() {
	local line c=
	while read -r line _; do
		case $line in "" | "#"*) continue ;; esac
		# (lts-6.1's link counts even where it dangles)
		if [ -L "$1/$line" ] || is_ours "$1/$line"; then
			c=$line
		fi
	done <"$1/series"
	echo "$c"
}

# shared_check <generated lts patch> <its file name>: lts-6.1's entry is
# a link to the patch in patches/, which is what the series gives.
shared_check() {
	local dir=$TOP/patches/lts-6.1 main
	main=$(committed_in "$TOP/patches")
	[ -n "$main" ] || { info "FAIL: patches/series has no '$(subject_of main)' patch"; return 1; }
	if [ "$(readlink "$dir/$2" 2>/dev/null)" != "../$main" ]; then
		info "FAIL: patches/lts-6.1/$2 is not a link to ../$main (the patch is stored once); run $PROG"
		return 1
	fi
	# against what the sources give for patches/ when that was made in
	# this run (whether patches/ is current is its own check), else the file
	ref=$TOP/patches/$main
	[ ! -f "$tmp/main.patch" ] || ref=$tmp/main.patch
	if ! diff -u --label "patches/$main" --label "generated for lts-6.1" \
		<(unnumbered "$ref") <(unnumbered "$1") >"$tmp/shared.diff"; then
		head -40 "$tmp/shared.diff" >&2
		info "FAIL: lts-6.1 gives another selftest patch than patches/$main: it cannot be shared"
		return 1
	fi
	info "ok: patches/lts-6.1/$2 is a link to ../$main, and lts-6.1 gives the same patch as patches/"
}

tmp=$(mktemp -d)
cleanup() {
	local w
	rm -rf "$tmp"
	for w in "$OUT"/scratch/selftest-patch-*."$$"; do
		[ -e "$w" ] || continue
		git --git-dir="$SRC_GIT" worktree remove --force "$w" 2>/dev/null || rm -rf "$w"
		rm -rf "$w.fp" "$w.am.log"
	done
	git --git-dir="$SRC_GIT" worktree prune
}
trap cleanup EXIT
fail=0
for s in "${series[@]}"; do
	dir=$(series_dir "$s")
	file=$(generate "$s" "$tmp/$s.patch") || exit 1
	if [ "$s" = mainline ]; then
		# made, not stored: see the top of this file
		[ $check = 0 ] || { info "ok: the mainline patch can be made from ${ST#"$TOP"/} ($file)"; continue; }
		rm -rf "$OUT/mainline"
		mkdir -p "$OUT/mainline"
		cp "$dir/0000-cover-letter.patch" "$tmp/$s.patch" "$OUT/mainline/" &&
			mv "$OUT/mainline/$s.patch" "$OUT/mainline/$file" ||
			die "cannot write $OUT/mainline"
		info "wrote ${OUT#"$TOP"/}/mainline/: the cover letter of ${dir#"$TOP"/} and $file"
		continue
	fi
	committed=$(committed_in "$dir")
	if [ "$s" = lts-6.1 ] && [ $check = 1 ]; then
		[ "$committed" = "$file" ] || {
			info "FAIL: patches/lts-6.1/series lists '$committed', the series gives $file; run $PROG"
			fail=1
			continue
		}
		shared_check "$tmp/$s.patch" "$file" || fail=1
		continue
	fi
	if [ $check = 1 ]; then
		if [ -z "$committed" ]; then
			info "FAIL: ${dir#"$TOP"/}/series has no '$(subject_of "$s")' patch; run $PROG $s"
			fail=1
		elif [ "$committed" != "$file" ]; then
			info "FAIL: ${dir#"$TOP"/}/series lists $committed, the series gives $file; run $PROG $s"
			fail=1
		elif ! diff -u --label "committed ${dir#"$TOP"/}/$file" --label "generated from ${ST#"$TOP"/}" \
			<(comparable "$dir/$file") <(comparable "$tmp/$s.patch") >"$tmp/$s.diff"; then
			head -40 "$tmp/$s.diff" >&2
			info "FAIL: ${dir#"$TOP"/}/$file differs from what ${ST#"$TOP"/} gives ($(grep -c '^[-+][^-+]' "$tmp/$s.diff") lines); run $PROG $s"
			fail=1
		elif [ "$(grep -v -e '^#' -e '^$' "$dir/series" | tail -1)" != "$file" ]; then
			info "FAIL: $file is not the last patch of ${dir#"$TOP"/}/series"
			fail=1
		else
			info "ok: ${dir#"$TOP"/}/$file matches ${ST#"$TOP"/}"
		fi
		continue
	fi
	[ -z "$committed" ] || [ "$committed" = "$file" ] || rm -f "$dir/$committed"
	if [ "$s" = lts-6.1 ]; then
		# the patch of patches/, linked: see the top of this file
		main=$(committed_in "$TOP/patches")
		[ -n "$main" ] || die "patches/series has no '$(subject_of main)' patch; run $PROG main first"
		diff -q <(unnumbered "$TOP/patches/$main") <(unnumbered "$tmp/$s.patch") >/dev/null ||
			die "lts-6.1 gives another selftest patch than patches/$main: it cannot be shared"
		rm -f "$dir/$file"
		ln -s "../$main" "$dir/$file"
	else
		cp "$tmp/$s.patch" "$dir/$file"
	fi
	# the series file lists it last, once
	grep -v -x -F -e "$file" ${committed:+-e "$committed"} "$dir/series" >"$tmp/series" || true
	echo "$file" >>"$tmp/series"
	cat "$tmp/series" >"$dir/series"
	info "wrote ${dir#"$TOP"/}/$file (patch $(grep -cv -e '^#' -e '^$' "$dir/series") of the series)"
done
[ $fail = 0 ] || die "the selftest patch is out of date"

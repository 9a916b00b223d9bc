#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# distro-fix.sh [--config-only] <record>...: Debian's own kernel config,
# rebuilt from Debian's source as shipped ("stock") and with
# patches/lts-6.1 ("fixed"), booted with our initramfs and judged next to
# Debian's own kernel of the same record (configs/distro/<record>.conf).
#
# Per record:
#  1. Debian's kernel: scripts/distro-check.sh <record> (fetches and
#     unpacks the linux-image package, boots it with its own modules).
#  2. The config: boot/config-<release> from that package. It is built
#     from the source of its own version (6.1.N with the same N: the
#     Kconfig files and the defaults it was made with are those of the
#     tree): the default trees when they are 6.1.N, else Debian's
#     linux-source-6.1 of 6.1.N, imported and made into
#     $TREES/distro-6.1.N/{stock,fixed} the first time
#     (scripts/lib/distro-fix.sh: pick_source); a config of a release
#     Debian has no source of is refused. make olddefconfig, configs/distro-fix.config forced on (the
#     record's modules built in), make mod2noconfig (every other =m
#     dropped) and olddefconfig again. Every =y of the fragment must survive. The
#     difference to Debian's config (scripts/diffconfig) goes into the
#     report, whole.
#  3. Two builds with that same .config, out of tree (O=) in
#     $OUT/distrofix/<record>-{stock,fixed}: stock from $TREES/upstream,
#     fixed from $TREES/fixed (upstream + patches/lts-6.1), or the
#     distro-6.1.N trees of the config's release. A finished
#     build is not redone (its stamp names the config, the tree's commit
#     and the compiler); an interrupted one continues where make stopped.
#     Nothing counts as built before the image and the module tree are
#     in place and the stamp is written.
#  4. Both booted (run-qemu.sh distro-<record> with KERNEL=, the built-in
#     drivers found in the build's modules.builtin): stock must lose the
#     O_DIRECT data (reproduced), fixed must pass, with no SKIP that
#     Debian's own kernel did not have.
#  5. The table: $OUT/results/$RUN_ID/distro-fix.{md,json}.
#
# --config-only stops after step 2 (no build, no boot).
#
# Environment:
#   JOBS=2       make -j (the machine is shared: builds run under nice)
#   NICE=15      niceness of the builds
#   DISTROFIX_VARIANTS="stock fixed"   which builds to make and boot
#   RUN_ID       results in $OUT/results/$RUN_ID/ (default distrofix-<date>)
#   DEBIAN_CONFIG=<file>  use this config instead of the package's
#   SKIP_DEBIAN=1  do not boot Debian's own kernel (its column says so)
# Exit status 0 when every record came out as expected.
. "$(dirname "$0")/lib/lib.sh"
. "$TOP/scripts/lib/distro-fix.sh"

t_start=$(date +%s)
config_only=0
if [ "${1:-}" = --config-only ]; then
	config_only=1
	shift
fi
[ $# -gt 0 ] || die "usage: $PROG [--config-only] <record>... (records: $(DISTROS_ALL | tr '\n' ' '))"
JOBS=${JOBS:-2}
NICE=${NICE:-15}
FIX_VARIANTS=${DISTROFIX_VARIANTS:-stock fixed}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "JOBS=$JOBS: expected a positive number"
for v in $FIX_VARIANTS; do
	case $v in stock | fixed) ;; *) die "DISTROFIX_VARIANTS: unknown variant '$v' (stock, fixed)" ;; esac
done
FRAG=$TOP/configs/distro-fix.config
FIXDIR=$OUT/distrofix

# Everything each record needs, checked before anything is fetched,
# configured or built.
need_cmd make python3 sha1sum depmod flock
for r in "$@"; do
	load_distro "$r"
	check_distro_build "$r"
	command -v "$QEMU" >/dev/null 2>&1 || die "$r: $QEMU not found (scripts/deps.sh --distro installs it)"
done
if [ "$config_only" = 0 ] && [[ " $FIX_VARIANTS " == *" fixed "* ]]; then
	[ -f "$TREES/fixed/Makefile" ] ||
		die "no fixed tree at $TREES/fixed; run 'scripts/mktrees.sh fixed' (upstream + patches/lts-6.1) first"
fi

export RUN_ID=${RUN_ID:-distrofix-$(date -u +%Y%m%d-%H%M%S)}
res=$OUT/results/$RUN_ID
mkdir -p "$res" "$FIXDIR"

# Tell the user how to go on when interrupted: builds keep what they
# made, stamps are written only at the very end.
# What make did in a build directory, over every attempt (interrupted,
# failed, resumed, or redone after a change): <build>/build-seconds and
# build-objects (CC lines of its log), so that the stamp tells the whole
# work that went into the image.
building=
add_attempt() {
	local b=$1 n
	n=$(grep -c '^  CC ' "$b/build.log" 2>/dev/null || true)
	echo $(($(cat "$b/build-seconds" 2>/dev/null || echo 0) + $(date +%s) - t0)) >"$b/build-seconds"
	echo $(($(cat "$b/build-objects" 2>/dev/null || echo 0) + n - n0)) >"$b/build-objects"
}
interrupted() {
	echo
	[ -z "$building" ] || add_attempt "$building"
	info "interrupted; finished builds are kept, an unfinished one continues where it stopped: run the same command again"
	exit 130
}
trap interrupted INT TERM

# make_config <record>: $FIXDIR/<record>/config (the trimmed .config),
# debian.config and config.diff. Redone each run (seconds).
make_config() {
	local rec=$1 cfg karch d o t line opt val got bad=
	read -r karch _ < <(karch_of "$DEBIAN_ARCH")
	cfg=$(debian_config "$rec")
	check_config_version "$rec" "$cfg" "$karch"
	t=$(fix_tree stock)
	d=$FIXDIR/$rec
	o=$d/kconfig
	mkdir -p "$o"
	cp "$cfg" "$o/.config"
	kmake() {
		make -s -C "$t" O="$o" ARCH="$karch" CROSS_COMPILE="$CROSS_COMPILE" "$@" \
			>>"$d/kconfig.log" 2>&1 || die "$rec: make $* failed (see ${d#$TOP/}/kconfig.log)"
	}
	: >"$d/kconfig.log"
	kmake olddefconfig
	# The fragment first, mod2noconfig after: a driver turned from =m to
	# =y keeps Debian's settings of its sub-options (zram writeback,
	# dm uevents); forced on after mod2noconfig, they would come back
	# with their Kconfig defaults instead.
	# Of the fragment, what Debian builds (=m or =y in its config).
	: >"$d/forced.config"
	while IFS= read -r line; do
		case $line in
		CONFIG_*=y) opt=${line%%=*} ;;
		*) continue ;;
		esac
		if grep -q -E "^$opt=[my]\$" "$cfg"; then
			echo "$opt=y" >>"$d/forced.config"
		else
			info "$rec: $opt not forced: Debian's config does not build it"
		fi
	done <"$FRAG"
	"$t/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" "$d/forced.config" \
		>>"$d/kconfig.log" 2>&1 || die "$rec: merge_config.sh failed (see ${d#$TOP/}/kconfig.log)"
	no_debug_info "$t" "$o/.config"
	kmake olddefconfig
	kmake mod2noconfig
	kmake olddefconfig
	# Every option forced must have survived olddefconfig.
	while IFS= read -r line; do
		opt=${line%%=*}
		got=$(grep -m1 -E "^($opt=|# $opt is not set)" "$o/.config" || true)
		[ "$got" = "$line" ] || bad="$bad $line (got: ${got:-nothing})"
	done <"$d/forced.config"
	[ -z "$bad" ] || die "$rec: after olddefconfig these options of configs/distro-fix.config are lost:$bad"
	# mod2noconfig changes what has a prompt; a tristate without one
	# (e.g. WATCHDOG_PRETIMEOUT_GOV_SEL, default m) stays. Said here; the
	# build tells whether any of them made a module (build_one).
	! grep -q '=m$' "$o/.config" ||
		info "$rec: left =m by mod2noconfig (no prompt): $(grep '=m$' "$o/.config" | tr '\n' ' ')"
	cp "$cfg" "$d/debian.config"
	cp "$o/.config" "$d/config.tmp" && mv "$d/config.tmp" "$d/config"
	"$t/scripts/diffconfig" "$d/debian.config" "$d/config" >"$d/config.diff.tmp" ||
		die "$rec: scripts/diffconfig failed"
	mv "$d/config.diff.tmp" "$d/config.diff"
	echo "$FIX_SOURCE" >"$d/source"
	info "$rec: Debian's $(basename "$cfg") trimmed: $(grep -c '=y$' "$d/config") options =y (Debian: $(grep -c '=y$' "$cfg") =y, $(grep -c '=m$' "$cfg") =m); diff: ${d#$TOP/}/config.diff"
}

# build_key <record> <variant>: what a finished build was made of.
build_key() {
	local rec=$1 v=$2 tree
	tree=$(fix_tree "$v")
	{
		sha1sum <"$FIXDIR/$rec/config"
		git -C "$tree" rev-parse HEAD 2>/dev/null || echo "no git"
		git -C "$tree" status --porcelain --untracked-files=no 2>/dev/null | sha1sum
		"${CROSS_COMPILE}gcc" --version | head -n1
		echo "LOCALVERSION=$(localversion_of "$v")"
	} | sha1sum | cut -d' ' -f1
}

# The release string says what the kernel carries.
localversion_of() {
	case $1 in
	stock) echo "-cowswap-stock" ;;
	fixed) echo "-cowswap1" ;;
	esac
}

# ref_objects <record>: the number of objects a whole build compiled,
# for the estimate: from a finished build of the record here, else as
# measured when docs/results/distro-fix-<record>.json was committed.
ref_objects() {
	local f
	for f in "$FIXDIR/$1"-*/distrofix.done; do
		[ -f "$f" ] || continue
		sed -n 's/^objects=//p' "$f"
		return
	done
	f=$TOP/docs/results/distro-fix-$1.json
	[ -f "$f" ] || return 0
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["distro-fix"]["records"][sys.argv[2]]["kernels"]
print(max([k.get("build_objects") or 0 for k in r.values()] or [0]) or "")' "$f" "$1" 2>/dev/null || true
}

# progress <log> <ref> <t0>: a line a minute while make runs. The log
# holds every attempt of this build (a resumed one appends), so its CC
# lines count what is done; the rate is this attempt's.
progress() {
	local log=$1 ref=$2 t0=$3 n n0 el eta
	# grep -c says nothing for a log make has not created yet: 0
	n0=$(grep -c '^  CC ' "$log" 2>/dev/null || true)
	n0=${n0:-0}
	while sleep 60; do
		n=$(grep -c '^  CC ' "$log" 2>/dev/null || true)
		n=${n:-0}
		el=$(($(date +%s) - t0))
		eta=
		if [ -n "$ref" ] && [ "$n" -gt "$n0" ] && [ "$ref" -gt "$n" ]; then
			eta=", about $(((ref - n) * el / (n - n0) / 60 + 1)) min left (a whole build compiles about $ref)"
		elif [ -z "$ref" ]; then
			eta=" (no finished build to estimate from yet)"
		fi
		info "  ... $n objects compiled, $((el / 60)) min in this attempt$eta"
	done
}

# build_one <record> <variant>: build, install the module tree (only
# modules.builtin and friends: there are no modules), keep the image.
build_one() {
	local rec=$1 v=$2 karch img b key t0 secs ref n pid rc=0 tree
	read -r karch img < <(karch_of "$DEBIAN_ARCH")
	tree=$(fix_tree "$v")
	b=$FIXDIR/$rec-$v
	key=$(build_key "$rec" "$v")
	if [ -f "$b/distrofix.done" ] && [ "$(sed -n 's/^key=//p' "$b/distrofix.done")" = "$key" ] &&
		[ -f "$b/distrofix/image" ]; then
		info "$rec-$v: already built ($(sed -n 's/^seconds=//p' "$b/distrofix.done") s), not rebuilt"
		return 0
	fi
	rm -f "$b/distrofix.done"
	mkdir -p "$b"
	need_space "$b" 3000 "a kernel build"
	cmp -s "$FIXDIR/$rec/config" "$b/.config" || cp "$FIXDIR/$rec/config" "$b/.config"
	ref=$(ref_objects "$rec")
	if [ -f "$b/vmlinux.o" ] || [ -f "$b/build.log" ]; then
		info "$rec-$v: continuing the build in ${b#$TOP/} (make -j$JOBS, nice $NICE)"
	else
		info "$rec-$v: building from ${tree#$TOP/} in ${b#$TOP/} (make -j$JOBS, nice $NICE)${ref:+; a whole build compiles about $ref objects}"
	fi
	t0=$(date +%s)
	n0=$(grep -c '^  CC ' "$b/build.log" 2>/dev/null || true)
	building=$b
	progress "$b/build.log" "$ref" "$t0" &
	pid=$!
	nice -n "$NICE" make -C "$tree" O="$b" ARCH="$karch" CROSS_COMPILE="$CROSS_COMPILE" \
		LOCALVERSION="$(localversion_of "$v")" -j"$JOBS" >>"$b/build.log" 2>&1 || rc=$?
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	building=
	add_attempt "$b"
	secs=$(cat "$b/build-seconds")
	[ "$rc" = 0 ] || {
		grep -m5 -E 'error|Error' "$b/build.log" >&2 || tail -n5 "$b/build.log" >&2
		die "$rec-$v: make failed after ${secs}s (log: ${b#$TOP/}/build.log); fix it and run the same command again to continue"
	}
	# The built kernel must still be the config we made.
	"$tree/scripts/diffconfig" "$FIXDIR/$rec/config" "$b/.config" >"$b/config-drift.diff"
	[ ! -s "$b/config-drift.diff" ] ||
		die "$rec-$v: the build changed the .config (the tree's Kconfig differs?): ${b#$TOP/}/config-drift.diff"
	[ -f "$b/$img" ] || die "$rec-$v: make succeeded but left no $img"
	rm -rf "$b/distrofix.tmp"
	mkdir -p "$b/distrofix.tmp"
	make -s -C "$tree" O="$b" ARCH="$karch" CROSS_COMPILE="$CROSS_COMPILE" \
		LOCALVERSION="$(localversion_of "$v")" INSTALL_MOD_PATH="$b/distrofix.tmp/modroot" \
		modules_install >>"$b/build.log" 2>&1 || die "$rec-$v: make modules_install failed (log: ${b#$TOP/}/build.log)"
	[ ! -s "$b/modules.order" ] ||
		info "$rec-$v: modules built (not used by the boot): $(sed 's,.*/,,' "$b/modules.order" | tr '\n' ' ')"
	cp "$b/$img" "$b/distrofix.tmp/image"
	rm -rf "$b/distrofix"
	mv "$b/distrofix.tmp" "$b/distrofix"
	n=$(cat "$b/build-objects")
	{
		echo "key=$key"
		echo "seconds=$secs"
		echo "objects=$n"
		echo "release=$(cat "$b/include/config/kernel.release")"
		fix_source_lines "$tree"
		echo "date=$(date -u +%FT%TZ)"
	} >"$b/distrofix.done.tmp"
	mv "$b/distrofix.done.tmp" "$b/distrofix.done"
	info "$rec-$v: built in ${secs}s ($n objects), release $(cat "$b/include/config/kernel.release"), from ${tree#$TOP/} ($FIX_SOURCE)"
}

# builtin_check <record> <variant>: every module the record loads from
# Debian's package, and everything Debian's modules.dep says it needs,
# is built into this kernel.
builtin_check() {
	local rec=$1 v=$2 mdir dep m missing=
	mdir=$(ls -d "$FIXDIR/$rec-$v"/distrofix/modroot/lib/modules/*/)
	dep=$OUT/distro/$rec/root/lib/modules/$KREL/modules.dep
	for m in $MODULES $(for m in $MODULES; do
		grep -E "/${m//_/[-_]}\.ko[^:]*:" "$dep" | cut -d: -f2
	done); do
		m=$(basename "$m")
		m=${m%%.ko*}
		grep -qx "${m//-/_}" < <(sed 's,.*/,,; s,\.ko.*,,; s,-,_,g' "$mdir/modules.builtin") ||
			missing="$missing $m"
	done
	[ -z "$missing" ] || die "$rec-$v: not built in:$missing (add their options to configs/distro-fix.config)"
}

# boot_one <record> <variant>: boot the build with our initramfs, no
# disk (the selftest makes its own devices), as distro-check does.
boot_one() {
	local rec=$1 v=$2 b=$FIXDIR/$1-$2 d=$res/distrofix-$1-$2 params= p rc=0
	# Module parameters of the record become kernel parameters.
	for p in $MODULE_PARAMS; do params="$params $p"; done
	mkdir -p "$d"
	info "$rec-$v: booting $(sed -n 's/^release=//p' "$b/distrofix.done") under $QEMU (console: ${d#$TOP/}/console.log)"
	KERNEL=$b/distrofix/image MODULES_FROM=$b/distrofix/modroot RESULT_DIR=$d QUIET=1 DISKS=none \
		EXPECT=$(expect_of "$v") EXTRA_CMDLINE="$params" \
		"$TOP/scripts/run-qemu.sh" "distro-$rec" distro >"$d/run.log" 2>&1 || rc=$?
	[ -f "$d/qemu.exit" ] || die "$rec-$v: run-qemu.sh did not boot (see ${d#$TOP/}/run.log: $(grep -m1 'error:' "$d/run.log" || tail -n1 "$d/run.log"))"
	local qrc secs
	read -r qrc secs <"$d/qemu.exit"
	python3 "$TOP/scripts/distro_report.py" verdict --log "$d/console.log" --json "$d/verdict.json" \
		--qemu-exit "$qrc" --timeout "$TIMEOUT" --seconds "$secs" --record "$rec" \
		--package "Debian's config rebuilt ($v)" \
		--version "$(sed -n 's/^release=//p' "$b/distrofix.done")" >"$d/verdict.txt" 2>&1 || true
	info "$rec-$v: $(cat "$d/verdict.txt"); the harness's judge (results.py, MAY_SKIP of the record): $(sed -n 's/^ *"outcome": "\(.*\)",$/\1/p' "$d/result.json") (exit $rc)"
}

status=0
for rec in "$@"; do
	load_distro "$rec"
	info "=== $rec: Debian $DEBIAN_ARCH linux-image-$FLAVOUR"
	make_config "$rec"
	cp "$FIXDIR/$rec/config.diff" "$res/config-$rec.diff"
	[ "$config_only" = 0 ] || continue
	if [ "${SKIP_DEBIAN:-0}" = 1 ]; then
		info "$rec: SKIP_DEBIAN=1: Debian's own kernel not booted"
	else
		info "$rec: booting Debian's own kernel (scripts/distro-check.sh $rec)"
		"$TOP/scripts/distro-check.sh" "$rec" >"$res/distro-check-$rec.log" 2>&1 ||
			info "$rec: distro-check.sh gave no verdict for Debian's kernel (see ${res#$TOP/}/distro-check-$rec.log)"
	fi
	# shellcheck disable=SC1091
	. "$OUT/distro/$rec/kernel.env"
	for v in $FIX_VARIANTS; do
		build_one "$rec" "$v"
		builtin_check "$rec" "$v"
	done
	for v in $FIX_VARIANTS; do
		boot_one "$rec" "$v"
	done
done
[ "$config_only" = 0 ] || { info "config only: done in $(($(date +%s) - t_start))s"; exit 0; }

python3 "$TOP/scripts/distro_fix_report.py" --run "$res" --fixdir "$FIXDIR" \
	--command "$PROG $*" "$@" || status=$?
info "done in $(($(date +%s) - t_start))s; table: ${res#$TOP/}/distro-fix.md"
[ "$status" = 0 ] || die "a kernel did not come out as expected (stock must lose the data as Debian's does, fixed must pass with no new SKIP; see the table)"

# SPDX-License-Identifier: GPL-2.0
#
# cowswap: swap PTEs that remember PG_anon_exclusive, and the proof.
# Everything generated goes to out/ (override with COWSWAP_OUT=...).
# 'make help' lists the targets.

S := scripts
# out/, or COWSWAP_OUT (as scripts/lib/lib.sh has it).
OUT := $(or $(COWSWAP_OUT),$(CURDIR)/out)
# Debian's python3: its python3-* packages (matplotlib, yaml) are there,
# not in another python3 on PATH (pyenv, a venv).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
ARCH ?= x86_64
VARIANT ?= patched
# The main series' records; the 6.1-LTS ones (SERIES=lts-6.1, variants
# stock and fixed) are LTS_ARCHS, run by the lts-* targets.
LTS_ARCHS ?= $(basename $(notdir $(shell grep -l '^SERIES=lts-6.1' configs/arch/*.conf)))
# Records whose kernels build but do not boot here (configs/arch/build-only,
# NO_BOOT says why): built by lts-bisect, never booted.
LTS_BUILD_ONLY ?= $(basename $(notdir $(shell grep -l '^SERIES=lts-6.1' configs/arch/build-only/*.conf)))
ARCHS ?= $(filter-out $(LTS_ARCHS),$(basename $(notdir $(wildcard configs/arch/*.conf))))

.PHONY: help deps source source-6.12 mainline-patch mainline-selftest trees build boot demo matrix mutant bench stress smoke check ci check-patches \
	bisect selftest vmtests test-tooling docs-check unit report docs snapshot distro-check distro-fix deb affected affected-qemu nightly lts-deps lts-matrix lts-bisect lts-defconfig lava lava-artifacts lava-run sparse \
	clean distclean

help:
	@echo 'cowswap make targets (variables: ARCH=$(ARCH) VARIANT=$(VARIANT) KDIR=<6.1 tree>)'
	@echo ''
	@echo '  demo           main job: build the baseline and patched x86_64 kernels'
	@echo '                 (and upstream), boot each in QEMU with no disk (DISKS=none;'
	@echo '                 the selftest makes its own devices), show the bug and the fix'
	@echo '  check          the test command (what CI runs): patches, tooling tests,'
	@echo '                 x86_64 upstream/baseline/patched and every other'
	@echo '                 architecture patched, built and booted'
	@echo '  matrix         every architecture x {upstream,baseline,patched}'
	@echo '  nightly        the full run: matrix with every disk set, mutant, stress,'
	@echo '                 bench, distro-check, bisect, sparse, distro-fix (hours)'
	@echo ''
	@echo '  deps           install the Debian packages (root)'
	@echo '  source         import linux-source-6.1 (or KDIR=...) into out/src'
	@echo '  trees          create out/trees/{upstream,baseline,patched} (and'
	@echo '                 out/trees/v6.12 with VARIANT=v6.12)'
	@echo '  source-6.12    import Debian 13'"'"'s linux-source-6.12 (trixie, own apt'
	@echo '                 state) and create out/trees/v6.12: the v6.12 variant, a'
	@echo '                 control of today'"'"'s kernels (ARCH=<record> VARIANT=v6.12)'
	@echo '  mainline-patch  the selftest as a patch for 6.12'"'"'s selftests/mm, with the'
	@echo '                 cover letter of patches/mainline, into out/mainline/'
	@echo '  mainline-selftest  that patch on 6.12 with git am, then make headers'
	@echo '                 and TARGETS=mm in that tree: the selftest in selftests/mm'
	@echo '  build          build one kernel: ARCH=<arch> VARIANT=<variant>'
	@echo '  boot           boot it under QEMU and judge the console'
	@echo '  check-patches  baseline grep, quilt/git am, checkpatch --strict'
	@echo '  bench          benchmark (bench/README.md): needless copies, fork, swapin;'
	@echo '                 x86_64 baseline/patched/upstream and i386-pae stock/fixed'
	@echo '                 (BENCH_ARCHS=<records>), builds missing kernels'
	@echo '  stress         bounded stress test on a debug kernel (KASAN, lockdep,'
	@echo '                 DEBUG_PAGEALLOC, KFENCE): ARCH=, VARIANT='
	@echo '  mutant         patched + patches/mutants (deliberate bugs): the selftest'
	@echo '                 must fail in exactly the tests those bugs target'
	@echo '  bisect         build every architecture after every patch of the series'
	@echo '  sparse         sparse (make C=2) over the files the series touch, base vs'
	@echo '                 patched, every record of both series (SPARSE_ARCHS=<records>);'
	@echo '                 no new warning allowed'
	@echo '  smoke          the short form of each target the rest of make check'
	@echo '                 does not run, on kernels already built (docs/ci.md)'
	@echo '  selftest       build selftests/swap_exclusive for the host'
	@echo '  vmtests        6.1'"'"'s own mm selftests (tools/testing/selftests/vm) on'
	@echo '                 every built kernel of each record'"'"'s series, compared: no'
	@echo '                 test may pass without the series and fail with it'
	@echo '                 (VMTESTS_ARCHS=$(VMTESTS_ARCHS); kernels are not built)'
	@echo '  test-tooling   bad-input tests of the scripts'
	@echo '  docs-check     the docs test: make targets, repo paths and records'
	@echo '                 named in README.md and docs/ (scripts/tests/test_docs.py)'
	@echo '  unit           unit tests of the Python package (scripts/tests, committed'
	@echo '                 fixtures; seconds, no kernel; the browser test needs chromium:'
	@echo '                 scripts/deps.sh --browser)'
	@echo '  report         every run under out/results (RUN=<run> for one) as'
	@echo '                 out/report/index.html (matrix, plots), results.md, junit.xml'
	@echo '  snapshot       keep one run'"'"'s data for the docs: RUN=<run> NAME=<block>'
	@echo '                 writes docs/results/<NAME>.json (COMMAND=, COMMIT= to record);'
	@echo '                 NAME=faults-*: RUN="<run> <run> ..." may name several runs'
	@echo '  docs           fill the generated blocks of README.md and docs/*.md from'
	@echo '                 docs/results/*.json'
	@echo '  distro-check   boot Debian'"'"'s own kernel of every configs/distro record'
	@echo '                 (Debian 12; 11 and 13: bullseye-*, trixie-*) with our'
	@echo '                 initramfs: affected or not (DISTROS=<records>, JOBS=2,'
	@echo '                 DISKS=none|full)'
	@echo '  distro-fix     Debian'"'"'s own config rebuilt from Debian'"'"'s source, as shipped'
	@echo '                 (must lose data as Debian'"'"'s kernel does) and with'
	@echo '                 patches/lts-6.1 (must pass): DISTROS=<records> (default i386)'
	@echo '  deb            a Debian kernel package (bindeb-pkg) of Debian'"'"'s config for'
	@echo '                 DISTRO=<record> plus patches/lts-6.1, release 6.1.N-cowswap1;'
	@echo '                 LSMOD=<lsmod output> trims it with localmodconfig'
	@echo '  affected       is THIS machine'"'"'s kernel affected? (root) builds the selftest'
	@echo '                 (after source and the upstream tree, or with KSFT_DIR=<6.1'
	@echo '                 tree>/tools/testing/selftests), runs its O_DIRECT reproducer'
	@echo '                 on devices it makes itself, puts swap and devices back, prints'
	@echo '                 one verdict line; asks first (AFFECTED_YES=1: does not ask)'
	@echo '  affected-qemu  the same in QEMU on a Debian 12 kernel under busybox:'
	@echo '                 DISTRO=<record> (i386), AFFECTED_ARGS=--user-swap|--interrupt S'
	@echo '  lts-matrix     6.1 LTS: every LTS_ARCHS record, stock (must reproduce)'
	@echo '                 and stock + patches/lts-6.1 (must pass), no disks;'
	@echo '                 LTS_TREE=<6.1.y tree> judges that tree as the fixed side'
	@echo '  lts-bisect     6.1 LTS: build LTS_ARCHS after every patch of patches/lts-6.1'
	@echo '  lts-defconfig  6.1 LTS: the series on the kernel'"'"'s own defconfigs (vmlinux, W=1 vs stock)'
	@echo '  lava           LAVA jobs, one per record x variant, in out/lava/, checked with'
	@echo '                 LAVA'"'"'s schema (lava-common); LAVA_BASE_URL=<URL standing for out/>'
	@echo '  lava-artifacts the initramfs of every record where the jobs expect it'
	@echo '                 (out/lava/initramfs/<arch>.cpio; LAVA_ARCHS=<records>)'
	@echo '  lava-run       run the job of ARCH= VARIANT= through LAVA'"'"'s own dispatcher'
	@echo '                 (lava-run, unpacked, not installed) and judge its console'
	@echo '  clean          remove build output (keeps results, source, ccache)'
	@echo '                 of out/, or of COWSWAP_OUT when set'
	@echo '  distclean      remove out/ (COWSWAP_OUT) entirely'
	@echo ''
	@echo '  architectures: $(ARCHS)'
	@echo '  6.1 LTS architectures: $(LTS_ARCHS)'
	@echo '  6.1 LTS, built only (configs/arch/build-only): $(LTS_BUILD_ONLY)'
	@echo '  distribution records: $(basename $(notdir $(wildcard configs/distro/*.conf)))'

# With the 6.1-LTS set: CI boots the fixed kernel of two LTS records.
deps:
	$(S)/deps.sh --lts

source:
	KDIR=$(KDIR) $(S)/get-source.sh

trees: source
	$(S)/mktrees.sh
ifeq ($(VARIANT),v6.12)
	$(MAKE) source-6.12
endif

source-6.12:
	$(S)/get-source.sh 6.12
	$(S)/mktrees.sh v6.12

mainline-patch: trees
	$(S)/get-source.sh 6.12
	$(S)/mktrees.sh v6.12
	$(S)/gen-selftest-patch.sh mainline

mainline-selftest: trees
	$(S)/mainline-selftest.sh

build: trees
	$(S)/build.sh $(ARCH) $(VARIANT)

boot: build
	$(S)/run-qemu.sh $(ARCH) $(VARIANT)

demo: source
	$(S)/matrix.sh $(ARCH)@$(or $(DISKS),none)

matrix: source
	$(S)/matrix.sh $(ARCHS)

check-patches: trees
	$(S)/check-patches.sh

# The benchmark's records: the main series on x86_64 and the 6.1-LTS
# series on i386 PAE (Debian's 686-pae layout); missing kernels are built.
BENCH_ARCHS ?= x86_64 i386-pae
bench: lts-deps trees
	$(S)/mktrees.sh fixed
	$(S)/bench.sh $(BENCH_ARCHS)

stress:
	$(S)/stress.sh $(ARCH) $(VARIANT)

smoke: trees
	$(S)/smoke.sh

mutant: source
	$(S)/matrix.sh $(ARCH)/mutant

bisect: trees
	$(S)/bisect-build.sh $(ARCHS)

# 6.1's own vm selftests as a regression suite (docs/vmtests.md): every
# kernel of each record's series that is built, one boot each.
VMTESTS_ARCHS ?= x86_64 i386-pae
vmtests: trees
	$(S)/vmtests.sh $(VMTESTS_ARCHS)

# The selftest for this machine, against the upstream tree's kselftest
# directory (KSFT_DIR= another 6.1 tree's), into out/selftest.
KSFT_DIR ?= $(OUT)/trees/upstream/tools/testing/selftests
selftest: $(if $(filter $(OUT)/trees/%,$(KSFT_DIR)),trees)
	$(MAKE) -C selftests/swap_exclusive KSFT_DIR=$(KSFT_DIR) OUTPUT=$(OUT)/selftest

test-tooling: trees
	$(S)/test-tooling.sh

# Seconds, no tree needed; check.sh runs it first.
docs-check:
	$(PYTHON) -m unittest discover -s scripts/tests -t scripts -p test_docs.py

# The Python package's unit tests (scripts/cowswap, scripts/tests/test_*.py).
unit:
	$(PYTHON) -m unittest discover -s $(S)/tests -t $(S)

# Results as pages (scripts/cowswap/report.py): out/report/ from out/results.
report:
	$(PYTHON) $(S)/report.py html $(if $(RUN),--run '$(RUN)')

# docs/results/<NAME>.json from out/results/<RUN>, then 'make docs'.
snapshot:
	@[ -n '$(RUN)' ] && [ -n '$(NAME)' ] || { echo 'usage: make snapshot RUN=<run> NAME=<block name>' >&2; exit 1; }
	$(PYTHON) $(S)/report.py snapshot --run '$(RUN)' --name '$(NAME)' \
		$(if $(COMMAND),--command '$(COMMAND)') $(if $(COMMIT),--commit '$(COMMIT)') \
		$(if $(RECORDS),--records '$(RECORDS)') $(if $(ADD),--add)

docs:
	$(PYTHON) $(S)/report.py docs

# Debian's own kernels; installs its extra cross compilers and QEMU.
distro-check: trees
	$(S)/deps.sh --distro
	$(S)/distro-check.sh $(DISTROS)

# Debian's own config of each record rebuilt as shipped and with
# patches/lts-6.1, booted next to Debian's kernel (docs/distro-fix.md;
# an hour or more per record on two cores).
distro-fix: trees
	$(S)/deps.sh --distro
	$(S)/mktrees.sh fixed
	$(S)/distro-fix.sh $(or $(DISTROS),i386)

# A Debian kernel package of Debian's config for DISTRO's flavour plus
# patches/lts-6.1 (release 6.1.N-cowswap1); LSMOD=<lsmod output> trims it
# to one machine's modules (docs/distro-fix.md).
deb: trees
	$(S)/deps.sh --distro
	$(S)/mktrees.sh fixed
	LSMOD=$(LSMOD) $(S)/distro-deb.sh $(or $(DISTRO),i386)

# Is the running kernel affected? Only kselftest.h and vm_util.c of the
# upstream tree are needed, so only that tree is made (none with
# KSFT_DIR=<a 6.1 tree>/tools/testing/selftests). Either verdict is a
# success for make (the scripts exit 1 for "affected"); "cannot tell"
# and errors are not.
affected: $(if $(KSFT_DIR),,source)
	$(if $(KSFT_DIR),,$(S)/mktrees.sh upstream)
	AFFECTED_YES=$(AFFECTED_YES) KSFT_DIR=$(KSFT_DIR) $(S)/affected.sh || [ $$? = 1 ]

# The same script in QEMU on a Debian 12 kernel (affected: i386;
# not affected: amd64).
DISTRO ?= i386
affected-qemu: source
	$(S)/deps.sh --distro
	$(S)/mktrees.sh upstream
	$(S)/affected-qemu.sh $(DISTRO) $(AFFECTED_ARGS) || [ $$? = 1 ]

# The third tier: everything (hours; scripts/nightly.sh).
nightly: trees
	$(S)/deps.sh --distro
	$(S)/nightly.sh

# sparse over the files both series touch, base vs patched, every record
# (reuses finished build directories, prepares scratch ones otherwise).
# lts-deps: the LTS records' cross compilers; the fixed tree for them.
sparse: lts-deps trees
	$(S)/mktrees.sh fixed
	$(S)/sparse-check.sh $(SPARSE_ARCHS)

# The 6.1-LTS series (patches/lts-6.1) on the other architectures:
# stock must reproduce the data loss, fixed must pass. lts-deps installs
# their cross compilers and QEMU (not part of CI's 'make deps').
lts-deps:
	$(S)/deps.sh --lts

lts-matrix: lts-deps source
	DISKS=none $(S)/matrix.sh $(LTS_ARCHS)

lts-bisect: lts-deps trees
	$(S)/mktrees.sh fixed
	SERIES=lts-6.1 $(S)/bisect-build.sh $(LTS_ARCHS) $(LTS_BUILD_ONLY)

# Every LTS record's DEFCONFIGS (hours; DEFCONFIG_ARCHS= picks records).
lts-defconfig: lts-deps trees
	$(S)/mktrees.sh fixed
	$(S)/defconfig-build.sh $(DEFCONFIG_ARCHS)

# LAVA job definitions (scripts/lava-jobs.py): written, then validated
# with LAVA's own schema; a job the schema rejects fails the target.
lava:
	$(S)/lava-jobs.py generate $(if $(LAVA_BASE_URL),--base-url '$(LAVA_BASE_URL)')
	$(S)/lava-jobs.py validate

lava-artifacts: trees
	$(S)/lava-jobs.py initramfs $(LAVA_ARCHS)

# One job through lava-run on this machine (the kernel must be built).
lava-run: trees
	$(S)/deps.sh --lava-run
	$(S)/lava-run.sh $(ARCH) $(VARIANT)

# The test command (docs/ci.md).
check: deps source
	$(S)/check.sh

# clean and distclean act on $(OUT); never on /, $HOME, the repository
# or a directory that holds it (COWSWAP_OUT=.. would take the checkout).
out_guard = o=$$(realpath -m '$(OUT)'); \
	case "$(CURDIR)/" in "$${o%/}"/*) o=;; esac; [ "$$o" != "$$(realpath -m "$$HOME")" ] || o=; \
	[ -n "$$o" ] || { echo "COWSWAP_OUT=$(OUT) is /, HOME, the repository or holds it; not removing anything there" >&2; exit 1; }

# Results are evidence, not build output: clean keeps out/results (the
# report pages are made again from them); distclean removes them too.
clean:
	@$(out_guard)
	rm -rf '$(OUT)/build' '$(OUT)/report' '$(OUT)/initramfs' '$(OUT)/timings.log'

# A tree that git cannot vouch for (local changes, staged or not) stops it;
# the trees of another 6.1 point release (distro-fix) are one level down,
# trees/distro-6.1.N/{stock,fixed}.
distclean:
	@$(out_guard); for t in '$(OUT)'/trees/* '$(OUT)'/trees/distro-*/*; do [ -d "$$t" ] || continue; \
		case "$$t" in */trees/distro-*/*) ;; */trees/distro-*) continue ;; esac; \
		git -C "$$t" diff --quiet HEAD 2>/dev/null || \
		{ echo "$$t has local changes; not removing $(OUT)" >&2; exit 1; }; done
	rm -rf '$(OUT)'

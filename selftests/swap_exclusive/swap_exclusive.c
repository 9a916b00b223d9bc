// SPDX-License-Identifier: GPL-2.0
/*
 * swap_exclusive - does an anonymous page stay "exclusive" across swap?
 *
 * The bug
 * -------
 * Whether a write to a private anonymous page may happen in place or must
 * copy the page (COW) is decided from PG_anon_exclusive ("only this process
 * maps the page").  Reclaim clears that flag when it turns the PTE into a
 * swap entry.  Without the fix the flag is simply forgotten, and when the
 * page is faulted back in (do_swap_page()) or brought back by swapoff
 * (unuse_pte()) the kernel has to guess exclusivity from the page's
 * reference count.  Any extra reference spoils the guess.  An O_DIRECT read
 * holds exactly such a reference (6.1 pins the destination page with
 * FOLL_GET | FOLL_WRITE and DMAs into it later), so:
 *
 *   1. start an O_DIRECT read into the first bytes of a page;
 *   2. while it is in flight, swap the page out (MADV_PAGEOUT): the PTE
 *      becomes a swap entry, the page stays in the swap cache because the
 *      read still holds it;
 *   3. write another byte of the same page: the write fault swaps it in,
 *      cannot prove exclusivity and copies the page;
 *   4. the read completes into the old page: its data is lost.
 *
 * The fix keeps the exclusive information in a spare bit of the swap PTE
 * (__HAVE_ARCH_PTE_SWP_EXCLUSIVE), cleared when fork() shares the entry,
 * honoured by do_swap_page() and unuse_pte(), never for KSM pages, and
 * dropped only for a swap-cache page still under writeback to a swap area
 * that needs stable pages during writeback (SWP_STABLE_WRITES).
 *
 * Structure
 * ---------
 * A table of checks is crossed with a table of setups.  A setup decides
 * where the page goes and how it comes back; during a setup its backend is
 * the only active swap area (the others are switched off and restored
 * afterwards) so that MADV_PAGEOUT goes where intended:
 *
 *   fault    swap on a disk (COWSWAP_SWAP_DEV, else the active swap area,
 *            else a null_blk); the page comes back through a page fault.
 *   swapoff  same disk; the page comes back through swapoff (unuse_pte());
 *            the area is switched on again afterwards.
 *   zram     swap on a freshly created zram device; page fault.
 *   stable   swap on a slow-writeback device (COWSWAP_SLOW_SWAP_DEV or a
 *            null_blk with a completion delay) with queue/stable_writes=1
 *            (sampled by swapon); page fault.
 *   thp_whole, thp_pte, thp_subpage, thp_partial
 *            swap on a null_blk of the test's own (non-rotational: swap
 *            can take a THP whole) whose writes complete 10 ms late, THP
 *            enabled (at least madvise; put back afterwards); the check's
 *            page is a subpage (never the first) of a THP of the
 *            architecture's size (hpage_pmd_size), and a second subpage
 *            is "the other one":
 *              thp_whole    PMD-mapped, paged out whole: with THP_SWAP
 *                           (x86_64, arm64 with 4K pages) it goes to swap
 *                           as one and stays in the swap cache
 *              thp_pte      PTE-mapped (the PMD split by mprotect() of a
 *                           subpage and back), paged out whole
 *              thp_subpage  PMD-mapped, only the check's subpage paged out
 *              thp_partial  paged out whole, then its first half faulted
 *                           back in by reads: a large folio in the swap
 *                           cache, half mapped, half swap entries
 *            In 6.1 a THP with a reference on it cannot be paged out:
 *            MADV_PAGEOUT splits a PTE-mapped THP, and the THP of which one
 *            subpage is paged out, before paging anything out, reclaim
 *            swaps a THP out whole only if it could split it, and
 *            split_huge_page() fails while anybody else holds a reference.
 *            So checks that hold references across the page-out (an
 *            O_DIRECT read, a pipe) get thp_pte and thp_subpage split
 *            first (MADV_COLD splits the same way; the page carries its
 *            PG_anon_exclusive through the split), take no pipe
 *            reference on thp_whole and thp_partial (the THP's own swap
 *            cache references are what trips the pre-fix kernel there),
 *            and odirect_inflight, whose read must be in flight during
 *            the page-out, does not run on those two.  thp_whole and
 *            thp_partial SKIP where the THP was split to be swapped out
 *            (no THP_SWAP).  No THP support, THP disabled for good or no
 *            THP allocated (AnonHugePages) is a SKIP saying so.
 *   memcg    the fault setup's disk, and the worker moved into a cgroup v2
 *            memory cgroup of its own (cgroup_helpers.c; cgroup2 mounted
 *            on a temporary directory when nothing is mounted, +memory
 *            enabled): pages are reclaimed through the cgroup's
 *            memory.reclaim, the kernel's own limit reclaim, not
 *            MADV_PAGEOUT.  No cgroup v2 memory controller is a SKIP
 *            naming CONFIG_MEMCG.
 *   faulty   swap on a dm device of the test's own over a null_blk whose
 *            table is switched at will between linear and dm-flakey set
 *            to be down all the time (test_devs.c): writes fail, or reads
 *            and writes fail, then it recovers.  The kernel's "Write-error"
 *            and "Read-error on swap-device" lines are announced in the
 *            kernel log ("cowswap: expect swap-io-error begin" ... "end",
 *            see test_util.h) so that a judge of the console tells them
 *            from trouble.  No flakey target is a SKIP naming
 *            CONFIG_DM_FLAKEY.
 *
 * Every applicable (check, setup) pair is one TAP line "<check>/<setup>".
 * Several checks keep a second reference on the page with vmsplice() (a
 * read-only FOLL_GET reference held by a pipe): reclaim then leaves the
 * page in the swap cache without writing it, so the physical page (PFN in
 * /proc/self/pagemap, root only) survives the round trip and a copy is
 * visible, and the old refcount heuristic is guaranteed to fail.
 *
 *   odirect_inflight   steps 1-4 above with a one-block read from the
 *                      slow source (dm-delay, or the throttled disk
 *                      COWSWAP_SLOW_READ_DEV at ~4 IOPS, where a warm-up
 *                      read first uses up the throttle budget), so the
 *                      read stays in flight for 150-250 ms.  On thp_pte
 *                      and thp_subpage the read lands in one subpage,
 *                      another subpage is written first, then the read's.
 *                      -n iterations; reports how many lost data and how
 *                      many changed PFN.  With the swapoff setup the page
 *                      comes back via swapoff before the write.  FAIL if
 *                      any iteration lost data, SKIP if no iteration got
 *                      the page swapped out with the read still in flight;
 *                      but PASS when the page stayed mapped whenever the
 *                      read was still in flight (and at least once) and a
 *                      page without a read is swapped out: the kernel does not unmap a page
 *                      O_DIRECT pinned (FOLL_PIN, 6.2 and later), so the
 *                      loss cannot happen there.
 *   odirect_racy       the same from the fast source (dm-delay of about a
 *                      jiffy, COWSWAP_FAST_READ_DEV): a reader thread and the main
 *                      thread race with random head starts, capped by -r
 *                      iterations and -t seconds.  An iteration "hit" the
 *                      window when the page became a swap entry without
 *                      being written to swap (pswpout unchanged: the read
 *                      held it) and was written before the read returned.
 *                      FAIL if any iteration lost data, SKIP if none hit.
 *   odirect_clear_refs odirect_inflight, but the page is swapped in by a
 *                      read access and then write-protected for soft-dirty
 *                      tracking (clear_refs 4) before the write.
 *   fork_after_swapout_parent_first / _child_first
 *                      fill, page out, fork; parent and child write the
 *                      same byte in turn (pipes sequence them), the first
 *                      writer paging its page out again before the other
 *                      looks: neither may see the other's write.  Catches
 *                      fork() not clearing the marker in the swap PTEs.
 *   reuse_pfn          exclusive page with an extra reference, paged out and
 *                      brought back with a write: same PFN (written in
 *                      place).  The refcount heuristic alone would copy.
 *   shared_copy        the same page shared with a child forked after the
 *                      swap-out: the parent's write must get a new PFN and
 *                      the child must still see the old contents (a child
 *                      is kept away from a page written in place: its
 *                      swapin would hit a BUG_ON instead).
 *   ksm                two identical pages merged by KSM; one mapping is
 *                      dropped (6.1's MADV_PAGEOUT skips pages mapped twice),
 *                      the KSM page is paged out, read back, merged again
 *                      with a fresh identical page, then written: the write
 *                      must copy (new PFN), the other page, the pipe's view
 *                      of the KSM page and the content must stay intact.
 *   ksm_write          the same KSM page, but written right away: the write
 *                      fault on the swap entry must copy too (this is the
 *                      one where do_swap_page() decides about the KSM page).
 *   softdirty          soft-dirty survives next to the marker: set before
 *                      swap-out it shows on the swap entry (pagemap bit 55)
 *                      and after the write fault, and the page is reused
 *                      (same PFN); cleared by clear_refs on the swap entry
 *                      it must not take the marker with it.
 *   uffd_wp            a uffd-wp protected page: bit 57 on the swap entry,
 *                      still set after a read swap-in, and after un-protect
 *                      the write reuses the page (same PFN).
 *   uffd_wp_swapped    uffd-wp changed on the swap entry itself
 *                      (UFFDIO_WRITEPROTECT of a swapped-out page): protected
 *                      there, read back (still protected), un-protected and
 *                      written: same PFN; then protected and un-protected
 *                      both on the swap entry and written: no uffd-wp, same
 *                      PFN.  Catches a marker lost when the uffd-wp bit of
 *                      a swap PTE changes.
 *   softdirty_swapped  clear_refs on the swap entry, then a read swap-in
 *                      (not soft-dirty, same page) and a write, which must
 *                      reuse the page (the read mapped it exclusive) and
 *                      make it soft-dirty.
 *   stable_writes_on_copies / stable_writes_off_reuses   (stable setup)
 *                      -p pages, each paged out and written immediately,
 *                      while still under writeback (slow disk, checked in
 *                      /proc/kpageflags): with stable_writes=1 every such
 *                      page must be copied (new PFN), with stable_writes=0
 *                      written in place (same PFN); no data may be lost.
 *                      This tells the fixed kernel (0/N and N/N), the
 *                      pre-fix kernel (N/N copied either way) and an
 *                      inverted stable-writes test apart.
 *   race_write_write / race_read_write
 *                      two threads (2 CPUs needed) fault on the same swap
 *                      entry at the same moment, two writes to different
 *                      bytes or a read and a write; the page is in the swap
 *                      cache with no other reference (a pipe held it while
 *                      it was paged out).  Both writes must land, the read
 *                      must see the old data, the page must be mapped once
 *                      and still be the same page (PFN).  -f iterations,
 *                      -T seconds at most, 20 overlapping ones suffice; the
 *                      threads are pinned to two CPUs and one starts late
 *                      by a random number of spins.  An iteration
 *                      "overlapped" when both threads took a page fault for
 *                      their access (getrusage(RUSAGE_THREAD)) and the two
 *                      accesses were in progress at the same time (tickets
 *                      drawn from a shared counter before and after each:
 *                      guest clocks may tick in jiffies); the counts are
 *                      printed, SKIP if none overlapped.  The pre-fix kernel
 *                      copies when the other fault holds its reference at
 *                      the decision, and after any read swap-in.
 *   race_read_wp       a read fault on the swap entry while another thread
 *                      write-protects the page (UFFDIO_WRITEPROTECT, which
 *                      like a fault holds mmap_lock only for reading).
 *                      Whichever goes first, the page must end up
 *                      protected: a fault that rechecked only the swap entry
 *                      under the PT lock and kept the flags it read before
 *                      would undo the protection.  Overlap counted as above
 *                      (the read faulted).  There is no soft-dirty twin:
 *                      clear_refs holds mmap_lock for writing in 6.1.
 *   fork_race_swapin   fork() in one thread while another write-faults a
 *                      swapped-out exclusive page back in (-f/4 iterations);
 *                      the child's copy must match the order of the two
 *                      where the tickets tell it, and then parent and
 *                      child take turns writing, paging out again after each
 *                      look: neither may see the other's later writes.
 *   iouring_fixed_buf  a swapped-out page (a pipe holding it) registered as
 *                      an io_uring fixed buffer (IORING_REGISTER_BUFFERS:
 *                      FOLL_PIN | FOLL_LONGTERM) must be pinned in place
 *                      (same PFN); paged out (6.1 leaves a pinned exclusive
 *                      page mapped) and written it stays the same page; an
 *                      IORING_OP_READ_FIXED from a memfd must land in the
 *                      page the process sees.  Raw io_uring system calls;
 *                      SKIP naming CONFIG_IO_URING on ENOSYS.
 *   fork_odirect_inflight
 *                      fork() while an O_DIRECT read is in flight into a
 *                      swapped-out page, the child writing its copy while
 *                      the read is in flight: the child never sees the
 *                      read's data, the parent gets it and never the
 *                      child's write.  (A child that only reads shares the
 *                      page the read lands in: FOLL_GET references taken
 *                      before fork() were never reliable.)  SKIP if the
 *                      read was over before the child wrote.  Where the
 *                      page stays mapped while the read is in flight and a
 *                      page without a read swaps out (O_DIRECT pinned it,
 *                      6.2 and later), the same is asked of the fork() of
 *                      the pinned page, and a PASS says so.
 *   swapoff_writeback  (stable) -p pages paged out and swapped off while
 *                      their writeback runs: swapoff succeeds, every page
 *                      is back intact and is written in place afterwards;
 *                      FAIL if no page was under writeback at swapoff.
 *   memcg_oom_swapin   (memcg) a child in a cgroup of its own locks all it
 *                      has but 32 paged-out pages, its memory.max is set
 *                      to what it uses (memory.current once the per-cpu
 *                      charges made ahead are drained: with 64K pages
 *                      they alone covered the swap-in), then it touches
 *                      the pages: the swap-in cannot be charged.  It must
 *                      be killed by the memcg OOM killer or get its pages
 *                      intact, the worker's own paged-out memory must stay
 *                      as it was, and the swap-in must have hit the limit
 *                      (memory.events max) or nothing was tested (FAIL).
 *                      The OOM report is announced as expected
 *                      ("memcg-oom").
 *   swapout_error, swapout_error_odirect   (faulty)
 *                      16 pages paged out while the device fails writes:
 *                      each page must stay in the swap cache (counted from
 *                      /proc/kpageflags: dirty, in the swap cache; FAIL if
 *                      none did: no fault was injected), come back intact,
 *                      go out for good once the device works; then swapoff
 *                      succeeds and SwapTotal/SwapFree in /proc/meminfo are
 *                      back where they started.  _odirect: an O_DIRECT read
 *                      in flight into page 0 (held, so never written) is
 *                      written meanwhile: the read's data must land there.
 *   swapin_error, swapin_error_odirect   (faulty)
 *                      16 pages paged out to the working device, which then
 *                      fails every read: each page must read back intact or
 *                      raise SIGBUS, never wrong data (FAIL if no SIGBUS
 *                      came: no fault was injected), the same after the
 *                      device recovers and after swapoff, which must
 *                      succeed; counters as above.  _odirect as above, the
 *                      held page coming from the swap cache, or (pinned,
 *                      6.2 and later) never leaving the page table while
 *                      the other 15 are swapped out.
 *
 * PFN based verdicts are only given while the old page provably still
 * exists (in the swap cache or under writeback, from /proc/kpageflags), so
 * a freed and reallocated page frame cannot fake a "same PFN".
 *
 * Expected results: the fixed kernel passes everything (SKIPs where a
 * feature is missing: soft-dirty and uffd-wp on arm64, uffd-wp on s390x
 * and ppc64 in 6.1, a THP swapped out whole without THP_SWAP, the races
 * with one CPU).  The pre-fix kernel fails odirect_* (data lost),
 * reuse_pfn, softdirty, uffd_wp, uffd_wp_swapped, softdirty_swapped,
 * iouring_fixed_buf, race_write_write and race_read_write (page copied)
 * and stable_writes_off_reuses (N/N copied), and swapout_error_odirect and
 * swapin_error_odirect (data lost, as odirect_inflight); fork_*,
 * fork_race_swapin, shared_copy, ksm, ksm_write, race_read_wp,
 * stable_writes_on_copies, swapoff_writeback, memcg_oom_swapin,
 * swapout_error and swapin_error pass there (copying too often is safe;
 * the fault checks test robustness, not the bug).  The mutant kernel
 * (patches/mutants) shows the others can fail: not clearing the marker at
 * fork() fails fork_*, fork_race_swapin and shared_copy, treating a KSM
 * page as exclusive on swap-in fails ksm_write (fault and zram; swapoff
 * maps it read-only), an inverted stable-writes test fails both
 * stable_writes lines, a swapin that rechecks only the swap entry under
 * the PT lock fails race_read_wp, a THP swapped out without the marker in
 * its subpages fails reuse_pfn on thp_whole and thp_partial, and a marker
 * dropped when uffd-wp changes on the swap entry fails uffd_wp_swapped.
 *
 * Options: -n iterations of the in-flight checks (default 8), -r/-t caps
 * of odirect_racy, -p pages of the stable_writes checks, -k KSM merge
 * timeout, -f/-T iteration and time caps of the race_* checks (default
 * 400 and 3 s; each stops early after 20 overlapping iterations),
 * -s <substring> selects "<check>/<setup>" names
 * (repeatable), -l lists them, -v is verbose, -h helps.
 *
 * Devices.  The test needs no disk: for every role nobody named it makes
 * its own (test_devs.c) and removes it afterwards:
 *   O_DIRECT sources      dm-delay (reads wait 250 ms, or about a jiffy for
 *                         the racy check, before they are passed down, so
 *                         the data lands late, as a DMA would) over a
 *                         memory-backed null_blk holding the test pattern
 *   swap (fault, swapoff) the active swap area with the highest priority,
 *                         else a 128 MiB memory-backed null_blk
 *   zram                  a hot-added zram device
 *   stable                a memory-backed null_blk whose requests complete
 *                         250 ms after submission: pages stay under
 *                         writeback that long
 * mkswap only ever runs on a device the test made or one named below.
 *   faulty                linear / dm-flakey over a 32 MiB null_blk
 *   memcg                 a cgroup v2 memory cgroup (cgroup2 mounted on a
 *                         temporary directory when none is)
 * Missing kernel support is a SKIP naming the option (CONFIG_BLK_DEV_NULL_BLK,
 * CONFIG_CONFIGFS_FS, CONFIG_BLK_DEV_DM, CONFIG_DM_DELAY, CONFIG_ZRAM,
 * CONFIG_DM_FLAKEY, CONFIG_MEMCG);
 * modules are loaded with modprobe when it is on $PATH.
 *
 * Environment (optional; the QEMU harness names its virtio disks; root):
 *   COWSWAP_SLOW_READ_DEV  read-only disk, reads throttled (odirect_*)
 *   COWSWAP_FAST_READ_DEV  read-only disk with the same content (racy)
 *   COWSWAP_SWAP_DEV       swap disk, already mkswap'ed and active
 *   COWSWAP_SLOW_SWAP_DEV  write-throttled disk for the stable setup; it is
 *                          overwritten with a swap header
 *   COWSWAP_ZRAM=0         leave the zram setup out
 *   COWSWAP_ODIRECT_DIR    a directory for an odirect_racy temporary file
 *                          (instead of the null_blk) when
 *                          COWSWAP_FAST_READ_DEV is unset
 *
 * Files.  This one holds the tables of checks and setups and main();
 * setups.c and thp.c the setups and the memory a check takes (a base page
 * or a THP subpage); pageout.c paging out with a reference held; one file
 * of checks a concern: odirect.c (odirect_*, fork_odirect_inflight),
 * cow.c (fork_after_swapout_*, reuse_pfn, shared_copy), ksm.c,
 * softdirty_uffd.c, stable_writes.c (stable_writes_*, swapoff_writeback),
 * races.c (race_*, fork_race_swapin), io_uring.c, memcg.c (the memcg
 * setup, memcg_oom_swapin) and faults.c (the faulty setup, swapout_error*,
 * swapin_error*); supervisor.c the watchdog and the restore.
 * test_util.c, swap_helpers.c, pagemap.c, test_devs.c and cgroup_helpers.c
 * need no kselftest.h: the cowswap stress test and benchmark link them too.
 *
 * The checks run in a child process; the parent (supervise()) ends a check
 * that hangs for CHECK_TIMEOUT s with "Bail out!", and whatever happened
 * (watchdog, SIGINT/SIGTERM/SIGHUP, a crash) puts back the swap areas,
 * KSM and THP settings, stable_writes and removes the devices and
 * cgroups made here.
 * Missing preconditions (not root, feature not configured) make the
 * affected lines SKIP; the kernel misbehaving (data lost, a short O_DIRECT
 * read, clear_refs or uffd un-protect without effect, a page leaving the
 * swap cache despite a held reference) is FAIL, and a check that already
 * saw data lost stays FAIL whatever stops it later.
 */
#include "swap_exclusive.h"

struct options opt = {
	.iterations = 8,
	.racy_max = 2000,
	.racy_secs = 3,
	.stable_pages = 10,
	.ksm_secs = 20,
	.race_iters = 400,
	.race_secs = 3,
};

struct environment env;
long ps;
unsigned int pattern_seq;

static const struct setup setups[NR_SETUPS] = {
	[SETUP_FAULT]	= { "fault",   false, setup_disk,   teardown_disk },
	[SETUP_SWAPOFF]	= { "swapoff", true,  setup_disk,   teardown_disk },
	[SETUP_ZRAM]	= { "zram",    false, setup_zram,   teardown_zram },
	[SETUP_STABLE]	= { "stable",  false, setup_stable, teardown_stable },
	[SETUP_THP_WHOLE]   = { "thp_whole",   false, setup_thp, teardown_thp, MEM_THP_WHOLE },
	[SETUP_THP_PTE]     = { "thp_pte",     false, setup_thp, teardown_thp, MEM_THP_PTE },
	[SETUP_THP_SUBPAGE] = { "thp_subpage", false, setup_thp, teardown_thp, MEM_THP_SUBPAGE },
	[SETUP_THP_PARTIAL] = { "thp_partial", false, setup_thp, teardown_thp, MEM_THP_PARTIAL },
	[SETUP_MEMCG]	= { "memcg",   false, setup_memcg,  teardown_memcg },
	[SETUP_FAULTY]	= { "faulty",  false, setup_faulty, teardown_faulty },
};

#ifndef BIT
#define BIT(nr)		(1UL << (nr))
#endif

#define S_FAULT		BIT(SETUP_FAULT)
#define S_SWAPOFF	BIT(SETUP_SWAPOFF)
#define S_ZRAM		BIT(SETUP_ZRAM)
#define S_STABLE	BIT(SETUP_STABLE)
#define S_MEMCG		BIT(SETUP_MEMCG)
#define S_FAULTY	BIT(SETUP_FAULTY)
#define S_THP_SPLIT	(BIT(SETUP_THP_PTE) | BIT(SETUP_THP_SUBPAGE))
#define S_THP		(S_THP_SPLIT | BIT(SETUP_THP_WHOLE) | BIT(SETUP_THP_PARTIAL))

struct check {
	const char *name;
	unsigned int setups;
	enum res (*run)(struct setup_ctx *c, char *why);
};

static const struct check checks[] = {
	{ "odirect_inflight",  S_FAULT | S_SWAPOFF | S_ZRAM | S_STABLE | S_THP_SPLIT | S_MEMCG,
	  check_odirect_inflight },
	{ "odirect_racy",      S_FAULT | S_ZRAM,                        check_odirect_racy },
	{ "odirect_clear_refs", S_FAULT | S_SWAPOFF | S_ZRAM,           check_odirect_clear_refs },
	{ "fork_after_swapout_parent_first", S_FAULT | S_SWAPOFF | S_ZRAM | S_THP,
	  check_fork_parent_first },
	{ "fork_after_swapout_child_first",  S_FAULT | S_SWAPOFF | S_ZRAM | S_THP,
	  check_fork_child_first },
	{ "reuse_pfn",         S_FAULT | S_SWAPOFF | S_ZRAM | S_STABLE | S_THP, check_reuse_pfn },
	{ "shared_copy",       S_FAULT | S_SWAPOFF | S_ZRAM | S_THP,    check_shared_copy },
	{ "ksm",               S_FAULT | S_SWAPOFF | S_ZRAM,            check_ksm },
	{ "ksm_write",         S_FAULT | S_SWAPOFF | S_ZRAM,            check_ksm_write },
	{ "softdirty",         S_FAULT | S_SWAPOFF | S_ZRAM,            check_softdirty },
	{ "uffd_wp",           S_FAULT | S_SWAPOFF | S_ZRAM,            check_uffd_wp },
	{ "stable_writes_on_copies",  S_STABLE,                          check_stable_on },
	{ "stable_writes_off_reuses", S_STABLE,                          check_stable_off },
	{ "race_write_write",  S_FAULT | S_ZRAM,                        check_race_write_write },
	{ "race_read_write",   S_FAULT | S_ZRAM,                        check_race_read_write },
	{ "race_read_wp",      S_FAULT | S_ZRAM,                        check_race_read_wp },
	{ "fork_race_swapin",  S_FAULT | S_ZRAM,                        check_fork_race_swapin },
	{ "uffd_wp_swapped",   S_FAULT | S_SWAPOFF | S_ZRAM,            check_uffd_wp_swapped },
	{ "softdirty_swapped", S_FAULT | S_SWAPOFF | S_ZRAM,            check_softdirty_swapped },
	{ "iouring_fixed_buf", S_FAULT | S_SWAPOFF | S_ZRAM,            check_iouring_fixed_buf },
	{ "fork_odirect_inflight", S_FAULT,                  check_fork_odirect_inflight },
	{ "swapoff_writeback", S_STABLE,                                check_swapoff_writeback },
	{ "memcg_oom_swapin",  S_MEMCG,                                 check_memcg_oom_swapin },
	{ "swapout_error",     S_FAULTY,                                check_swapout_error },
	{ "swapout_error_odirect", S_FAULTY,                 check_swapout_error_odirect },
	{ "swapin_error",      S_FAULTY,                                check_swapin_error },
	{ "swapin_error_odirect", S_FAULTY,                  check_swapin_error_odirect },
};

static bool selected(const struct check *ck, const struct setup *s)
{
	char name[128];
	int i;

	if (!(ck->setups & (1u << (s - setups))))
		return false;
	if (!opt.nr_select)
		return true;
	snprintf(name, sizeof(name), "%s/%s", ck->name, s->name);
	for (i = 0; i < opt.nr_select; i++)
		if (strstr(name, opt.select[i]))
			return true;
	return false;
}

static void print_usage(const char *prog, int code)
{
	size_t i;
	int s;

	printf("usage: %s [-n iterations] [-r racy_max] [-t racy_seconds] [-p stable_pages]\n"
	       "          [-k ksm_seconds] [-f race_iterations] [-T race_seconds]\n"
	       "          [-s substring]... [-l] [-v] [-h]\n"
	       "  -n N   O_DIRECT in-flight iterations (default %d)\n"
	       "  -r N   iteration cap of odirect_racy (default %d)\n"
	       "  -t S   time cap of odirect_racy in seconds (default %d)\n"
	       "  -p N   pages per stable_writes check (default %d)\n"
	       "  -k S   KSM merge timeout in seconds (default %d)\n"
	       "  -f N   iterations of each race_* check (default %d; fork_race_swapin: N/4)\n"
	       "  -T S   time cap of each race_* check in seconds (default %d)\n"
	       "  -s STR run only <check>/<setup> names containing STR (repeatable)\n"
	       "  -l     list the <check>/<setup> names and exit\n"
	       "  -v     verbose\n"
	       "Environment: COWSWAP_SLOW_READ_DEV, COWSWAP_FAST_READ_DEV, COWSWAP_SWAP_DEV,\n"
	       "  COWSWAP_SLOW_SWAP_DEV, COWSWAP_ZRAM, COWSWAP_ODIRECT_DIR (see the source).\n"
	       "Tests:\n", prog, opt.iterations, opt.racy_max, opt.racy_secs,
	       opt.stable_pages, opt.ksm_secs, opt.race_iters, opt.race_secs);
	for (s = 0; s < NR_SETUPS; s++)
		for (i = 0; i < ARRAY_SIZE(checks); i++)
			if (checks[i].setups & (1u << s))
				printf("  %s/%s\n", checks[i].name, setups[s].name);
	exit(code);
}

static int pos_arg(const char *s, const char *prog)
{
	long v;

	if (parse_num(s, 0, 1000000, &v))
		print_usage(prog, KSFT_FAIL);
	return (int)v;
}

/* Where the number of option o goes, NULL when o takes none. */
static int *num_opt(int o)
{
	static const struct {
		char opt;
		int *val;
	} nums[] = {
		{ 'n', &opt.iterations }, { 'r', &opt.racy_max }, { 't', &opt.racy_secs },
		{ 'p', &opt.stable_pages }, { 'k', &opt.ksm_secs }, { 'f', &opt.race_iters },
		{ 'T', &opt.race_secs },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(nums); i++)
		if (nums[i].opt == o)
			return nums[i].val;
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned int plan = 0;
	bool list = false;
	size_t i;
	int o, s;

	while ((o = getopt(argc, argv, "n:r:t:p:k:f:T:s:lvh")) != -1) {
		if (num_opt(o)) {
			*num_opt(o) = pos_arg(optarg, argv[0]);
			continue;
		}
		switch (o) {
		case 's':
			if (opt.nr_select < (int)ARRAY_SIZE(opt.select))
				opt.select[opt.nr_select++] = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			print_usage(argv[0], KSFT_PASS);
			break;
		default:
			print_usage(argv[0], KSFT_FAIL);
		}
	}
	if (optind < argc)
		print_usage(argv[0], KSFT_FAIL);
	if (opt.iterations < 1)
		opt.iterations = 1;
	if (opt.stable_pages < 1)
		opt.stable_pages = 1;

	if (list) {
		for (s = 0; s < NR_SETUPS; s++)
			for (i = 0; i < ARRAY_SIZE(checks); i++)
				if (selected(&checks[i], &setups[s]))
					printf("%s/%s\n", checks[i].name, setups[s].name);
		return KSFT_PASS;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	ps = sysconf(_SC_PAGESIZE);
	env.slow_read = getenv_nonempty("COWSWAP_SLOW_READ_DEV");
	env.fast_read = getenv_nonempty("COWSWAP_FAST_READ_DEV");
	env.swap_dev = getenv_nonempty("COWSWAP_SWAP_DEV");
	env.slow_swap = getenv_nonempty("COWSWAP_SLOW_SWAP_DEV");
	env.odirect_dir = getenv_nonempty("COWSWAP_ODIRECT_DIR");
	env.zram = !getenv_nonempty("COWSWAP_ZRAM") || strcmp(getenv("COWSWAP_ZRAM"), "0");
	env.root = geteuid() == 0;

	for (s = 0; s < NR_SETUPS; s++)
		for (i = 0; i < ARRAY_SIZE(checks); i++)
			plan += selected(&checks[i], &setups[s]);

	return supervise(plan);
}

/* One check on a prepared setup: its TAP line. */
static void run_check(const struct check *ck, struct setup_ctx *ctx)
{
	const char *sname = ctx->setup->name;
	char why[WHY_LEN] = "";
	enum res r;
	double t0;

	phase_set("%s/%s", ck->name, sname);
	t0 = now();
	r = ck->run(ctx, why);
	vmsg("%s/%s took %.1f s\n", ck->name, sname, now() - t0);
	if (r == RES_PASS) {
		ksft_test_result_pass("%s/%s\n", ck->name, sname);
	} else if (r == RES_SKIP) {
		ksft_test_result_skip("%s/%s: %s\n", ck->name, sname, why);
	} else {
		ksft_print_msg("%s/%s: %s\n", ck->name, sname, why);
		ksft_test_result_fail("%s/%s\n", ck->name, sname);
	}
}

/* Every selected check on setup s (a SKIP each when it cannot be prepared). */
static void run_setup(int s)
{
	struct setup_ctx ctx;
	char setup_why[WHY_LEN] = "";
	enum res sres = RES_SKIP;
	bool any = false;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(checks); i++)
		any |= selected(&checks[i], &setups[s]);
	if (!any)
		return;
	memset(&ctx, 0, sizeof(ctx));
	ctx.setup = &setups[s];
	ctx.zram.id = -1;
	ctx.stable_orig = -1;
	phase_set("setup %s", setups[s].name);
	sres = setups[s].prepare(&ctx, setup_why);
	if (sres == RES_PASS)
		ksft_print_msg("setup %s: swap on %s only\n", setups[s].name, ctx.dev);

	for (i = 0; i < ARRAY_SIZE(checks); i++) {
		if (!selected(&checks[i], &setups[s]))
			continue;
		if (sres != RES_PASS)
			ksft_test_result_skip("%s/%s: %s\n", checks[i].name,
					      setups[s].name, setup_why);
		else
			run_check(&checks[i], &ctx);
	}
	phase_set("teardown %s", setups[s].name);
	if (sres == RES_PASS)
		setups[s].teardown(&ctx);
}

/* The worker: every selected check on every setup, TAP on stdout. */
int run_checks(unsigned int plan)
{
	uint64_t flags;
	int s, kpf_err;

	ksft_print_header();
	ksft_set_plan(plan);
	if (fatal_signal_report())
		ksft_print_msg("cannot report a fatal signal: %s\n", strerror(errno));
	if (pagemap_open())
		ksft_print_msg("cannot open /proc/self/pagemap: %s\n", strerror(errno));
	env.pfn_visible = pagemap_shows_pfn();
	kpf_err = env.pfn_visible ? kpageflags_get(page_pfn(&plan), &flags) : -ENOENT;
	env.kpageflags = !kpf_err;
	if (kpf_err == -ENODATA)
		ksft_print_msg("/proc/kpageflags ends before PFN %#llx: max_pfn is below it\n",
			       (unsigned long long)page_pfn(&plan));
	else if (env.pfn_visible && kpf_err)
		ksft_print_msg("cannot read /proc/kpageflags: %s\n", strerror(-kpf_err));
	ksft_print_msg("page size %ld, root %d, PFNs visible %d, kpageflags %d, soft-dirty %d\n",
		       ps, env.root, env.pfn_visible, env.kpageflags, soft_dirty_supported());
	ksft_print_msg(
		"named devices: slow read %s, fast read %s, swap %s, slow swap %s (the test makes its own for each one not named); zram %s\n",
		env.slow_read ?: "-", env.fast_read ?: "-", env.swap_dev ?: "-",
		env.slow_swap ?: "-", env.zram ? "yes" : "no");

	for (s = 0; s < NR_SETUPS; s++)
		run_setup(s);
	phase_set("cleanup");
	odirect_cleanup();
	pagemap_close();

	if (ksft_get_fail_cnt())
		ksft_exit_fail();
	if (!ksft_get_pass_cnt() && ksft_get_xskip_cnt()) {
		ksft_print_cnts();
		exit(KSFT_SKIP);
	}
	ksft_finished();
	return KSFT_PASS;
}

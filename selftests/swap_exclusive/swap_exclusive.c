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
 *                      the page swapped out with the read still in flight.
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
 * and stable_writes_off_reuses (N/N copied); fork_*, fork_race_swapin,
 * shared_copy, ksm, ksm_write, race_read_wp and stable_writes_on_copies
 * pass there (copying too often is safe).  The mutant kernel
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
 * Missing kernel support is a SKIP naming the option (CONFIG_BLK_DEV_NULL_BLK,
 * CONFIG_CONFIGFS_FS, CONFIG_BLK_DEV_DM, CONFIG_DM_DELAY, CONFIG_ZRAM);
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
 * The checks run in a child process; the parent (supervise()) ends a check
 * that hangs for CHECK_TIMEOUT s with "Bail out!", and whatever happened
 * (watchdog, SIGINT/SIGTERM/SIGHUP, a crash) puts back the swap areas,
 * KSM and THP settings, stable_writes and removes the devices made here.
 * Missing preconditions (not root, feature not configured) make the
 * affected lines SKIP; the kernel misbehaving (data lost, a short O_DIRECT
 * read, clear_refs or uffd un-protect without effect, a page leaving the
 * swap cache despite a held reference) is FAIL, and a check that already
 * saw data lost stays FAIL whatever stops it later.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "pagemap.h"
#include "swap_helpers.h"
#include "test_devs.h"
#include "vm_util.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#endif

#define WHY_LEN		320
#define ZRAM_DISKSIZE	(64ULL << 20)
#define CHECK_TIMEOUT	300	/* seconds, per check */
#define DM_DELAY_READ_MS	250	/* own slow source: a read waits this long */
#define DM_DELAY_RACY_MS	1	/* own fast source: about one jiffy */
#define OWN_SWAP_MB		128	/* own swap area (null_blk) */
#define OWN_SLOW_SWAP_MB	64	/* own slow-writeback swap area */
#define OWN_SLOW_SWAP_NSEC	250000000UL	/* its completion delay */
#define OWN_THP_SWAP_MB		64	/* own swap area of the THP setups */
#define OWN_THP_SWAP_NSEC	10000000UL	/* its completion delay */

enum res { RES_PASS, RES_FAIL, RES_SKIP };

/* ------------------------------------------------------------------ */
/* Options and environment                                              */

static struct {
	int iterations;		/* -n: O_DIRECT in-flight iterations */
	int racy_max;		/* -r: racy iteration cap */
	int racy_secs;		/* -t: racy time cap */
	int stable_pages;	/* -p: pages per stable_writes check */
	int ksm_secs;		/* -k: KSM merge timeout */
	int race_iters;		/* -f: iterations of the fault races */
	int race_secs;		/* -T: time cap of each fault race */
	const char *select[16];	/* -s: substrings of "<check>/<setup>" */
	int nr_select;
	bool verbose;		/* -v */
} opt = {
	.iterations = 8,
	.racy_max = 2000,
	.racy_secs = 3,
	.stable_pages = 10,
	.ksm_secs = 20,
	.race_iters = 400,
	.race_secs = 3,
};

static struct {
	const char *slow_read;
	const char *fast_read;
	const char *swap_dev;
	const char *slow_swap;
	const char *odirect_dir;
	bool zram;
	bool root;
	bool pfn_visible;
	bool kpageflags;
} env;

/* Devices the test made for itself (test_devs.h), when none was named. */
static struct {
	struct nullb_dev src;		/* memory backed, the test pattern */
	bool src_tried, src_ok;
	char src_why[WHY_LEN];
	struct dm_delay_dev slow;	/* dm-delay over src */
	struct dm_delay_dev fast;	/* dm-delay over src, shortest delay */
} own;

/*
 * State shared between the process that runs the checks (the worker) and
 * its parent (the supervisor, see supervise()): what the worker is doing
 * right now, for the watchdog, and the global settings it changed, so the
 * supervisor can put them back when the worker hangs or dies.  Swap
 * areas, KSM and THP settings and the cowswap_* devices are restored from
 * a snapshot taken before the worker starts and need no record here.
 */
#define SHARED_MAX	8
static struct shared_state {
	char phase[160];		/* "<check>/<setup>" or a set-up step */
	double since;			/* CLOCK_MONOTONIC when it began */
	int nr_zram;
	struct zram_dev zram[SHARED_MAX];	/* zram devices to remove */
	int nr_stable;
	struct {
		char dev[PATH_MAX];
		int orig;
	} stable[SHARED_MAX];		/* stable_writes to put back */
} *shared;

static long ps;				/* page size */
static unsigned int pattern_seq;	/* makes fill patterns unique */

static enum res set_why(char *why, enum res r, const char *fmt, ...)
	__printf(3, 4);

static enum res set_why(char *why, enum res r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, WHY_LEN, fmt, ap);
	va_end(ap);
	return r;
}

#define SKIP(why, ...)	set_why(why, RES_SKIP, __VA_ARGS__)
#define FAIL(why, ...)	set_why(why, RES_FAIL, __VA_ARGS__)

static void vmsg(const char *fmt, ...) __printf(1, 2);
static void vmsg(const char *fmt, ...)
{
	va_list ap;

	if (!opt.verbose)
		return;
	va_start(ap, fmt);
	printf("#   ");
	vprintf(fmt, ap);
	va_end(ap);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* Memory helpers                                                       */

/*
 * n private anonymous pages between two PROT_NONE guard pages (so the
 * VMA never merges with a neighbour and inherits its VM_SOFTDIRTY), THP
 * off.  Returns NULL on failure.
 */
static char *map_pages(size_t n)
{
	char *p;

	p = mmap(NULL, (n + 2) * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, ps, PROT_NONE) ||
	    mprotect(p + (n + 1) * ps, ps, PROT_NONE)) {
		munmap(p, (n + 2) * ps);
		return NULL;
	}
	madvise(p + ps, n * ps, MADV_NOHUGEPAGE);	/* EINVAL without THP */
	return p + ps;
}

static void unmap_pages(char *p, size_t n)
{
	if (p)
		munmap(p - ps, (n + 2) * ps);
}

static unsigned char new_fill(void)
{
	/* never 0: a zero page would be indistinguishable from a lost page */
	return (unsigned char)(0x21 + (pattern_seq++ % 0x5b));
}

/*
 * madvise() on the k-th CPU this thread may run on (k = 0: where it is).
 * MADV_PAGEOUT skips a page that is not on the LRU yet, and a page just
 * faulted in waits in the per-CPU LRU cache of the CPU that faulted it
 * until that cache is drained, which madvise() does for its own CPU.
 */
static int madvise_on_cpu(void *p, size_t len, int advice, int k)
{
	cpu_set_t saved, one;
	int cpu, n = 0, r;

	if (k && !sched_getaffinity(0, sizeof(saved), &saved) && CPU_COUNT(&saved) > 1) {
		k %= CPU_COUNT(&saved);
		for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
			if (!CPU_ISSET(cpu, &saved) || n++ != k)
				continue;
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			if (sched_setaffinity(0, sizeof(one), &one))
				break;
			r = madvise(p, len, advice) ? -errno : 0;
			sched_setaffinity(0, sizeof(saved), &saved);
			return r;
		}
	}
	return madvise(p, len, advice) ? -errno : 0;
}

/*
 * MADV_PAGEOUT [p, p + n pages) until all of them are swap entries, at most
 * tries times (from each CPU in turn).  0, -EAGAIN (not swapped) or -errno
 * of madvise.
 */
static int page_out(void *p, size_t n, int tries)
{
	size_t i;
	int t, r;

	for (t = 0; t < tries; t++) {
		r = madvise_on_cpu(p, n * ps, MADV_PAGEOUT, t);
		if (r)
			return r;
		for (i = 0; i < n; i++)
			if (!page_swapped((char *)p + i * ps))
				break;
		if (i == n)
			return 0;
		if (t + 1 < tries)
			sleep_us(10000);
	}
	return -EAGAIN;
}

static enum res page_out_why(void *p, size_t n, char *why)
{
	char d[96];
	int r = page_out(p, n, 5);

	if (r == -EINVAL)
		return SKIP(why, "MADV_PAGEOUT not supported");
	if (r == -EAGAIN)
		return SKIP(why, "MADV_PAGEOUT did not swap the page out (%s)",
			    pm_describe(pagemap_entry(p), d, sizeof(d)));
	if (r)
		return SKIP(why, "MADV_PAGEOUT: %s", strerror(-r));
	return RES_PASS;
}

/*
 * Page out a page on which we hold an extra reference (page_ref_get()) and
 * make sure the physical page pfn stayed in the swap cache: PFN
 * comparisons are only meaningful while the old page cannot be freed and
 * handed out again.
 */
static enum res swapcache_held(uint64_t pfn, char *why)
{
	uint64_t flags;

	if (!env.kpageflags)
		return RES_PASS;
	if (kpageflags_get(pfn, &flags))
		return SKIP(why, "cannot read /proc/kpageflags");
	if (!(flags & (1ULL << KPF_BIT_SWAPCACHE)))
		return FAIL(why,
			    "the paged-out page (pfn 0x%llx) left the swap cache despite the extra reference",
			    (unsigned long long)pfn);
	return RES_PASS;
}

static enum res page_out_held(void *p, uint64_t pfn, char *why)
{
	enum res res = page_out_why(p, 1, why);

	if (res != RES_PASS)
		return res;
	return swapcache_held(pfn, why);
}

/* A read-only FOLL_GET reference on the page held by a pipe (vmsplice). */
struct page_ref {
	int pfd[2];
};

static int page_ref_get(struct page_ref *r, void *p)
{
	struct iovec iov = { .iov_base = p, .iov_len = ps };
	ssize_t n;

	if (pipe2(r->pfd, O_CLOEXEC))
		return -errno;
	n = vmsplice(r->pfd[1], &iov, 1, 0);
	if (n != ps) {
		int err = n < 0 ? errno : EIO;

		close(r->pfd[0]);
		close(r->pfd[1]);
		r->pfd[0] = -1;
		r->pfd[1] = -1;
		return -err;
	}
	return 0;
}

/* Drop the reference; if buf, first copy what the pipe sees into it. */
static int page_ref_put(struct page_ref *r, void *buf)
{
	ssize_t n = 0, got = 0;
	int ret = 0;

	if (r->pfd[0] < 0)
		return -EBADF;
	if (buf) {
		while (got < ps) {
			n = read(r->pfd[0], (char *)buf + got, ps - got);
			if (n <= 0)
				break;
			got += n;
		}
		if (got != ps)
			ret = -EIO;
	}
	close(r->pfd[0]);
	close(r->pfd[1]);
	r->pfd[0] = -1;
	r->pfd[1] = -1;
	return ret;
}

/* Take a pipe reference on the page at p and page it out holding it. */
static enum res page_out_with_ref(struct page_ref *ref, void *p, uint64_t pfn, char *why)
{
	int r = page_ref_get(ref, p);

	if (r)
		return SKIP(why, "vmsplice: %s", strerror(-r));
	return page_out_held(p, pfn, why);
}

static int clear_refs_soft_dirty(void)
{
	int fd, ret = 0;

	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "4", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/* Page out with a pipe reference held; the swap entry must be soft-dirty. */
static enum res page_out_soft_dirty(struct page_ref *ref, void *p, uint64_t pfn, char *why)
{
	enum res res = page_out_with_ref(ref, p, pfn, why);
	uint64_t e = pagemap_entry(p);
	char d[96];

	if (res == RES_PASS && !pm_soft_dirty(e))
		return FAIL(why, "the swap entry of a written page is not soft-dirty (%s)",
			    pm_describe(e, d, sizeof(d)));
	return res;
}

/* clear_refs with the page at p swapped out: it must clear soft-dirty there. */
static enum res clear_refs_on_swap_entry(const void *p, char *why)
{
	int r = clear_refs_soft_dirty();
	uint64_t e = pagemap_entry(p);
	char d[96];

	if (r || pm_soft_dirty(e) || !pm_swapped(e))
		return FAIL(why, "clear_refs on the swap entry: %s (%s)",
			    r ? strerror(-r) : "bit stays", pm_describe(e, d, sizeof(d)));
	return RES_PASS;
}

/* First offset in [from, to) where p differs from byte c, or -1. */
static long first_diff_byte(const unsigned char *p, long from, long to,
			    unsigned char c)
{
	long i;

	for (i = from; i < to; i++)
		if (p[i] != c)
			return i;
	return -1;
}

/* A /proc/vmstat counter, or -1. */
static long long vmstat_get(const char *name)
{
	static char buf[16384];
	char key[64];
	long long v = -1;
	ssize_t n;
	char *q;
	int fd;

	fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	snprintf(key, sizeof(key), "\n%s ", name);
	q = strstr(buf, key);
	if (q)
		v = strtoll(q + strlen(key), NULL, 10);
	else if (!strncmp(buf, key + 1, strlen(key + 1)))
		v = strtoll(buf + strlen(key + 1), NULL, 10);
	return v;
}

/* A load the compiler must emit (READ_ONCE() of one byte): the fault happens here. */
static unsigned char read_byte(const void *p)
{
	return __atomic_load_n((const unsigned char *)p, __ATOMIC_RELAXED);
}

/* A store the compiler must emit (WRITE_ONCE() of one byte): the fault happens here. */
static void write_byte(unsigned char *p, unsigned char v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* What the supervisor must know                                        */

static void phase_set(const char *fmt, ...) __printf(1, 2);
static void phase_set(const char *fmt, ...)
{
	va_list ap;

	if (!shared)
		return;
	va_start(ap, fmt);
	vsnprintf(shared->phase, sizeof(shared->phase), fmt, ap);
	va_end(ap);
	shared->since = now();
}

static void shared_zram_add(const struct zram_dev *z)
{
	if (shared && shared->nr_zram < SHARED_MAX)
		shared->zram[shared->nr_zram++] = *z;
}

static void shared_zram_del(const struct zram_dev *z)
{
	int i;

	for (i = 0; shared && i < shared->nr_zram; i++) {
		if (shared->zram[i].id != z->id)
			continue;
		shared->zram[i] = shared->zram[--shared->nr_zram];
		return;
	}
}

static void shared_stable_add(const char *dev, int orig)
{
	int n;

	if (!shared || shared->nr_stable >= SHARED_MAX)
		return;
	n = shared->nr_stable;
	snprintf(shared->stable[n].dev, sizeof(shared->stable[n].dev), "%s", dev);
	shared->stable[n].orig = orig;
	shared->nr_stable++;
}

static void shared_stable_del(const char *dev)
{
	int i;

	for (i = 0; shared && i < shared->nr_stable; i++) {
		if (strcmp(shared->stable[i].dev, dev))
			continue;
		shared->stable[i] = shared->stable[--shared->nr_stable];
		return;
	}
}

/* ------------------------------------------------------------------ */
/* Setups                                                               */

#define THP_DIR "/sys/kernel/mm/transparent_hugepage/"
#define KPF_BIT_THP	22

static size_t thp_size;		/* hpage_pmd_size once a THP setup ran */

/*
 * What the setup's memory looks like (struct setup .mem).  For the THP
 * kinds the check's page is subpage nr/2 + 1 of a THP (never the first
 * one), "other" is subpage 1.
 */
enum mem_kind {
	MEM_PAGE,		/* a base page */
	MEM_THP_WHOLE,		/* PMD-mapped THP, paged out whole */
	MEM_THP_PTE,		/* PTE-mapped THP (PMD split), paged out whole */
	MEM_THP_SUBPAGE,	/* PMD-mapped THP, only the check's subpage paged out */
	MEM_THP_PARTIAL,	/* THP paged out whole, then its first half faulted back */
};

static int sysfs_write(const char *path, const char *val);
static int knob_read(const char *path, char *buf, size_t len);

struct setup;

struct setup_ctx {
	const struct setup *setup;
	char dev[PATH_MAX];		/* the only active swap area */
	int prio;			/* its priority, -1 if none given */
	bool we_enabled;		/* dev was not active before */
	struct swap_saved saved;	/* areas switched off for the setup */
	struct zram_dev zram;
	int stable_orig;		/* stable_writes before, -1 unknown */
	struct nullb_dev own_dev;	/* the area, when the test made it */
	char thp_enabled[16];		/* THP "enabled" before a THP setup */
	bool thp_changed;		/* ... which changed it */
};

struct setup {
	const char *name;
	bool via_swapoff;	/* pages come back through swapoff */
	enum res (*prepare)(struct setup_ctx *c, char *why);
	void (*teardown)(struct setup_ctx *c);
	enum mem_kind mem;	/* what the checks' memory is */
};

enum {
	SETUP_FAULT, SETUP_SWAPOFF, SETUP_ZRAM, SETUP_STABLE,
	SETUP_THP_WHOLE, SETUP_THP_PTE, SETUP_THP_SUBPAGE, SETUP_THP_PARTIAL,
	NR_SETUPS
};

/*
 * A swap area of the test's own on a memory-backed null_blk (with a
 * completion delay for the stable setup): made here, so mkswap on it is
 * fine.  The caller swaps it on.
 */
static enum res own_swap_make(struct setup_ctx *c, const char *role,
			      unsigned int mb, unsigned long delay_nsec, char *why)
{
	struct nullb_opts o = { .size_mb = mb, .blocksize = 4096,
				.completion_nsec = delay_nsec };
	char dwhy[TEST_DEV_WHY];
	int r;

	if (nullb_create(&c->own_dev, role, &o, dwhy))
		return SKIP(why, "no swap device given and cannot make one: %s", dwhy);
	r = swap_mkswap(c->own_dev.path);
	if (r) {
		nullb_destroy(&c->own_dev);
		return SKIP(why, "mkswap %s: %s", c->own_dev.path, strerror(-r));
	}
	snprintf(c->dev, sizeof(c->dev), "%s", c->own_dev.path);
	return RES_PASS;
}

/*
 * fault and swapoff: the named disk (COWSWAP_SWAP_DEV), else the active
 * swap area with the highest priority, else a null_blk of our own.
 */
static enum res setup_disk(struct setup_ctx *c, char *why)
{
	enum res res;
	int r, prio = -1;

	if (!env.root)
		return SKIP(why, "needs root");
	if (env.swap_dev) {
		struct stat st;

		if (stat(env.swap_dev, &st))
			return SKIP(why, "COWSWAP_SWAP_DEV=%s: %s", env.swap_dev,
				    strerror(errno));
		snprintf(c->dev, sizeof(c->dev), "%s", env.swap_dev);
	} else {
		struct swap_area *a = calloc(SWAP_SAVED_MAX, sizeof(*a));
		int i, nr, best = -1;

		if (!a)
			return SKIP(why, "out of memory");
		nr = swap_list(a, SWAP_SAVED_MAX);
		if (nr > SWAP_SAVED_MAX)
			nr = SWAP_SAVED_MAX;
		for (i = 0; i < nr; i++)
			if (best < 0 || a[i].prio > a[best].prio)
				best = i;
		if (best >= 0)
			snprintf(c->dev, sizeof(c->dev), "%s", a[best].path);
		free(a);
		if (best < 0) {
			res = own_swap_make(c, "swap", OWN_SWAP_MB, 0, why);
			if (res != RES_PASS)
				return res;
		}
	}
	r = swap_is_active(c->dev);
	if (r < 0) {
		nullb_destroy(&c->own_dev);
		return SKIP(why, "/proc/swaps: %s", strerror(-r));
	}
	c->we_enabled = !r;
	if (r == 1 && !swap_get_prio(c->dev, &prio) && prio < 0)
		prio = -1;
	c->prio = prio;
	r = swap_only(c->dev, c->prio, &c->saved);
	if (r) {
		nullb_destroy(&c->own_dev);
		return SKIP(why, "cannot make %s the only active swap area: %s",
			    c->dev, strerror(-r));
	}
	if (c->we_enabled && !swap_get_prio(c->dev, &prio) && prio >= 0)
		c->prio = prio;
	return RES_PASS;
}

static void teardown_disk(struct setup_ctx *c)
{
	if (c->we_enabled && swap_is_active(c->dev) == 1)
		swap_off(c->dev);
	swap_restore(&c->saved);
	nullb_destroy(&c->own_dev);
}

static enum res setup_zram(struct setup_ctx *c, char *why)
{
	int r;

	if (!env.root)
		return SKIP(why, "needs root");
	if (!env.zram)
		return SKIP(why, "zram setup disabled (COWSWAP_ZRAM=0)");
	r = zram_swap_setup(&c->zram, ZRAM_DISKSIZE, -1);
	if (r == -ENODEV)
		return SKIP(why, "zram not available (CONFIG_ZRAM)");
	if (r)
		return SKIP(why, "zram swap set-up failed: %s", strerror(-r));
	shared_zram_add(&c->zram);
	snprintf(c->dev, sizeof(c->dev), "%s", c->zram.path);
	c->prio = -1;
	r = swap_only(c->dev, -1, &c->saved);
	if (r) {
		shared_zram_del(&c->zram);
		zram_swap_teardown(&c->zram);
		return SKIP(why, "cannot make %s the only active swap area: %s",
			    c->dev, strerror(-r));
	}
	return RES_PASS;
}

static void teardown_zram(struct setup_ctx *c)
{
	shared_zram_del(&c->zram);	/* before: teardown forgets the id */
	zram_swap_teardown(&c->zram);
	swap_restore(&c->saved);
}

/*
 * stable: the named write-throttled disk (COWSWAP_SLOW_SWAP_DEV), else a
 * null_blk of our own whose requests complete OWN_SLOW_SWAP_NSEC late, so
 * a page stays under writeback that long.
 */
static enum res setup_stable(struct setup_ctx *c, char *why)
{
	enum res res;
	int r;

	c->stable_orig = -1;
	if (!env.root)
		return SKIP(why, "needs root");
	if (env.slow_swap) {
		snprintf(c->dev, sizeof(c->dev), "%s", env.slow_swap);
	} else {
		res = own_swap_make(c, "slow_swap", OWN_SLOW_SWAP_MB,
				    OWN_SLOW_SWAP_NSEC, why);
		if (res != RES_PASS)
			return res;
	}
	c->prio = -1;
	/* stable_writes is sampled at swapon: start from swapped off */
	if (swap_is_active(c->dev) == 1) {
		r = swap_off(c->dev);
		if (r) {
			res = SKIP(why, "swapoff %s: %s", c->dev, strerror(-r));
			goto fail;
		}
	}
	r = blk_stable_writes_get(c->dev);
	if (r < 0) {
		res = SKIP(why, "%s has no queue/stable_writes: %s", c->dev,
			   strerror(-r));
		goto fail;
	}
	c->stable_orig = r;
	shared_stable_add(c->dev, r);
	/* a named device was given for this; our own has its header */
	r = c->own_dev.created ? 0 : swap_mkswap(c->dev);
	if (r) {
		res = SKIP(why, "mkswap %s: %s", c->dev, strerror(-r));
		goto fail;
	}
	r = blk_stable_writes_set(c->dev, 1);
	if (r) {
		res = SKIP(why, "cannot set %s stable_writes=1: %s", c->dev,
			   strerror(-r));
		goto fail;
	}
	r = swap_only(c->dev, -1, &c->saved);
	if (r) {
		res = SKIP(why, "cannot make %s the only active swap area: %s",
			   c->dev, strerror(-r));
		goto fail;
	}
	return RES_PASS;
fail:
	if (c->stable_orig >= 0)
		blk_stable_writes_set(c->dev, c->stable_orig);
	shared_stable_del(c->dev);
	nullb_destroy(&c->own_dev);
	return res;
}

static void teardown_stable(struct setup_ctx *c)
{
	if (swap_is_active(c->dev) == 1)
		swap_off(c->dev);
	if (c->stable_orig >= 0)
		blk_stable_writes_set(c->dev, c->stable_orig);
	shared_stable_del(c->dev);
	swap_restore(&c->saved);
	nullb_destroy(&c->own_dev);
}

/*
 * The THP setups: swap on a null_blk of their own (non-rotational, so
 * swap has the clusters in which a THP can go out whole) whose writes
 * complete OWN_THP_SWAP_NSEC late: a THP swapped out whole is still in
 * the swap cache when the page-out returns, and stays there (nothing
 * reclaims it), which is what keeps its PFNs meaningful without a
 * reference (see mem_get()).  Transparent huge pages are enabled at least
 * for MADV_HUGEPAGE regions; the THP size is the architecture's
 * (hpage_pmd_size).
 */
static enum res setup_thp(struct setup_ctx *c, char *why)
{
	enum res res;
	int r;

	if (!env.root)
		return SKIP(why, "needs root");
	if (access(THP_DIR "hpage_pmd_size", R_OK))
		return SKIP(why,
			    "no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE, or none for this MMU)");
	thp_size = read_pmd_pagesize();
	if (thp_size <= (size_t)ps || thp_size % ps)
		return SKIP(why, "unusable hpage_pmd_size %zu", thp_size);
	r = knob_read(THP_DIR "enabled", c->thp_enabled, sizeof(c->thp_enabled));
	if (r)
		return SKIP(why, THP_DIR "enabled: %s", strerror(-r));
	if (!strcmp(c->thp_enabled, "never")) {
		r = sysfs_write(THP_DIR "enabled", "madvise");
		if (r)
			return SKIP(why, "THP disabled (enabled=never) and cannot be enabled: %s",
				    strerror(-r));
		c->thp_changed = true;
	}
	res = own_swap_make(c, "thp_swap", OWN_THP_SWAP_MB, OWN_THP_SWAP_NSEC, why);
	if (res == RES_PASS) {
		c->prio = -1;
		r = swap_only(c->dev, -1, &c->saved);
		if (r) {
			res = SKIP(why, "cannot make %s the only active swap area: %s", c->dev,
				   strerror(-r));
			nullb_destroy(&c->own_dev);
		}
	}
	if (res != RES_PASS && c->thp_changed)
		sysfs_write(THP_DIR "enabled", c->thp_enabled);
	if (res == RES_PASS)
		ksft_print_msg("setup %s: THP size %zu kB, enabled=%s%s\n", c->setup->name,
			       thp_size >> 10, c->thp_changed ? "madvise" : c->thp_enabled,
			       c->thp_changed ? " (was never)" : "");
	return res;
}

static void teardown_thp(struct setup_ctx *c)
{
	if (swap_is_active(c->dev) == 1)
		swap_off(c->dev);
	swap_restore(&c->saved);
	nullb_destroy(&c->own_dev);
	if (c->thp_changed)
		sysfs_write(THP_DIR "enabled", c->thp_enabled);
}

static const struct setup setups[NR_SETUPS] = {
	[SETUP_FAULT]	= { "fault",   false, setup_disk,   teardown_disk },
	[SETUP_SWAPOFF]	= { "swapoff", true,  setup_disk,   teardown_disk },
	[SETUP_ZRAM]	= { "zram",    false, setup_zram,   teardown_zram },
	[SETUP_STABLE]	= { "stable",  false, setup_stable, teardown_stable },
	[SETUP_THP_WHOLE]   = { "thp_whole",   false, setup_thp, teardown_thp, MEM_THP_WHOLE },
	[SETUP_THP_PTE]     = { "thp_pte",     false, setup_thp, teardown_thp, MEM_THP_PTE },
	[SETUP_THP_SUBPAGE] = { "thp_subpage", false, setup_thp, teardown_thp, MEM_THP_SUBPAGE },
	[SETUP_THP_PARTIAL] = { "thp_partial", false, setup_thp, teardown_thp, MEM_THP_PARTIAL },
};

/* Switch the setup's area off and on again (changing stable_writes between). */
static int cycle_swap(struct setup_ctx *c, int stable_writes)
{
	int r;

	r = swap_off(c->dev);
	if (r)
		return r;
	if (stable_writes >= 0) {
		r = blk_stable_writes_set(c->dev, stable_writes);
		if (r) {
			swap_on(c->dev, c->prio);
			return r;
		}
	}
	return swap_on(c->dev, c->prio);
}

/*
 * Bring paged-out pages back the setup's way: swapoff (and on again) for
 * the swapoff setup, nothing for the others (the next access faults).
 */
static enum res bring_back(struct setup_ctx *c, char *why)
{
	int r;

	if (!c->setup->via_swapoff)
		return RES_PASS;
	r = cycle_swap(c, -1);
	if (r)
		return SKIP(why, "swapoff/swapon %s: %s", c->dev, strerror(-r));
	return RES_PASS;
}

/* ------------------------------------------------------------------ */
/* The memory a check tests: a base page, or a subpage of a THP         */

struct test_mem {
	enum mem_kind kind;
	char *page;		/* the page the check tests */
	char *other;		/* another subpage of the THP; NULL for a base page */
	char *thp;		/* the THP (thp_size bytes); NULL for a base page */
	char *raw;		/* the whole mapping */
	size_t raw_len;
	int whole;		/* last page-out: 1 the THP went to swap whole
				 * (in the swap cache unsplit), 0 it was split,
				 * -1 unknown
				 */
	bool presplit;		/* split by mem_get() (MEM_REFS) */
	bool no_refs;		/* MEM_REFS asked, but the check must take none */
};

/* mem_get() flags */
#define MEM_REFS	1	/* the check holds references across the page-out */

/* Is the page at p part of a compound (THP) page?  -1: cannot tell. */
static int page_is_thp(const void *p)
{
	uint64_t flags, pfn = page_pfn(p);

	if (!env.kpageflags || !pfn || kpageflags_get(pfn, &flags))
		return -1;
	return !!(flags & (1ULL << KPF_BIT_THP));
}

static void mem_put(struct test_mem *m)
{
	if (m->kind == MEM_PAGE)
		unmap_pages(m->page, 1);
	else if (m->raw)
		munmap(m->raw, m->raw_len);
	m->page = NULL;
	m->raw = NULL;
}

/*
 * The memory of the setup's kind, filled (the THP subpage by subpage
 * with different bytes).  With MEM_REFS the caller wants to hold
 * references on the page while it is paged out, which 6.1 allows for a
 * base page only: MADV_PAGEOUT splits a PTE-mapped THP, and the THP of
 * which only one subpage is paged out, before it pages anything out, and
 * reclaim swaps a THP out whole only if it could split it; splitting
 * fails while anybody else holds a reference.  So for MEM_THP_PTE and
 * MEM_THP_SUBPAGE the THP is split here, before the references exist
 * (MADV_COLD splits it the way MADV_PAGEOUT would, without paging out);
 * the check's page then is a base page that was a subpage of the THP,
 * its PG_anon_exclusive carried through the split.  For MEM_THP_WHOLE and
 * MEM_THP_PARTIAL, m->no_refs tells the caller to take none: the THP
 * stays in the swap cache after the page-out anyway (the setup's slow
 * device, and a THP's swap cache references are what the pre-fix
 * kernel's reference count test trips over, as it does over a pipe's).
 */
static enum res mem_get(struct setup_ctx *c, struct test_mem *m, int flags, char *why)
{
	size_t i, nr;
	enum res res;
	int t;

	memset(m, 0, sizeof(*m));
	m->kind = c->setup->mem;
	m->whole = -1;
	if (m->kind == MEM_PAGE) {
		m->page = map_pages(1);
		if (!m->page)
			return SKIP(why, "mmap: %s", strerror(errno));
		return RES_PASS;
	}
	nr = thp_size / ps;
	m->raw_len = 2 * thp_size;
	m->raw = mmap(NULL, m->raw_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->raw == MAP_FAILED) {
		m->raw = NULL;
		return SKIP(why, "mmap of %zu kB: %s", m->raw_len >> 10, strerror(errno));
	}
	m->thp = (char *)(((uintptr_t)m->raw + thp_size - 1) & ~(uintptr_t)(thp_size - 1));
	if (madvise(m->thp, thp_size, MADV_HUGEPAGE)) {
		res = SKIP(why, "MADV_HUGEPAGE: %s (CONFIG_TRANSPARENT_HUGEPAGE)", strerror(errno));
		goto fail;
	}
	for (i = 0; i < nr; i++)	/* the first write faults in the THP */
		memset(m->thp + i * ps, 0x40 + (int)(i % 64), ps);
	if (!check_huge_anon(m->thp, 1, thp_size)) {
		res = SKIP(why,
			   "no THP of %zu kB could be allocated (AnonHugePages stays 0: memory too fragmented?)",
			   thp_size >> 10);
		goto fail;
	}
	/*
	 * In 6.1 with CONFIG_KSM a fault on any but the first subpage of a
	 * THP that is still in the swap cache copies it whatever the swap
	 * PTE says (ksm_might_need_to_copy() compares page->index, which
	 * tail pages do not keep up to date): for the kinds that keep the
	 * THP in the swap cache the check's page is the first subpage, the
	 * one the marker decides for.  The others split the THP, so there
	 * it is a subpage from the middle.
	 */
	if (m->kind == MEM_THP_WHOLE || m->kind == MEM_THP_PARTIAL)
		m->page = m->thp;
	else
		m->page = m->thp + (nr / 2 + 1) * ps;
	m->other = m->thp + ps;
	m->no_refs = (flags & MEM_REFS) &&
		     (m->kind == MEM_THP_WHOLE || m->kind == MEM_THP_PARTIAL);
	switch (m->kind) {
	case MEM_THP_PTE:
		/* Split the PMD only: write-protect one subpage and back. */
		if (mprotect(m->other, ps, PROT_READ) ||
		    mprotect(m->other, ps, PROT_READ | PROT_WRITE)) {
			res = SKIP(why, "mprotect: %s", strerror(errno));
			goto fail;
		}
		if (check_huge_anon(m->thp, 1, thp_size) || !page_is_thp(m->page)) {
			res = SKIP(why,
				   "the THP did not end up PTE-mapped (AnonHugePages %s, compound %d)",
				   check_huge_anon(m->thp, 1, thp_size) ? "still set" : "0",
				   page_is_thp(m->page));
			goto fail;
		}
		if (flags & MEM_REFS)
			madvise(m->thp, thp_size, MADV_COLD);
		break;
	case MEM_THP_SUBPAGE:
		if (flags & MEM_REFS)
			madvise(m->page, ps, MADV_COLD);
		break;
	default:
		break;
	}
	if ((flags & MEM_REFS) && (m->kind == MEM_THP_PTE || m->kind == MEM_THP_SUBPAGE)) {
		for (t = 0; t < 5 && page_is_thp(m->page) > 0; t++) {
			sleep_us(10000);
			madvise(m->kind == MEM_THP_PTE ? m->thp : m->page,
				m->kind == MEM_THP_PTE ? thp_size : (size_t)ps, MADV_COLD);
		}
		if (page_is_thp(m->page) > 0) {
			res = SKIP(why, "MADV_COLD did not split the THP");
			goto fail;
		}
		m->presplit = true;
	}
	return RES_PASS;
fail:
	mem_put(m);
	return res;
}

/*
 * Page the memory out the way its kind says: the check's page alone for
 * a base page and MEM_THP_SUBPAGE, the whole THP range for the others
 * (MEM_THP_PARTIAL then faults the second half of the THP back in with
 * reads).  0 when the check's page became a swap entry, -EAGAIN when
 * it did not in tries attempts, -errno of madvise.
 */
static int mem_page_out(struct test_mem *m, int tries)
{
	uint64_t pfn, flags;
	size_t i;
	int t;

	if (m->kind == MEM_PAGE || m->kind == MEM_THP_SUBPAGE)
		return page_out(m->page, 1, tries);
	pfn = page_pfn(m->thp);
	for (t = 0; t < tries; t++) {
		int r = madvise_on_cpu(m->thp, thp_size, MADV_PAGEOUT, t);

		if (r)
			return r;
		if (page_swapped(m->page))
			break;
		if (t + 1 < tries)
			sleep_us(10000);
	}
	if (t == tries)
		return -EAGAIN;
	/* swapped out whole: the THP, unsplit, is in the swap cache now */
	if (pfn && env.kpageflags && !kpageflags_get(pfn, &flags))
		m->whole = (flags & (1ULL << KPF_BIT_THP)) && (flags & (1ULL << KPF_BIT_SWAPCACHE));
	/*
	 * Let the writeback to the slow device end first: what the checks
	 * look at must not depend on whether a fault comes while it lasts.
	 */
	for (t = 0; t < 100 && pfn && env.kpageflags &&
	     !kpageflags_get(pfn, &flags) && (flags & (1ULL << KPF_BIT_WRITEBACK)); t++)
		sleep_us(10000);
	if (m->kind == MEM_THP_PARTIAL)
		for (i = thp_size / ps / 2; i < thp_size / ps; i++)
			read_byte(m->thp + i * ps);
	return 0;
}

/* "; THP swapped out whole" and the like, for diagnostics. */
static const char *mem_describe(const struct test_mem *m)
{
	if (m->kind == MEM_PAGE)
		return "";
	if (m->presplit)
		return "; a subpage of a THP split before the page-out";
	if (m->kind == MEM_THP_SUBPAGE)
		return "; a subpage of a THP, paged out alone";
	return m->whole > 0 ? "; the THP went to swap whole" :
	       m->whole == 0 ? "; the THP was split to go to swap" : "";
}

static enum res mem_page_out_why(struct test_mem *m, char *why)
{
	char d[96];
	int r = mem_page_out(m, 5);

	if (r == -EAGAIN && m->thp && m->kind != MEM_THP_SUBPAGE)
		return SKIP(why, "MADV_PAGEOUT did not swap the THP out (%s)",
			    pm_describe(pagemap_entry(m->page), d, sizeof(d)));
	if (r == -EAGAIN || r == -EINVAL)
		return page_out_why(m->page, 1, why);
	if (r)
		return SKIP(why, "MADV_PAGEOUT: %s", strerror(-r));
	if ((m->kind == MEM_THP_WHOLE || m->kind == MEM_THP_PARTIAL) && !m->whole)
		return SKIP(why,
			    "the THP was split to be swapped out, not swapped out whole (CONFIG_THP_SWAP: x86_64 and arm64 with 4K pages in 6.1)");
	return RES_PASS;
}

/* mem_page_out_why() of memory on which the caller holds a reference. */
static enum res mem_page_out_held(struct test_mem *m, uint64_t pfn, char *why)
{
	enum res res = mem_page_out_why(m, why);

	if (res != RES_PASS)
		return res;
	return swapcache_held(pfn, why);
}

/* ------------------------------------------------------------------ */
/* O_DIRECT sources                                                     */

struct dio_src {
	char path[PATH_MAX];
	int fd;
	size_t bs;		/* read size: the logical block size */
	unsigned char *ref;	/* what a read at offset 0 returns */
	unsigned char fill;	/* buffer fill: a byte value absent from ref */
	unsigned char marker;	/* the byte the main thread writes */
	void *scratch;		/* page-aligned buffer for warm-up reads */
	bool tmpfile;
	bool throttled;		/* QEMU throttle: a warm-up read uses up its budget */
};

static struct dio_src slow_src = { .fd = -1 }, fast_src = { .fd = -1 };
static char slow_src_why[WHY_LEN], fast_src_why[WHY_LEN];
static bool slow_src_tried, fast_src_tried;

static void dio_close(struct dio_src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmpfile)
		unlink(s->path);
	free(s->ref);
	free(s->scratch);
	s->fd = -1;
	s->ref = NULL;
	s->scratch = NULL;
	s->tmpfile = false;
}

/* Pick a fill byte that does not occur in the reference data. */
static void dio_pick_fill(struct dio_src *s)
{
	unsigned int count[256] = { 0 }, best = 1;
	size_t i;

	for (i = 0; i < s->bs; i++)
		count[s->ref[i]]++;
	for (i = 1; i < 256; i++)
		if (count[i] < count[best])
			best = i;
	s->fill = (unsigned char)best;
	s->marker = (unsigned char)(best ^ 0x80);
}

/* Write a text pattern into a temporary file usable with O_DIRECT. */
static enum res dio_make_tmpfile(struct dio_src *s, char *why)
{
	const char *dir = env.odirect_dir;
	size_t len = 4 * (size_t)ps, i;
	char *buf;
	int fd;

	snprintf(s->path, sizeof(s->path), "%s/swap_exclusive.XXXXXX", dir);
	fd = mkstemp(s->path);
	if (fd < 0)
		return SKIP(why, "cannot create a file in %s: %s", dir,
			    strerror(errno));
	s->tmpfile = true;
	buf = malloc(len);
	if (!buf) {
		close(fd);
		return SKIP(why, "out of memory");
	}
	for (i = 0; i < len; i++)
		buf[i] = "swap_exclusive O_DIRECT source data\n"[i % 36];
	if (write(fd, buf, len) != (ssize_t)len || fsync(fd)) {
		free(buf);
		close(fd);
		return SKIP(why, "cannot write %s: %s", s->path, strerror(errno));
	}
	free(buf);
	close(fd);
	return RES_PASS;
}

static enum res dio_open(struct dio_src *s, const char *path, char *why)
{
	unsigned int lbs = 0;
	struct stat st;
	ssize_t n;
	size_t bs;

	if (path) {
		snprintf(s->path, sizeof(s->path), "%s", path);
	} else if (dio_make_tmpfile(s, why) != RES_PASS) {
		dio_close(s);
		return RES_SKIP;
	}
	s->fd = open(s->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (s->fd < 0) {
		int err = errno;

		dio_close(s);
		if (err == EINVAL)
			return SKIP(why, "no O_DIRECT support for %s", s->path);
		return SKIP(why, "open %s: %s", s->path, strerror(err));
	}
	if (fstat(s->fd, &st) == 0 && S_ISBLK(st.st_mode) &&
	    ioctl(s->fd, BLKSSZGET, &lbs) == 0 && lbs)
		bs = lbs;
	else
		bs = 512;
	if (posix_memalign(&s->scratch, ps, ps)) {
		dio_close(s);
		return SKIP(why, "out of memory");
	}
	/* Find the smallest block size O_DIRECT accepts here. */
	for (; bs <= (size_t)ps; bs *= 2) {
		n = pread(s->fd, s->scratch, bs, 0);
		if (n == (ssize_t)bs)
			break;
		if (n < 0 && errno != EINVAL) {
			int err = errno;

			dio_close(s);
			return SKIP(why, "O_DIRECT read from %s: %s", s->path,
				    strerror(err));
		}
	}
	if (bs > (size_t)ps) {
		dio_close(s);
		return SKIP(why, "no O_DIRECT support for %s", s->path);
	}
	s->bs = bs;
	s->ref = malloc(bs);
	if (!s->ref) {
		dio_close(s);
		return SKIP(why, "out of memory");
	}
	memcpy(s->ref, s->scratch, bs);
	dio_pick_fill(s);
	if (first_diff_byte(s->ref, 0, bs, s->fill) < 0) {
		dio_close(s);
		return SKIP(why, "the data read from %s is indistinguishable from the fill",
			    s->path);
	}
	return RES_PASS;
}

/*
 * The test's own O_DIRECT sources: dm-delay over a memory-backed null_blk
 * holding the test pattern.  Not the null_blk itself: it copies the data
 * into the page while the read is submitted, so no read into it can ever
 * be in flight with its data still to come; with dm-delay the bio waits
 * (250 ms for the slow source, about a jiffy for the racy one) and the
 * data lands after that, as a DMA would.
 */
static enum res get_own_src(char *why)
{
	static const struct nullb_opts o = { .size_mb = 4, .blocksize = 512 };
	char dwhy[TEST_DEV_WHY];
	int r;

	if (!own.src_tried) {
		own.src_tried = true;
		if (!env.root) {
			SKIP(own.src_why, "needs root (to create a null_blk O_DIRECT source)");
		} else if (nullb_create(&own.src, "src", &o, dwhy)) {
			SKIP(own.src_why, "%s", dwhy);
		} else {
			r = blkdev_fill_text(own.src.path, 1 << 20,
					     "cowswap O_DIRECT test data, sector by sector\n");
			if (r)
				SKIP(own.src_why, "cannot write the test data to %s: %s",
				     own.src.path, strerror(-r));
			else
				own.src_ok = true;
		}
	}
	if (!own.src_ok)
		return SKIP(why, "%s", own.src_why);
	return RES_PASS;
}

static enum res get_slow_src(struct dio_src **s, char *why)
{
	char dwhy[TEST_DEV_WHY];

	if (!slow_src_tried) {
		slow_src_tried = true;
		if (env.slow_read) {
			if (dio_open(&slow_src, env.slow_read, slow_src_why) == RES_PASS)
				slow_src.throttled = true;
		} else if (get_own_src(slow_src_why) != RES_PASS) {
			/* reason already in slow_src_why */
		} else if (dm_delay_create(&own.slow, "slow_read", own.src.path,
					   DM_DELAY_READ_MS, 0, dwhy)) {
			SKIP(slow_src_why, "%s", dwhy);
		} else {
			dio_open(&slow_src, own.slow.path, slow_src_why);
		}
	}
	if (slow_src.fd < 0)
		return SKIP(why, "%s", slow_src_why);
	*s = &slow_src;
	return RES_PASS;
}

static enum res get_fast_src(struct dio_src **s, char *why)
{
	char dwhy[TEST_DEV_WHY];

	if (!fast_src_tried) {
		fast_src_tried = true;
		if (env.fast_read || env.odirect_dir) {
			dio_open(&fast_src, env.fast_read, fast_src_why);
		} else if (get_own_src(fast_src_why) != RES_PASS) {
			/* reason already in fast_src_why */
		} else if (dm_delay_create(&own.fast, "fast_read", own.src.path,
					   DM_DELAY_RACY_MS, 0, dwhy)) {
			SKIP(fast_src_why, "%s", dwhy);
		} else {
			dio_open(&fast_src, own.fast.path, fast_src_why);
		}
	}
	if (fast_src.fd < 0)
		return SKIP(why, "%s", fast_src_why);
	*s = &fast_src;
	return RES_PASS;
}

/*
 * Data of an O_DIRECT read into the first s->bs bytes of the page, fill up
 * to the last byte, the marker at the last byte.
 */
static bool dio_page_ok(const struct dio_src *s, const unsigned char *p,
			char *diag, size_t len)
{
	long d;

	if (memcmp(p, s->ref, s->bs)) {
		bool lost = first_diff_byte(p, 0, s->bs, s->fill) < 0;

		snprintf(diag, len, "%s", lost ? "read data lost (buffer still holds the fill)" :
			 "read data corrupted");
		return false;
	}
	d = first_diff_byte(p, s->bs, ps - 1, s->fill);
	if (d >= 0) {
		snprintf(diag, len, "byte %ld changed to 0x%02x", d, p[d]);
		return false;
	}
	if (p[ps - 1] != s->marker) {
		snprintf(diag, len, "the main thread's write is lost");
		return false;
	}
	return true;
}

struct dio_req {
	const struct dio_src *src;
	void *buf;
	atomic_int started;
	atomic_int done;
	ssize_t ret;
	int err;
};

static void *dio_thread(void *arg)
{
	struct dio_req *r = arg;

	atomic_store(&r->started, 1);
	r->ret = pread(r->src->fd, r->buf, r->src->bs, 0);
	r->err = errno;
	atomic_store(&r->done, 1);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Checks                                                               */

struct dio_stats {
	int iterations;
	int raced;		/* swapped out and read in flight at the write */
	int lost;		/* data not where it belongs */
	int pfn_changed;
	int not_swapped;
	int read_done_early;
};

/*
 * One O_DIRECT in-flight iteration on the throttled disk.  Returns
 * RES_PASS when the iteration ran (result in st), RES_SKIP on set-up
 * trouble.
 */
static enum res odirect_iteration(struct setup_ctx *c, struct dio_src *s,
				  bool clear_refs_step, struct dio_stats *st,
				  char *why)
{
	struct dio_req req = { .src = s };
	uint64_t pfn0, pfn1, e;
	bool swapped = false, in_flight;
	char diag[96], d2[96];
	struct test_mem m;
	pthread_t th;
	enum res res;
	unsigned char *p;
	int r;

	res = mem_get(c, &m, MEM_REFS, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)m.page;
	memset(p, s->fill, ps);
	if (m.other)
		memset(m.other, s->fill, ps);
	pfn0 = page_pfn(p);
	req.buf = p;

	/* Use up the throttle budget so that the next read has to wait. */
	if (s->throttled && pread(s->fd, s->scratch, s->bs, 0) != (ssize_t)s->bs) {
		res = SKIP(why, "O_DIRECT warm-up read: %s", strerror(errno));
		goto out;
	}
	r = pthread_create(&th, NULL, dio_thread, &req);
	if (r) {
		res = SKIP(why, "pthread_create: %s", strerror(r));
		goto out;
	}
	while (!atomic_load(&req.started))
		sleep_us(1000);
	sleep_us(20000);	/* let it submit the bio (and take its reference) */

	swapped = !mem_page_out(&m, 3);
	e = pagemap_entry(p);
	res = bring_back(c, why);
	if (res != RES_PASS) {
		pthread_join(th, NULL);
		goto out;
	}
	if (clear_refs_step) {
		read_byte(p + ps / 2);	/* read fault: swap in, mapped R/O */
		clear_refs_soft_dirty();
	}
	in_flight = !atomic_load(&req.done);
	if (m.other)		/* THP: another subpage first */
		m.other[0] = s->marker;
	p[ps - 1] = s->marker;
	pfn1 = page_pfn(p);
	pthread_join(th, NULL);

	if (req.ret != (ssize_t)s->bs) {
		res = FAIL(why, "O_DIRECT read of %zu bytes returned %zd (%s)", s->bs,
			   req.ret, req.ret < 0 ? strerror(req.err) : "short");
		goto out;
	}
	st->iterations++;
	if (!swapped)
		st->not_swapped++;
	if (!in_flight)
		st->read_done_early++;
	if (swapped && in_flight)
		st->raced++;
	if (pfn0 != pfn1)
		st->pfn_changed++;
	if (!dio_page_ok(s, p, diag, sizeof(diag))) {
		st->lost++;
		ksft_print_msg("  iteration %d: %s (after pageout: %s; pfn 0x%llx -> 0x%llx%s)\n",
			       st->iterations, diag, pm_describe(e, d2, sizeof(d2)),
			       (unsigned long long)pfn0, (unsigned long long)pfn1,
			       mem_describe(&m));
	} else if (m.other && ((unsigned char)m.other[0] != s->marker ||
			       first_diff_byte((unsigned char *)m.other, 1, ps, s->fill) >= 0)) {
		st->lost++;
		ksft_print_msg(
			"  iteration %d: the write to the other subpage of the THP is lost or it changed%s\n",
			st->iterations, mem_describe(&m));
	} else {
		vmsg("iteration %d ok: swapped=%d in_flight=%d pfn 0x%llx -> 0x%llx%s\n",
		     st->iterations, swapped, in_flight, (unsigned long long)pfn0,
		     (unsigned long long)pfn1, mem_describe(&m));
	}
out:
	mem_put(&m);
	return res;
}

static enum res odirect_common(struct setup_ctx *c, bool clear_refs_step,
			       char *why)
{
	struct dio_stats st = { 0 };
	struct dio_src *s;
	enum res res;
	int i;

	res = get_slow_src(&s, why);
	if (res != RES_PASS)
		return res;
	for (i = 0; i < opt.iterations; i++) {
		res = odirect_iteration(c, s, clear_refs_step, &st, why);
		if (res == RES_PASS)
			continue;
		if (!st.lost)
			return res;
		/* data already lost: a later set-up problem must not hide it */
		ksft_print_msg("iteration %d: %s\n", st.iterations + 1, why);
		return FAIL(why, "%d of %d iterations lost the O_DIRECT data (then stopped: %s)",
			    st.lost, st.iterations, res == RES_SKIP ? "set-up failed" : "error");
	}
	ksft_print_msg(
		"%d of %d iterations lost data; %d raced (swapped out with the read in flight), %d not swapped, %d read finished early; PFN changed in %d of %d\n",
		st.lost, st.iterations, st.raced, st.not_swapped,
		st.read_done_early, st.pfn_changed, st.iterations);
	if (st.lost)
		return FAIL(why, "%d of %d iterations lost the O_DIRECT data",
			    st.lost, st.iterations);
	if (!st.raced)
		return SKIP(why,
			    "never swapped out while the read was in flight (is %s throttled?)",
			    s->path);
	return RES_PASS;
}

static enum res check_odirect_inflight(struct setup_ctx *c, char *why)
{
	return odirect_common(c, false, why);
}

static int soft_dirty_state = -1;	/* -1 unknown, 0 no, 1 yes */

static bool soft_dirty_supported(void)
{
	char *p;

	if (soft_dirty_state >= 0)
		return soft_dirty_state;
	soft_dirty_state = 0;
	p = map_pages(1);
	if (!p)
		return false;
	p[0] = 1;
	if (!clear_refs_soft_dirty() && !pm_soft_dirty(pagemap_entry(p))) {
		p[0] = 2;
		soft_dirty_state = pm_soft_dirty(pagemap_entry(p));
	}
	unmap_pages(p, 1);
	return soft_dirty_state;
}

static enum res check_odirect_clear_refs(struct setup_ctx *c, char *why)
{
	if (!soft_dirty_supported())
		ksft_print_msg(
			"soft-dirty not available: clear_refs does not write-protect, still checking read swap-in + write\n");
	return odirect_common(c, true, why);
}

/* Racy variant: no throttling, random delays. */
struct racy_reader {
	const struct dio_src *src;
	void *buf;
	pthread_barrier_t start, end;
	atomic_int done;
	atomic_int stop;
	ssize_t ret;
	int err;
};

static void *racy_thread(void *arg)
{
	struct racy_reader *r = arg;

	for (;;) {
		pthread_barrier_wait(&r->start);
		if (atomic_load(&r->stop))
			break;
		r->ret = pread(r->src->fd, r->buf, r->src->bs, 0);
		r->err = errno;
		atomic_store(&r->done, 1);
		pthread_barrier_wait(&r->end);
	}
	return NULL;
}

static enum res check_odirect_racy(struct setup_ctx *c, char *why)
{
	struct racy_reader rr;
	int iters = 0, raced = 0, swapped_n = 0, lost = 0, pfn_changed = 0;
	double t0, lat, deadline;
	struct dio_src *s;
	unsigned char *p;
	char diag[96];
	enum res res;
	pthread_t th;
	int i, r;

	(void)c;
	res = get_fast_src(&s, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)map_pages(1);
	if (!p)
		return SKIP(why, "mmap: %s", strerror(errno));

	/*
	 * Typical read latency decides the range of the random delay; time
	 * a batch of reads (guest clocks may tick in jiffies).
	 */
	t0 = now();
	for (i = 0; i < 500 && (i < 8 || now() - t0 < 0.05); i++) {
		if (pread(s->fd, p, s->bs, 0) != (ssize_t)s->bs) {
			unmap_pages((char *)p, 1);
			return SKIP(why, "O_DIRECT read: %s", strerror(errno));
		}
	}
	lat = (now() - t0) / i;

	memset(&rr, 0, sizeof(rr));
	rr.src = s;
	rr.buf = p;
	pthread_barrier_init(&rr.start, NULL, 2);
	pthread_barrier_init(&rr.end, NULL, 2);
	r = pthread_create(&th, NULL, racy_thread, &rr);
	if (r) {
		unmap_pages((char *)p, 1);
		return SKIP(why, "pthread_create: %s", strerror(r));
	}
	srand((unsigned int)getpid());
	deadline = now() + opt.racy_secs;
	while (iters < opt.racy_max && now() < deadline) {
		uint64_t pfn0, pfn1;
		bool swapped, in_flight;
		int mode = rand() % 4;
		long long out0, out1;

		madvise(p, ps, MADV_DONTNEED);
		memset(p, s->fill, ps);
		pfn0 = page_pfn(p);
		out0 = vmstat_get("pswpout");
		atomic_store(&rr.done, 0);
		pthread_barrier_wait(&rr.start);
		/*
		 * Give the reader a head start of varying length (on one CPU a
		 * yield lets it submit its bio), then page out and write as
		 * soon as the page is a swap entry.
		 */
		if (mode == 0)
			sched_yield();
		else if (mode == 1)
			sleep_us(rand() % ((long)(lat * 1e6) + 1));
		else if (mode == 2)
			for (i = rand() % 20000; i > 0; i--)
				__asm__ __volatile__("" ::: "memory");
		swapped = false;
		for (i = 0; i < 50 && !swapped && !atomic_load(&rr.done); i++) {
			madvise(p, ps, MADV_PAGEOUT);
			swapped = page_swapped(p);
			if (!swapped)
				sched_yield();
		}
		in_flight = !atomic_load(&rr.done);
		p[ps - 1] = s->marker;
		pfn1 = page_pfn(p);
		pthread_barrier_wait(&rr.end);
		out1 = vmstat_get("pswpout");
		iters++;
		if (rr.ret != (ssize_t)s->bs) {
			res = FAIL(why, "O_DIRECT read of %zu bytes returned %zd (%s)",
				   s->bs, rr.ret, rr.ret < 0 ? strerror(rr.err) : "short");
			break;
		}
		swapped_n += swapped;
		/*
		 * A real race: unmapped while the read held the page, which
		 * then stayed unwritten in the swap cache (no pswpout), and
		 * written before the read returned.
		 */
		raced += swapped && in_flight && (out0 < 0 || out0 == out1);
		pfn_changed += pfn0 != pfn1;
		if (!dio_page_ok(s, p, diag, sizeof(diag))) {
			if (lost < 5)
				ksft_print_msg("  iteration %d: %s (swapped=%d, in flight=%d)\n",
					       iters, diag, swapped, in_flight);
			lost++;
		}
	}
	atomic_store(&rr.stop, 1);
	pthread_barrier_wait(&rr.start);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&rr.start);
	pthread_barrier_destroy(&rr.end);
	unmap_pages((char *)p, 1);
	if (res != RES_PASS && lost)
		return FAIL(why, "%d of %d iterations lost the O_DIRECT data (and then: %s)",
			    lost, iters, why);
	if (res != RES_PASS)
		return res;

	ksft_print_msg(
		"%d of %d iterations corrupted (%s, read ~%.0f us); swapped out in %d, of those while the read held the page %d; PFN changed in %d\n",
		lost, iters, s->tmpfile ? "temporary file" : s->path,
		lat * 1e6, swapped_n, raced, pfn_changed);
	if (lost)
		return FAIL(why, "%d of %d iterations lost the O_DIRECT data", lost,
			    iters);
	if (!raced)
		return SKIP(why, "race window never hit in %d iterations", iters);
	return RES_PASS;
}

/*
 * fork_after_swapout: parent and child write the same byte in turn.
 *
 * The first writer pages its page out again before the second one looks.
 * A fixed kernel copied the page on that write, so this swaps out a
 * private copy. A kernel that wrongly kept the marker wrote in place into
 * the page that the other process still reaches through its swap PTE; the
 * page is unmapped again (losing PG_anon_exclusive on the way), so the
 * second process swaps in that very page, sees the write, and the test
 * reports the leak. Without this step the second swapin would find a page
 * that is still mapped exclusive and trip the BUG_ON() in do_swap_page(),
 * which proves the same bug but brings the whole guest down.
 */
enum { FK_OK, FK_SAW_OTHER, FK_OWN_LOST, FK_NO_PAGEOUT, FK_ERR };

static const char *const fk_str[] = {
	[FK_OK] = "ok",
	[FK_SAW_OTHER] = "saw the other process's write",
	[FK_OWN_LOST] = "its own write or content changed",
	[FK_NO_PAGEOUT] = "could not page its page out again",
	[FK_ERR] = "error",
};

/* Nobody's write visible yet except maybe mine: p[0] in {fill, mine}. */
static int fk_verify(const unsigned char *p, unsigned char fill,
		     unsigned char mine, unsigned char other, bool written)
{
	if (p[0] == other)
		return FK_SAW_OTHER;
	if (p[0] != (written ? mine : fill))
		return FK_OWN_LOST;
	if (first_diff_byte(p, 1, ps, fill) >= 0)
		return FK_OWN_LOST;
	return FK_OK;
}

/*
 * Page the page out again after every look at it, whatever was seen: on a
 * kernel with the bug, a page left mapped exclusive here would make the
 * other process's next swapin hit the BUG_ON() in do_swap_page().
 */
static int fk_done(unsigned char *p, int r)
{
	if (page_out(p, 1, 5) && r == FK_OK)
		return FK_NO_PAGEOUT;
	return r;
}

/* Look, then write my byte (*pfn: the page written) and look again. */
static int fk_write(unsigned char *p, unsigned char fill, unsigned char mine,
		    unsigned char other, uint64_t *pfn)
{
	int r = fk_verify(p, fill, mine, other, false);

	if (r == FK_OK) {
		p[0] = mine;
		*pfn = page_pfn(p);
		r = fk_verify(p, fill, mine, other, true);
	}
	return fk_done(p, r);
}

static int xread(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

static int xwrite(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

static enum res fork_after_swapout(struct setup_ctx *c, bool parent_first,
				   char *why)
{
	const unsigned char P = 0x01, C = 0x02;	/* never a fill byte */
	int p2c[2] = { -1, -1 }, c2p[2] = { -1, -1 };
	struct { int status; uint64_t pfn; } cres = { FK_ERR, 0 };
	unsigned char fill = new_fill(), *p, go;
	int pres = FK_OK, status = 0;
	struct test_mem m;
	uint64_t ppfn = 0;
	enum res res;
	pid_t pid;

	res = mem_get(c, &m, 0, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)m.page;
	memset(p, fill, ps);
	res = mem_page_out_why(&m, why);
	if (res != RES_PASS)
		goto out;
	if (pipe(p2c) || pipe(c2p)) {
		res = SKIP(why, "pipe: %s", strerror(errno));
		goto out;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		res = SKIP(why, "fork: %s", strerror(errno));
		goto out;
	}
	if (!pid) {
		int st = FK_ERR;

		close(p2c[1]);
		close(c2p[0]);
		pagemap_reopen();	/* /proc/self of the child */
		if (xread(p2c[0], &go, 1) || go != 'g')
			_exit(0);
		if (parent_first) {
			/* parent has written: I must not see it */
			st = fk_write(p, fill, C, P, &cres.pfn);
		} else {
			st = fk_write(p, fill, C, P, &cres.pfn);
			cres.status = st;
			xwrite(c2p[1], &go, 1);
			if (xread(p2c[0], &go, 1))
				_exit(0);
			if (st == FK_OK)
				st = fk_done(p, fk_verify(p, fill, C, P, true));
		}
		cres.status = st;
		xwrite(c2p[1], &cres, sizeof(cres));
		_exit(0);
	}
	close(p2c[0]);
	close(c2p[1]);
	p2c[0] = -1;
	c2p[1] = -1;

	res = bring_back(c, why);
	if (res != RES_PASS) {
		go = 'x';
		xwrite(p2c[1], &go, 1);
		waitpid(pid, NULL, 0);
		goto out;
	}
	go = 'g';
	if (parent_first) {
		pres = fk_write(p, fill, P, C, &ppfn);
		xwrite(p2c[1], &go, 1);
		if (xread(c2p[0], &cres, sizeof(cres)))
			cres.status = FK_ERR;
		if (pres == FK_OK)
			pres = fk_done(p, fk_verify(p, fill, P, C, true));
	} else {
		xwrite(p2c[1], &go, 1);
		if (xread(c2p[0], &go, 1)) {
			cres.status = FK_ERR;
		} else {
			pres = fk_write(p, fill, P, C, &ppfn);
			go = 'g';
			xwrite(p2c[1], &go, 1);
			if (xread(c2p[0], &cres, sizeof(cres)))
				cres.status = FK_ERR;
		}
	}
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		ksft_print_msg("child killed by signal %d\n", WTERMSIG(status));

	ksft_print_msg("parent: %s, child: %s; pfn parent 0x%llx child 0x%llx%s\n",
		       fk_str[pres], fk_str[cres.status], (unsigned long long)ppfn,
		       (unsigned long long)cres.pfn, mem_describe(&m));
	if (pres == FK_SAW_OTHER || cres.status == FK_SAW_OTHER)
		res = FAIL(why, "a write leaked between parent and child");
	else if (pres == FK_NO_PAGEOUT || cres.status == FK_NO_PAGEOUT)
		res = SKIP(why, "MADV_PAGEOUT did not page the written page out again");
	else if (pres != FK_OK || cres.status != FK_OK)
		res = FAIL(why, "page content changed unexpectedly (parent: %s, child: %s)",
			   fk_str[pres], fk_str[cres.status]);
	else
		res = RES_PASS;
out:
	if (p2c[0] >= 0)
		close(p2c[0]);
	if (p2c[1] >= 0)
		close(p2c[1]);
	if (c2p[0] >= 0)
		close(c2p[0]);
	if (c2p[1] >= 0)
		close(c2p[1]);
	mem_put(&m);
	return res;
}

static enum res check_fork_parent_first(struct setup_ctx *c, char *why)
{
	return fork_after_swapout(c, true, why);
}

static enum res check_fork_child_first(struct setup_ctx *c, char *why)
{
	return fork_after_swapout(c, false, why);
}

/* reuse_pfn: exclusive page with an extra reference keeps its PFN. */
static enum res check_reuse_pfn(struct setup_ctx *c, char *why)
{
	unsigned char fill = new_fill(), *p;
	struct page_ref ref = { { -1, -1 } };
	uint64_t pfn0, pfn1, e;
	struct test_mem m;
	char d[96];
	enum res res;
	int r;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	res = mem_get(c, &m, MEM_REFS, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)m.page;
	memset(p, fill, ps);
	pfn0 = page_pfn(p);
	r = m.no_refs ? 0 : page_ref_get(&ref, p);
	if (r) {
		res = SKIP(why, "vmsplice: %s", strerror(-r));
		goto out;
	}
	res = mem_page_out_held(&m, pfn0, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	p[ps - 1] = (unsigned char)~fill;
	e = pagemap_entry(p);
	pfn1 = pm_pfn(e);
	ksft_print_msg("pfn 0x%llx -> 0x%llx (%s); now %s%s\n", (unsigned long long)pfn0,
		       (unsigned long long)pfn1, pfn0 == pfn1 ? "written in place" : "copied",
		       pm_describe(e, d, sizeof(d)), mem_describe(&m));
	if (first_diff_byte(p, 0, ps - 1, fill) >= 0 || p[ps - 1] != (unsigned char)~fill)
		res = FAIL(why, "page content changed");
	else if (pfn1 != pfn0)
		res = FAIL(why,
			   "exclusive page was copied on the write (exclusivity lost across swap)");
	else
		res = RES_PASS;
out:
	page_ref_put(&ref, NULL);
	mem_put(&m);
	return res;
}

/* shared_copy: page shared with a child forked after the swap-out. */
static enum res check_shared_copy(struct setup_ctx *c, char *why)
{
	unsigned char fill = new_fill(), *p, go = 'g';
	struct page_ref ref = { { -1, -1 } };
	struct { int ok; uint64_t pfn; } cres = { 0, 0 };
	int p2c[2] = { -1, -1 }, c2p[2] = { -1, -1 };
	uint64_t pfn0, ppfn;
	struct test_mem m;
	enum res res;
	pid_t pid;
	int r;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	res = mem_get(c, &m, MEM_REFS, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)m.page;
	memset(p, fill, ps);
	pfn0 = page_pfn(p);
	r = m.no_refs ? 0 : page_ref_get(&ref, p);	/* keeps the page in the swap cache */
	if (r) {
		res = SKIP(why, "vmsplice: %s", strerror(-r));
		goto out;
	}
	res = mem_page_out_held(&m, pfn0, why);
	if (res != RES_PASS)
		goto out;
	if (pipe(p2c) || pipe(c2p)) {
		res = SKIP(why, "pipe: %s", strerror(errno));
		goto out;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		res = SKIP(why, "fork: %s", strerror(errno));
		goto out;
	}
	if (!pid) {
		close(p2c[1]);
		close(c2p[0]);
		pagemap_reopen();	/* /proc/self of the child */
		if (xread(p2c[0], &go, 1) || go != 'g')
			_exit(0);
		cres.ok = first_diff_byte(p, 0, ps, fill) < 0;
		cres.pfn = page_pfn(p);
		xwrite(c2p[1], &cres, sizeof(cres));
		_exit(0);
	}
	close(p2c[0]);
	close(c2p[1]);
	p2c[0] = -1;
	c2p[1] = -1;
	res = bring_back(c, why);
	if (res != RES_PASS) {
		go = 'x';
		xwrite(p2c[1], &go, 1);
		waitpid(pid, NULL, 0);
		goto out;
	}
	p[0] = (unsigned char)~fill;
	ppfn = page_pfn(p);
	if (ppfn == pfn0) {
		/*
		 * Written in place while the child still maps the page through
		 * its swap PTE. Keep the child away from it: its swapin would
		 * find a page mapped exclusive and hit the BUG_ON() in
		 * do_swap_page() instead of letting us report the bug.
		 */
		go = 'x';
		xwrite(p2c[1], &go, 1);
		waitpid(pid, NULL, 0);
		ksft_print_msg("pfn 0x%llx before and after the parent's write\n",
			       (unsigned long long)pfn0);
		res = FAIL(why, "the parent wrote in place into a page shared with its child");
		goto out;
	}
	xwrite(p2c[1], &go, 1);
	if (xread(c2p[0], &cres, sizeof(cres)))
		cres.ok = -1;
	waitpid(pid, NULL, 0);
	ksft_print_msg(
		"pfn before 0x%llx, parent after its write 0x%llx, child 0x%llx; child content %s%s\n",
		(unsigned long long)pfn0, (unsigned long long)ppfn, (unsigned long long)cres.pfn,
		cres.ok > 0 ? "intact" : cres.ok ? "unknown" : "CHANGED",
		mem_describe(&m));
	if (cres.ok < 0)
		res = FAIL(why, "child did not report");
	else if (!cres.ok)
		res = FAIL(why, "the child sees the parent's write");
	else if (ppfn == pfn0 || ppfn == cres.pfn)
		res = FAIL(why, "the parent wrote in place into a page shared with its child");
	else if (p[0] != (unsigned char)~fill || first_diff_byte(p, 1, ps, fill) >= 0)
		res = FAIL(why, "parent's page content wrong");
	else
		res = RES_PASS;
out:
	if (p2c[0] >= 0)
		close(p2c[0]);
	if (p2c[1] >= 0)
		close(p2c[1]);
	if (c2p[0] >= 0)
		close(c2p[0]);
	if (c2p[1] >= 0)
		close(c2p[1]);
	page_ref_put(&ref, NULL);
	mem_put(&m);
	return res;
}

/* KSM */
#define KSM_DIR "/sys/kernel/mm/ksm/"

struct ksm_saved {
	char run[16], pages_to_scan[16], sleep_millisecs[16];
	bool valid;
};

static int sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int sysfs_write(const char *path, const char *val)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

static int ksm_start(struct ksm_saved *s)
{
	int r;

	s->valid = false;
	if (sysfs_read(KSM_DIR "run", s->run, sizeof(s->run)) ||
	    sysfs_read(KSM_DIR "pages_to_scan", s->pages_to_scan, sizeof(s->pages_to_scan)) ||
	    sysfs_read(KSM_DIR "sleep_millisecs", s->sleep_millisecs, sizeof(s->sleep_millisecs)))
		return -ENOENT;
	s->valid = true;
	r = sysfs_write(KSM_DIR "pages_to_scan", "1000");
	if (!r)
		r = sysfs_write(KSM_DIR "sleep_millisecs", "10");
	if (!r)
		r = sysfs_write(KSM_DIR "run", "1");
	return r;
}

static void ksm_restore(struct ksm_saved *s)
{
	if (!s->valid)
		return;
	sysfs_write(KSM_DIR "run", s->run);
	sysfs_write(KSM_DIR "pages_to_scan", s->pages_to_scan);
	sysfs_write(KSM_DIR "sleep_millisecs", s->sleep_millisecs);
	s->valid = false;
}

static bool wait_same_pfn(const void *a, const void *b, int secs)
{
	double deadline = now() + secs;

	do {
		uint64_t pa = page_pfn(a), pb = page_pfn(b);

		if (pa && pa == pb)
			return true;
		sleep_us(20000);
	} while (now() < deadline);
	return false;
}

static void fill_unique(unsigned char *p, unsigned int tag)
{
	long i;

	for (i = 0; i < ps; i++)
		p[i] = (unsigned char)(0x41 + (i * 7 + tag) % 57);
	memcpy(p, &tag, sizeof(tag));
}

/*
 * write_first: the first access after the swap-out is the write, so
 * do_swap_page() itself decides about the KSM page (with a read first it
 * is mapped read-only and do_wp_page() decides).
 */
static enum res ksm_swapin(struct setup_ctx *c, bool write_first, char *why)
{
	unsigned int tag = (unsigned int)getpid() * 2654435761u + pattern_seq++;
	struct page_ref ref = { { -1, -1 } };
	unsigned char *p, *a, *b, *orig = NULL, *seen = NULL;
	uint64_t k, pfn_in = 0, pfn_a, pfn_b = 0;
	struct ksm_saved ks = { .valid = false };
	bool remerged = false;
	enum res res;
	double t0;
	int r;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	if (access(KSM_DIR "run", F_OK))
		return SKIP(why, "KSM not configured (no " KSM_DIR "run)");
	p = (unsigned char *)map_pages(2);
	orig = malloc(ps);
	seen = malloc(ps);
	if (!p || !orig || !seen) {
		res = SKIP(why, "out of memory");
		goto out;
	}
	a = p;
	b = p + ps;
	fill_unique(orig, tag);
	memcpy(a, orig, ps);
	memcpy(b, orig, ps);
	if (madvise(p, 2 * ps, MADV_MERGEABLE)) {
		res = SKIP(why, "MADV_MERGEABLE: %s", strerror(errno));
		goto out;
	}
	r = ksm_start(&ks);
	if (r) {
		res = SKIP(why, "cannot start ksmd: %s", strerror(-r));
		goto out;
	}
	t0 = now();
	if (!wait_same_pfn(a, b, opt.ksm_secs)) {
		res = SKIP(why, "KSM did not merge the pages within %d s", opt.ksm_secs);
		goto out;
	}
	k = page_pfn(a);
	/* Keep the merged page as it is from now on: stop scanning. */
	sysfs_write(KSM_DIR "run", "0");
	ksft_print_msg("merged into pfn 0x%llx after %.1f s\n", (unsigned long long)k,
		       now() - t0);

	r = page_ref_get(&ref, a);	/* keeps the KSM page in the swap cache */
	if (r) {
		res = SKIP(why, "vmsplice: %s", strerror(-r));
		goto out;
	}
	/* 6.1's MADV_PAGEOUT leaves pages mapped more than once alone. */
	madvise(b, ps, MADV_DONTNEED);
	res = page_out_held(a, k, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	if (!write_first) {
		read_byte(a);		/* read fault (no-op after swapoff) */
		pfn_in = page_pfn(a);

		/* Map the KSM page twice again: merge a fresh identical page. */
		memcpy(b, orig, ps);
		sysfs_write(KSM_DIR "run", "1");
		remerged = wait_same_pfn(a, b, opt.ksm_secs);
		sysfs_write(KSM_DIR "run", "0");
		pfn_b = page_pfn(b);
	}

	a[ps - 1] = (unsigned char)~orig[ps - 1];
	pfn_a = page_pfn(a);
	r = page_ref_put(&ref, seen);

	if (write_first)
		ksft_print_msg("KSM pfn 0x%llx; written on swap-in: 0x%llx (%s)\n",
			       (unsigned long long)k, (unsigned long long)pfn_a,
			       pfn_a == k ? "in place" : "copy");
	else
		ksft_print_msg("KSM pfn 0x%llx; after swap-in 0x%llx (%s); "
			       "second page %s (0x%llx); written page 0x%llx\n",
			       (unsigned long long)k, (unsigned long long)pfn_in,
			       pfn_in == k ? "same KSM page" : "copy",
			       remerged ? "merged again" : "not merged again",
			       (unsigned long long)pfn_b, (unsigned long long)pfn_a);
	if (memcmp(a, orig, ps - 1) || a[ps - 1] != (unsigned char)~orig[ps - 1])
		res = FAIL(why, "written page has wrong content");
	else if (!write_first && memcmp(b, orig, ps))
		res = FAIL(why, "the other page changed");
	else if (!r && memcmp(seen, orig, ps))
		res = FAIL(why, "the KSM page was written in place (pipe sees the write)");
	else if (pfn_a == k || (remerged && pfn_a == pfn_b))
		res = FAIL(why, "KSM page written in place (pfn 0x%llx)",
			   (unsigned long long)pfn_a);
	else
		res = RES_PASS;
	/*
	 * A KSM page mapped writable cannot be unmerged (break_ksm() would
	 * retry its write fault for ever): just unmap it.
	 */
	if (write_first && res == RES_FAIL)
		madvise(p, 2 * ps, MADV_DONTNEED);
out:
	page_ref_put(&ref, NULL);
	ksm_restore(&ks);
	if (p) {
		madvise(p, 2 * ps, MADV_UNMERGEABLE);
		unmap_pages((char *)p, 2);
	}
	free(orig);
	free(seen);
	return res;
}

static enum res check_ksm(struct setup_ctx *c, char *why)
{
	return ksm_swapin(c, false, why);
}

static enum res check_ksm_write(struct setup_ctx *c, char *why)
{
	return ksm_swapin(c, true, why);
}

/* soft-dirty next to the exclusive marker */
static enum res check_softdirty(struct setup_ctx *c, char *why)
{
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p;
	uint64_t pfn0, e;
	char d[96];
	enum res res;
	int r;

	if (!soft_dirty_supported())
		return SKIP(why, "soft-dirty tracking not available (CONFIG_MEM_SOFT_DIRTY)");
	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	p = (unsigned char *)map_pages(1);
	if (!p)
		return SKIP(why, "mmap: %s", strerror(errno));
	memset(p, fill, ps);
	r = clear_refs_soft_dirty();
	if (r) {
		res = SKIP(why, "clear_refs: %s", strerror(-r));
		goto out;
	}
	if (pm_soft_dirty(pagemap_entry(p))) {
		res = FAIL(why, "soft-dirty bit not cleared by clear_refs");
		goto out;
	}
	p[0] = fill ^ 1;		/* write: soft-dirty again, reused in place */
	pfn0 = page_pfn(p);

	/* A: soft-dirty set before swap-out */
	res = page_out_soft_dirty(&ref, p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	p[ps - 1] = fill ^ 2;
	e = pagemap_entry(p);
	ksft_print_msg("A (soft-dirty while swapped): %s, pfn before 0x%llx\n",
		       pm_describe(e, d, sizeof(d)), (unsigned long long)pfn0);
	if (!pm_soft_dirty(e)) {
		res = FAIL(why, "soft-dirty lost on swap-in");
		goto out;
	}
	if (pm_pfn(e) != pfn0) {
		res = FAIL(why, "page copied on the write after swap-in with soft-dirty set");
		goto out;
	}

	/* B: soft-dirty cleared on the swap entry */
	res = page_out_held(p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	res = clear_refs_on_swap_entry(p, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	p[ps - 1] = fill ^ 3;
	e = pagemap_entry(p);
	ksft_print_msg("B (soft-dirty cleared while swapped): %s\n",
		       pm_describe(e, d, sizeof(d)));
	if (pm_pfn(e) != pfn0)
		res = FAIL(why,
			   "clearing soft-dirty on the swap entry lost exclusivity (page copied)");
	else if (!pm_soft_dirty(e))
		res = FAIL(why, "write after swap-in did not set soft-dirty");
	else if (p[0] != (unsigned char)(fill ^ 1) || p[ps - 1] != (unsigned char)(fill ^ 3) ||
		 first_diff_byte(p, 1, ps - 1, fill) >= 0)
		res = FAIL(why, "page content changed");
	else
		res = RES_PASS;
out:
	page_ref_put(&ref, NULL);
	unmap_pages((char *)p, 1);
	return res;
}

/* uffd-wp: a userfaultfd for write-protection of anonymous memory */
static int uffd_open_wp(char *why, enum res *res)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	int uffd;

	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0) {
		*res = SKIP(why, "userfaultfd: %s (CONFIG_USERFAULTFD)", strerror(errno));
		return -1;
	}
	if (ioctl(uffd, UFFDIO_API, &api)) {
		*res = SKIP(why, "UFFDIO_API: %s", strerror(errno));
		close(uffd);
		return -1;
	}
	if (!(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
		*res = SKIP(why,
			    "uffd-wp not supported on anonymous memory here (CONFIG_HAVE_ARCH_USERFAULTFD_WP: x86_64 only in 6.1)");
		close(uffd);
		return -1;
	}
	return uffd;
}

static int uffd_register_wp(int uffd, void *p, size_t len)
{
	struct uffdio_register reg = { .range = { (uintptr_t)p, len },
				       .mode = UFFDIO_REGISTER_MODE_WP };

	return ioctl(uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

static int uffd_wp(int uffd, void *p, size_t len, bool protect)
{
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)p, len },
					  .mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

/*
 * A page of its own, filled, registered for uffd-wp: the userfaultfd, or
 * -1 with *res set.  Closing the userfaultfd unregisters the page.
 */
static int uffd_page_get(unsigned char **pp, unsigned char fill, char *why, enum res *res)
{
	int uffd = uffd_open_wp(why, res), r;

	if (uffd < 0)
		return -1;
	*pp = (unsigned char *)map_pages(1);
	if (!*pp) {
		*res = SKIP(why, "mmap: %s", strerror(errno));
		close(uffd);
		return -1;
	}
	memset(*pp, fill, ps);
	r = uffd_register_wp(uffd, *pp, ps);
	if (r) {
		*res = SKIP(why, "UFFDIO_REGISTER(WP): %s", strerror(-r));
		unmap_pages((char *)*pp, 1);
		*pp = NULL;
		close(uffd);
		return -1;
	}
	return uffd;
}

/* uffd-wp next to the exclusive marker */
static enum res check_uffd_wp(struct setup_ctx *c, char *why)
{
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p = NULL;
	uint64_t pfn0, e;
	int uffd, r;
	enum res res;
	char d[96];

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	uffd = uffd_page_get(&p, fill, why, &res);
	if (uffd < 0)
		return res;
	pfn0 = page_pfn(p);
	r = uffd_wp(uffd, p, ps, true);
	if (r) {
		res = SKIP(why, "UFFDIO_WRITEPROTECT: %s", strerror(-r));
		goto out;
	}
	if (!pm_uffd_wp(pagemap_entry(p))) {
		res = SKIP(why, "pagemap does not report uffd-wp (bit 57)");
		goto out;
	}
	res = page_out_with_ref(&ref, p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	e = pagemap_entry(p);
	if (!pm_uffd_wp(e)) {
		res = FAIL(why, "swap entry lost uffd-wp (%s)", pm_describe(e, d, sizeof(d)));
		goto out;
	}
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	read_byte(p);			/* swap in by a read: no uffd event */
	e = pagemap_entry(p);
	ksft_print_msg("after read swap-in: %s (pfn before 0x%llx)\n",
		       pm_describe(e, d, sizeof(d)), (unsigned long long)pfn0);
	if (!pm_uffd_wp(e)) {
		res = FAIL(why, "uffd-wp lost on swap-in");
		goto out;
	}
	r = uffd_wp(uffd, p, ps, false);
	if (r || pm_uffd_wp(pagemap_entry(p))) {
		/* never write to a still protected page: it would block */
		res = FAIL(why, "un-protect without effect: %s",
			   r ? strerror(-r) : "uffd-wp bit still set");
		goto out;
	}
	p[ps - 1] = (unsigned char)~fill;
	e = pagemap_entry(p);
	ksft_print_msg("after un-protect and write: %s\n", pm_describe(e, d, sizeof(d)));
	if (pm_pfn(e) != pfn0)
		res = FAIL(why, "page copied: exclusivity lost next to the uffd-wp bit");
	else if (first_diff_byte(p, 0, ps - 1, fill) >= 0)
		res = FAIL(why, "page content changed");
	else
		res = RES_PASS;
out:
	close(uffd);	/* unregisters */
	page_ref_put(&ref, NULL);
	unmap_pages((char *)p, 1);
	return res;
}

/* stable_writes: pages written while under writeback */
static bool page_under_writeback(uint64_t pfn)
{
	uint64_t flags;

	return !kpageflags_get(pfn, &flags) && (flags & (1ULL << KPF_BIT_WRITEBACK));
}

static enum res stable_writes_run(struct setup_ctx *c, int on, char *why)
{
	int n = opt.stable_pages, i, r, swapped = 0, wb = 0, copied = 0;
	int copied_not_wb = 0, bad = 0, cur;
	uint64_t *pfn0 = NULL;
	unsigned char *p = NULL;
	bool changed = false;
	enum res res;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	cur = blk_stable_writes_get(c->dev);
	if (cur < 0)
		return SKIP(why, "stable_writes: %s", strerror(-cur));
	if (cur != on) {
		r = cycle_swap(c, on);
		if (r)
			return SKIP(why, "cannot switch stable_writes to %d: %s", on,
				    strerror(-r));
		changed = true;
	}
	p = (unsigned char *)map_pages(n + 1);
	pfn0 = calloc(n, sizeof(*pfn0));
	if (!p || !pfn0) {
		res = SKIP(why, "out of memory");
		goto out;
	}
	for (i = 0; i <= n; i++)
		memset(p + (size_t)i * ps, 0x30 + i % 64, ps);
	for (i = 0; i < n; i++)
		pfn0[i] = page_pfn(p + (size_t)i * ps);
	/* a first write-out to use up the throttle budget */
	page_out(p + (size_t)n * ps, 1, 5);

	for (i = 0; i < n; i++) {
		unsigned char *q = p + (size_t)i * ps;
		bool is_wb, sw;
		uint64_t pfn1;

		madvise(q, ps, MADV_PAGEOUT);
		sw = page_swapped(q);
		/*
		 * Under writeback during the fault: the old page is under
		 * writeback before and still after it (writeback does not
		 * start again: the page is not paged out a second time).
		 */
		if (env.kpageflags)
			is_wb = sw && page_under_writeback(pfn0[i]);
		else
			is_wb = sw;
		q[ps - 1] = 0xee;		/* write fault, right away */
		if (env.kpageflags)
			is_wb = is_wb && page_under_writeback(pfn0[i]);
		pfn1 = page_pfn(q);
		swapped += sw;
		wb += is_wb;
		if (pfn1 != pfn0[i]) {
			if (is_wb)
				copied++;
			else
				copied_not_wb++;
		}
		if (first_diff_byte(q, 0, ps - 1, 0x30 + i % 64) >= 0 || q[ps - 1] != 0xee)
			bad++;
		vmsg("page %d: swapped=%d writeback=%d pfn 0x%llx -> 0x%llx\n",
		     i, sw, is_wb, (unsigned long long)pfn0[i], (unsigned long long)pfn1);
	}
	ksft_print_msg(
		"stable_writes=%d: %d pages, %d swapped out, %d still under writeback%s when written; copied %d/%d of those (other pages copied: %d); %d with wrong content\n",
		on, n, swapped, wb,
		env.kpageflags ? "" : " (assumed: no /proc/kpageflags)",
		copied, wb, copied_not_wb, bad);
	if (bad)
		res = FAIL(why, "%d pages lost data", bad);
	else if (!wb)
		res = SKIP(why, "no page was under writeback when written (is %s write-throttled?)",
			   c->dev);
	else if (on && copied != wb)
		res = FAIL(why,
			   "%d of %d pages under writeback written in place despite stable_writes=1",
			   wb - copied, wb);
	else if (!on && copied)
		res = FAIL(why, "%d of %d exclusive pages copied although stable_writes=0",
			   copied, wb);
	else
		res = RES_PASS;
out:
	unmap_pages((char *)p, n + 1);
	free(pfn0);
	if (changed) {
		r = cycle_swap(c, cur);
		if (r)
			ksft_print_msg("cannot restore stable_writes=%d on %s: %s\n", cur,
				       c->dev, strerror(-r));
	}
	return res;
}

static enum res check_stable_on(struct setup_ctx *c, char *why)
{
	return stable_writes_run(c, 1, why);
}

static enum res check_stable_off(struct setup_ctx *c, char *why)
{
	return stable_writes_run(c, 0, why);
}

/* ------------------------------------------------------------------ */
/* Races: two threads touching the same swapped-out page at once       */

/*
 * The main thread (side 0) and a helper thread (side 1), each pinned to
 * a CPU of its own, meet at a barrier, then at a spin handshake (so that
 * both leave it at nearly the same moment); one of them, chosen at
 * random, then spins for a random count of 1 to 2^18 loops (log-uniform:
 * whatever the time scale of the other's action, some iterations start
 * inside it), and both run their action.  Guest clocks may tick in
 * jiffies, so the order of events comes from a shared ticket counter
 * instead: each side draws a ticket right before and right after its
 * action.  It also counts the page faults its thread took during the
 * action (getrusage(RUSAGE_THREAD): min_flt + maj_flt; a fault that had
 * to be retried counts once).  An iteration "overlapped" when both
 * actions were in progress at once (both first tickets drawn before
 * either second one) and each side that accesses the page took a fault
 * doing so, i.e. the PTE was still a swap entry when that side started.
 */
struct race;
typedef void (*race_act_fn)(struct race *r, int side);

struct race {
	pthread_t th;
	pthread_barrier_t start, end;
	atomic_int arrived;
	atomic_int stop;
	race_act_fn act[2];
	void *arg;
	atomic_uint ticket;
	unsigned int spin[2];	/* loops to spin after the handshake */
	unsigned int t0[2], t1[2];	/* tickets before and after the action */
	long faults[2];
	long val[2];		/* whatever an action wants to report */
	cpu_set_t saved;	/* the main thread's CPUs before race_start() */
	bool pinned;
	void *drain;		/* race_drain(): the page */
};

static void race_side(struct race *r, int side)
{
	struct rusage u0, u1;
	unsigned int i;

	getrusage(RUSAGE_THREAD, &u0);
	atomic_fetch_add(&r->arrived, 1);
	while (atomic_load(&r->arrived) < 2)
		;
	for (i = r->spin[side]; i; i--)
		__asm__ __volatile__("" ::: "memory");
	r->t0[side] = atomic_fetch_add(&r->ticket, 1);
	r->act[side](r, side);
	r->t1[side] = atomic_fetch_add(&r->ticket, 1);
	getrusage(RUSAGE_THREAD, &u1);
	r->faults[side] = (u1.ru_minflt - u0.ru_minflt) + (u1.ru_majflt - u0.ru_majflt);
}

static void *race_thread(void *arg)
{
	struct race *r = arg;

	for (;;) {
		pthread_barrier_wait(&r->start);
		if (atomic_load(&r->stop))
			break;
		race_side(r, 1);
		pthread_barrier_wait(&r->end);
	}
	return NULL;
}

/*
 * The two sides run on two different CPUs (the first two the process
 * may use), so that they really run at the same time, and so that
 * race_drain() reaches the per-CPU LRU caches of both.
 */
static void race_pin(struct race *r)
{
	cpu_set_t one;
	int cpu, n = 0;

	r->pinned = false;
	if (sched_getaffinity(0, sizeof(r->saved), &r->saved))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++) {
		if (!CPU_ISSET(cpu, &r->saved))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (n == 0 ? sched_setaffinity(0, sizeof(one), &one) :
		    pthread_setaffinity_np(r->th, sizeof(one), &one))
			break;
		n++;
	}
	r->pinned = true;
}

static int race_start(struct race *r)
{
	int e;

	atomic_store(&r->stop, 0);
	pthread_barrier_init(&r->start, NULL, 2);
	pthread_barrier_init(&r->end, NULL, 2);
	e = pthread_create(&r->th, NULL, race_thread, r);
	if (e) {
		pthread_barrier_destroy(&r->start);
		pthread_barrier_destroy(&r->end);
		return e;
	}
	race_pin(r);
	return 0;
}

static void race_stop(struct race *r)
{
	atomic_store(&r->stop, 1);
	pthread_barrier_wait(&r->start);
	pthread_join(r->th, NULL);
	pthread_barrier_destroy(&r->start);
	pthread_barrier_destroy(&r->end);
	if (r->pinned)
		sched_setaffinity(0, sizeof(r->saved), &r->saved);
}

/* One iteration; with jitter, a random side starts late (see above). */
static void race_once(struct race *r, bool jitter)
{
	int late = rand() & 1;

	r->spin[!late] = 0;
	r->spin[late] = jitter ? 1u << (rand() % 19) : 0;
	r->faults[0] = 0;
	r->faults[1] = 0;
	atomic_store(&r->arrived, 0);
	pthread_barrier_wait(&r->start);
	race_side(r, 0);
	pthread_barrier_wait(&r->end);
}

static void race_drain_act(struct race *r, int side)
{
	(void)side;
	madvise(r->drain, ps, MADV_COLD);	/* drains this CPU's LRU cache */
}

/*
 * A page one side faulted in sits in that CPU's LRU cache until it is
 * drained, and MADV_PAGEOUT skips pages that are not on the LRU yet.
 * madvise() drains the cache of the CPU it runs on: let both sides run
 * one on the page.
 */
static void race_drain(struct race *r, void *p)
{
	void (*act0)(struct race *, int) = r->act[0], (*act1)(struct race *, int) = r->act[1];
	long f0 = r->faults[0], f1 = r->faults[1];
	unsigned int t[4] = { r->t0[0], r->t0[1], r->t1[0], r->t1[1] };

	r->act[0] = race_drain_act;
	r->act[1] = race_drain_act;
	r->drain = p;
	race_once(r, false);
	r->act[0] = act0;
	r->act[1] = act1;
	r->faults[0] = f0;
	r->faults[1] = f1;
	r->t0[0] = t[0];
	r->t0[1] = t[1];
	r->t1[0] = t[2];
	r->t1[1] = t[3];
}

/* Were both actions in progress at the same moment? */
static bool race_concurrent(const struct race *r)
{
	unsigned int start = r->t0[0] > r->t0[1] ? r->t0[0] : r->t0[1];
	unsigned int end = r->t1[0] < r->t1[1] ? r->t1[0] : r->t1[1];

	return start < end;
}

#define RACE_OVERLAPS	20	/* stop early after this many overlapping iterations */

/* Go on with another iteration? */
static bool race_more(int iters, int overlapped, int max, double deadline)
{
	return iters < max && overlapped < RACE_OVERLAPS && now() < deadline;
}

static enum res race_cpus(char *why)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 2)
		return SKIP(why, "needs two CPUs online, %ld here (CONFIG_SMP, -smp 2)", n);
	return RES_PASS;
}

/*
 * An exclusive page, swapped out and still in the swap cache, with no
 * reference left but the swap cache's: held by a pipe during the
 * page-out (so reclaim keeps it there unwritten), then released.  A
 * fault then finds exactly this page, and PFN comparisons mean something
 * for as long as it stays in the swap cache.  The pre-fix kernel reuses
 * such a page on a write fault only when the reference count says
 * nobody else looks at it, which a second thread faulting on the same
 * entry at the same time (it holds a reference while it waits for the
 * page lock) breaks.
 */
static enum res race_prepare_page(unsigned char *p, unsigned char fill, uint64_t *pfn,
				  char *why)
{
	struct page_ref ref = { { -1, -1 } };
	enum res res;

	memset(p, fill, ps);
	*pfn = page_pfn(p);
	res = page_out_with_ref(&ref, p, *pfn, why);
	page_ref_put(&ref, NULL);
	return res;
}

struct fault_race {
	unsigned char *p;
	bool read[2];		/* side reads (else writes) */
	long off[2];
	unsigned char val[2];
};

static void fault_race_act(struct race *r, int side)
{
	struct fault_race *f = r->arg;

	if (f->read[side])
		r->val[side] = read_byte(f->p + f->off[side]);
	else
		write_byte(f->p + f->off[side], f->val[side]);
}

/*
 * race_write_write / race_read_write: two threads fault on the same
 * swap entry at the same moment, two writes or a read and a write.
 * Afterwards both writes must be in the page, a read must have seen the
 * old contents, the page must be mapped once, and it must still be the
 * page that was swapped out (same PFN): an exclusive page is written in
 * place whoever wins.
 */
static enum res fault_race(struct setup_ctx *c, bool reader, char *why)
{
	int iters = 0, overlapped = 0, copied = 0, copied_ov = 0, bad = 0, twice = 0;
	struct fault_race f = { .read = { reader, false },
				.off = { 64, 0 }, .val = { 0x01, 0x02 } };	/* never a fill */
	struct race r = { .act = { fault_race_act, fault_race_act }, .arg = &f };
	unsigned char fill = new_fill(), *p;
	double deadline = now() + opt.race_secs;
	char d[96];
	enum res res;
	int e;

	(void)c;
	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	res = race_cpus(why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)map_pages(1);
	if (!p)
		return SKIP(why, "mmap: %s", strerror(errno));
	f.p = p;
	f.off[1] = ps - 64;
	e = race_start(&r);
	if (e) {
		unmap_pages((char *)p, 1);
		return SKIP(why, "pthread_create: %s", strerror(e));
	}
	srand((unsigned int)getpid() ^ (reader ? 0x5a5a : 0));
	while (race_more(iters, overlapped, opt.race_iters, deadline)) {
		uint64_t pfn0, pfn1, ent;
		bool ov, ok;

		res = race_prepare_page(p, fill, &pfn0, why);
		if (res != RES_PASS)
			break;
		race_once(&r, true);
		ent = pagemap_entry(p);
		pfn1 = pm_pfn(ent);
		iters++;
		ov = race_concurrent(&r) && r.faults[0] > 0 && r.faults[1] > 0;
		overlapped += ov;
		ok = p[f.off[1]] == f.val[1] &&
		     (reader ? r.val[0] == fill : p[f.off[0]] == f.val[0]);
		if (!ok) {
			if (bad < 5)
				ksft_print_msg(
					"  iteration %d: a %s is lost (read 0x%02lx, page holds 0x%02x 0x%02x; overlapped %d)\n",
					iters, reader ? "write or the read's view" : "write",
					r.val[0], p[f.off[0]], p[f.off[1]], ov);
			bad++;
		}
		if (pfn1 != pfn0) {
			copied++;
			copied_ov += ov;
			if (copied <= 3)
				ksft_print_msg(
					"  iteration %d: copied, pfn 0x%llx -> 0x%llx (overlapped %d, faults %ld/%ld)\n",
					iters, (unsigned long long)pfn0, (unsigned long long)pfn1,
					ov, r.faults[0], r.faults[1]);
		}
		if (!pm_exclusive(ent)) {
			if (twice < 3)
				ksft_print_msg("  iteration %d: the page is not mapped once (%s)\n",
					       iters, pm_describe(ent, d, sizeof(d)));
			twice++;
		}
		/* the next iteration writes the fill again */
		fill = new_fill();
		race_drain(&r, p);
	}
	race_stop(&r);
	unmap_pages((char *)p, 1);
	if (res != RES_PASS && !iters)
		return res;
	ksft_print_msg(
		"%d iterations, %d overlapped (both threads faulted on the swap entry, accesses at the same time); copied %d (%d of them overlapped), data wrong %d, not mapped once %d\n",
		iters, overlapped, copied, copied_ov, bad, twice);
	if (bad)
		return FAIL(why, "%d of %d iterations lost data", bad, iters);
	if (twice)
		return FAIL(why, "%d of %d iterations left the page mapped more than once",
			    twice, iters);
	if (copied)
		return FAIL(why, "%d of %d iterations copied the exclusive page (%d overlapped)",
			    copied, iters, copied_ov);
	if (res != RES_PASS)
		return res;
	if (!overlapped)
		return SKIP(why, "the two faults never overlapped in %d iterations", iters);
	return RES_PASS;
}

static enum res check_race_write_write(struct setup_ctx *c, char *why)
{
	return fault_race(c, false, why);
}

static enum res check_race_read_write(struct setup_ctx *c, char *why)
{
	return fault_race(c, true, why);
}

/*
 * race_read_wp: a read fault on a swap entry while another thread
 * write-protects the page with uffd-wp (UFFDIO_WRITEPROTECT runs under
 * mmap_lock for reading, as faults do, so the two really overlap).
 * Whichever comes first, the page must end up protected: a fault that
 * took the flags of the swap PTE before the protect changed it and
 * installed them after (checking under the PT lock only that the swap
 * entry is the same) would undo the protection.  clear_refs, the other
 * way to change a flag of a swap PTE, holds mmap_lock for writing in
 * 6.1 and cannot race with a fault.
 */
struct wp_race {
	unsigned char *p;
	int uffd;
	int err;
};

static void wp_race_read(struct race *r, int side)
{
	struct wp_race *f = r->arg;

	(void)side;
	r->val[0] = read_byte(f->p + 64);
}

static void wp_race_protect(struct race *r, int side)
{
	struct wp_race *f = r->arg;

	(void)side;
	f->err = -uffd_wp(f->uffd, f->p, ps, true);
}

static enum res check_race_read_wp(struct setup_ctx *c, char *why)
{
	int iters = 0, overlapped = 0, wrong = 0, wrong_ov = 0, bad = 0;
	struct wp_race f = { .uffd = -1 };
	struct race r = { .act = { wp_race_read, wp_race_protect }, .arg = &f };
	unsigned char fill = new_fill(), *p = NULL;
	double deadline = now() + opt.race_secs;
	bool started = false;
	enum res res;
	char d[96];
	int e;

	(void)c;
	res = race_cpus(why);
	if (res != RES_PASS)
		return res;
	f.uffd = uffd_page_get(&p, fill, why, &res);
	if (f.uffd < 0)
		return res;
	f.p = p;
	e = race_start(&r);
	if (e) {
		res = SKIP(why, "pthread_create: %s", strerror(e));
		goto out;
	}
	started = true;
	srand((unsigned int)getpid() ^ 0x77);
	while (race_more(iters, overlapped, opt.race_iters, deadline)) {
		uint64_t e0, e1;
		bool ov;

		e = page_out(p, 1, 5);
		if (e) {
			res = e == -EAGAIN ? SKIP(why, "MADV_PAGEOUT did not swap the page out") :
			      SKIP(why, "MADV_PAGEOUT: %s", strerror(-e));
			break;
		}
		e0 = pagemap_entry(p);
		if (pm_uffd_wp(e0)) {
			res = FAIL(why,
				   "the swap entry is still uffd-wp protected before the race (%s)",
				   pm_describe(e0, d, sizeof(d)));
			break;
		}
		race_once(&r, true);
		if (f.err) {
			res = FAIL(why, "UFFDIO_WRITEPROTECT during the race: %s", strerror(f.err));
			break;
		}
		e1 = pagemap_entry(p);
		iters++;
		ov = race_concurrent(&r) && r.faults[0] > 0;
		overlapped += ov;
		if (!pm_uffd_wp(e1)) {
			if (wrong < 5)
				ksft_print_msg(
					"  iteration %d: not uffd-wp protected after the read fault and the protect (%s; overlapped %d, the %s started first)\n",
					iters, pm_describe(e1, d, sizeof(d)), ov,
					r.t0[0] < r.t0[1] ? "read" : "protect");
			wrong++;
			wrong_ov += ov;
		}
		if (!pm_present(e1) || !pm_exclusive(e1) || r.val[0] != fill ||
		    first_diff_byte(p, 0, ps, fill) >= 0) {
			if (bad < 3)
				ksft_print_msg(
					"  iteration %d: after the read: %s, read 0x%02lx, fill 0x%02x\n",
					iters, pm_describe(e1, d, sizeof(d)), r.val[0], fill);
			bad++;
		}
		/* un-protect for the next round (never write to a protected page) */
		e = uffd_wp(f.uffd, p, ps, false);
		if (e || pm_uffd_wp(pagemap_entry(p))) {
			res = FAIL(why, "un-protect: %s", e ? strerror(-e) : "no effect");
			break;
		}
		race_drain(&r, p);
	}
	ksft_print_msg(
		"%d iterations, %d overlapped (the read faulted on the swap entry while UFFDIO_WRITEPROTECT ran); protection lost in %d (%d of them overlapped), other trouble %d\n",
		iters, overlapped, wrong, wrong_ov, bad);
	if (wrong)
		res = FAIL(why,
			   "%d of %d iterations lost the uffd-wp protection set while the fault ran",
			   wrong, iters);
	else if (bad)
		res = FAIL(why, "%d of %d iterations: page not mapped once or content changed",
			   bad, iters);
	else if (res == RES_PASS && !overlapped)
		res = SKIP(why, "the fault and the protect never overlapped in %d iterations",
			   iters);
out:
	if (started)
		race_stop(&r);
	close(f.uffd);
	unmap_pages((char *)p, 1);
	return res;
}

/*
 * fork_race_swapin: fork() in one thread while another write-faults a
 * swapped-out exclusive page back in.  Whatever the order (fork() holds
 * mmap_lock for writing, so one of the two goes first), the child's copy
 * is the page as it was when fork() copied the page table, and from then
 * on neither process may see the other's writes.  Parent and child then
 * take turns (pipes): each looks at the page, writes its own byte, and
 * pages its page out again while it is mapped only once, as the fork
 * checks above do, before the other looks.
 */
enum { FR_OK, FR_LEAK, FR_ORDER, FR_OWN, FR_NO_PAGEOUT, FR_ERR };

static const char *const fr_str[] = {
	[FR_OK] = "ok",
	[FR_LEAK] = "saw the other process's write",
	[FR_ORDER] = "the child's copy does not match the order of fork() and the write",
	[FR_OWN] = "its own write or content changed",
	[FR_NO_PAGEOUT] = "could not page its page out again",
	[FR_ERR] = "error",
};

struct fork_race {
	unsigned char *p;
	unsigned char fill;
	int p2c[2], c2p[2];
	pid_t pid;
	int fork_err;
};

/* Page out again after a look, if the page is mapped by us alone. */
static int fr_done(const unsigned char *p, int st)
{
	uint64_t e = pagemap_entry(p);

	if (st == FR_OK && pm_present(e) && pm_exclusive(e) && page_out((void *)p, 1, 5))
		return FR_NO_PAGEOUT;
	return st;
}

static int fr_check(const unsigned char *p, unsigned char fill, unsigned char b0,
		    unsigned char mine, unsigned char theirs, int my_off, int their_off)
{
	long i;

	if (p[their_off] == theirs)
		return FR_LEAK;
	if (p[0] != b0 || (mine && p[my_off] != mine))
		return FR_OWN;
	for (i = 1; i < ps; i++)
		if (i != my_off && p[i] != fill)
			return p[i] == theirs ? FR_LEAK : FR_OWN;
	return FR_OK;
}

#define FR_W	0x01	/* the racing write, byte 0 */
#define FR_C	0x02	/* the child's write, byte 1 */
#define FR_P	0x03	/* the parent's write, byte 2 */

static void fr_child(struct fork_race *f)
{
	unsigned char *p = f->p, go, b0;
	struct { int st; unsigned char b0; } res = { FR_ERR, 0 };

	close(f->p2c[1]);
	close(f->c2p[0]);
	pagemap_reopen();
	if (xread(f->p2c[0], &go, 1) || go != 'g')
		_exit(0);
	b0 = p[0];
	res.b0 = b0;
	res.st = b0 == FR_W || b0 == f->fill ? FR_OK : FR_OWN;
	if (res.st == FR_OK && p[1] == FR_C)
		res.st = FR_OWN;
	if (res.st == FR_OK) {
		p[1] = FR_C;
		res.st = fr_done(p, fr_check(p, f->fill, b0, FR_C, FR_P, 1, 2));
	}
	xwrite(f->c2p[1], &res, sizeof(res));
	if (xread(f->p2c[0], &go, 1) || go != 'g')
		_exit(0);
	res.st = fr_done(p, fr_check(p, f->fill, b0, FR_C, FR_P, 1, 2));
	xwrite(f->c2p[1], &res, sizeof(res));
	_exit(0);
}

static void fork_race_fork(struct race *r, int side)
{
	struct fork_race *f = r->arg;

	(void)side;
	f->pid = fork();
	if (!f->pid)
		fr_child(f);
	f->fork_err = f->pid < 0 ? errno : 0;
}

static void fork_race_write(struct race *r, int side)
{
	struct fork_race *f = r->arg;

	(void)side;
	write_byte(f->p, FR_W);
}

static void fr_close(int fd[2])
{
	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	fd[0] = -1;
	fd[1] = -1;
}

static enum res check_fork_race_swapin(struct setup_ctx *c, char *why)
{
	int iters = 0, overlapped = 0, fault_first = 0, fork_first = 0, leaks = 0, other = 0;
	int max = opt.race_iters / 4 > 0 ? opt.race_iters / 4 : 1;
	struct fork_race f = { .p2c = { -1, -1 }, .c2p = { -1, -1 } };
	struct race r = { .act = { fork_race_fork, fork_race_write }, .arg = &f };
	double deadline = now() + opt.race_secs;
	enum res res = RES_PASS;
	int e;

	(void)c;
	res = race_cpus(why);
	if (res != RES_PASS)
		return res;
	e = race_start(&r);
	if (e)
		return SKIP(why, "pthread_create: %s", strerror(e));
	srand((unsigned int)getpid() ^ 0x1234);
	while (race_more(iters, overlapped, max, deadline)) {
		struct { int st; unsigned char b0; } cres = { FR_ERR, 0 };
		int pst = FR_OK, status = 0, order = 0;
		unsigned char go = 'g';
		bool ov;

		f.p = (unsigned char *)map_pages(1);
		if (!f.p) {
			res = SKIP(why, "mmap: %s", strerror(errno));
			break;
		}
		f.fill = new_fill();
		memset(f.p, f.fill, ps);
		res = page_out_why(f.p, 1, why);
		if (res == RES_PASS && (pipe(f.p2c) || pipe(f.c2p)))
			res = SKIP(why, "pipe: %s", strerror(errno));
		if (res != RES_PASS) {
			fr_close(f.p2c);
			unmap_pages((char *)f.p, 1);
			break;
		}
		fflush(stdout);
		race_once(&r, true);
		if (f.pid < 0) {
			res = SKIP(why, "fork: %s", strerror(f.fork_err));
			fr_close(f.p2c);
			fr_close(f.c2p);
			unmap_pages((char *)f.p, 1);
			break;
		}
		close(f.p2c[0]);
		close(f.c2p[1]);
		f.p2c[0] = -1;
		f.c2p[1] = -1;
		iters++;
		ov = race_concurrent(&r) && r.faults[1] > 0;
		race_drain(&r, f.p);	/* the helper wrote the page: its CPU */
		overlapped += ov;
		/* 1: the write was done before fork() began; -1: fork() returned first */
		if (r.t1[1] < r.t0[0])
			order = 1;
		else if (r.t1[0] < r.t0[1])
			order = -1;

		/* parent: my write is there; page out before the child looks */
		pst = f.p[0] == FR_W ? FR_OK : FR_OWN;
		pst = fr_done(f.p, pst);
		if (pst != FR_OK)
			go = 'x';
		xwrite(f.p2c[1], &go, 1);
		if (pst == FR_OK && xread(f.c2p[0], &cres, sizeof(cres)))
			cres.st = FR_ERR;
		if (pst == FR_OK && cres.st == FR_OK) {
			if ((order > 0 && cres.b0 != FR_W) || (order < 0 && cres.b0 != f.fill))
				cres.st = FR_ORDER;
			fault_first += cres.b0 == FR_W;
			fork_first += cres.b0 == f.fill;
		}
		if (pst == FR_OK && cres.st == FR_OK) {
			pst = fr_check(f.p, f.fill, FR_W, 0, FR_C, 2, 1);
			if (pst == FR_OK) {
				f.p[2] = FR_P;
				pst = fr_done(f.p, fr_check(f.p, f.fill, FR_W, FR_P, FR_C, 2, 1));
			}
			go = pst == FR_OK ? 'g' : 'x';
			xwrite(f.p2c[1], &go, 1);
			if (go == 'g' && xread(f.c2p[0], &cres, sizeof(cres)))
				cres.st = FR_ERR;
			if (pst == FR_OK)
				pst = fr_check(f.p, f.fill, FR_W, FR_P, FR_C, 2, 1);
		}
		/* closing the pipes first ends a child still waiting for its turn */
		fr_close(f.p2c);
		fr_close(f.c2p);
		waitpid(f.pid, &status, 0);
		unmap_pages((char *)f.p, 1);
		if (WIFSIGNALED(status) && other < 3)
			ksft_print_msg("  iteration %d: child killed by signal %d\n", iters,
				       WTERMSIG(status));
		if (pst == FR_LEAK || cres.st == FR_LEAK || cres.st == FR_ORDER) {
			if (leaks < 5)
				ksft_print_msg(
					"  iteration %d: parent: %s, child: %s (child's copy 0x%02x, write %s fork, overlapped %d)\n",
					iters, fr_str[pst], fr_str[cres.st], cres.b0,
					order > 0 ? "before" : order < 0 ? "after" : "during",
					ov);
			leaks++;
		} else if (pst == FR_NO_PAGEOUT || cres.st == FR_NO_PAGEOUT) {
			res = SKIP(why, "MADV_PAGEOUT did not page a looked-at page out again");
			break;
		} else if (pst != FR_OK || cres.st != FR_OK) {
			if (other < 3)
				ksft_print_msg("  iteration %d: parent: %s, child: %s\n", iters,
					       fr_str[pst], fr_str[cres.st]);
			other++;
		}
	}
	race_stop(&r);
	ksft_print_msg("%d iterations, %d overlapped (the write faulted while fork() ran); "
		       "the child got the written page in %d, the old one in %d; "
		       "leaks %d, other trouble %d\n", iters, overlapped, fault_first,
		       fork_first, leaks, other);
	if (leaks)
		return FAIL(why, "%d of %d iterations: a write leaked between parent and child",
			    leaks, iters);
	if (other)
		return FAIL(why, "%d of %d iterations: page content changed unexpectedly", other,
			    iters);
	if (res != RES_PASS)
		return res;
	if (!overlapped)
		return SKIP(why, "the write fault and fork() never overlapped in %d iterations",
			    iters);
	return RES_PASS;
}

/*
 * uffd_wp_swapped: uffd-wp changed on the swap entry itself.  The page
 * is swapped out unprotected, protected while it is a swap entry (the
 * bit must show on the entry), swapped in by a read (still protected),
 * unprotected and written: the same page (PFN), so the marker survived
 * the uffd-wp bit being set next to it.  Then once more with protect
 * and un-protect both on the swap entry, and a write fault straight on
 * it: no uffd-wp bit, same page.
 */
static enum res check_uffd_wp_swapped(struct setup_ctx *c, char *why)
{
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p = NULL;
	uint64_t pfn0, e;
	enum res res;
	char d[96];
	int uffd, r;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	uffd = uffd_page_get(&p, fill, why, &res);
	if (uffd < 0)
		return res;
	pfn0 = page_pfn(p);

	/* A: protected while swapped out, read back, un-protected, written */
	res = page_out_with_ref(&ref, p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	r = uffd_wp(uffd, p, ps, true);
	e = pagemap_entry(p);
	if (r || !pm_swapped(e) || !pm_uffd_wp(e)) {
		res = FAIL(why, "UFFDIO_WRITEPROTECT on the swap entry: %s (%s)",
			   r ? strerror(-r) : "no uffd-wp bit on it", pm_describe(e, d, sizeof(d)));
		goto out;
	}
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	read_byte(p);
	e = pagemap_entry(p);
	ksft_print_msg(
		"A (protected on the swap entry), after a read swap-in: %s; pfn before 0x%llx\n",
		pm_describe(e, d, sizeof(d)), (unsigned long long)pfn0);
	if (!pm_uffd_wp(e)) {
		res = FAIL(why, "uffd-wp set on the swap entry lost on swap-in");
		goto out;
	}
	r = uffd_wp(uffd, p, ps, false);
	if (r || pm_uffd_wp(pagemap_entry(p))) {
		res = FAIL(why, "un-protect without effect: %s",
			   r ? strerror(-r) : "bit still set");
		goto out;
	}
	p[ps - 1] = (unsigned char)~fill;
	e = pagemap_entry(p);
	ksft_print_msg("A, after un-protect and write: %s\n", pm_describe(e, d, sizeof(d)));
	if (pm_pfn(e) != pfn0) {
		res = FAIL(why, "page copied: setting uffd-wp on the swap entry lost exclusivity");
		goto out;
	}

	/* B: protected and un-protected on the swap entry, then written */
	res = page_out_held(p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	r = uffd_wp(uffd, p, ps, true);
	if (!r)
		r = uffd_wp(uffd, p, ps, false);
	e = pagemap_entry(p);
	if (r || !pm_swapped(e) || pm_uffd_wp(e)) {
		/* never write to a page that may still be protected: it would block */
		res = FAIL(why, "protect + un-protect on the swap entry: %s (%s)",
			   r ? strerror(-r) : "uffd-wp bit stays", pm_describe(e, d, sizeof(d)));
		goto out;
	}
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	if (pm_uffd_wp(pagemap_entry(p))) {
		res = FAIL(why, "uffd-wp came back on swapoff although it was cleared");
		goto out;
	}
	p[0] = (unsigned char)~fill;
	e = pagemap_entry(p);
	ksft_print_msg("B (protected and un-protected on the swap entry), after a write: %s\n",
		       pm_describe(e, d, sizeof(d)));
	if (pm_uffd_wp(e))
		res = FAIL(why, "uffd-wp set after un-protect and a write");
	else if (pm_pfn(e) != pfn0)
		res = FAIL(why, "page copied: clearing uffd-wp on the swap entry lost exclusivity");
	else if (p[0] != (unsigned char)~fill || p[ps - 1] != (unsigned char)~fill ||
		 first_diff_byte(p, 1, ps - 1, fill) >= 0)
		res = FAIL(why, "page content changed");
	else
		res = RES_PASS;
out:
	close(uffd);
	page_ref_put(&ref, NULL);
	unmap_pages((char *)p, 1);
	return res;
}

/*
 * softdirty_swapped: soft-dirty cleared by clear_refs on the swap entry,
 * then the page swapped in by a read: not soft-dirty, the same page; the
 * write after it (a write-protect fault, not a swap fault) reuses the
 * page and makes it soft-dirty.  The marker must survive the clear and
 * give the read swap-in an exclusive mapping.
 */
static enum res check_softdirty_swapped(struct setup_ctx *c, char *why)
{
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p;
	uint64_t pfn0, e;
	enum res res;
	char d[96];

	if (!soft_dirty_supported())
		return SKIP(why, "soft-dirty tracking not available (CONFIG_MEM_SOFT_DIRTY)");
	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	p = (unsigned char *)map_pages(1);
	if (!p)
		return SKIP(why, "mmap: %s", strerror(errno));
	memset(p, fill, ps);
	pfn0 = page_pfn(p);
	res = page_out_soft_dirty(&ref, p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	res = clear_refs_on_swap_entry(p, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	read_byte(p + ps / 2);
	e = pagemap_entry(p);
	ksft_print_msg(
		"after clear_refs on the swap entry and a read swap-in: %s; pfn before 0x%llx\n",
		pm_describe(e, d, sizeof(d)), (unsigned long long)pfn0);
	if (pm_soft_dirty(e)) {
		res = FAIL(why,
			   "soft-dirty back after a read swap-in although clear_refs cleared it");
		goto out;
	}
	if (pm_pfn(e) != pfn0) {
		res = FAIL(why, "a read swap-in mapped another page");
		goto out;
	}
	p[ps - 1] = (unsigned char)~fill;
	e = pagemap_entry(p);
	ksft_print_msg("after the write: %s\n", pm_describe(e, d, sizeof(d)));
	if (pm_pfn(e) != pfn0)
		res = FAIL(why,
			   "page copied on the write after a read swap-in: the exclusive marker did not survive clear_refs on the swap entry");
	else if (!pm_soft_dirty(e))
		res = FAIL(why, "the write did not make the page soft-dirty");
	else if (first_diff_byte(p, 0, ps - 1, fill) >= 0)
		res = FAIL(why, "page content changed");
	else
		res = RES_PASS;
out:
	page_ref_put(&ref, NULL);
	unmap_pages((char *)p, 1);
	return res;
}

/*
 * io_uring with the raw system calls (no liburing): just enough for one
 * IORING_OP_READ_FIXED at a time.
 */
struct uring {
	int fd;
	void *sq_ring, *cq_ring;
	size_t sq_len, cq_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	atomic_uint *sq_tail;		/* the ring indexes the kernel shares */
	unsigned int *sq_mask, *sq_array;
	atomic_uint *cq_head, *cq_tail;
	unsigned int *cq_mask;
	struct io_uring_cqe *cqes;
};

static void uring_exit(struct uring *u)
{
	if (u->sqes)
		munmap(u->sqes, u->sqes_len);
	if (u->cq_ring && u->cq_ring != u->sq_ring)
		munmap(u->cq_ring, u->cq_len);
	if (u->sq_ring)
		munmap(u->sq_ring, u->sq_len);
	if (u->fd >= 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

/* 0 or -errno (-ENOSYS without CONFIG_IO_URING). */
static int uring_init(struct uring *u, unsigned int entries)
{
	struct io_uring_params pr;
	int err;

	memset(u, 0, sizeof(*u));
	memset(&pr, 0, sizeof(pr));
	u->fd = (int)syscall(__NR_io_uring_setup, entries, &pr);
	if (u->fd < 0)
		return -errno;
	u->sq_len = pr.sq_off.array + pr.sq_entries * sizeof(unsigned int);
	u->cq_len = pr.cq_off.cqes + pr.cq_entries * sizeof(struct io_uring_cqe);
	if (pr.features & IORING_FEAT_SINGLE_MMAP) {
		if (u->cq_len > u->sq_len)
			u->sq_len = u->cq_len;
		u->cq_len = u->sq_len;
	}
	u->sq_ring = mmap(NULL, u->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			  u->fd, IORING_OFF_SQ_RING);
	if (u->sq_ring == MAP_FAILED) {
		u->sq_ring = NULL;
		goto fail;
	}
	if (pr.features & IORING_FEAT_SINGLE_MMAP) {
		u->cq_ring = u->sq_ring;
	} else {
		u->cq_ring = mmap(NULL, u->cq_len, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_CQ_RING);
		if (u->cq_ring == MAP_FAILED) {
			u->cq_ring = NULL;
			goto fail;
		}
	}
	u->sqes_len = pr.sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       u->fd, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED) {
		u->sqes = NULL;
		goto fail;
	}
	u->sq_tail = (atomic_uint *)((char *)u->sq_ring + pr.sq_off.tail);
	u->sq_mask = (unsigned int *)((char *)u->sq_ring + pr.sq_off.ring_mask);
	u->sq_array = (unsigned int *)((char *)u->sq_ring + pr.sq_off.array);
	u->cq_head = (atomic_uint *)((char *)u->cq_ring + pr.cq_off.head);
	u->cq_tail = (atomic_uint *)((char *)u->cq_ring + pr.cq_off.tail);
	u->cq_mask = (unsigned int *)((char *)u->cq_ring + pr.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)((char *)u->cq_ring + pr.cq_off.cqes);
	return 0;
fail:
	err = -errno;
	uring_exit(u);
	return err;
}

/*
 * One IORING_OP_READ_FIXED of len bytes at off into buffer 0, waited for:
 * the CQE's result (bytes or -errno), or -errno of io_uring_enter.
 */
static int uring_read_fixed(struct uring *u, int fd, void *buf, unsigned int len, off_t off)
{
	unsigned int tail = atomic_load_explicit(u->sq_tail, memory_order_acquire);
	unsigned int idx = tail & *u->sq_mask, head;
	struct io_uring_sqe *sqe = &u->sqes[idx];
	int res;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_READ_FIXED;
	sqe->fd = fd;
	sqe->addr = (uintptr_t)buf;
	sqe->len = len;
	sqe->off = off;
	sqe->buf_index = 0;
	sqe->user_data = 0xc0ffee;
	u->sq_array[idx] = idx;
	atomic_store_explicit(u->sq_tail, tail + 1, memory_order_release);
	if (syscall(__NR_io_uring_enter, u->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -errno;
	head = atomic_load_explicit(u->cq_head, memory_order_relaxed);
	if (head == atomic_load_explicit(u->cq_tail, memory_order_acquire))
		return -EAGAIN;
	res = u->cqes[head & *u->cq_mask].res;
	atomic_store_explicit(u->cq_head, head + 1, memory_order_release);
	return res;
}

/*
 * iouring_fixed_buf: a page registered as an io_uring fixed buffer
 * (IORING_REGISTER_BUFFERS pins it with FOLL_PIN | FOLL_LONGTERM).  The
 * page is swapped out first, with a pipe holding an extra reference:
 * registering it faults it back in for writing, which must reuse it
 * (same PFN), not copy it.  Then the pinned page is paged out (6.1
 * refuses to unmap a pinned exclusive page, so it should stay) and
 * written: still the same page.  Last, io_uring reads from a memfd into
 * the fixed buffer: the data must be in the page the process sees.
 */
static enum res check_iouring_fixed_buf(struct setup_ctx *c, char *why)
{
	static const char text[] = "io_uring fixed buffer data ";
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p = NULL, *src = NULL;
	uint64_t pfn0, pfn1, pfn2, e;
	struct uring u = { .fd = -1 };
	bool registered = false, swapped;
	unsigned int len = 512, i;
	int r, mfd = -1;
	enum res res;
	char d[96];
	struct iovec iov;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	r = uring_init(&u, 4);
	if (r == -ENOSYS)
		return SKIP(why, "io_uring not available (CONFIG_IO_URING)");
	if (r)
		return SKIP(why, "io_uring_setup: %s", strerror(-r));
	p = (unsigned char *)map_pages(1);
	src = malloc(len);
	if (!p || !src) {
		res = SKIP(why, "out of memory");
		goto out;
	}
	for (i = 0; i < len; i++)
		src[i] = (unsigned char)text[i % (sizeof(text) - 1)];
	mfd = (int)syscall(__NR_memfd_create, "swap_exclusive", 0);
	if (mfd < 0 || pwrite(mfd, src, len, 0) != (ssize_t)len) {
		res = SKIP(why, "memfd: %s", strerror(errno));
		goto out;
	}
	memset(p, fill, ps);
	pfn0 = page_pfn(p);
	res = page_out_with_ref(&ref, p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;

	iov.iov_base = p;
	iov.iov_len = ps;
	if (syscall(__NR_io_uring_register, u.fd, IORING_REGISTER_BUFFERS, &iov, 1)) {
		res = FAIL(why, "IORING_REGISTER_BUFFERS on a swapped-out page: %s",
			   strerror(errno));
		goto out;
	}
	registered = true;
	pfn1 = page_pfn(p);
	page_ref_put(&ref, NULL);

	madvise(p, ps, MADV_PAGEOUT);
	swapped = page_swapped(p);
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	p[ps - 1] = (unsigned char)~fill;
	pfn2 = page_pfn(p);
	r = uring_read_fixed(&u, mfd, p, len, 0);
	e = pagemap_entry(p);
	ksft_print_msg(
		"pfn 0x%llx; pinned (registered) 0x%llx; MADV_PAGEOUT of the pinned page %s; after the write 0x%llx; READ_FIXED returned %d; now %s\n",
		(unsigned long long)pfn0, (unsigned long long)pfn1,
		swapped ? "swapped it out" : "left it mapped", (unsigned long long)pfn2, r,
		pm_describe(e, d, sizeof(d)));
	if (r != (int)len) {
		res = FAIL(why, "IORING_OP_READ_FIXED of %u bytes returned %d (%s)", len, r,
			   r < 0 ? strerror(-r) : "short");
	} else if (memcmp(p, src, len)) {
		res = FAIL(why,
			   "the io_uring read into the fixed buffer is not in the page the process maps (data lost%s)",
			   pfn2 != pfn1 ? ": the pinned page was copied" : "");
	} else if (first_diff_byte(p, len, ps - 1, fill) >= 0 ||
		   p[ps - 1] != (unsigned char)~fill) {
		res = FAIL(why, "page content changed");
	} else if (pfn1 != pfn0) {
		res = FAIL(why,
			   "registering the swapped-out exclusive page copied it (needless copy)");
	} else if (pfn2 != pfn1) {
		res = FAIL(why, "the pinned page was copied on the write");
	} else {
		res = RES_PASS;
	}
out:
	if (registered)
		syscall(__NR_io_uring_register, u.fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
	uring_exit(&u);
	if (mfd >= 0)
		close(mfd);
	free(src);
	page_ref_put(&ref, NULL);
	unmap_pages((char *)p, 1);
	return res;
}

/* ------------------------------------------------------------------ */
/* The table                                                            */

#ifndef BIT
#define BIT(nr)		(1UL << (nr))
#endif

#define S_FAULT		BIT(SETUP_FAULT)
#define S_SWAPOFF	BIT(SETUP_SWAPOFF)
#define S_ZRAM		BIT(SETUP_ZRAM)
#define S_STABLE	BIT(SETUP_STABLE)
#define S_THP_SPLIT	(BIT(SETUP_THP_PTE) | BIT(SETUP_THP_SUBPAGE))
#define S_THP		(S_THP_SPLIT | BIT(SETUP_THP_WHOLE) | BIT(SETUP_THP_PARTIAL))

struct check {
	const char *name;
	unsigned int setups;
	enum res (*run)(struct setup_ctx *c, char *why);
};

static const struct check checks[] = {
	{ "odirect_inflight",  S_FAULT | S_SWAPOFF | S_ZRAM | S_STABLE | S_THP_SPLIT,
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

/* ------------------------------------------------------------------ */
/* The supervisor                                                       */

/*
 * The checks run in a child process (the worker).  The parent only
 * watches: it ends a check that takes longer than CHECK_TIMEOUT, stops the
 * worker when it gets SIGINT/SIGTERM/SIGHUP (kselftest's runner sends
 * SIGTERM at its timeout), and afterwards puts back every global setting
 * the worker may have changed, however it ended: swap areas as they were
 * before the run, KSM and THP settings, stable_writes, zram devices and
 * the cowswap_* null_blk/dm devices.  A worker that finished normally
 * left nothing to do; anything the supervisor had to restore is printed.
 */
static const char *const knob_paths[] = {
	KSM_DIR "run", KSM_DIR "pages_to_scan", KSM_DIR "sleep_millisecs",
	"/sys/kernel/mm/transparent_hugepage/enabled",
	"/sys/kernel/mm/transparent_hugepage/defrag",
};

static struct {
	char val[ARRAY_SIZE(knob_paths)][64];
	bool have[ARRAY_SIZE(knob_paths)];
	struct swap_area swaps[SWAP_SAVED_MAX];
	int nr_swaps;
} snap;

/* A lock-free atomic: what a signal handler may set besides a volatile sig_atomic_t */
static atomic_int stop_signal;

static void on_stop_signal(int sig)
{
	atomic_store_explicit(&stop_signal, sig, memory_order_relaxed);
}

/* A sysfs value; for "always [madvise] never" the selected word. */
static int knob_read(const char *path, char *buf, size_t len)
{
	char raw[128], *l, *r;
	int ret = sysfs_read(path, raw, sizeof(raw));

	if (ret)
		return ret;
	l = strchr(raw, '[');
	r = l ? strchr(l, ']') : NULL;
	if (l && r) {
		*r = '\0';
		snprintf(buf, len, "%.*s", (int)len - 1, l + 1);
	} else {
		snprintf(buf, len, "%.*s", (int)len - 1, raw);
	}
	return 0;
}

static void snapshot_take(void)
{
	size_t i;
	int n;

	for (i = 0; i < ARRAY_SIZE(knob_paths); i++)
		snap.have[i] = !knob_read(knob_paths[i], snap.val[i], sizeof(snap.val[i]));
	n = swap_list(snap.swaps, SWAP_SAVED_MAX);
	snap.nr_swaps = n < 0 ? 0 : n > SWAP_SAVED_MAX ? SWAP_SAVED_MAX : n;
}

/* Put everything back; returns how many things had to be fixed. */
static int snapshot_restore(void)
{
	struct swap_area *cur = calloc(SWAP_SAVED_MAX, sizeof(*cur));
	char val[64];
	int i, j, n, fixed = 0;
	size_t k;

	for (i = 0; i < snap.nr_swaps; i++) {
		if (swap_is_active(snap.swaps[i].path) == 1)
			continue;
		n = swap_on(snap.swaps[i].path, snap.swaps[i].prio);
		ksft_print_msg("supervisor: swap area %s switched on again%s%s\n",
			       snap.swaps[i].path, n ? ": " : "", n ? strerror(-n) : "");
		fixed++;
	}
	n = cur ? swap_list(cur, SWAP_SAVED_MAX) : 0;
	for (i = 0; i < n && i < SWAP_SAVED_MAX; i++) {
		for (j = 0; j < snap.nr_swaps; j++)
			if (!strcmp(cur[i].path, snap.swaps[j].path))
				break;
		if (j < snap.nr_swaps)
			continue;
		j = swap_off(cur[i].path);
		ksft_print_msg("supervisor: swap area %s left on by the checks, switched off%s%s\n",
			       cur[i].path, j ? ": " : "", j ? strerror(-j) : "");
		fixed++;
	}
	free(cur);
	for (i = 0; i < shared->nr_zram; i++) {
		zram_destroy(&shared->zram[i]);
		ksft_print_msg("supervisor: removed %s\n", shared->zram[i].path);
		fixed++;
	}
	shared->nr_zram = 0;
	for (i = 0; i < shared->nr_stable; i++) {
		blk_stable_writes_set(shared->stable[i].dev, shared->stable[i].orig);
		ksft_print_msg("supervisor: stable_writes of %s set back to %d\n",
			       shared->stable[i].dev, shared->stable[i].orig);
		fixed++;
	}
	shared->nr_stable = 0;
	for (k = 0; k < ARRAY_SIZE(knob_paths); k++) {
		if (!snap.have[k] || knob_read(knob_paths[k], val, sizeof(val)) ||
		    !strcmp(val, snap.val[k]))
			continue;
		n = sysfs_write(knob_paths[k], snap.val[k]);
		ksft_print_msg("supervisor: %s set back from %s to %s%s%s\n",
			       knob_paths[k], val, snap.val[k], n ? ": " : "",
			       n ? strerror(-n) : "");
		fixed++;
	}
	n = test_devs_sweep();
	if (n > 0) {
		ksft_print_msg("supervisor: removed %d " TEST_DEV_PREFIX "* device(s)\n", n);
		fixed += n;
	}
	return fixed;
}

static int run_checks(unsigned int plan);

static int supervise(unsigned int plan)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	int status = 0, code, i;
	bool reaped = false;
	pid_t pid;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		shared = NULL;
		return run_checks(plan);	/* no watchdog then */
	}
	memset(shared, 0, sizeof(*shared));
	snprintf(shared->phase, sizeof(shared->phase), "start-up");
	shared->since = now();
	if (env.root)
		snapshot_take();
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ksft_print_msg("fork: %s; running without a supervisor\n", strerror(errno));
		return run_checks(plan);
	}
	if (!pid)
		exit(run_checks(plan));

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			reaped = true;
			break;
		}
		if (stop_signal) {
			printf("Bail out! signal %d during %s: checks stopped\n",
			       (int)stop_signal, shared->phase);
			break;
		}
		if (now() - shared->since > CHECK_TIMEOUT) {
			printf("Bail out! %s hung for more than %d s (watchdog)\n",
			       shared->phase, CHECK_TIMEOUT);
			break;
		}
		sleep_us(100000);
	}
	if (!reaped) {
		kill(pid, SIGKILL);
		for (i = 0; i < 100 && !reaped; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				reaped = true;
			else
				sleep_us(100000);
		}
		if (!reaped)
			ksft_print_msg(
				"supervisor: the worker does not die (stuck in the kernel?)\n");
		code = KSFT_FAIL;
	} else if (WIFSIGNALED(status)) {
		printf("Bail out! the checks died of signal %d during %s\n",
		       WTERMSIG(status), shared->phase);
		code = KSFT_FAIL;
	} else {
		code = WEXITSTATUS(status);
	}
	if (env.root && snapshot_restore() && code == KSFT_PASS)
		ksft_print_msg("supervisor: the checks ended normally but left the above behind\n");
	return code;
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
	char *end;
	long v = strtol(s, &end, 0);

	if (*end || v < 0 || v > 1000000)
		print_usage(prog, KSFT_FAIL);
	return (int)v;
}

static const char *getenv_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int main(int argc, char **argv)
{
	unsigned int plan = 0;
	bool list = false;
	size_t i;
	int o, s;

	while ((o = getopt(argc, argv, "n:r:t:p:k:f:T:s:lvh")) != -1) {
		switch (o) {
		case 'n':
			opt.iterations = pos_arg(optarg, argv[0]);
			break;
		case 'r':
			opt.racy_max = pos_arg(optarg, argv[0]);
			break;
		case 't':
			opt.racy_secs = pos_arg(optarg, argv[0]);
			break;
		case 'p':
			opt.stable_pages = pos_arg(optarg, argv[0]);
			break;
		case 'k':
			opt.ksm_secs = pos_arg(optarg, argv[0]);
			break;
		case 'f':
			opt.race_iters = pos_arg(optarg, argv[0]);
			break;
		case 'T':
			opt.race_secs = pos_arg(optarg, argv[0]);
			break;
		case 's':
			if (opt.nr_select < (int)ARRAY_SIZE(opt.select))
				opt.select[opt.nr_select++] = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'v':
			opt.verbose = true;
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

/* The worker: every selected check on every setup, TAP on stdout. */
static int run_checks(unsigned int plan)
{
	uint64_t flags;
	size_t i;
	int s;

	ksft_print_header();
	ksft_set_plan(plan);
	if (pagemap_open())
		ksft_print_msg("cannot open /proc/self/pagemap: %s\n", strerror(errno));
	env.pfn_visible = pagemap_shows_pfn();
	env.kpageflags = env.pfn_visible && !kpageflags_get(page_pfn(&plan), &flags);
	ksft_print_msg("page size %ld, root %d, PFNs visible %d, kpageflags %d, soft-dirty %d\n",
		       ps, env.root, env.pfn_visible, env.kpageflags, soft_dirty_supported());
	ksft_print_msg(
		"named devices: slow read %s, fast read %s, swap %s, slow swap %s (the test makes its own for each one not named); zram %s\n",
		env.slow_read ?: "-", env.fast_read ?: "-", env.swap_dev ?: "-",
		env.slow_swap ?: "-", env.zram ? "yes" : "no");

	for (s = 0; s < NR_SETUPS; s++) {
		struct setup_ctx ctx;
		char setup_why[WHY_LEN] = "";
		enum res sres = RES_SKIP;
		bool any = false;

		for (i = 0; i < ARRAY_SIZE(checks); i++)
			any |= selected(&checks[i], &setups[s]);
		if (!any)
			continue;
		memset(&ctx, 0, sizeof(ctx));
		ctx.setup = &setups[s];
		ctx.zram.id = -1;
		ctx.stable_orig = -1;
		phase_set("setup %s", setups[s].name);
		sres = setups[s].prepare(&ctx, setup_why);
		if (sres == RES_PASS)
			ksft_print_msg("setup %s: swap on %s only\n", setups[s].name, ctx.dev);

		for (i = 0; i < ARRAY_SIZE(checks); i++) {
			char why[WHY_LEN] = "";
			enum res r;
			double t0;

			if (!selected(&checks[i], &setups[s]))
				continue;
			if (sres != RES_PASS) {
				ksft_test_result_skip("%s/%s: %s\n", checks[i].name,
						      setups[s].name, setup_why);
				continue;
			}
			phase_set("%s/%s", checks[i].name, setups[s].name);
			t0 = now();
			r = checks[i].run(&ctx, why);
			vmsg("%s/%s took %.1f s\n", checks[i].name, setups[s].name,
			     now() - t0);
			if (r == RES_PASS) {
				ksft_test_result_pass("%s/%s\n", checks[i].name,
						      setups[s].name);
			} else if (r == RES_SKIP) {
				ksft_test_result_skip("%s/%s: %s\n", checks[i].name,
						      setups[s].name, why);
			} else {
				ksft_print_msg("%s/%s: %s\n", checks[i].name,
					       setups[s].name, why);
				ksft_test_result_fail("%s/%s\n", checks[i].name,
						      setups[s].name);
			}
		}
		phase_set("teardown %s", setups[s].name);
		if (sres == RES_PASS)
			setups[s].teardown(&ctx);
	}
	phase_set("cleanup");
	dio_close(&slow_src);
	dio_close(&fast_src);
	dm_delay_destroy(&own.slow);
	dm_delay_destroy(&own.fast);
	nullb_destroy(&own.src);
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

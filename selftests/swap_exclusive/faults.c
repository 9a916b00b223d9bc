// SPDX-License-Identifier: GPL-2.0
/*
 * faults.c - a swap device that fails its I/O on demand, during swap-out
 * and during swap-in, with and without an O_DIRECT read in flight
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

#define FAULT_PAGES	16

/* faulty: swap on a dm device (linear or flakey) over a null_blk of our own. */
enum res setup_faulty(struct setup_ctx *c, char *why)
{
	struct nullb_opts o = { .size_mb = OWN_FAULTY_SWAP_MB, .blocksize = 4096 };
	char dwhy[WHY_LEN];
	int r;

	if (!env.root)
		return SKIP(why, "needs root");
	if (!env.kpageflags)
		return SKIP(why, "needs /proc/kpageflags (to see which pages a fault hit)");
	/* a cgroup to push pages out of the swap cache with (memcg_evict()) */
	if (memcg_create(&c->memcg, "faulty", dwhy, sizeof(dwhy)))
		return SKIP(why, "%s", dwhy);
	if (memcg_enter(&c->memcg, 0)) {
		memcg_destroy(&c->memcg);
		return SKIP(why, "cannot move into %s", c->memcg.path);
	}
	if (nullb_create(&c->own_dev, "faulty_lower", &o, dwhy)) {
		memcg_destroy(&c->memcg);
		return SKIP(why, "%s", dwhy);
	}
	if (dm_fault_create(&c->fault, "faulty", c->own_dev.path, dwhy)) {
		nullb_destroy(&c->own_dev);
		memcg_destroy(&c->memcg);
		return SKIP(why, "%s", dwhy);
	}
	snprintf(c->dev, sizeof(c->dev), "%s", c->fault.path);
	c->prio = -1;
	r = swap_mkswap(c->dev);
	if (!r)
		r = swap_only(c->dev, -1, &c->saved);
	if (r) {
		dm_fault_destroy(&c->fault);
		nullb_destroy(&c->own_dev);
		memcg_destroy(&c->memcg);
		return SKIP(why, "mkswap/swapon %s: %s", c->dev, strerror(-r));
	}
	return RES_PASS;
}

void teardown_faulty(struct setup_ctx *c)
{
	if (c->fault.mode != DM_FAULT_NONE)
		dm_fault_set(&c->fault, DM_FAULT_NONE, NULL);
	if (swap_is_active(c->dev) == 1)
		swap_off(c->dev);
	swap_restore(&c->saved);
	dm_fault_destroy(&c->fault);
	nullb_destroy(&c->own_dev);
	memcg_destroy(&c->memcg);
}

static unsigned char fault_byte(size_t page, size_t off)
{
	return (unsigned char)(0x40 + ((page * 13 + off * 5) % 0x7f));
}

struct tally {
	int intact, sigbus, wrong;
	int segv, segv_page, segv_code;	/* SIGSEGV: the first page, its si_code */
};

/*
 * Read every page but those below from back: intact, SIGBUS, wrong, or
 * SIGSEGV.  The last is no answer a page whose swap-in failed may give
 * (it says "no mapping here"), but it is caught so that the check fails
 * saying so instead of the whole run dying of it.
 */
static void fault_verify(const unsigned char *p, size_t from, struct tally *t)
{
	unsigned char *buf = malloc(ps);
	size_t i, j;
	int sig, code = 0;

	memset(t, 0, sizeof(*t));
	for (i = from; buf && i < FAULT_PAGES; i++) {
		sig = copy_catch(buf, p + i * ps, ps, &code);
		if (sig == SIGBUS) {
			t->sigbus++;
			continue;
		}
		if (sig == SIGSEGV) {
			if (!t->segv++) {
				t->segv_page = (int)i;
				t->segv_code = code;
			}
			continue;
		}
		if (sig) {
			t->wrong++;
			ksft_print_msg("  page %zu not read: %s\n", i, strerror(-sig));
			continue;
		}
		for (j = 0; j < (size_t)ps && buf[j] == fault_byte(i, j); j++)
			;
		if (j == (size_t)ps) {
			t->intact++;
		} else {
			t->wrong++;
			ksft_print_msg("  page %zu came back wrong at byte %zu: 0x%02x\n",
				       i, j, buf[j]);
		}
	}
	free(buf);
}

/* A clean start: everything swapped in (swapoff), the counters then. */
static int swap_counters(struct setup_ctx *c, long long *total, long long *free_kb)
{
	int r = cycle_swap(c, -1);

	*total = proc_value("/proc/meminfo", "SwapTotal");
	*free_kb = proc_value("/proc/meminfo", "SwapFree");
	return r;
}

struct fault_run {
	unsigned char *p;
	uint64_t pfn[FAULT_PAGES];
	struct dio_flight *dio;		/* a read in flight into page 0 */
	struct dio_params dp;
	long long total0, free0;
	int not_written;		/* swap-out: writes that failed */
	bool in_flight;
	bool early;			/* the read was over too soon: try again */
	bool locked;			/* mlockall() by fault_begin() */
	struct tally t1, t2;
};

static enum res fault_begin(struct setup_ctx *c, struct fault_run *f, bool odirect,
			    char *why)
{
	size_t i, j;
	int r;

	if (odirect && dio_slow_params(&f->dp, why) != RES_PASS)
		return RES_SKIP;
	r = swap_counters(c, &f->total0, &f->free0);
	if (r)
		return SKIP(why, "swapoff/swapon %s before the faults: %s", c->dev, strerror(-r));
	/*
	 * Only the pages under test may meet the failing device, but
	 * memcg_evict() reclaims the whole cgroup: a page of the test's own
	 * (stack, heap, data) swapped out there and read while reads fail
	 * raises SIGBUS outside copy_catch() and ends the run.  So everything
	 * but those pages is locked, now and as it is faulted in later.
	 */
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT))
		return SKIP(why, "mlockall: %s", strerror(errno));
	f->locked = true;
	f->p = map_pages(FAULT_PAGES);
	if (!f->p)
		return SKIP(why, "mmap: %s", strerror(errno));
	if (munlock(f->p, FAULT_PAGES * ps))
		return SKIP(why, "munlock: %s", strerror(errno));
	vmsg("the %d pages under test: %p-%p\n", FAULT_PAGES, (void *)f->p,
	     (void *)(f->p + FAULT_PAGES * ps));
	for (i = 0; i < FAULT_PAGES; i++) {
		for (j = 0; j < (size_t)ps; j++)
			f->p[i * ps + j] = fault_byte(i, j);
		f->pfn[i] = page_pfn(f->p + i * ps);
	}
	if (odirect) {
		memset(f->p, f->dp.fill, ps);
		return dio_flight_start(&f->dio, f->p, why);
	}
	return RES_PASS;
}

/* Page 0 after the read: its data, the fill, the main thread's marker. */
static enum res fault_dio_end(struct fault_run *f, char *why)
{
	ssize_t ret;
	long d;
	int err;

	if (!f->dio)
		return RES_PASS;
	ret = dio_flight_end(f->dio, &err);
	f->dio = NULL;
	if (ret != (ssize_t)f->dp.bs)
		return FAIL(why, "the O_DIRECT read returned %zd (%s)", ret,
			    ret < 0 ? strerror(err) : "short");
	if (!dio_landed(f->p))
		return FAIL(why,
			    "the O_DIRECT data was lost (the read was %s when page 0 was written)",
			    f->in_flight ? "in flight" : "done");
	d = first_diff_byte(f->p, f->dp.bs, ps - 1, f->dp.fill);
	if (d >= 0 || f->p[ps - 1] != f->dp.marker)
		return FAIL(why, "page 0 changed outside the read (byte %ld)", d);
	return RES_PASS;
}

/*
 * A page whose swap-in failed raised SIGSEGV.  Seen on 32-bit arm 6.12:
 * swapoff leaves a poisoned swap entry for it (unuse_pte(), 6.1 a
 * swapin-error entry), a fault on that gives VM_FAULT_HWPOISON (6.1
 * VM_FAULT_SIGBUS), and arm's do_page_fault() sends SIGSEGV for every
 * error but VM_FAULT_SIGBUS: the kernel's answer, not the test's, and not
 * what a lost page must raise, so it fails.
 */
static enum res segv_fail(const struct fault_run *f, char *why)
{
	const struct tally *t = f->t1.segv ? &f->t1 : &f->t2;

	return FAIL(why,
		    "%d pages raised SIGSEGV (first: page %d, si_code %d%s) %s, not SIGBUS",
		    f->t1.segv + f->t2.segv, t->segv_page, t->segv_code,
		    t->segv_code == SEGV_MAPERR ? " SEGV_MAPERR" : "",
		    f->t1.segv ? "while the device failed reads" :
				 "after swapoff, once the device worked again");
}

/*
 * The end of every fault check: swapoff succeeds with what the faults
 * left, the pages are intact or SIGBUS, the counters come back.
 */
static enum res fault_end(struct setup_ctx *c, struct fault_run *f, size_t from,
			  char *why)
{
	long long total, free_kb;
	enum res res;
	int r;

	res = fault_dio_end(f, why);
	r = cycle_swap(c, -1);
	if (r && res == RES_PASS)
		res = FAIL(why, "swapoff after the faults failed: %s", strerror(-r));
	fault_verify(f->p, from, &f->t2);
	unmap_pages(f->p, FAULT_PAGES);
	f->p = NULL;
	r = swap_counters(c, &total, &free_kb);
	ksft_print_msg(
		"%d of %d pages intact, %d SIGBUS, %d wrong; after swapoff: %d intact, %d SIGBUS, %d wrong; SwapTotal %lld -> %lld kB, SwapFree %lld -> %lld kB\n",
		f->t1.intact, FAULT_PAGES - (int)from, f->t1.sigbus, f->t1.wrong,
		f->t2.intact, f->t2.sigbus, f->t2.wrong, f->total0, total, f->free0, free_kb);
	if (f->t1.segv || f->t2.segv)
		ksft_print_msg("and SIGSEGV: %d pages, after swapoff %d\n", f->t1.segv, f->t2.segv);
	if (res != RES_PASS)
		return res;
	if (f->t1.segv || f->t2.segv)
		return segv_fail(f, why);
	if (f->t1.wrong || f->t2.wrong)
		return FAIL(why, "%d pages came back with wrong data, without a SIGBUS",
			    f->t1.wrong + f->t2.wrong);
	if (r)
		return FAIL(why, "the last swapoff failed: %s", strerror(-r));
	if (total != f->total0 || free_kb != f->free0)
		return FAIL(why,
			    "swap counters did not come back: SwapTotal %lld -> %lld, SwapFree %lld -> %lld kB",
			    f->total0, total, f->free0, free_kb);
	return RES_PASS;
}

/*
 * Pages still in the swap cache and dirty once their writeback ended:
 * the write failed (the kernel dirties the page again).
 */
static int count_not_written(const struct fault_run *f, size_t from)
{
	int n = 0;
	size_t i;

	kpf_wait_writeback(f->pfn + from, FAULT_PAGES - from, 2000);
	for (i = from; i < FAULT_PAGES; i++)
		n += kpf_has(f->pfn[i], KPF_BIT_SWAPCACHE) && kpf_has(f->pfn[i], KPF_BIT_DIRTY);
	return n;
}

/* Make the device fail (mode), the kernel's complaints announced first. */
static enum res fault_inject(struct setup_ctx *c, enum dm_fault_mode mode, char *why)
{
	char dwhy[TEST_DEV_WHY];

	kmsg_expect(KMSG_SWAP_IO_ERROR, true);
	if (!dm_fault_set(&c->fault, mode, dwhy))
		return RES_PASS;
	kmsg_expect(KMSG_SWAP_IO_ERROR, false);
	return SKIP(why, "cannot make %s fail: %s", c->dev, dwhy);
}

/* And working again. */
static enum res fault_recover(struct setup_ctx *c, char *why)
{
	char dwhy[TEST_DEV_WHY];
	int r = dm_fault_set(&c->fault, DM_FAULT_NONE, dwhy);

	kmsg_expect(KMSG_SWAP_IO_ERROR, false);
	if (r)
		return FAIL(why, "the device did not recover: %s", dwhy);
	return RES_PASS;
}

/* What a check that stopped early leaves. */
static void fault_cleanup(struct fault_run *f)
{
	char scratch[WHY_LEN];

	if (f->dio)
		fault_dio_end(f, scratch);
	if (f->p)
		unmap_pages(f->p, FAULT_PAGES);
	if (f->locked)
		munlockall();
}

/*
 * swapout_error: writes to the swap device fail while the pages are
 * paged out; they stay in the swap cache, come back intact, and go out
 * for good once the device works again.  *partial: not all of them
 * became swap entries.
 */
static enum res swapout_fail(struct setup_ctx *c, struct fault_run *f, size_t from,
			     int *partial, char *why)
{
	enum res res = fault_inject(c, DM_FAULT_WRITES, why);

	if (res != RES_PASS)
		return res;
	*partial = page_out(f->p, FAULT_PAGES, 5);
	f->not_written = count_not_written(f, from);
	return RES_PASS;
}

/*
 * The page-out of swapin_fail() with the read in flight into page 0:
 * page 0 once by itself, its fate decided while the read holds it, then
 * the others until all are swap entries.  6.1 unmaps page 0 (the read's
 * page stays in the swap cache: not read from the device); 6.2 and later
 * keep it mapped, as O_DIRECT pins it (FOLL_PIN) and reclaim leaves a
 * pinned exclusive page alone.  Retrying page 0 as well would only wait
 * for the read to end and then swap it out.  A page 0 kept mapped is
 * locked now: the read may end during memcg_evict(), which would then
 * page it out to the device about to fail, and the write into it raise
 * SIGBUS before the check could judge anything.
 */
static enum res page_out_odirect(struct fault_run *f, char *why)
{
	size_t from = 1;
	char d[96];
	int r;

	page_out(f->p, 1, 3);
	if (dio_flight_done(f->dio)) {
		f->early = true;
		return SKIP(why, "the read into page 0 ended before page 0 was paged out");
	}
	if (pm_present(pagemap_entry(f->p))) {
		ksft_print_msg(
			"page 0 stayed mapped while the read was in flight: O_DIRECT pins it (FOLL_PIN)\n");
		if (mlock2(f->p, ps, MLOCK_ONFAULT))
			return SKIP(why, "mlock2 page 0: %s", strerror(errno));
	}
	r = page_out(f->p + from * ps, FAULT_PAGES - from, 5);
	if (r == -EAGAIN)
		return SKIP(why, "MADV_PAGEOUT did not swap pages %zu-%d out (page %zu: %s)", from,
			    FAULT_PAGES - 1, from,
			    pm_describe(pagemap_entry(f->p + from * ps), d, sizeof(d)));
	if (r)
		return SKIP(why, "MADV_PAGEOUT: %s", strerror(-r));
	return RES_PASS;
}

/*
 * swapin_error: the pages are paged out to a working device, which then
 * fails every read; touching them must give the data or a SIGBUS, and so
 * must everything after the device works again and swapoff.
 */
static enum res swapin_fail(struct setup_ctx *c, struct fault_run *f, size_t from, char *why)
{
	enum res res;
	char d[96];
	size_t i;
	int r;

	/*
	 * -EAGAIN is page_out()'s own: not every page became a swap entry
	 * (6.12's madvise(MADV_PAGEOUT) itself returns 0 or EINVAL here).
	 */
	if (f->dio) {
		res = page_out_odirect(f, why);
		if (res != RES_PASS)
			return res;
		r = 0;
	} else {
		r = page_out(f->p, FAULT_PAGES, 5);
	}
	for (i = 0; r == -EAGAIN && i < FAULT_PAGES; i++)
		if (!page_swapped(f->p + i * ps))
			return SKIP(why,
				    "MADV_PAGEOUT did not swap all %d pages out (page %zu: %s)",
				    FAULT_PAGES, i,
				    pm_describe(pagemap_entry(f->p + i * ps), d, sizeof(d)));
	if (r)
		return SKIP(why, "MADV_PAGEOUT: %s", strerror(-r));
	/* only a page that left the swap cache is read from the device */
	r = memcg_evict(&c->memcg, f->pfn + from, FAULT_PAGES - from, 50);
	if (r)
		return SKIP(why, "%d pages stayed in the swap cache despite memory.reclaim", r);
	res = fault_inject(c, DM_FAULT_ALL, why);
	if (res == RES_PASS)
		fault_verify(f->p, from, &f->t1);
	return res;
}

/*
 * The main thread's write into page 0 while the device fails reads.
 * Page 0 is mapped (locked) or in the swap cache, held there by the
 * read; a SIGBUS means its swap-in read the failing device.  While the
 * read is still in flight that is the kernel's fault: the page the read
 * lands in had left the swap cache.  Once the read is over, page 0 may
 * have gone to the device after it (6.1 keeps only the read's reference
 * on it): the right answer, but nothing left to judge.
 */
static enum res odirect_write(struct fault_run *f, int *sig, char *why)
{
	bool done;

	f->in_flight = !dio_flight_done(f->dio);
	*sig = copy_catch(f->p + ps - 1, &f->dp.marker, 1, NULL);
	if (!*sig)
		return RES_PASS;
	done = dio_flight_done(f->dio);
	ksft_print_msg("the write into page 0 raised signal %d; the read was %s\n", *sig,
		       done ? "over" : "still in flight");
	if (!done)
		return FAIL(why,
			    "page 0 raised signal %d while the O_DIRECT read into it was in flight: the read's page had left the swap cache",
			    *sig);
	f->early = true;
	return SKIP(why, "read over before page 0 was written; page 0 was on the failing device");
}

/*
 * swapout_error and swapin_error (above), and their _odirect forms: with
 * an O_DIRECT read in flight into page 0 (held, so never written, or held
 * in the swap cache, so not read from the device), which is written while
 * the read is in flight: the read's data must land there.
 */
static enum res fault_check(struct setup_ctx *c, bool swapin, bool odirect, bool *early,
			    char *why)
{
	struct fault_run f = { 0 };
	size_t from = odirect;
	enum res res, wres = RES_PASS;
	int partial = 0, sig = 0;

	res = fault_begin(c, &f, odirect, why);
	if (res == RES_PASS)
		res = swapin ? swapin_fail(c, &f, from, why) :
			       swapout_fail(c, &f, from, &partial, why);
	if (res != RES_PASS)
		goto out;
	if (odirect)
		wres = odirect_write(&f, &sig, why);
	res = fault_recover(c, why);
	if (res != RES_PASS || wres != RES_PASS) {
		if (wres != RES_PASS)
			res = wres;
		goto out;
	}
	if (!swapin) {
		ksft_print_msg("writes failed for %d of %zu pages paged out%s\n", f.not_written,
			       FAULT_PAGES - from, partial ? " (not all were swap entries)" : "");
		fault_verify(f.p, from, &f.t1);
		/* and now out for real, and back from the device */
		page_out(f.p + from * ps, FAULT_PAGES - from, 5);
	}
	res = fault_end(c, &f, from, why);
	if (res == RES_PASS && !(swapin ? f.t1.sigbus : f.not_written))
		res = FAIL(why, "%s: no fault was injected",
			   swapin ? "no swap-in failed (no SIGBUS)" :
				    "no write to the swap device failed");
out:
	fault_cleanup(&f);
	if (early)
		*early = f.early;
	return res;
}

/*
 * The _odirect forms again while the read was over too soon for what
 * they check (a slow guest), at most three times.
 */
static enum res fault_check_odirect(struct setup_ctx *c, bool swapin, char *why)
{
	char last[WHY_LEN];
	bool early = false;
	enum res res;
	int i;

	for (i = 1;; i++) {
		res = fault_check(c, swapin, true, &early, why);
		if (!early || res != RES_SKIP)
			return res;
		if (i == 3)
			break;
		ksft_print_msg("attempt %d: %s; again\n", i, why);
	}
	snprintf(last, sizeof(last), "%s", why);
	return SKIP(why, "%s, in each of %d attempts (is the slow source slow?)", last, i);
}

enum res check_swapout_error(struct setup_ctx *c, char *why)
{
	return fault_check(c, false, false, NULL, why);
}

enum res check_swapout_error_odirect(struct setup_ctx *c, char *why)
{
	return fault_check_odirect(c, false, why);
}

enum res check_swapin_error(struct setup_ctx *c, char *why)
{
	return fault_check(c, true, false, NULL, why);
}

enum res check_swapin_error_odirect(struct setup_ctx *c, char *why)
{
	return fault_check_odirect(c, true, why);
}

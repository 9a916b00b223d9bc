// SPDX-License-Identifier: GPL-2.0
/*
 * stable_writes.c - pages written while under writeback to a stable-writes area
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

/* stable_writes: pages written while under writeback */
static bool page_under_writeback(uint64_t pfn)
{
	uint64_t flags;

	return !kpageflags_get(pfn, &flags) && (flags & (1ULL << KPF_BIT_WRITEBACK));
}

struct sw_stats {
	int swapped;		/* pages paged out */
	int wb;			/* ... still under writeback when written */
	int copied;		/* ... of those copied on the write */
	int copied_not_wb;	/* other pages copied */
	int bad;		/* pages with wrong content */
};

/* Page out page i of p and write it right away. */
static void sw_write_one(unsigned char *p, int i, uint64_t pfn0, struct sw_stats *st)
{
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
		is_wb = sw && page_under_writeback(pfn0);
	else
		is_wb = sw;
	q[ps - 1] = 0xee;		/* write fault, right away */
	if (env.kpageflags)
		is_wb = is_wb && page_under_writeback(pfn0);
	pfn1 = page_pfn(q);
	st->swapped += sw;
	st->wb += is_wb;
	if (pfn1 != pfn0) {
		if (is_wb)
			st->copied++;
		else
			st->copied_not_wb++;
	}
	if (first_diff_byte(q, 0, ps - 1, 0x30 + i % 64) >= 0 || q[ps - 1] != 0xee)
		st->bad++;
	vmsg("page %d: swapped=%d writeback=%d pfn 0x%llx -> 0x%llx\n",
	     i, sw, is_wb, (unsigned long long)pfn0, (unsigned long long)pfn1);
}

static enum res sw_verdict(struct setup_ctx *c, int on, int n, const struct sw_stats *st,
			   char *why)
{
	ksft_print_msg(
		"stable_writes=%d: %d pages, %d swapped out, %d still under writeback%s when written; copied %d/%d of those (other pages copied: %d); %d with wrong content\n",
		on, n, st->swapped, st->wb,
		env.kpageflags ? "" : " (assumed: no /proc/kpageflags)",
		st->copied, st->wb, st->copied_not_wb, st->bad);
	if (st->bad)
		return FAIL(why, "%d pages lost data", st->bad);
	if (!st->wb)
		return SKIP(why,
			    "no page was under writeback when written (is %s write-throttled?)",
			    c->dev);
	if (on && st->copied != st->wb)
		return FAIL(why,
			    "%d of %d pages under writeback written in place despite stable_writes=1",
			    st->wb - st->copied, st->wb);
	if (!on && st->copied)
		return FAIL(why, "%d of %d exclusive pages copied although stable_writes=0",
			    st->copied, st->wb);
	return RES_PASS;
}

/* n pages and one more, filled; their PFNs in pfn0[0..n-1]. */
static enum res sw_pages(int n, unsigned char **p, uint64_t **pfn0, char *why)
{
	int i;

	*p = (unsigned char *)map_pages(n + 1);
	*pfn0 = calloc(n, sizeof(**pfn0));
	if (!*p || !*pfn0)
		return SKIP(why, "out of memory");
	for (i = 0; i <= n; i++)
		memset(*p + (size_t)i * ps, 0x30 + i % 64, ps);
	for (i = 0; i < n; i++)
		(*pfn0)[i] = page_pfn(*p + (size_t)i * ps);
	return RES_PASS;
}

static enum res stable_writes_run(struct setup_ctx *c, int on, char *why)
{
	int n = opt.stable_pages, i, r, cur;
	struct sw_stats st = { 0 };
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
	res = sw_pages(n, &p, &pfn0, why);
	if (res == RES_PASS) {
		/* a first write-out to use up the throttle budget */
		page_out(p + (size_t)n * ps, 1, 5);
		for (i = 0; i < n; i++)
			sw_write_one(p, i, pfn0[i], &st);
		res = sw_verdict(c, on, n, &st, why);
	}
	unmap_pages(p, n + 1);
	free(pfn0);
	if (changed) {
		r = cycle_swap(c, cur);
		if (r)
			ksft_print_msg("cannot restore stable_writes=%d on %s: %s\n", cur,
				       c->dev, strerror(-r));
	}
	return res;
}

enum res check_stable_on(struct setup_ctx *c, char *why)
{
	return stable_writes_run(c, 1, why);
}

enum res check_stable_off(struct setup_ctx *c, char *why)
{
	return stable_writes_run(c, 0, why);
}

/*
 * swapoff_writeback: pages paged out to the slow device and switched off
 * (swapoff) while their writeback still runs.  swapoff must succeed and
 * bring every page back intact; written afterwards each page stays the
 * same page (unuse_pte() mapped it exclusive, nobody else holds it).
 */
enum res check_swapoff_writeback(struct setup_ctx *c, char *why)
{
	int n = opt.stable_pages, i, wb = 0, bad = 0, copied = 0, r;
	uint64_t *pfn0 = NULL, pfn1;
	unsigned char *p = NULL, *q;
	enum res res;

	if (!env.kpageflags)
		return SKIP(why, "needs /proc/kpageflags to see pages under writeback");
	res = sw_pages(n, &p, &pfn0, why);
	if (res != RES_PASS)
		goto out;
	/* a first write-out to use up the throttle budget */
	page_out(p + (size_t)n * ps, 1, 5);
	r = page_out(p, n, 5);
	for (i = 0; i < n; i++)
		wb += page_under_writeback(pfn0[i]);
	r = r ?: swap_off(c->dev);
	if (r) {
		res = FAIL(why, "page-out or swapoff with %d pages under writeback: %s", wb,
			   strerror(-r));
		swap_on(c->dev, c->prio);
		goto out;
	}
	for (i = 0; i < n; i++) {
		q = p + (size_t)i * ps;
		if (!page_present(q) || first_diff_byte(q, 0, ps, 0x30 + i % 64) >= 0) {
			bad++;
			continue;
		}
		pfn1 = page_pfn(q);
		write_byte(q + ps - 1, 0xee);
		copied += page_pfn(q) != pfn1;
	}
	r = swap_on(c->dev, c->prio);
	ksft_print_msg(
		"swapoff with %d of %d pages under writeback: %d not back or wrong, %d copied on the write after\n",
		wb, n, bad, copied);
	if (r)
		res = FAIL(why, "swapon %s after the swapoff: %s", c->dev, strerror(-r));
	else if (bad)
		res = FAIL(why, "%d of %d pages not brought back intact by swapoff", bad, n);
	else if (copied)
		res = FAIL(why, "%d of %d pages copied on the first write after swapoff",
			   copied, n);
	else if (!wb)
		res = FAIL(why,
			   "no page was under writeback at swapoff: nothing was tested (is %s slow?)",
			   c->dev);
out:
	if (p)
		unmap_pages(p, n + 1);
	free(pfn0);
	return res;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * copies.c - swap_bench's copies/held, copies/dropped and copies/writeback:
 * needless copies of exclusive pages on a write fault after swap-out
 * (see swap_bench.c).
 */
#include "swap_bench.h"

struct refs {
	int (*pfd)[2];
	int nr, max;
};

static void refs_put(struct refs *r)
{
	int i;

	for (i = 0; i < r->nr; i++) {
		close(r->pfd[i][0]);
		close(r->pfd[i][1]);
	}
	free(r->pfd);
	memset(r, 0, sizeof(*r));
}

/* Take a reference on every opt.every'th of n pages; 0 or -errno. */
static int refs_get(struct refs *r, char *p, size_t n)
{
	struct iovec *iov = NULL;
	size_t i = 0, cap;
	int err = 0;

	memset(r, 0, sizeof(*r));
	while (i < n) {
		int fd[2], k = 0;
		ssize_t done;

		if (pipe2(fd, O_CLOEXEC)) {
			err = -errno;
			break;
		}
		fcntl(fd[1], F_SETPIPE_SZ, PIPE_BYTES);	/* best effort */
		cap = fcntl(fd[1], F_GETPIPE_SZ);
		cap = cap >= (size_t)ps ? cap / ps : 1;
		if (r->nr == r->max) {
			void *q = realloc(r->pfd, (r->max * 2 + 8) * sizeof(*r->pfd));

			if (!q) {
				close(fd[0]);
				close(fd[1]);
				err = -ENOMEM;
				break;
			}
			r->pfd = q;
			r->max = r->max * 2 + 8;
		}
		r->pfd[r->nr][0] = fd[0];
		r->pfd[r->nr][1] = fd[1];
		r->nr++;
		free(iov);
		iov = calloc(cap, sizeof(*iov));
		if (!iov) {
			err = -ENOMEM;
			break;
		}
		for (; i < n && (size_t)k < cap && k < 1024; i += opt.every) {
			iov[k].iov_base = p + i * ps;
			iov[k].iov_len = ps;
			k++;
		}
		done = vmsplice(fd[1], iov, k, SPLICE_F_NONBLOCK);
		if (done != (ssize_t)k * ps) {
			err = done < 0 ? -errno : -ENOSPC;
			break;
		}
	}
	free(iov);
	if (err)
		refs_put(r);
	return err;
}

const char *const copy_mode_name[NR_COPY_MODES] = {
	"held", "dropped", "writeback"
};

/* Per run: [0] = referenced / under writeback, [1] = the others. */
struct copy_run {
	size_t copied[2], eligible[2], reread, unswapped;
};

/* Class of a page at its fault: 0/1 counted, see struct copy_run. */
enum { CLS_REREAD = 2, CLS_UNSWAPPED = 3 };

static unsigned char classify(enum copy_mode mode, size_t i, uint64_t e,
			      uint64_t pfn0)
{
	uint64_t kpf;

	if (!pm_swapped(e) || pm_present(e))
		return CLS_UNSWAPPED;
	if (kpageflags_get(pfn0, &kpf) || !(kpf & (1ULL << KPF_BIT_SWAPCACHE)) ||
	    !(kpf & (1ULL << KPF_BIT_ANON)))
		return CLS_REREAD;
	if (mode == COPY_WRITEBACK)
		return !(kpf & (1ULL << KPF_BIT_WRITEBACK));
	return i % opt.every != 0;
}

/*
 * Drain this CPU's LRU batches (madvise_pageout() starts with
 * lru_add_drain(); the range has nothing to reclaim).  Their references
 * are what the pre-fix kernel trips over on pages without extra refs.
 */
static void drain_lru_batches(void)
{
	static char *scratch;

	if (!scratch)
		scratch = map_pages(1);
	if (scratch)
		madvise(scratch, ps, MADV_PAGEOUT);
}

/* Fill n + 1 pages; the PFNs of the first n in pfn0.  0, or -1 with a reason. */
static int copies_fill(char *p, size_t n, unsigned int seed, uint64_t *pfn0, char *why)
{
	size_t i;
	int r;

	fill(p, 0, n + 1, seed);
	r = pm_read(p, n, pfn0);
	if (r)
		return reason(why, "pagemap: %s", strerror(-r));
	for (i = 0; i < n; i++) {
		if (!pm_pfn(pfn0[i]))
			return reason(why, "page %zu not present after the fill", i);
		pfn0[i] = pm_pfn(pfn0[i]);
	}
	return 0;
}

/*
 * writeback mode, like the selftest's stable_writes check: a first
 * write-out uses up the throttle's budget, then each page is paged out
 * on its own (madvise() plugs the queue: one call over the range would
 * become one request, let through at once) and written right away, while
 * its write waits in the throttle.  Returns how many were swapped out.
 */
static size_t copies_fault_wb(char *p, size_t n, unsigned int seed, const uint64_t *pfn0,
			      unsigned char *cls)
{
	size_t i, swapped = 0;

	madvise(p + n * ps, ps, MADV_PAGEOUT);
	sleep_ms(20);
	for (i = 0; i < n; i++) {
		madvise(p + i * ps, ps, MADV_PAGEOUT);
		cls[i] = classify(COPY_WRITEBACK, i, pagemap_entry(p + i * ps), pfn0[i]);
		swapped += cls[i] != CLS_UNSWAPPED;
		*(volatile uint64_t *)word(p, i, 1) = ~tag(seed, i);
	}
	return swapped;
}

/*
 * held and dropped: page out with pipe references on every -e'th page,
 * wait for the writeback, (dropped: close the pipes,) write every page.
 * How many were swapped out, or -1 with a reason.
 */
static long copies_fault_refs(enum copy_mode mode, char *p, size_t n, unsigned int seed,
			      struct refs *refs, uint64_t *pm, const uint64_t *pfn0,
			      unsigned char *cls, char *why)
{
	long out;
	size_t i;
	int r;

	r = refs_get(refs, p, n);
	if (r)
		return reason(why, "vmsplice: %s", strerror(-r));
	out = page_out_all(p, n, pm);
	if (out < 0)
		return reason(why, "MADV_PAGEOUT: %s", strerror((int)-out));
	if (wait_writeback())
		return reason(why, "swap writeback did not finish in %d s", WB_TIMEOUT);
	if (mode == COPY_DROPPED)
		refs_put(refs);
	if (opt.drain)
		drain_lru_batches();
	for (i = 0; i < n; i++) {
		cls[i] = classify(mode, i, pm[i], pfn0[i]);
		*(volatile uint64_t *)word(p, i, 1) = ~tag(seed, i);
	}
	return out;
}

/* Count the pages by class and whether each was copied (PFN changed). */
static void copies_count(struct copy_run *cr, size_t n, const unsigned char *cls,
			 const uint64_t *pm, const uint64_t *pfn0)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (cls[i] == CLS_UNSWAPPED) {
			cr->unswapped++;
		} else if (cls[i] == CLS_REREAD) {
			cr->reread++;
		} else {
			cr->eligible[cls[i]]++;
			cr->copied[cls[i]] += pm_pfn(pm[i]) != pfn0[i];
		}
	}
}

/* After the faults: content and PFNs.  0, -1 with a reason, -2 data wrong. */
static int copies_check(bool wb, char *p, size_t n, unsigned int seed, struct refs *refs,
			uint64_t *pm, char *why)
{
	size_t bad;
	int r;

	r = pm_read(p, n, pm);
	refs_put(refs);
	if (r)
		return reason(why, "pagemap: %s", strerror(-r));
	bad = bad_pages(p, n, seed);
	if (wb && wait_writeback())
		return reason(why, "swap writeback did not finish in %d s", WB_TIMEOUT);
	if (bad) {
		reason(why, "%zu pages came back with wrong content", bad);
		return -2;
	}
	return 0;
}

static int copies_once(enum copy_mode mode, unsigned int seed,
		       struct copy_run *cr, char *why)
{
	bool wb = mode == COPY_WRITEBACK;
	size_t n = wb ? opt.wb_pages : opt.copy_mib * pages_per_mib;
	uint64_t *pfn0 = NULL, *pm = NULL;
	unsigned char *cls = NULL;
	struct refs refs = { 0 };
	char *p = NULL;
	int ret = -1;
	long swapped;

	memset(cr, 0, sizeof(*cr));
	p = map_pages(n + 1);		/* + a warm-up page for wb */
	pfn0 = malloc(n * sizeof(*pfn0));
	pm = malloc(n * sizeof(*pm));
	cls = malloc(n);
	if (!p || !pfn0 || !pm || !cls) {
		reason(why, "out of memory");
		goto out;
	}
	if (copies_fill(p, n, seed, pfn0, why))
		goto out;
	if (wb)
		swapped = copies_fault_wb(p, n, seed, pfn0, cls);
	else
		swapped = copies_fault_refs(mode, p, n, seed, &refs, pm, pfn0, cls, why);
	if (swapped < 0)
		goto out;
	if ((size_t)swapped < n / 2) {
		reason(why, "only %zu of %zu pages were swapped out", (size_t)swapped, n);
		goto out;
	}
	ret = copies_check(wb, p, n, seed, &refs, pm, why);
	if (!ret)
		copies_count(cr, n, cls, pm, pfn0);
out:
	refs_put(&refs);
	unmap_pages(p, n + 1);
	free(pfn0);
	free(pm);
	free(cls);
	return ret;
}

static const char *copy_metric[NR_COPY_MODES][2] = {
	{ "copies_held_ref",	"copies_held_noref" },
	{ "copies_dropped_ref",	"copies_dropped_noref" },
	{ "copies_wb_writeback", "copies_wb_clean" },
};

/*
 * writeback mode: the write-throttled disk becomes the preferred swap area
 * (priority above the bench's area), so that paged-out pages stay under
 * writeback long enough; stable_writes off, as on the bench's area.
 */
static const char *slow_dev;
static int slow_stable = -1;

static void slow_swap_off(void);

static int slow_swap_on(char *why)
{
	int r, prio;

	slow_dev = getenv("COWSWAP_SLOW_SWAP_DEV");
	if (!slow_dev || !*slow_dev)
		return reason(why, "needs COWSWAP_SLOW_SWAP_DEV (a write-throttled disk)");
	if (swap_is_active(slow_dev) == 1 && (r = swap_off(slow_dev)))
		return reason(why, "swapoff %s: %s", slow_dev, strerror(-r));
	slow_stable = blk_stable_writes_get(slow_dev);
	if (slow_stable == 1 && (r = blk_stable_writes_set(slow_dev, 0)))
		return reason(why, "%s: cannot turn stable_writes off: %s", slow_dev,
			      strerror(-r));
	r = swap_mkswap(slow_dev);
	if (!r)
		r = swap_on(slow_dev, 20);
	if (r) {
		if (slow_stable == 1)
			blk_stable_writes_set(slow_dev, 1);
		return reason(why, "swap on %s: %s", slow_dev, strerror(-r));
	}
	/*
	 * The per-CPU swap slot cache may still hold slots of the bench's
	 * area, which would be used before the preferred one: a swapoff
	 * drains the caches.  The area is empty between measurements.
	 */
	if (swap_get_prio(sw.dev, &prio) || swap_off(sw.dev) || swap_on(sw.dev, prio)) {
		slow_swap_off();
		return reason(why, "cannot cycle %s to drain the swap slot cache", sw.dev);
	}
	return 0;
}

static void slow_swap_off(void)
{
	swap_off(slow_dev);
	if (slow_stable == 1)
		blk_stable_writes_set(slow_dev, 1);
}

void bench_copies(enum copy_mode mode)
{
	static struct series copied[2], eligible[2], reread;
	bool wb = mode == COPY_WRITEBACK;
	struct copy_run cr;
	char why[REASON_LEN], extra[96];
	int run, k, r = 0;

	for (k = 0; k < 2; k++)
		copied[k].n = eligible[k].n = 0;
	reread.n = 0;
	if (wb && slow_swap_on(why)) {
		bench_tap(BENCH_SKIP, "copies/%s: %s\n", copy_mode_name[mode], why);
		return;
	}
	for (run = 0; run < opt.runs; run++) {
		r = copies_once(mode, 0x100 + run, &cr, why);
		if (r)
			break;
		vmsg("run %d: copied %zu/%zu, %zu/%zu; %zu reread, %zu not swapped\n",
		     run, cr.copied[0], cr.eligible[0], cr.copied[1], cr.eligible[1],
		     cr.reread, cr.unswapped);
		for (k = 0; k < 2; k++) {
			add(&copied[k], cr.copied[k]);
			add(&eligible[k], cr.eligible[k]);
		}
		add(&reread, cr.reread);
	}
	if (wb)
		slow_swap_off();
	if (r == -2) {
		ksft_print_msg("copies/%s: %s\n", copy_mode_name[mode], why);
		bench_tap(BENCH_FAIL, "copies/%s\n", copy_mode_name[mode]);
		return;
	}
	if (r) {
		bench_tap(BENCH_SKIP, "copies/%s: %s\n", copy_mode_name[mode], why);
		return;
	}
	for (k = 0; k < 2; k++) {
		snprintf(extra, sizeof(extra), ",\"of\":%.0f,\"reread\":%.0f",
			 median(&eligible[k]), median(&reread));
		/* writeback: a few pages, not a MiB size: size_mib 0 */
		result(copy_metric[mode][k], wb ? 0 : opt.copy_mib, "pages", &copied[k],
		       extra);
		ksft_print_msg("%-22s           of a median %.0f pages in the swap cache at the fault\n",
			       "", median(&eligible[k]));
	}
	bench_tap(BENCH_PASS, "copies/%s\n", copy_mode_name[mode]);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * faults.c - the fault and memcg workers of swap_stress (see swap_stress.c):
 * a swap area that fails its I/O and recovers while the others run, and a
 * worker reclaimed by its memory cgroup's limit.
 */
#include "swap_stress.h"
#include "cgroup_helpers.h"
#include "test_devs.h"

#define FAULT_SWAP_MB	8
#define FAULT_BYTES	(256 << 10)	/* the fault worker's region */
#define MEMCG_BYTES	(8 << 20)	/* the memcg worker's: twice its memory.high */

struct fault_ctx {
	struct wstat *me;
	struct nullb_dev lower;
	struct dm_fault_dev dev;
	struct memcg cg;	/* to push pages out of the swap cache */
	struct region r;
	uint64_t *pfn;
	struct dm_range *rg;	/* the slots of our pages */
	bool *failing;		/* ... page i is in one */
	unsigned char *buf;
	int prio;
	int type;		/* swap type of the faulty area, -1 unknown */
	unsigned int seed;
	char why[TEST_DEV_WHY];
};

/* Hold a fault window open a while, the other workers running into it. */
static void fault_hold(struct fault_ctx *f)
{
	double end = now() + 0.1 + (rnd(&f->seed) % 5) * 0.1;

	while (now() < end && !stopping())
		sleep_us(50000);
}

/*
 * Verify page i through a copy that survives a SIGBUS.  A SIGBUS is
 * allowed where may_sigbus: the page is then dropped and written anew
 * (its data was lost visibly, not silently).
 */
static void fault_verify(struct fault_ctx *f, size_t i, bool may_sigbus)
{
	unsigned char *p = rpage(&f->r, i);
	int code, sig = copy_catch(f->buf, p, ps, &code);

	if (sig) {
		if (sig == SIGBUS)
			op_add(f->me, OP_SIGBUS, 1);
		if (sig < 0)
			error_msg(f->me, "page %zu: cannot catch its signals: %s", i,
				  strerror(-sig));
		else if (sig != SIGBUS)
			error_msg(f->me, "page %zu raised signal %d (si_code %d), not SIGBUS",
				  i, sig, code);
		else if (!may_sigbus)
			error_msg(f->me, "SIGBUS on page %zu, whose swap I/O did not fail", i);
		madvise(p, ps, MADV_DONTNEED);
		region_write(f->me, &f->r, i);
		return;
	}
	if (!verify_page(f->me, f->buf, i, f->r.tag, f->r.gen[i], f->r.tag))
		region_write(f->me, &f->r, i);
}

/* The table: mode over the ranges (all if n is 0), rest elsewhere. */
static bool fault_set(struct fault_ctx *f, enum dm_fault_mode mode,
		      const struct dm_range *ranges, int n, enum dm_fault_mode rest)
{
	if (dm_fault_set_ranges(&f->dev, mode, ranges, n, rest, f->why)) {
		error_msg(f->me, "%s", f->why);
		return false;
	}
	return true;
}

/*
 * Writes fail on the whole area: everybody's pages that go there stay in
 * memory (dirty, in the swap cache).  Ours are counted, and tell which
 * swap type the area has.
 */
static void fault_writes(struct fault_ctx *f)
{
	size_t i, failed = 0;
	int tries;
	uint64_t e;

	/*
	 * Until some of ours went to the area (others, like the swapoff
	 * worker's, may take them all): rewrite, page out, look.
	 */
	for (tries = 0; tries < 8 && !failed && !stopping(); tries++) {
		for (i = 0; i < f->r.n; i++) {
			region_write(f->me, &f->r, i);
			f->pfn[i] = page_pfn(rpage(&f->r, i));
		}
		worker_page_out(f->me, f->r.p, f->r.n);
		/* a failed write leaves the page dirty in the swap cache */
		kpf_wait_writeback(f->pfn, f->r.n, 2000);
		for (i = 0; i < f->r.n; i++) {
			if (!kpf_has(f->pfn[i], KPF_BIT_SWAPCACHE) ||
			    !kpf_has(f->pfn[i], KPF_BIT_DIRTY))
				continue;
			e = pagemap_entry(rpage(&f->r, i));
			if (pm_swapped(e)) {
				failed++;
				f->type = pm_swap_type(e);
			}
		}
		if (!failed)
			sleep_us(50000);
	}
	op_add(f->me, OP_FAULT_WRITE_FAILED, failed);
	fault_hold(f);
	for (i = 0; i < f->r.n; i++)
		fault_verify(f, i, false);
}

static int range_cmp(const void *a, const void *b)
{
	const struct dm_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Our pages written to the area (the one moment its writes work), then
 * reads fail in the slots that hold them, writes everywhere else: nobody
 * else has data there.  Touching them gives the data or a SIGBUS.
 */
static void fault_reads(struct fault_ctx *f)
{
	unsigned long long spp = ps / 512;
	struct dm_range *rg = f->rg;
	bool *failing = f->failing;
	int n = 0, m, k;
	uint64_t e;
	size_t i;

	memset(failing, 0, f->r.n * sizeof(*failing));
	if (f->type < 0)
		return;
	for (i = 0; i < f->r.n; i++)
		f->pfn[i] = page_pfn(rpage(&f->r, i));
	if (!fault_set(f, DM_FAULT_NONE, NULL, 0, DM_FAULT_NONE))
		return;
	worker_page_out(f->me, f->r.p, f->r.n);
	for (i = 0; i < f->r.n; i++) {
		e = pagemap_entry(rpage(&f->r, i));
		if (!pm_swapped(e) || (int)pm_swap_type(e) != f->type)
			continue;
		rg[n].start = pm_swap_offset(e) * spp;
		rg[n++].len = spp;
		failing[i] = true;
	}
	if (n) {
		/*
		 * Sorted and merged where they touch or overlap: the other
		 * workers swap while the entries are read one by one, so a
		 * slot can be seen twice (a page swapped in and another out
		 * to its slot), and a table with a range twice is refused.
		 */
		qsort(rg, n, sizeof(*rg), range_cmp);
		for (m = 0, k = 1; k < n; k++) {
			if (rg[k].start <= rg[m].start + rg[m].len) {
				if (rg[k].start + rg[k].len > rg[m].start + rg[m].len)
					rg[m].len = rg[k].start + rg[k].len - rg[m].start;
			} else {
				rg[++m] = rg[k];
			}
		}
	}
	if (!fault_set(f, DM_FAULT_ALL, rg, n ? m + 1 : 0, DM_FAULT_WRITES) || !n)
		return;
	op_add(f->me, OP_FAULT_INJECTED, 1);
	/* only what left the swap cache is read from the area */
	kpf_wait_writeback(f->pfn, f->r.n, 2000);
	memcg_evict(&f->cg, f->pfn, f->r.n, 30);
	op_add(f->me, OP_FAULT_READ_FAILED, n);
	for (i = 0; i < f->r.n; i++)
		fault_verify(f, i, failing[i]);
	fault_hold(f);
}

/*
 * One cycle: the area is switched on with its writes failing, and stays
 * so but for the one page-out of our own region in fault_reads(); then
 * it is switched off, which must succeed.  The null_blk under it keeps
 * what is written in RAM: under the pressure worker's memory exhaustion
 * it must never become where everybody's pages go (swapping to a RAM
 * disk frees nothing), so it only ever gets our pages and the few
 * others' of that moment.  It shares the main area's priority: reclaim
 * always has the main area to write to while ours fails (with ours
 * alone it livelocked, and so did we, allocating to end the window).
 */
static int fault_cycle(struct fault_ctx *f)
{
	size_t i;
	int r;

	kmsg_expect(KMSG_SWAP_IO_ERROR, true);
	if (!fault_set(f, DM_FAULT_WRITES, NULL, 0, DM_FAULT_NONE)) {
		kmsg_expect(KMSG_SWAP_IO_ERROR, false);
		return -EIO;
	}
	r = swap_on(f->dev.path, f->prio);
	if (r) {
		error_msg(f->me, "swapon %s: %s", f->dev.path, strerror(-r));
		kmsg_expect(KMSG_SWAP_IO_ERROR, false);
		return r;
	}
	op_add(f->me, OP_FAULT_INJECTED, 1);
	f->type = -1;
	fault_writes(f);
	fault_reads(f);
	fault_set(f, DM_FAULT_WRITES, NULL, 0, DM_FAULT_NONE);
	r = swap_off(f->dev.path);
	kmsg_expect(KMSG_SWAP_IO_ERROR, false);
	if (r) {
		error_msg(f->me, "swapoff %s after the faults: %s", f->dev.path, strerror(-r));
		return r;
	}
	op_add(f->me, OP_FAULT_SWAPOFF, 1);
	for (i = 0; i < f->r.n; i++)
		fault_verify(f, i, false);
	return 0;
}

static int fault_setup(struct fault_ctx *f)
{
	struct nullb_opts o = { .size_mb = FAULT_SWAP_MB, .blocksize = 4096 };
	char name[32];
	int r;

	snprintf(name, sizeof(name), "stress_fault%d", f->me->id);
	if (memcg_create(&f->cg, name, f->why, sizeof(f->why)))
		return -ENODEV;
	if (memcg_enter(&f->cg, 0) ||
	    nullb_create(&f->lower, "stress_faulty_lower", &o, f->why)) {
		memcg_destroy(&f->cg);
		return -ENODEV;
	}
	/*
	 * Written once now, the null_blk has its pages: a swap write later
	 * needs no allocation in the I/O path (GFP_NOIO, under the pressure
	 * worker's exhaustion), which could wait for reclaim that waits for
	 * the write.
	 */
	r = blkdev_fill_text(f->lower.path, (size_t)FAULT_SWAP_MB << 20, "cowswap\n");
	if (r || dm_fault_create(&f->dev, "stress_faulty", f->lower.path, f->why)) {
		if (r)
			snprintf(f->why, sizeof(f->why), "cannot fill %s: %s", f->lower.path,
				 strerror(-r));
		nullb_destroy(&f->lower);
		memcg_destroy(&f->cg);
		return -ENODEV;
	}
	/*
	 * The main area's priority: the two share the page-outs that do not
	 * go to the swapoff worker's area, so that reclaim always has
	 * somewhere to write while ours fails.
	 */
	if (!env.swap_dev || swap_get_prio(env.swap_dev, &f->prio) || f->prio < 0)
		f->prio = 0;
	r = swap_mkswap(f->dev.path);
	if (r) {
		snprintf(f->why, sizeof(f->why), "mkswap %s: %s", f->dev.path, strerror(-r));
		dm_fault_destroy(&f->dev);
		nullb_destroy(&f->lower);
		memcg_destroy(&f->cg);
	}
	return r;
}

/*
 * fault: a swap area of its own (dm over a null_blk, the priority of the
 * main area), switched on for a cycle and off again (see fault_cycle()).  Its memory is locked but for its region: a page fault
 * of its own must not wait for the area it is failing.
 */
void worker_fault(struct wstat *me)
{
	struct fault_ctx f = { .me = me, .type = -1, .seed = opt.seed ^ (me->id * 31 + 17) };
	double off, t0 = now();
	size_t n;

	if (fault_setup(&f)) {
		skip_worker(me, "%s", f.why);
		__atomic_store_n(&me->ready, 1, __ATOMIC_RELEASE);
		return;
	}
	/* Said: a run whose worker never got to a fault must show why. */
	msg("%s: swap area %s ready after %.1f s", me->name, f.dev.path, now() - t0);
	__atomic_store_n(&me->ready, 1, __ATOMIC_RELEASE);
	n = pages_of(FAULT_BYTES, 16);
	f.pfn = calloc(n, sizeof(*f.pfn));
	f.rg = calloc(n, sizeof(*f.rg));
	f.failing = calloc(n, sizeof(*f.failing));
	f.buf = malloc(ps);
	if (region_init(&f.r, n, 0x500 + me->id, false) || !f.pfn || !f.rg || !f.failing ||
	    !f.buf) {
		error_msg(me, "out of memory");
		goto out;
	}
	if (mlockall(MCL_CURRENT | MCL_FUTURE) || munlock(f.r.p, f.r.n * ps))
		msg("%s: mlockall: %s", me->name, strerror(errno));
	while (!stopping() && !fault_cycle(&f))
		for (off = now() + 1 + rnd(&f.seed) % 2; now() < off && !stopping();)
			sleep_us(100000);
	region_final(me, &f.r, f.r.tag);
out:
	if (swap_is_active(f.dev.path) == 1 && swap_off(f.dev.path))
		error_msg(me, "cannot switch %s off at the end", f.dev.path);
	dm_fault_destroy(&f.dev);
	nullb_destroy(&f.lower);
	memcg_destroy(&f.cg);
}

/*
 * memcg: a region twice the size of its memory cgroup's memory.high,
 * verified and rewritten at random: every access beyond the limit makes
 * the kernel reclaim from the cgroup (real reclaim by a memcg limit, no
 * MADV_PAGEOUT), and now and then memory.reclaim asks for more.
 */
void worker_memcg(struct wstat *me)
{
	unsigned int seed = opt.seed ^ (me->id * 131 + 5);
	char why[256], buf[32];
	struct memcg cg;
	long long v;
	struct region r;
	size_t i, k;

	snprintf(buf, sizeof(buf), "stress_memcg%d", me->id);
	if (memcg_create(&cg, buf, why, sizeof(why))) {
		skip_worker(me, "%s", why);
		return;
	}
	if (memcg_enter(&cg, 0)) {
		error_msg(me, "cannot move into %s", cg.path);
		memcg_destroy(&cg);
		return;
	}
	snprintf(buf, sizeof(buf), "%d", MEMCG_BYTES / 2);
	if (memcg_write(&cg, "memory.high", buf)) {
		error_msg(me, "cannot set memory.high of %s", cg.path);
		memcg_destroy(&cg);
		return;
	}
	if (region_init(&r, pages_of(MEMCG_BYTES, 64), 0x600 + me->id, false)) {
		error_msg(me, "out of memory");
		memcg_destroy(&cg);
		return;
	}
	for (k = 0; !stopping(); k++) {
		i = rnd(&seed) % r.n;
		region_verify(me, &r, i, r.tag);
		if (rnd(&seed) & 1)
			region_write(me, &r, i);
		op_add(me, OP_MEMCG_TOUCH, 1);
		if (k % 4096 == 4095)
			memcg_write(&cg, "memory.reclaim", "1M");
	}
	v = memcg_read(&cg, "memory.events", "high");
	op_max(me, OP_MEMCG_HIGH, v > 0 ? v : 0);
	v = memcg_read(&cg, "memory.stat", "pgmajfault");
	op_max(me, OP_MEMCG_FAULTS, v > 0 ? v : 0);
	region_final(me, &r, r.tag);
	memcg_destroy(&cg);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * odirect.c - O_DIRECT reads in flight while their page is swapped out
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

/* Devices the test made for itself (test_devs.h), when none was named. */
static struct {
	struct nullb_dev src;		/* memory backed, the test pattern */
	bool src_tried, src_ok;
	char src_why[WHY_LEN];
	struct dm_delay_dev slow;	/* dm-delay over src */
	struct dm_delay_dev fast;	/* dm-delay over src, shortest delay */
} own;

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

struct dio_stats {
	int iterations;
	int raced;		/* swapped out and read in flight at the write */
	int lost;		/* data not where it belongs */
	int pfn_changed;
	int not_swapped;
	int read_done_early;
	int held;		/* not swapped out, read still in flight */
};

/* What one in-flight iteration saw. */
struct dio_iter {
	uint64_t pfn0, pfn1;	/* before, and after the write */
	uint64_t e;		/* pagemap entry after the page-out */
	bool swapped, in_flight;
};

/*
 * Start the read into req->buf in a thread, and give it the time to
 * take its reference on the page.
 */
static enum res dio_start(struct dio_req *req, pthread_t *th, char *why)
{
	const struct dio_src *s = req->src;
	int r;

	/* Use up the throttle budget so that the next read has to wait. */
	if (s->throttled && pread(s->fd, s->scratch, s->bs, 0) != (ssize_t)s->bs)
		return SKIP(why, "O_DIRECT warm-up read: %s", strerror(errno));
	r = pthread_create(th, NULL, dio_thread, req);
	if (r)
		return SKIP(why, "pthread_create: %s", strerror(r));
	while (!atomic_load(&req->started))
		sleep_us(1000);
	sleep_us(20000);	/* let it submit the bio (and take its reference) */
	return RES_PASS;
}

/* Count an iteration that ran, and tell about what it lost. */
static void dio_account(struct dio_stats *st, const struct dio_src *s,
			const struct test_mem *m, const struct dio_iter *it)
{
	const unsigned char *p = (unsigned char *)m->page, *o = (unsigned char *)m->other;
	char diag[96], d2[96];

	st->iterations++;
	if (!it->swapped)
		st->not_swapped++;
	if (!it->in_flight)
		st->read_done_early++;
	if (it->swapped && it->in_flight)
		st->raced++;
	if (!it->swapped && it->in_flight)
		st->held++;
	if (it->pfn0 != it->pfn1)
		st->pfn_changed++;
	if (!dio_page_ok(s, p, diag, sizeof(diag))) {
		st->lost++;
		ksft_print_msg("  iteration %d: %s (after pageout: %s; pfn 0x%llx -> 0x%llx%s)\n",
			       st->iterations, diag, pm_describe(it->e, d2, sizeof(d2)),
			       (unsigned long long)it->pfn0, (unsigned long long)it->pfn1,
			       mem_describe(m));
	} else if (o && (o[0] != s->marker || first_diff_byte(o, 1, ps, s->fill) >= 0)) {
		st->lost++;
		ksft_print_msg(
			"  iteration %d: the write to the other subpage of the THP is lost or it changed%s\n",
			st->iterations, mem_describe(m));
	} else {
		vmsg("iteration %d ok: swapped=%d in_flight=%d pfn 0x%llx -> 0x%llx%s\n",
		     st->iterations, it->swapped, it->in_flight, (unsigned long long)it->pfn0,
		     (unsigned long long)it->pfn1, mem_describe(m));
	}
}

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
	struct dio_iter it;
	struct test_mem m;
	unsigned char *p;
	pthread_t th;
	enum res res;

	res = mem_get(c, &m, MEM_REFS, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)m.page;
	memset(p, s->fill, ps);
	if (m.other)
		memset(m.other, s->fill, ps);
	it.pfn0 = page_pfn(p);
	req.buf = p;
	res = dio_start(&req, &th, why);
	if (res != RES_PASS)
		goto out;

	it.swapped = !mem_page_out(&m, 3);
	it.e = pagemap_entry(p);
	res = bring_back(c, why);
	if (res != RES_PASS) {
		pthread_join(th, NULL);
		goto out;
	}
	if (clear_refs_step) {
		read_byte(p + ps / 2);	/* read fault: swap in, mapped R/O */
		clear_refs_soft_dirty();
	}
	it.in_flight = !atomic_load(&req.done);
	if (m.other)		/* THP: another subpage first */
		m.other[0] = s->marker;
	p[ps - 1] = s->marker;
	it.pfn1 = page_pfn(p);
	pthread_join(th, NULL);

	if (req.ret != (ssize_t)s->bs) {
		res = FAIL(why, "O_DIRECT read of %zu bytes returned %zd (%s)", s->bs,
			   req.ret, req.ret < 0 ? strerror(req.err) : "short");
		goto out;
	}
	dio_account(st, s, &m, &it);
out:
	mem_put(&m);
	return res;
}

/*
 * Whether the setup swaps the page out when no read is in flight: when it
 * does, and never did with one in flight (only, if at all, once the read
 * was done), the kernel keeps a page mapped while O_DIRECT holds it.
 * Since 5.19 an exclusive anonymous page that may be pinned is not
 * unmapped by reclaim, and O_DIRECT pins with FOLL_PIN from 6.2 on: there
 * the read's page cannot become a swap entry before the read is done, and
 * the data lands where the process sees it.
 */
static bool pages_out_without_read(struct setup_ctx *c)
{
	struct test_mem m;
	char why[256];
	bool out;

	if (mem_get(c, &m, MEM_REFS, why) != RES_PASS)
		return false;
	memset((void *)m.page, 0x5a, ps);
	out = !mem_page_out(&m, 3);
	mem_put(&m);
	return out;
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
	if (!st.raced && st.held && pages_out_without_read(c)) {
		ksft_print_msg(
			"the kernel kept the page mapped while the read was in flight in %d of %d iterations%s, and swaps it out without one: O_DIRECT pins it (FOLL_PIN), so the read's data cannot be lost to a copy\n",
			st.held, st.iterations,
			st.held < st.iterations ? " (in the others the read was done first)" : "");
		return RES_PASS;
	}
	if (!st.raced)
		return SKIP(why,
			    "never swapped out while the read was in flight (is %s throttled?)",
			    s->path);
	return RES_PASS;
}

enum res check_odirect_inflight(struct setup_ctx *c, char *why)
{
	return odirect_common(c, false, why);
}

enum res check_odirect_clear_refs(struct setup_ctx *c, char *why)
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

struct racy_stats {
	int iters, raced, swapped, lost, pfn_changed;
	int held;	/* MADV_PAGEOUT left it mapped during the read, never swapped */
};

/*
 * Typical read latency decides the range of the random delay; time
 * a batch of reads (guest clocks may tick in jiffies).
 */
static enum res racy_latency(const struct dio_src *s, unsigned char *p, double *lat,
			     char *why)
{
	double t0 = now();
	int i;

	for (i = 0; i < 500 && (i < 8 || now() - t0 < 0.05); i++)
		if (pread(s->fd, p, s->bs, 0) != (ssize_t)s->bs)
			return SKIP(why, "O_DIRECT read: %s", strerror(errno));
	*lat = (now() - t0) / i;
	return RES_PASS;
}

/*
 * Give the reader a head start of varying length (on one CPU a yield
 * lets it submit its bio).
 */
static void racy_head_start(int mode, double lat)
{
	int i;

	if (mode == 0)
		sched_yield();
	else if (mode == 1)
		sleep_us(rand() % ((long)(lat * 1e6) + 1));
	else if (mode == 2)
		for (i = rand() % 20000; i > 0; i--)
			__asm__ __volatile__("" ::: "memory");
}

/* One odirect_racy iteration; RES_FAIL when the read itself failed. */
static enum res racy_iteration(struct racy_reader *rr, unsigned char *p, double lat,
			       struct racy_stats *st, char *why)
{
	const struct dio_src *s = rr->src;
	int mode = rand() % 4, i;
	bool swapped, in_flight, kept = false;
	long long out0, out1;
	uint64_t pfn0, pfn1;
	char diag[96];

	madvise(p, ps, MADV_DONTNEED);
	memset(p, s->fill, ps);
	pfn0 = page_pfn(p);
	out0 = proc_value("/proc/vmstat", "pswpout");
	atomic_store(&rr->done, 0);
	pthread_barrier_wait(&rr->start);
	/* then page out and write as soon as the page is a swap entry */
	racy_head_start(mode, lat);
	swapped = false;
	for (i = 0; i < 50 && !swapped && !atomic_load(&rr->done); i++) {
		madvise(p, ps, MADV_PAGEOUT);
		swapped = page_swapped(p);
		if (swapped)
			break;
		/* in flight before MADV_PAGEOUT (above) and after it */
		kept |= !atomic_load(&rr->done);
		sched_yield();
	}
	in_flight = !atomic_load(&rr->done);
	p[ps - 1] = s->marker;
	pfn1 = page_pfn(p);
	pthread_barrier_wait(&rr->end);
	out1 = proc_value("/proc/vmstat", "pswpout");
	st->iters++;
	if (rr->ret != (ssize_t)s->bs)
		return FAIL(why, "O_DIRECT read of %zu bytes returned %zd (%s)",
			    s->bs, rr->ret, rr->ret < 0 ? strerror(rr->err) : "short");
	st->swapped += swapped;
	/*
	 * A real race: unmapped while the read held the page, which
	 * then stayed unwritten in the swap cache (no pswpout), and
	 * written before the read returned.
	 */
	st->raced += swapped && in_flight && (out0 < 0 || out0 == out1);
	st->held += kept && !swapped;
	st->pfn_changed += pfn0 != pfn1;
	if (!dio_page_ok(s, p, diag, sizeof(diag))) {
		if (st->lost < 5)
			ksft_print_msg("  iteration %d: %s (swapped=%d, in flight=%d)\n",
				       st->iters, diag, swapped, in_flight);
		st->lost++;
	}
	return RES_PASS;
}

/*
 * res: how the iterations ended (RES_PASS: all ran).  From 6.2 on the
 * window cannot open: O_DIRECT pins the page (FOLL_PIN) and reclaim does
 * not unmap a maybe-pinned exclusive anonymous page, so the page is
 * either swapped out before the read gets hold of it (the read's own
 * fault brings it back) or stays mapped until the read is done.  What
 * counts as "raced" there (unmapped, in flight, no pswpout) is the first
 * case with the write skipped, e.g. because the read's swap-in fault held
 * a reference; it is no loss either way.  So no race but pages held, as
 * odirect_inflight, is a pass for the stated reason.
 */
static enum res racy_verdict(struct setup_ctx *c, const struct racy_stats *st,
			     const struct dio_src *s, double lat, enum res res, char *why)
{
	if (res != RES_PASS && st->lost)
		return FAIL(why, "%d of %d iterations lost the O_DIRECT data (and then: %s)",
			    st->lost, st->iters, why);
	if (res != RES_PASS)
		return res;
	ksft_print_msg(
		"%d of %d iterations corrupted (%s, read ~%.0f us); swapped out in %d, of those with the read in flight and no write to swap %d; kept mapped by MADV_PAGEOUT during the read %d; PFN changed in %d\n",
		st->lost, st->iters, s->tmpfile ? "temporary file" : s->path,
		lat * 1e6, st->swapped, st->raced, st->held, st->pfn_changed);
	if (st->lost)
		return FAIL(why, "%d of %d iterations lost the O_DIRECT data", st->lost,
			    st->iters);
	if (!st->raced && st->held && pages_out_without_read(c)) {
		ksft_print_msg(
			"the kernel kept the page mapped while the read was in flight (%d of %d iterations), and swaps it out without one: O_DIRECT pins it (FOLL_PIN), the window cannot open\n",
			st->held, st->iters);
		return RES_PASS;
	}
	if (!st->raced)
		return SKIP(why, "race window never hit in %d iterations", st->iters);
	return RES_PASS;
}

enum res check_odirect_racy(struct setup_ctx *c, char *why)
{
	struct racy_stats st = { 0 };
	struct racy_reader rr;
	double lat = 0, deadline;
	struct dio_src *s;
	unsigned char *p;
	enum res res;
	pthread_t th;
	int r;

	res = get_fast_src(&s, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)map_pages(1);
	if (!p)
		return SKIP(why, "mmap: %s", strerror(errno));
	res = racy_latency(s, p, &lat, why);
	if (res != RES_PASS) {
		unmap_pages(p, 1);
		return res;
	}
	memset(&rr, 0, sizeof(rr));
	rr.src = s;
	rr.buf = p;
	pthread_barrier_init(&rr.start, NULL, 2);
	pthread_barrier_init(&rr.end, NULL, 2);
	r = pthread_create(&th, NULL, racy_thread, &rr);
	if (r) {
		unmap_pages(p, 1);
		return SKIP(why, "pthread_create: %s", strerror(r));
	}
	srand((unsigned int)getpid());
	deadline = now() + opt.racy_secs;
	while (res == RES_PASS && st.iters < opt.racy_max && now() < deadline)
		res = racy_iteration(&rr, p, lat, &st, why);
	atomic_store(&rr.stop, 1);
	pthread_barrier_wait(&rr.start);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&rr.start);
	pthread_barrier_destroy(&rr.end);
	unmap_pages(p, 1);
	return racy_verdict(c, &st, s, lat, res, why);
}

/*
 * The child of fork_odirect_inflight: writes its copy of the page while
 * the parent's read is in flight, then, once the read is over, looks at
 * it again.  Exit 0: its copy never saw the read; 3: it did; 4: trouble.
 */
static void fork_dio_child(unsigned char *p, const struct dio_src *s, int to_parent,
			   int from_parent)
{
	char x = 'w';

	p[ps - 1] = s->marker ^ 1;	/* COW: the child's own copy */
	if (xwrite(to_parent, &x, 1) || xread(from_parent, &x, 1))
		_exit(4);
	if (first_diff_byte(p, 0, ps - 1, s->fill) >= 0 || p[ps - 1] != (s->marker ^ 1))
		_exit(3);
	_exit(0);
}

/*
 * fork_odirect_inflight: fork() while an O_DIRECT read is in flight into
 * a swapped-out page, the child writing first: the child must never see
 * the parent's DMA, the parent must get the read's data and never the
 * child's write.  (A child that only reads shares the page the read
 * lands in: FOLL_GET references taken before fork() were never
 * reliable, so that is not asked.)  From 6.2 on O_DIRECT pins the page
 * (FOLL_PIN) and reclaim leaves a pinned exclusive page mapped: it is not
 * swapped out, fork() gives the child a copy of it at once, and the check
 * asks the same of the parent and the child; it passes on that only when
 * the page stayed mapped while the read was in flight and a page without
 * a read does swap out (as odirect_inflight).
 *
 * The child's copy is judged only when the read was still in flight
 * after the child wrote: a read over before that may have landed before
 * fork() or before the child's copy was made, and then the child holds
 * the data rightly (on 6.12 MADV_PAGEOUT, retried while the page is
 * pinned, swaps it out as soon as the read ends).  Such an attempt is
 * made again (*again), up to fork_odirect_inflight()'s limit.
 */
static enum res fork_dio_attempt(struct setup_ctx *c, struct dio_src *s, bool *again,
				 char *why)
{
	int to_parent[2] = { -1, -1 }, from_parent[2] = { -1, -1 }, status = 0;
	struct dio_req req = { 0 };
	bool in_flight = false, held = false;
	char diag[96], x, not_out[WHY_LEN];
	unsigned char *p;
	enum res res;
	pthread_t th;
	pid_t pid;

	*again = false;
	p = map_pages(1);
	if (!p || pipe2(to_parent, O_CLOEXEC) || pipe2(from_parent, O_CLOEXEC)) {
		res = SKIP(why, "mmap/pipe: %s", strerror(errno));
		goto out;
	}
	memset(p, s->fill, ps);
	req.src = s;
	req.buf = p;
	res = dio_start(&req, &th, why);
	if (res != RES_PASS)
		goto out;
	res = page_out_why(p, 1, why);
	if (res == RES_SKIP && !atomic_load(&req.done) && pm_present(pagemap_entry(p))) {
		/* kept mapped with the read in flight: pinned?  (asked below) */
		held = true;
		snprintf(not_out, sizeof(not_out), "%s", why);
		res = RES_PASS;
	}
	fflush(NULL);
	pid = res == RES_PASS ? fork() : -1;
	if (!pid)
		fork_dio_child(p, s, to_parent[1], from_parent[0]);
	if (pid > 0 && !xread(to_parent[0], &x, 1))
		in_flight = !atomic_load(&req.done);
	pthread_join(th, NULL);
	if (pid < 0) {
		if (res == RES_PASS)
			res = SKIP(why, "fork: %s", strerror(errno));
		goto out;
	}
	p[ps - 1] = s->marker;
	x = 'c';
	if (xwrite(from_parent[1], &x, 1))
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ksft_print_msg("page %s; read %s when the child wrote; child %s %d\n",
		       held ? "kept mapped" : "swapped out",
		       in_flight ? "in flight" : "already done",
		       WIFSIGNALED(status) ? "killed by signal" : "exited with",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	if (req.ret != (ssize_t)s->bs) {
		res = FAIL(why, "O_DIRECT read of %zu bytes returned %zd (%s)", s->bs,
			   req.ret, req.ret < 0 ? strerror(req.err) : "short");
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) == 4) {
		res = FAIL(why, "the child ended with status 0x%x", status);
	} else if (!dio_page_ok(s, p, diag, sizeof(diag))) {
		res = FAIL(why, "parent: %s", diag);
	} else if (!in_flight) {
		*again = true;
		res = SKIP(why, "the read was over before the child wrote (is %s slow?)",
			   s->path);
	} else if (WEXITSTATUS(status) == 3) {
		res = FAIL(why, "the child's copy of the page saw the parent's O_DIRECT data");
	} else if (held && !pages_out_without_read(c)) {
		res = SKIP(why, "%s; and not without a read either", not_out);
	} else if (held) {
		ksft_print_msg(
			"the kernel kept the page mapped while the read was in flight, and swaps a page out without one: O_DIRECT pins it (FOLL_PIN), so fork() copied it for the child right away\n");
	}
out:
	pipe_close(to_parent);
	pipe_close(from_parent);
	if (p)
		unmap_pages(p, 1);
	return res;
}

enum res check_fork_odirect_inflight(struct setup_ctx *c, char *why)
{
	struct dio_src *s;
	bool again = true;
	enum res res;
	int i;

	res = get_slow_src(&s, why);
	for (i = 1; res == RES_PASS && again; i++) {
		res = fork_dio_attempt(c, s, &again, why);
		if (!again)
			break;
		if (i == 3)
			return SKIP(why, "read over before the child wrote, %d tries (%s slow?)",
				    i, s->path);
		ksft_print_msg("attempt %d: %s; again\n", i, why);
		res = RES_PASS;
	}
	return res;
}

/* An O_DIRECT read from the slow source in flight, for other files' checks. */
struct dio_flight {
	struct dio_req req;
	pthread_t th;
};

enum res dio_slow_params(struct dio_params *p, char *why)
{
	struct dio_src *s;
	enum res res = get_slow_src(&s, why);

	if (res != RES_PASS)
		return res;
	p->bs = s->bs;
	p->fill = s->fill;
	p->marker = s->marker;
	return RES_PASS;
}

enum res dio_flight_start(struct dio_flight **fp, void *buf, char *why)
{
	struct dio_flight *f;
	struct dio_src *s;
	enum res res;

	res = get_slow_src(&s, why);
	if (res != RES_PASS)
		return res;
	f = calloc(1, sizeof(*f));
	if (!f)
		return SKIP(why, "out of memory");
	f->req.src = s;
	f->req.buf = buf;
	res = dio_start(&f->req, &f->th, why);
	if (res != RES_PASS) {
		free(f);
		return res;
	}
	*fp = f;
	return RES_PASS;
}

bool dio_flight_done(const struct dio_flight *f)
{
	return atomic_load(&f->req.done);
}

ssize_t dio_flight_end(struct dio_flight *f, int *err)
{
	ssize_t ret;

	pthread_join(f->th, NULL);
	ret = f->req.ret;
	*err = f->req.err;
	free(f);
	return ret;
}

bool dio_landed(const unsigned char *p)
{
	return slow_src.ref && !memcmp(p, slow_src.ref, slow_src.bs);
}

/* Close the O_DIRECT sources and remove the devices made for them. */
void odirect_cleanup(void)
{
	dio_close(&slow_src);
	dio_close(&fast_src);
	dm_delay_destroy(&own.slow);
	dm_delay_destroy(&own.fast);
	nullb_destroy(&own.src);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * odirect.c - the odirect worker of swap_stress: O_DIRECT reads into pages being paged out
 * (see swap_stress.c).
 */
#include "swap_stress.h"

struct dio_dev {
	const char *path;
	int fd;
	size_t bs;
	bool slow;
	void *scratch;
};

/* Page state: a block of disk data at hpos, the pattern everywhere else. */
struct dio_pair {
	struct wstat *me;
	struct dio_dev *dev;
	uint32_t tag;
	unsigned char *p;
	size_t n;
	uint32_t *gen;
	long *hoff;		/* disk offset of the block in the page, -1: none */
	size_t *hpos;		/* byte offset of the block in the page */
	unsigned int seed;
	double lat;		/* typical read latency, seconds */

	pthread_t reader;
	pthread_barrier_t start, end;
	int done;
	int quit;
	void *buf;
	off_t off;
	ssize_t ret;
	int err;
};

static int dio_open(struct dio_dev *d, const char *path, bool slow, char *why,
		    size_t len)
{
	unsigned int lbs = 0;
	struct stat st;
	ssize_t n;

	d->path = path;
	d->slow = slow;
	d->fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (d->fd < 0) {
		snprintf(why, len, "open %s with O_DIRECT: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(d->fd, &st) == 0 && S_ISBLK(st.st_mode) &&
	    ioctl(d->fd, BLKSSZGET, &lbs) == 0 && lbs)
		d->bs = lbs;
	else
		d->bs = 512;
	if (posix_memalign(&d->scratch, ps, ps)) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	for (; d->bs <= (size_t)ps; d->bs *= 2) {
		n = pread(d->fd, d->scratch, d->bs, 0);
		if (n == (ssize_t)d->bs)
			break;
	}
	if (d->bs > (size_t)ps || d->bs > REF_LEN / 4) {
		snprintf(why, len, "O_DIRECT reads from %s do not work", path);
		return -1;
	}
	if (memcmp(d->scratch, ref, d->bs)) {
		snprintf(why, len, "%s does not hold the reference data", path);
		return -1;
	}
	return 0;
}

static void *dio_reader(void *arg)
{
	struct dio_pair *dp = arg;

	for (;;) {
		pthread_barrier_wait(&dp->start);
		if (dp->quit)
			break;
		dp->ret = pread(dp->dev->fd, dp->buf, dp->dev->bs, dp->off);
		dp->err = errno;
		__atomic_store_n(&dp->done, 1, __ATOMIC_RELEASE);
		pthread_barrier_wait(&dp->end);
	}
	return NULL;
}

/* Check page i against its recorded state; false (and reported) if not. */
static bool dio_verify(struct dio_pair *dp, size_t i)
{
	unsigned char *page = dp->p + i * ps;
	size_t b0, b1, bs = dp->dev->bs;
	char why[160];
	long bad;

	cnt_add(&dp->me->verified, 1);
	if (dp->hoff[i] < 0) {
		b0 = b1 = 0;
	} else {
		b0 = dp->hpos[i] / 8;
		b1 = (dp->hpos[i] + bs) / 8;
		if (memcmp(page + dp->hpos[i], ref + dp->hoff[i], bs)) {
			if (pat_check(page, b0, b1, dp->tag, i, dp->gen[i] - 1) < 0)
				snprintf(why, sizeof(why),
					 "O_DIRECT read data lost: block at +%zu still holds what was there before the read",
					 dp->hpos[i]);
			else
				snprintf(why, sizeof(why), "block at +%zu differs from the disk data (offset %ld)",
					 dp->hpos[i], dp->hoff[i]);
			report(dp->me, page, i, why);
			return false;
		}
	}
	bad = pat_check(page, 0, b0, dp->tag, i, dp->gen[i]);
	if (bad < 0)
		bad = pat_check(page, b1, words, dp->tag, i, dp->gen[i]);
	if (bad < 0)
		return true;
	pat_explain(page, bad < (long)b0 ? 0 : b1, bad < (long)b0 ? b0 : words,
		    dp->tag, dp->tag, i, dp->gen[i], why, sizeof(why));
	report(dp->me, page, i, why);
	return false;
}

static void dio_reset(struct dio_pair *dp, size_t i)
{
	pat_fill(dp->p + i * ps, 0, words, dp->tag, i, ++dp->gen[i]);
	dp->hoff[i] = -1;
}

/*
 * One race: fill the page with generation g, start the read into one
 * block of it, page it out while the read is in flight, write generation
 * g + 1 to the rest of the page, wait for the read, check.
 */
static void dio_iteration(struct dio_pair *dp)
{
	struct dio_dev *d = dp->dev;
	size_t i = rnd(&dp->seed) % dp->n, bs = d->bs;
	unsigned char *page = dp->p + i * ps;
	size_t pos = (rnd(&dp->seed) % (ps / bs)) * bs;
	off_t off = (off_t)(rnd(&dp->seed) % (REF_LEN / bs)) * bs;
	bool swapped = false, in_flight;
	int t, tries;

	if (!dio_verify(dp, i))
		dio_reset(dp, i);
	pat_fill(page, 0, words, dp->tag, i, ++dp->gen[i]);
	op_add(dp->me, OP_WRITE, 1);
	if (d->slow && pread(d->fd, d->scratch, bs, 0) != (ssize_t)bs)
		error_msg(dp->me, "warm-up read from %s: %s", d->path, strerror(errno));

	dp->buf = page + pos;
	dp->off = off;
	__atomic_store_n(&dp->done, 0, __ATOMIC_RELEASE);
	pthread_barrier_wait(&dp->start);
	if (d->slow) {
		sleep_us(20000);	/* the bio is submitted: page referenced */
		tries = 3;
	} else {
		switch (rnd(&dp->seed) % 4) {
		case 0:
			sched_yield();
			break;
		case 1:
			sleep_us(rnd(&dp->seed) % ((long)(dp->lat * 1e6) + 1));
			break;
		case 2:
			for (t = rnd(&dp->seed) % 20000; t > 0; t--)
				__asm__ __volatile__("" ::: "memory");
			break;
		}
		tries = 50;
	}
	for (t = 0; t < tries && !swapped; t++) {
		if (!d->slow && __atomic_load_n(&dp->done, __ATOMIC_ACQUIRE))
			break;
		worker_page_out(dp->me, page, 1);
		swapped = page_swapped(page);
		if (!swapped)
			sched_yield();
	}
	in_flight = !__atomic_load_n(&dp->done, __ATOMIC_ACQUIRE);
	dp->gen[i]++;
	pat_fill(page, 0, pos / 8, dp->tag, i, dp->gen[i]);
	pat_fill(page, (pos + bs) / 8, words, dp->tag, i, dp->gen[i]);
	pthread_barrier_wait(&dp->end);

	op_add(dp->me, d->slow ? OP_ODIRECT_SLOW : OP_ODIRECT, 1);
	op_add(dp->me, OP_SWAPPED, swapped);
	op_add(dp->me, OP_ODIRECT_RACED, swapped && in_flight);
	if (dp->ret != (ssize_t)bs) {
		error_msg(dp->me, "O_DIRECT read from %s returned %zd (%s)", d->path,
			  dp->ret, dp->ret < 0 ? strerror(dp->err) : "short");
		dio_reset(dp, i);
		return;
	}
	dp->hoff[i] = off;
	dp->hpos[i] = pos;
	if (!dio_verify(dp, i)) {
		if (verbose)
			msg("%s: the page above was %sswapped out with the read %s",
			    dp->me->name, swapped ? "" : "not ",
			    in_flight ? "in flight" : "already done");
		dio_reset(dp, i);
	}
}

static void *dio_mutator(void *arg)
{
	struct dio_pair *dp = arg;
	double next_full = now() + 5;
	size_t i;

	while (!stopping()) {
		dio_iteration(dp);
		if (now() > next_full) {
			worker_page_out(dp->me, dp->p, dp->n);
			for (i = 0; i < dp->n; i++)
				if (!dio_verify(dp, i))
					dio_reset(dp, i);
			op_add(dp->me, OP_VERIFY_PASS, 1);
			next_full = now() + 5;
		}
	}
	dp->quit = 1;
	pthread_barrier_wait(&dp->start);
	pthread_join(dp->reader, NULL);
	return NULL;
}

static int dio_pair_init(struct dio_pair *dp, struct wstat *me,
			 struct dio_dev *d, uint32_t tag)
{
	double t0;
	size_t i;
	int k;

	memset(dp, 0, sizeof(*dp));
	dp->me = me;
	dp->dev = d;
	dp->tag = tag;
	dp->n = pages_of(64 << 10, 4);
	dp->seed = opt.seed ^ (tag * 2654435761u) ^ 0x55;
	dp->p = map_region(dp->n, false);
	dp->gen = calloc(dp->n, sizeof(*dp->gen));
	dp->hoff = calloc(dp->n, sizeof(*dp->hoff));
	dp->hpos = calloc(dp->n, sizeof(*dp->hpos));
	if (!dp->p || !dp->gen || !dp->hoff || !dp->hpos)
		return -ENOMEM;
	for (i = 0; i < dp->n; i++)
		dio_reset(dp, i);
	/* Typical latency: the range of the random head start. */
	t0 = now();
	for (k = 0; !d->slow && k < 200 && (k < 8 || now() - t0 < 0.05); k++)
		if (pread(d->fd, d->scratch, d->bs, 0) != (ssize_t)d->bs)
			return -errno;
	dp->lat = k ? (now() - t0) / k : 0.25;
	pthread_barrier_init(&dp->start, NULL, 2);
	pthread_barrier_init(&dp->end, NULL, 2);
	return -pthread_create(&dp->reader, NULL, dio_reader, dp);
}

static void dio_pair_final(struct dio_pair *dp)
{
	size_t i;

	worker_page_out(dp->me, dp->p, dp->n);
	count_swapped(dp->me, dp->p, dp->n);
	for (i = 0; i < dp->n; i++)
		dio_verify(dp, i);
	op_add(dp->me, OP_VERIFY_PASS, 1);
}

void worker_odirect(struct wstat *me)
{
	struct dio_dev fast = { .fd = -1 }, slow = { .fd = -1 };
	struct dio_pair pairs[2];
	pthread_t th[2];
	int nr = 0, i, err;
	char why[160];

	if (!ref) {
		skip_worker(me, "%s", ref_why);
		return;
	}
	if (dio_open(&fast, env.fast_read, false, why, sizeof(why))) {
		skip_worker(me, "%s", why);
		return;
	}
	if (me->id == 0 && env.slow_read) {
		if (dio_open(&slow, env.slow_read, true, why, sizeof(why)))
			msg("%s: no throttled pair: %s", me->name, why);
		else if (dio_pair_init(&pairs[nr], me, &slow, 0x100 + me->id * 4 + nr))
			error_msg(me, "cannot set up the throttled pair");
		else
			nr++;
	}
	while (nr < 2) {
		if (dio_pair_init(&pairs[nr], me, &fast, 0x100 + me->id * 4 + nr)) {
			error_msg(me, "cannot set up an O_DIRECT pair");
			break;
		}
		nr++;
	}
	if (nr)
		msg("%s: %d reader pairs, %zu-byte blocks, fast read ~%.0f us",
		    me->name, nr, fast.bs, pairs[nr - 1].lat * 1e6);
	for (i = 0; i < nr; i++) {
		err = pthread_create(&th[i], NULL, dio_mutator, &pairs[i]);
		if (err) {
			error_msg(me, "pthread_create: %s", strerror(err));
			nr = i;
			break;
		}
	}
	for (i = 0; i < nr; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < nr; i++)
		dio_pair_final(&pairs[i]);
}

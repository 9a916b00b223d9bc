// SPDX-License-Identifier: GPL-2.0
/*
 * race.c - the race worker of swap_stress: faults on the same swap entries at once, and fork()
 * (see swap_stress.c).
 */
#include "swap_stress.h"

/*
 * Every page of the region is split into two lanes, one per faulter
 * thread; a lane carries the pattern of (its tag, page, generation).  In
 * each iteration the coordinator (the worker's main thread) pages out a
 * run of pages (every sixteenth iteration the whole region, a whole
 * THP where THP_SWAP allows it), then lets both faulters walk that run in
 * the same order at the same moment: a writer first stores one word of
 * its lane's next generation (so that its fault on the swap entry is a
 * write fault), then checks the rest of the lane against the current
 * generation and writes it; a reader (one iteration in four, one of the
 * two) only checks.  Both threads therefore fault on the same swap
 * entries at once: two write faults, or a read fault against a write
 * fault.  An iteration "overlapped" when both walks were in progress at
 * the same time (tickets from a shared counter, not clocks: guest clocks
 * may tick in jiffies) and each faulter took a page fault during its
 * walk (getrusage(RUSAGE_THREAD)).
 *
 * A third thread forks at random moments, usually in the middle of the
 * faults.  The child copies the region at once, checks that every lane
 * holds a generation the parent could have been writing at fork() time,
 * waits while the parent goes on, pages its copy out, and compares: a
 * write the parent made after fork() must never show up in the child.
 * Then it writes its own data over half of the lanes, which the parent
 * must never see.  A fork "overlapped" when fork() ran while a faulter
 * walked and took a fault.
 *
 * The region is one THP (MADV_HUGEPAGE, aligned) when the PMD size is at
 * most 4 MiB, else 2 MiB of small pages.  Every 64 iterations it is
 * zapped (MADV_DONTNEED) and filled again, so that a new THP replaces
 * the small pages that swap-in brings back: partial page-outs then split
 * a PMD-mapped THP, whole ones swap it out.
 */
#define RACE_LANES	2
#define RACE_MAX_RUN	32
#define RACE_TAG	0x600u
#define RACE_CHILD_TAG	0x20000u

struct race_worker {
	struct wstat *me;
	unsigned char *p;
	size_t n;
	size_t lane_words;
	uint32_t *gen[RACE_LANES];	/* per lane and page */
	uint32_t tag[RACE_LANES];

	/* The iteration the faulters run, set by the coordinator. */
	size_t start, len;
	int reader;			/* lane that only reads; -1: both write */
	unsigned int spin[RACE_LANES];	/* loops to wait before the walk */
	pthread_barrier_t go, done;
	int arrived;
	int quit;
	unsigned int ticket;
	unsigned int t0[RACE_LANES], t1[RACE_LANES];
	long faults[RACE_LANES];
	pthread_t th[RACE_LANES + 1];

	/* The forker. */
	pthread_mutex_t fork_lock;	/* no fork() while the region is refilled */
	unsigned int f0, f1;		/* tickets around the last fork() */
	int forked;			/* a fork() since the last iteration ended */
	unsigned int seed;
};

struct race_lane_arg {
	struct race_worker *rw;
	int lane;
};

static size_t lane_from(const struct race_worker *rw, int t)
{
	return t * rw->lane_words;
}

static size_t lane_to(const struct race_worker *rw, int t)
{
	return t == RACE_LANES - 1 ? words : (t + 1) * rw->lane_words;
}

/* Check words [from, to) of lane t of page i against generation g. */
static bool race_check(struct race_worker *rw, int t, size_t i, size_t from,
		       size_t to, uint32_t g, const char *who)
{
	unsigned char *page = rw->p + i * ps;
	char why[160], what[200];

	cnt_add(&rw->me->verified, 1);
	if (pat_check(page, from, to, rw->tag[t], i, g) < 0)
		return true;
	pat_explain(page, from, to, rw->tag[t], RACE_CHILD_TAG, i, g, why, sizeof(why));
	snprintf(what, sizeof(what), "%s, lane %d: %s", who, t, why);
	report(rw->me, page, i, what);
	return false;
}

/* Check every lane of every page against its generation. */
static void race_check_all(struct race_worker *rw, const char *who)
{
	size_t i;
	int t;

	for (i = 0; i < rw->n; i++)
		for (t = 0; t < RACE_LANES; t++)
			race_check(rw, t, i, lane_from(rw, t), lane_to(rw, t), rw->gen[t][i], who);
}

/* Fill every lane of every page with its generation. */
static void race_fill_all(struct race_worker *rw)
{
	size_t i;
	int t;

	for (i = 0; i < rw->n; i++)
		for (t = 0; t < RACE_LANES; t++)
			pat_fill(rw->p + i * ps, lane_from(rw, t), lane_to(rw, t), rw->tag[t], i,
				 rw->gen[t][i]);
}

/* Write lane t of page i with its next generation. */
static void race_write(struct race_worker *rw, int t, size_t i, size_t from)
{
	unsigned char *page = rw->p + i * ps;
	uint32_t g = rw->gen[t][i];

	pat_fill(page, from, from + 1, rw->tag[t], i, g + 1);
	race_check(rw, t, i, from + 1, lane_to(rw, t), g, "faulter");
	pat_fill(page, from + 1, lane_to(rw, t), rw->tag[t], i, g + 1);
	__atomic_store_n(&rw->gen[t][i], g + 1, __ATOMIC_RELEASE);
	op_add(rw->me, OP_WRITE, 1);
}

static void race_walk(struct race_worker *rw, int t)
{
	size_t from = lane_from(rw, t), i;
	struct rusage u0, u1;
	unsigned int k;

	getrusage(RUSAGE_THREAD, &u0);
	__atomic_fetch_add(&rw->arrived, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&rw->arrived, __ATOMIC_SEQ_CST) < RACE_LANES)
		;
	for (k = rw->spin[t]; k; k--)
		__asm__ __volatile__("" ::: "memory");
	rw->t0[t] = __atomic_fetch_add(&rw->ticket, 1, __ATOMIC_SEQ_CST);
	for (i = rw->start; i < rw->start + rw->len; i++) {
		if (rw->reader != t) {
			race_write(rw, t, i, from);
		} else if (!race_check(rw, t, i, from, lane_to(rw, t), rw->gen[t][i],
				       "reader")) {
			/* Reported once: the lane starts over. */
			pat_fill(rw->p + i * ps, from, lane_to(rw, t), rw->tag[t], i,
				 rw->gen[t][i] + 1);
			__atomic_store_n(&rw->gen[t][i], rw->gen[t][i] + 1, __ATOMIC_RELEASE);
		}
	}
	rw->t1[t] = __atomic_fetch_add(&rw->ticket, 1, __ATOMIC_SEQ_CST);
	getrusage(RUSAGE_THREAD, &u1);
	rw->faults[t] = (u1.ru_minflt - u0.ru_minflt) + (u1.ru_majflt - u0.ru_majflt);
}

static void *race_faulter(void *arg)
{
	struct race_lane_arg *a = arg;
	struct race_worker *rw = a->rw;

	for (;;) {
		pthread_barrier_wait(&rw->go);
		if (__atomic_load_n(&rw->quit, __ATOMIC_ACQUIRE))
			break;
		race_walk(rw, a->lane);
		pthread_barrier_wait(&rw->done);
	}
	return NULL;
}

/*
 * Does a 64-bit word hold the pattern word of one of the generations
 * g - 1 .. g + 1?  Each 32-bit half is compared on its own: on a 32-bit
 * machine a 64-bit store is two stores, and fork() may fall between them.
 */
static bool race_word_ok(uint64_t w, uint32_t tag, size_t idx, uint32_t g, size_t k)
{
	uint32_t lo = (uint32_t)w, hi = (uint32_t)(w >> 32);
	bool lo_ok = false, hi_ok = false;
	int d;

	for (d = -1; d <= 1; d++) {
		uint64_t e;

		if (d < 0 && !g)
			continue;
		e = pat_seed(tag, idx, g + d) + k * PAT_STEP;
		lo_ok |= lo == (uint32_t)e;
		hi_ok |= hi == (uint32_t)(e >> 32);
	}
	return lo_ok && hi_ok;
}

/*
 * The child of a fork() that raced the faulters.  Its copy of the
 * generations was taken at some moment of fork() and its copy of each
 * page at another, while the faulters went on: a lane may hold the
 * generation before or after the one its copy of the counter names, word
 * by word.  Returns 0, 2 on corruption, 3 when it could not run.
 */
static int race_child(struct race_worker *rw, unsigned int seed)
{
	size_t bytes = rw->n * ps, i, k;
	unsigned char *snap = malloc(bytes);
	signed char *mine = calloc(rw->n, sizeof(*mine));	/* lane written + 1 */
	char what[200];
	int t, bad = 0;

	pagemap_reopen();
	if (!snap || !mine)
		return 3;
	memcpy(snap, rw->p, bytes);
	for (i = 0; i < rw->n; i++) {
		const uint64_t *w = (const uint64_t *)(snap + i * ps);

		for (t = 0; t < RACE_LANES; t++) {
			uint32_t g = rw->gen[t][i];

			cnt_add(&rw->me->verified, 1);
			for (k = lane_from(rw, t); k < lane_to(rw, t); k++)
				if (!race_word_ok(w[k], rw->tag[t], i, g, k))
					break;
			if (k == lane_to(rw, t))
				continue;
			snprintf(what, sizeof(what),
				 "fork child, lane %d: word %zu is %#" PRIx64
				 ", not of generation %u-%u", t, k, w[k], g ? g - 1 : 0, g + 1);
			report(rw->me, rw->p + i * ps, i, what);
			bad++;
		}
	}
	/* Meanwhile the parent writes on; none of it may reach us. */
	sleep_us(2000 + rnd(&seed) % 20000);
	worker_page_out(rw->me, rw->p, rw->n);
	count_swapped(rw->me, rw->p, rw->n);
	sleep_us(rnd(&seed) % 10000);
	for (i = 0; i < rw->n; i++) {
		unsigned char *page = rw->p + i * ps;

		cnt_add(&rw->me->verified, 1);
		if (!memcmp(page, snap + i * ps, ps))
			continue;
		for (k = 0; k < words; k++)
			if (((uint64_t *)page)[k] != ((uint64_t *)(snap + i * ps))[k])
				break;
		snprintf(what, sizeof(what),
			 "fork child: the page changed after fork() (word %zu, lane %zu: %#" PRIx64
			 " became %#" PRIx64 "): the parent's write reached the child",
			 k, k / rw->lane_words, ((uint64_t *)(snap + i * ps))[k],
			 ((uint64_t *)page)[k]);
		report(rw->me, page, i, what);
		bad++;
	}
	/* Our own writes, which the parent must never see. */
	for (i = 0; i < rw->n; i++) {
		t = rnd(&seed) % RACE_LANES;
		if (rnd(&seed) & 1) {
			pat_fill(rw->p + i * ps, lane_from(rw, t), lane_to(rw, t),
				 RACE_CHILD_TAG, i, rw->gen[t][i]);
			mine[i] = t + 1;
			op_add(rw->me, OP_WRITE, 1);
		}
	}
	worker_page_out(rw->me, rw->p, rw->n);
	for (i = 0; i < rw->n; i++) {
		if (!mine[i])
			continue;
		t = mine[i] - 1;
		cnt_add(&rw->me->verified, 1);
		if (pat_check(rw->p + i * ps, lane_from(rw, t), lane_to(rw, t),
			      RACE_CHILD_TAG, i, rw->gen[t][i]) < 0)
			continue;
		snprintf(what, sizeof(what),
			 "fork child, lane %d: its own write is gone after swap-in", t);
		report(rw->me, rw->p + i * ps, i, what);
		bad++;
	}
	return bad ? 2 : 0;
}

static void *race_forker(void *arg)
{
	struct race_worker *rw = arg;
	unsigned int seq = 0;
	int status;
	pid_t pid;

	while (!stopping() && !__atomic_load_n(&rw->quit, __ATOMIC_ACQUIRE)) {
		sleep_us(rnd(&rw->seed) % 20000);
		pthread_mutex_lock(&rw->fork_lock);
		fflush(stdout);
		__atomic_store_n(&rw->f0, __atomic_fetch_add(&rw->ticket, 1, __ATOMIC_SEQ_CST),
				 __ATOMIC_SEQ_CST);
		pid = fork();
		if (pid == 0)
			_exit(race_child(rw, rw->seed + ++seq));
		__atomic_store_n(&rw->f1, __atomic_fetch_add(&rw->ticket, 1, __ATOMIC_SEQ_CST),
				 __ATOMIC_SEQ_CST);
		__atomic_store_n(&rw->forked, 1, __ATOMIC_SEQ_CST);
		pthread_mutex_unlock(&rw->fork_lock);
		seq++;
		if (pid < 0) {
			error_msg(rw->me, "fork: %s", strerror(errno));
			sleep_us(100000);
			continue;
		}
		op_add(rw->me, OP_RACE_FORK, 1);
		if (waitpid(pid, &status, 0) != pid)
			error_msg(rw->me, "waitpid %d: %s", pid, strerror(errno));
		else
			child_exited(rw->me, pid, status);
	}
	return NULL;
}

/* Zap the region and fault it in again, as new THPs where possible. */
static void race_refill(struct race_worker *rw)
{
	long long kb;
	size_t i;
	int t;

	pthread_mutex_lock(&rw->fork_lock);
	race_check_all(rw, "before the refill");
	madvise(rw->p, rw->n * ps, MADV_DONTNEED);
	for (i = 0; i < rw->n; i++)
		for (t = 0; t < RACE_LANES; t++)
			rw->gen[t][i]++;
	race_fill_all(rw);
	pthread_mutex_unlock(&rw->fork_lock);
	/* The race worker's process maps no other THP-backed memory. */
	kb = proc_value("/proc/self/smaps_rollup", "AnonHugePages");
	if (kb > 0)
		op_add(rw->me, OP_RACE_THP, kb / (thp_bytes >> 10));
	if (!rw->me->ops[OP_RACE_ITER])
		msg("%s: %zu pages, %lld kB of them in THPs after the first fill", rw->me->name,
		    rw->n, kb);
}

/* Were both walks in progress at once, each with a fault? */
bool race_overlapped(const struct race_worker *rw)
{
	unsigned int s = rw->t0[0] > rw->t0[1] ? rw->t0[0] : rw->t0[1];
	unsigned int e = rw->t1[0] < rw->t1[1] ? rw->t1[0] : rw->t1[1];

	return s < e && rw->faults[0] > 0 && rw->faults[1] > 0;
}

/* Did the last fork() run while a faulter walked and faulted? */
bool race_fork_overlapped(struct race_worker *rw)
{
	unsigned int f0, f1;
	int t;

	if (!__atomic_exchange_n(&rw->forked, 0, __ATOMIC_SEQ_CST))
		return false;
	f0 = __atomic_load_n(&rw->f0, __ATOMIC_SEQ_CST);
	f1 = __atomic_load_n(&rw->f1, __ATOMIC_SEQ_CST);
	for (t = 0; t < RACE_LANES; t++)
		if (rw->faults[t] > 0 && f0 < rw->t1[t] && rw->t0[t] < f1)
			return true;
	return false;
}

/* Faulter t on CPU t when there are two CPUs to use. */
static void race_pin(struct race_worker *rw)
{
	cpu_set_t all, one;
	int cpu, t = 0;

	if (sched_getaffinity(0, sizeof(all), &all) || CPU_COUNT(&all) < 2)
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && t < RACE_LANES; cpu++) {
		if (!CPU_ISSET(cpu, &all))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_setaffinity_np(rw->th[t++], sizeof(one), &one);
	}
}

/* The race worker's region and lane generations; NULL when out of memory. */
static struct race_worker *race_worker_new(struct wstat *me, unsigned int seed)
{
	struct race_worker *rw = calloc(1, sizeof(*rw));
	size_t bytes = thp_bytes <= (4UL << 20) ? thp_bytes : 2UL << 20;
	int t;

	if (!rw)
		return NULL;
	rw->me = me;
	rw->seed = seed * 3 + 1;
	rw->n = pages_of(bytes, 64);
	rw->lane_words = words / RACE_LANES;
	rw->p = map_region(rw->n, true);
	for (t = 0; t < RACE_LANES; t++) {
		rw->tag[t] = RACE_TAG + (me->id << 4) + t;
		rw->gen[t] = calloc(rw->n, sizeof(uint32_t));
		if (!rw->gen[t])
			rw->p = NULL;
	}
	return rw->p ? rw : NULL;
}

/* The faulter threads (one a lane, pinned) and the forker; 0 or an error. */
static int race_threads_start(struct race_worker *rw, struct race_lane_arg *la)
{
	int t, err;

	pthread_barrier_init(&rw->go, NULL, RACE_LANES + 1);
	pthread_barrier_init(&rw->done, NULL, RACE_LANES + 1);
	pthread_mutex_init(&rw->fork_lock, NULL);
	for (t = 0; t < RACE_LANES; t++) {
		la[t].rw = rw;
		la[t].lane = t;
		err = pthread_create(&rw->th[t], NULL, race_faulter, &la[t]);
		if (err)
			return err;
	}
	race_pin(rw);
	return pthread_create(&rw->th[RACE_LANES], NULL, race_forker, rw);
}

/* One round: page out a run of the region, let the lanes fault on it. */
static void race_round(struct race_worker *rw, unsigned int *seed, uint64_t iter)
{
	struct wstat *me = rw->me;
	int t;

	if (iter % 16 == 0) {
		rw->start = 0;
		rw->len = rw->n;
	} else {
		rw->len = 1 + rnd(seed) % RACE_MAX_RUN;
		rw->start = rnd(seed) % (rw->n - rw->len + 1);
	}
	worker_page_out(me, rw->p + rw->start * ps, rw->len);
	count_swapped(me, rw->p + rw->start * ps, rw->len);
	rw->reader = rnd(seed) % 4 == 0 ? (int)(rnd(seed) % RACE_LANES) : -1;
	for (t = 0; t < RACE_LANES; t++)
		rw->spin[t] = 0;
	rw->spin[rnd(seed) % RACE_LANES] = rnd(seed) & 1 ? 1u << (rnd(seed) % 17) : 0;
	for (t = 0; t < RACE_LANES; t++)
		rw->faults[t] = 0;
	__atomic_store_n(&rw->arrived, 0, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&rw->go);
	pthread_barrier_wait(&rw->done);
	op_add(me, OP_RACE_ITER, 1);
	if (race_overlapped(rw)) {
		op_add(me, OP_RACE_OVERLAP, 1);
		if (rw->reader >= 0)
			op_add(me, OP_RACE_READ, 1);
	}
	if (race_fork_overlapped(rw))
		op_add(me, OP_RACE_FORK_OVERLAP, 1);
}

void worker_race(struct wstat *me)
{
	struct race_lane_arg la[RACE_LANES];
	unsigned int seed = opt.seed ^ (me->id * 65537 + 9);
	struct race_worker *rw;
	uint64_t iter = 0;
	int t, err;

	rw = race_worker_new(me, seed);
	if (!rw) {
		error_msg(me, "out of memory");
		return;
	}
	race_fill_all(rw);
	err = race_threads_start(rw, la);
	if (err) {
		error_msg(me, "pthread_create: %s", strerror(err));
		return;
	}
	while (!stopping()) {
		if (iter % 64 == 0)
			race_refill(rw);
		iter++;
		race_round(rw, &seed, iter);
	}
	__atomic_store_n(&rw->quit, 1, __ATOMIC_RELEASE);
	pthread_barrier_wait(&rw->go);
	for (t = 0; t <= RACE_LANES; t++)
		pthread_join(rw->th[t], NULL);
	/* The end: everything out, read back through swap, checked. */
	worker_page_out(me, rw->p, rw->n);
	count_swapped(me, rw->p, rw->n);
	race_check_all(rw, "final check");
	op_add(me, OP_VERIFY_PASS, 1);
}

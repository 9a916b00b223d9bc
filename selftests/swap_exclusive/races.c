// SPDX-License-Identifier: GPL-2.0
/*
 * races.c - two threads on the same swap entry at once, and fork() racing a swap-in
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

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
 * What race_run() does with a race check: iteration() once a round
 * (the race on r->arg) until it returns anything but RES_PASS or
 * race_more() says enough, at most max rounds; then verdict() on the
 * counts in stats (of which *iters and *overlapped are two) and on how
 * the rounds ended.
 */
struct race_loop {
	enum res (*iteration)(struct race *r, void *stats, char *why);
	enum res (*verdict)(const void *stats, enum res res, char *why);
	void *stats;
	const int *iters, *overlapped;
	int max;
	unsigned int seed;	/* rand() starts from the PID ^ seed */
};

/* The rounds of a race check, between starting and stopping the helper. */
static enum res race_run(struct race *r, const struct race_loop *l, char *why)
{
	double deadline = now() + opt.race_secs;
	enum res res = RES_PASS;
	int e;

	e = race_start(r);
	if (e)
		return SKIP(why, "pthread_create: %s", strerror(e));
	srand((unsigned int)getpid() ^ l->seed);
	while (res == RES_PASS && race_more(*l->iters, *l->overlapped, l->max, deadline))
		res = l->iteration(r, l->stats, why);
	race_stop(r);
	return l->verdict(l->stats, res, why);
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
	unsigned char fill;	/* of this round */
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
struct fault_stats {
	int iters, overlapped, copied, copied_ov, bad, twice;
};

/* Judge one fault_race iteration on the page f->p that was at pfn0. */
static void fault_race_account(struct race *r, struct fault_race *f, bool reader,
			       unsigned char fill, uint64_t pfn0, struct fault_stats *st)
{
	uint64_t ent = pagemap_entry(f->p), pfn1 = pm_pfn(ent);
	unsigned char *p = f->p;
	char d[96];
	bool ov, ok;

	st->iters++;
	ov = race_concurrent(r) && r->faults[0] > 0 && r->faults[1] > 0;
	st->overlapped += ov;
	ok = p[f->off[1]] == f->val[1] &&
	     (reader ? r->val[0] == fill : p[f->off[0]] == f->val[0]);
	if (!ok) {
		if (st->bad < 5)
			ksft_print_msg(
				"  iteration %d: a %s is lost (read 0x%02lx, page holds 0x%02x 0x%02x; overlapped %d)\n",
				st->iters, reader ? "write or the read's view" : "write",
				r->val[0], p[f->off[0]], p[f->off[1]], ov);
		st->bad++;
	}
	if (pfn1 != pfn0) {
		st->copied++;
		st->copied_ov += ov;
		if (st->copied <= 3)
			ksft_print_msg(
				"  iteration %d: copied, pfn 0x%llx -> 0x%llx (overlapped %d, faults %ld/%ld)\n",
				st->iters, (unsigned long long)pfn0, (unsigned long long)pfn1,
				ov, r->faults[0], r->faults[1]);
	}
	if (!pm_exclusive(ent)) {
		if (st->twice < 3)
			ksft_print_msg("  iteration %d: the page is not mapped once (%s)\n",
				       st->iters, pm_describe(ent, d, sizeof(d)));
		st->twice++;
	}
}

/* One fault_race round: page out, race, judge. */
static enum res fault_race_iteration(struct race *r, void *stats, char *why)
{
	struct fault_race *f = r->arg;
	uint64_t pfn0;
	enum res res;

	res = race_prepare_page(f->p, f->fill, &pfn0, why);
	if (res != RES_PASS)
		return res;
	race_once(r, true);
	fault_race_account(r, f, f->read[0], f->fill, pfn0, stats);
	/* the next iteration writes the fill again */
	f->fill = new_fill();
	race_drain(r, f->p);
	return RES_PASS;
}

/* res: how the iterations ended (RES_PASS: all ran). */
static enum res fault_race_verdict(const void *stats, enum res res, char *why)
{
	const struct fault_stats *st = stats;

	if (res != RES_PASS && !st->iters)
		return res;
	ksft_print_msg(
		"%d iterations, %d overlapped (both threads faulted on the swap entry, accesses at the same time); copied %d (%d of them overlapped), data wrong %d, not mapped once %d\n",
		st->iters, st->overlapped, st->copied, st->copied_ov, st->bad, st->twice);
	if (st->bad)
		return FAIL(why, "%d of %d iterations lost data", st->bad, st->iters);
	if (st->twice)
		return FAIL(why, "%d of %d iterations left the page mapped more than once",
			    st->twice, st->iters);
	if (st->copied)
		return FAIL(why, "%d of %d iterations copied the exclusive page (%d overlapped)",
			    st->copied, st->iters, st->copied_ov);
	if (res != RES_PASS)
		return res;
	if (!st->overlapped)
		return SKIP(why, "the two faults never overlapped in %d iterations", st->iters);
	return RES_PASS;
}

static enum res fault_race(struct setup_ctx *c, bool reader, char *why)
{
	struct fault_race f = { .read = { reader, false }, .fill = new_fill(),
				.off = { 64, 0 }, .val = { 0x01, 0x02 } };	/* never a fill */
	struct race r = { .act = { fault_race_act, fault_race_act }, .arg = &f };
	struct fault_stats st = { 0 };
	const struct race_loop l = { fault_race_iteration, fault_race_verdict, &st,
				     &st.iters, &st.overlapped, opt.race_iters,
				     reader ? 0x5a5a : 0 };
	enum res res;

	(void)c;
	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	res = race_cpus(why);
	if (res != RES_PASS)
		return res;
	f.p = (unsigned char *)map_pages(1);
	if (!f.p)
		return SKIP(why, "mmap: %s", strerror(errno));
	f.off[1] = ps - 64;
	res = race_run(&r, &l, why);
	unmap_pages(f.p, 1);
	return res;
}

enum res check_race_write_write(struct setup_ctx *c, char *why)
{
	return fault_race(c, false, why);
}

enum res check_race_read_write(struct setup_ctx *c, char *why)
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
	unsigned char fill;
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

struct wp_stats {
	int iters, overlapped, wrong, wrong_ov, bad;
};

/* Judge the page after one race_read_wp iteration. */
static void wp_race_account(struct race *r, unsigned char *p, unsigned char fill,
			    struct wp_stats *st)
{
	uint64_t e1 = pagemap_entry(p);
	char d[96];
	bool ov;

	st->iters++;
	ov = race_concurrent(r) && r->faults[0] > 0;
	st->overlapped += ov;
	if (!pm_uffd_wp(e1)) {
		if (st->wrong < 5)
			ksft_print_msg(
				"  iteration %d: not uffd-wp protected after the read fault and the protect (%s; overlapped %d, the %s started first)\n",
				st->iters, pm_describe(e1, d, sizeof(d)), ov,
				r->t0[0] < r->t0[1] ? "read" : "protect");
		st->wrong++;
		st->wrong_ov += ov;
	}
	if (!pm_present(e1) || !pm_exclusive(e1) || r->val[0] != fill ||
	    first_diff_byte(p, 0, ps, fill) >= 0) {
		if (st->bad < 3)
			ksft_print_msg(
				"  iteration %d: after the read: %s, read 0x%02lx, fill 0x%02x\n",
				st->iters, pm_describe(e1, d, sizeof(d)), r->val[0], fill);
		st->bad++;
	}
}

/* One race_read_wp iteration: page out, race, judge, un-protect. */
static enum res wp_race_iteration(struct race *r, void *stats, char *why)
{
	struct wp_race *f = r->arg;
	unsigned char *p = f->p;
	uint64_t e0;
	char d[96];
	int e;

	e = page_out(p, 1, 5);
	if (e)
		return e == -EAGAIN ? SKIP(why, "MADV_PAGEOUT did not swap the page out") :
		       SKIP(why, "MADV_PAGEOUT: %s", strerror(-e));
	e0 = pagemap_entry(p);
	if (pm_uffd_wp(e0))
		return FAIL(why, "the swap entry is still uffd-wp protected before the race (%s)",
			    pm_describe(e0, d, sizeof(d)));
	race_once(r, true);
	if (f->err)
		return FAIL(why, "UFFDIO_WRITEPROTECT during the race: %s", strerror(f->err));
	wp_race_account(r, p, f->fill, stats);
	/* un-protect for the next round (never write to a protected page) */
	e = uffd_wp(f->uffd, p, ps, false);
	if (e || pm_uffd_wp(pagemap_entry(p)))
		return FAIL(why, "un-protect: %s", e ? strerror(-e) : "no effect");
	race_drain(r, p);
	return RES_PASS;
}

static enum res wp_race_verdict(const void *stats, enum res res, char *why)
{
	const struct wp_stats *st = stats;

	ksft_print_msg(
		"%d iterations, %d overlapped (the read faulted on the swap entry while UFFDIO_WRITEPROTECT ran); protection lost in %d (%d of them overlapped), other trouble %d\n",
		st->iters, st->overlapped, st->wrong, st->wrong_ov, st->bad);
	if (st->wrong)
		return FAIL(why,
			    "%d of %d iterations lost the uffd-wp protection set while the fault ran",
			    st->wrong, st->iters);
	if (st->bad)
		return FAIL(why, "%d of %d iterations: page not mapped once or content changed",
			    st->bad, st->iters);
	if (res == RES_PASS && !st->overlapped)
		return SKIP(why, "the fault and the protect never overlapped in %d iterations",
			    st->iters);
	return res;
}

enum res check_race_read_wp(struct setup_ctx *c, char *why)
{
	struct wp_race f = { .uffd = -1, .fill = new_fill() };
	struct race r = { .act = { wp_race_read, wp_race_protect }, .arg = &f };
	struct wp_stats st = { 0 };
	const struct race_loop l = { wp_race_iteration, wp_race_verdict, &st, &st.iters,
				     &st.overlapped, opt.race_iters, 0x77 };
	enum res res;

	(void)c;
	res = race_cpus(why);
	if (res != RES_PASS)
		return res;
	f.uffd = uffd_page_get(&f.p, f.fill, why, &res);
	if (f.uffd < 0)
		return res;
	res = race_run(&r, &l, why);
	close(f.uffd);
	unmap_pages(f.p, 1);
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

struct fr_report {
	int st;
	unsigned char b0;
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
	struct fr_report res = { FR_ERR, 0 };

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

struct fr_stats {
	int iters, overlapped, fault_first, fork_first, leaks, other;
};

/* A fresh page for one iteration: filled, paged out; the pipes open. */
static enum res fr_prepare(struct fork_race *f, char *why)
{
	enum res res;

	f->p = (unsigned char *)map_pages(1);
	if (!f->p)
		return SKIP(why, "mmap: %s", strerror(errno));
	f->fill = new_fill();
	memset(f->p, f->fill, ps);
	res = page_out_why(f->p, 1, why);
	if (res == RES_PASS && (pipe(f->p2c) || pipe(f->c2p)))
		res = SKIP(why, "pipe: %s", strerror(errno));
	if (res != RES_PASS) {
		fr_close(f->p2c);
		unmap_pages(f->p, 1);
	}
	return res;
}

/*
 * The parent after the race: its write is there, and the page goes out
 * before the child looks; then the child's turn, the parent's, and the
 * child's last look.  order: 1 the write was done before fork() began,
 * -1 fork() returned first, 0 unknown.  Returns the parent's status.
 */
static int fr_parent(struct fork_race *f, int order, struct fr_report *cres,
		     struct fr_stats *st)
{
	unsigned char go = 'g';
	int pst;

	pst = fr_done(f->p, f->p[0] == FR_W ? FR_OK : FR_OWN);
	if (pst != FR_OK)
		go = 'x';
	xwrite(f->p2c[1], &go, 1);
	if (pst == FR_OK && xread(f->c2p[0], cres, sizeof(*cres)))
		cres->st = FR_ERR;
	if (pst == FR_OK && cres->st == FR_OK) {
		if ((order > 0 && cres->b0 != FR_W) || (order < 0 && cres->b0 != f->fill))
			cres->st = FR_ORDER;
		st->fault_first += cres->b0 == FR_W;
		st->fork_first += cres->b0 == f->fill;
	}
	if (pst != FR_OK || cres->st != FR_OK)
		return pst;
	pst = fr_check(f->p, f->fill, FR_W, 0, FR_C, 2, 1);
	if (pst == FR_OK) {
		f->p[2] = FR_P;
		pst = fr_done(f->p, fr_check(f->p, f->fill, FR_W, FR_P, FR_C, 2, 1));
	}
	go = pst == FR_OK ? 'g' : 'x';
	xwrite(f->p2c[1], &go, 1);
	if (go == 'g' && xread(f->c2p[0], cres, sizeof(*cres)))
		cres->st = FR_ERR;
	if (pst == FR_OK)
		pst = fr_check(f->p, f->fill, FR_W, FR_P, FR_C, 2, 1);
	return pst;
}

/* Count how an iteration ended; RES_SKIP when a page did not go out again. */
static enum res fr_account(int pst, const struct fr_report *cres, int order, bool ov,
			   struct fr_stats *st, char *why)
{
	if (pst == FR_LEAK || cres->st == FR_LEAK || cres->st == FR_ORDER) {
		if (st->leaks < 5)
			ksft_print_msg(
				"  iteration %d: parent: %s, child: %s (child's copy 0x%02x, write %s fork, overlapped %d)\n",
				st->iters, fr_str[pst], fr_str[cres->st], cres->b0,
				order > 0 ? "before" : order < 0 ? "after" : "during", ov);
		st->leaks++;
	} else if (pst == FR_NO_PAGEOUT || cres->st == FR_NO_PAGEOUT) {
		return SKIP(why, "MADV_PAGEOUT did not page a looked-at page out again");
	} else if (pst != FR_OK || cres->st != FR_OK) {
		if (st->other < 3)
			ksft_print_msg("  iteration %d: parent: %s, child: %s\n", st->iters,
				       fr_str[pst], fr_str[cres->st]);
		st->other++;
	}
	return RES_PASS;
}

/* One fork_race_swapin iteration on a page of its own. */
static enum res fr_iteration(struct race *r, void *stats, char *why)
{
	struct fork_race *f = r->arg;
	struct fr_stats *st = stats;
	struct fr_report cres = { FR_ERR, 0 };
	int pst, status = 0, order = 0;
	enum res res;
	bool ov;

	res = fr_prepare(f, why);
	if (res != RES_PASS)
		return res;
	fflush(stdout);
	race_once(r, true);
	if (f->pid < 0) {
		res = SKIP(why, "fork: %s", strerror(f->fork_err));
		fr_close(f->p2c);
		fr_close(f->c2p);
		unmap_pages(f->p, 1);
		return res;
	}
	close(f->p2c[0]);
	close(f->c2p[1]);
	f->p2c[0] = -1;
	f->c2p[1] = -1;
	st->iters++;
	ov = race_concurrent(r) && r->faults[1] > 0;
	race_drain(r, f->p);	/* the helper wrote the page: its CPU */
	st->overlapped += ov;
	if (r->t1[1] < r->t0[0])
		order = 1;
	else if (r->t1[0] < r->t0[1])
		order = -1;
	pst = fr_parent(f, order, &cres, st);
	/* closing the pipes first ends a child still waiting for its turn */
	fr_close(f->p2c);
	fr_close(f->c2p);
	waitpid(f->pid, &status, 0);
	unmap_pages(f->p, 1);
	if (WIFSIGNALED(status) && st->other < 3)
		ksft_print_msg("  iteration %d: child killed by signal %d\n", st->iters,
			       WTERMSIG(status));
	return fr_account(pst, &cres, order, ov, st, why);
}

static enum res fr_verdict(const void *stats, enum res res, char *why)
{
	const struct fr_stats *st = stats;

	ksft_print_msg("%d iterations, %d overlapped (the write faulted while fork() ran); "
		       "the child got the written page in %d, the old one in %d; "
		       "leaks %d, other trouble %d\n", st->iters, st->overlapped,
		       st->fault_first, st->fork_first, st->leaks, st->other);
	if (st->leaks)
		return FAIL(why, "%d of %d iterations: a write leaked between parent and child",
			    st->leaks, st->iters);
	if (st->other)
		return FAIL(why, "%d of %d iterations: page content changed unexpectedly",
			    st->other, st->iters);
	if (res != RES_PASS)
		return res;
	if (!st->overlapped)
		return SKIP(why, "the write fault and fork() never overlapped in %d iterations",
			    st->iters);
	return RES_PASS;
}

enum res check_fork_race_swapin(struct setup_ctx *c, char *why)
{
	struct fork_race f = { .p2c = { -1, -1 }, .c2p = { -1, -1 } };
	struct race r = { .act = { fork_race_fork, fork_race_write }, .arg = &f };
	struct fr_stats st = { 0 };
	const struct race_loop l = { fr_iteration, fr_verdict, &st, &st.iters, &st.overlapped,
				     opt.race_iters / 4 > 0 ? opt.race_iters / 4 : 1, 0x1234 };
	enum res res;

	(void)c;
	res = race_cpus(why);
	if (res != RES_PASS)
		return res;
	return race_run(&r, &l, why);
}

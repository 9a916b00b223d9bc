// SPDX-License-Identifier: GPL-2.0
/*
 * workers.c - the pageout, fork, swapoff, ksm and pressure workers of swap_stress
 * (see swap_stress.c).
 */
#include "swap_stress.h"

struct pager {
	struct wstat *me;
	struct region *r;
	unsigned int seed;
	int done;
};

static void *pager_thread(void *arg)
{
	struct pager *pg = arg;
	unsigned int n = 0;

	while (!stopping() && !__atomic_load_n(&pg->done, __ATOMIC_RELAXED)) {
		size_t len = 1 + rnd(&pg->seed) % 64, start;

		if (len > pg->r->n)
			len = pg->r->n;
		start = rnd(&pg->seed) % (pg->r->n - len + 1);
		if (++n % 16 == 0) {
			madvise(rpage(pg->r, start), len * ps, MADV_COLD);
			op_add(pg->me, OP_PAGEOUT, 1);
		} else {
			worker_page_out(pg->me, rpage(pg->r, start), len);
		}
		sleep_us(rnd(&pg->seed) % 2000);
	}
	return NULL;
}

void worker_pageout(struct wstat *me)
{
	struct region r;
	struct pager pg = { .me = me, .r = &r, .seed = opt.seed ^ (me->id * 7919 + 1) };
	unsigned int seed = opt.seed ^ (me->id * 104729 + 3);
	double next_full = now() + 5;
	pthread_t th;
	int err;

	if (region_init(&r, pages_of(4 << 20, 64), me->id, me->id == 0)) {
		error_msg(me, "out of memory");
		return;
	}
	err = pthread_create(&th, NULL, pager_thread, &pg);
	if (err) {
		error_msg(me, "pthread_create: %s", strerror(err));
		return;
	}
	while (!stopping()) {
		size_t len = 1 + rnd(&seed) % 16, start, i;

		start = rnd(&seed) % (r.n - len + 1);
		count_swapped(me, rpage(&r, start), len);
		for (i = start; i < start + len; i++) {
			region_verify(me, &r, i, r.tag);
			if (rnd(&seed) & 1)
				region_write(me, &r, i);
		}
		if (now() > next_full) {
			region_verify_all(me, &r, r.tag);
			next_full = now() + 5;
		}
	}
	__atomic_store_n(&pg.done, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	region_final(me, &r, r.tag);
}

static int fork_child(struct wstat *me, struct region *r, uint32_t ctag,
		      unsigned int seed)
{
	bool *mine = calloc(r->n, sizeof(*mine));
	size_t i;
	int bad = 0;

	pagemap_reopen();
	if (!mine)
		return 3;
	for (i = 0; i < r->n; i++)
		bad += !verify_page(me, rpage(r, i), i, r->tag, r->gen[i], CHILD_TAG);
	for (i = 0; i < r->n; i++) {
		if (rnd(&seed) & 1) {
			pat_fill(rpage(r, i), 0, words, ctag, i, r->gen[i]);
			mine[i] = true;
			op_add(me, OP_WRITE, 1);
		}
	}
	worker_page_out(me, r->p, r->n);
	count_swapped(me, r->p, r->n);
	sleep_us(rnd(&seed) % 20000);
	for (i = 0; i < r->n; i++) {
		if (mine[i])
			bad += !verify_page(me, rpage(r, i), i, ctag, r->gen[i], r->tag);
		else
			bad += !verify_page(me, rpage(r, i), i, r->tag, r->gen[i], CHILD_TAG);
	}
	op_add(me, OP_VERIFY_PASS, 1);
	return bad ? 2 : 0;
}

/* A fork child's exit: 0 or 2 (it found a corruption, counted) are fine. */
void child_exited(struct wstat *me, pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		error_msg(me, "child %d killed by signal %d", pid, WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 2)
		error_msg(me, "child %d exited with %d", pid, WEXITSTATUS(status));
}

static void reap_children(struct wstat *me, int *nr, bool block)
{
	int status;
	pid_t pid;

	while (*nr > 0) {
		pid = waitpid(-1, &status, block ? 0 : WNOHANG);
		if (pid <= 0)
			break;
		(*nr)--;
		block = false;
		child_exited(me, pid, status);
	}
}

void worker_fork(struct wstat *me)
{
	unsigned int seed = opt.seed ^ (me->id * 31337 + 5), child_seq = 0;
	double next_full = now() + 5;
	struct region r;
	int children = 0;
	size_t i, k;
	pid_t pid;

	if (region_init(&r, pages_of(2 << 20, 32), 0x200 + me->id, false)) {
		error_msg(me, "out of memory");
		return;
	}
	while (!stopping()) {
		for (k = 0; k < r.n / 4; k++) {
			i = rnd(&seed) % r.n;
			region_verify(me, &r, i, CHILD_TAG);
			region_write(me, &r, i);
		}
		worker_page_out(me, r.p, r.n);
		count_swapped(me, r.p, r.n);
		if (children >= 3)
			reap_children(me, &children, true);
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid == 0)
			_exit(fork_child(me, &r, CHILD_TAG + (me->id << 12) + (child_seq & 0xfff),
					 seed + child_seq));
		child_seq++;
		if (pid < 0) {
			error_msg(me, "fork: %s", strerror(errno));
			sleep_us(100000);
		} else {
			children++;
			op_add(me, OP_FORK, 1);
		}
		/* Race the child: our writes must stay ours, its writes its. */
		for (k = 0; k < r.n / 4; k++) {
			i = rnd(&seed) % r.n;
			region_verify(me, &r, i, CHILD_TAG);
			region_write(me, &r, i);
		}
		reap_children(me, &children, false);
		if (now() > next_full) {
			region_verify_all(me, &r, CHILD_TAG);
			next_full = now() + 5;
		}
	}
	while (children > 0)
		reap_children(me, &children, true);
	region_final(me, &r, CHILD_TAG);
}

struct swap2 {
	bool zram;
	bool slow;
	struct zram_dev z;
	char path[64];
};

/*
 * Shrink a freshly made swap area to its first pages (the header's
 * last_page field): with writes throttled to 4 IOPS, a big area at the
 * highest priority would soak up every page reclaim writes, and swapoff
 * would wait minutes for their writeback.
 */
static int swap_limit(const char *dev, uint32_t pages)
{
	int fd, ret = 0;

	fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, &pages, sizeof(pages), 1028) != sizeof(pages) || fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

static int swap2_on(struct wstat *me, struct swap2 *s, bool slow, int stable)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->z.id = -1;
	if (slow) {
		s->slow = true;
		snprintf(s->path, sizeof(s->path), "%s", env.slow_swap);
		if (stable >= 0 && blk_stable_writes_set(s->path, stable))
			stable = -1;
		err = swap_mkswap(s->path);
		if (!err)
			err = swap_limit(s->path, SLOW_PAGES);
		if (!err)
			err = swap_on(s->path, SWAP2_PRIO);
	} else {
		s->zram = true;
		err = zram_swap_setup(&s->z, ZRAM_SIZE, SWAP2_PRIO);
		snprintf(s->path, sizeof(s->path), "%s", s->z.path);
	}
	if (err)
		return err;
	op_add(me, OP_SWAPON, 1);
	if (verbose)
		msg("%s: swapon %s%s", me->name, s->path,
		    stable < 0 ? "" : stable ? " (stable writes)" : " (no stable writes)");
	return 0;
}

/* swapoff; retried while it fails for lack of memory */
static int swap2_off(struct wstat *me, struct swap2 *s)
{
	double t0 = now();
	int err, tries;

	for (tries = 0; tries < 20; tries++) {
		err = s->zram ? zram_swap_teardown(&s->z) : swap_off(s->path);
		if (err != -ENOMEM && err != -EINTR)
			break;
		sleep_us(500000);
	}
	if (err)
		return err;
	op_add(me, OP_SWAPOFF, 1);
	if (s->slow)
		op_add(me, OP_SWAPOFF_SLOW, 1);
	if (verbose)
		msg("%s: swapoff %s took %.1f s", me->name, s->path, now() - t0);
	s->path[0] = '\0';
	return 0;
}

void worker_swapoff(struct wstat *me)
{
	unsigned int seed = opt.seed ^ (me->id * 7 + 11);
	bool have_zram, slow;
	struct swap2 s = { .z.id = -1 };
	int cycle, err, stable = 0, stable_saved;
	struct region r;
	double hold;
	size_t i;

	if (region_init(&r, pages_of(1 << 20, 16), 0x300 + me->id, false)) {
		error_msg(me, "out of memory");
		return;
	}
	stable_saved = env.slow_swap ? blk_stable_writes_get(env.slow_swap) : -1;
	/*
	 * zram allocates memory to swap: under the pressure worker's memory
	 * exhaustion its fallback allocation (GFP_NOIO, no __GFP_NOWARN) can
	 * fail with a "page allocation failure" warning and a stack trace,
	 * which is not a bug but fails the run.  So by default zram only
	 * when there is no pressure worker or no slow disk.
	 */
	have_zram = opt.zram > 0 ||
		    (opt.zram < 0 &&
		     (pressure_pages <= 0 || !env.slow_swap || !opt.slow_every));
	for (cycle = 0; !stopping(); cycle++) {
		slow = env.slow_swap && opt.slow_every &&
		       (!have_zram || cycle % opt.slow_every == 1 % opt.slow_every);
		if (!slow && !have_zram)
			break;
		err = swap2_on(me, &s, slow, slow ? stable : -1);
		if (err && !slow) {
			msg("%s: no zram swap (%s)%s", me->name, strerror(-err),
			    env.slow_swap && opt.slow_every ? ", using the slow disk only" : "");
			have_zram = false;
			continue;
		}
		if (err) {
			error_msg(me, "cannot swap on %s: %s", env.slow_swap, strerror(-err));
			break;
		}
		if (slow)
			stable = !stable;
		/* Our pages go to the new area (highest priority). */
		for (i = 0; i < r.n; i++) {
			region_verify(me, &r, i, r.tag);
			region_write(me, &r, i);
		}
		worker_page_out(me, r.p, r.n);
		count_swapped(me, r.p, r.n);
		hold = slow ? 0.5 + (rnd(&seed) % 3) * 0.5 : 1 + rnd(&seed) % 3;
		for (hold += now(); now() < hold && !stopping();)
			sleep_us(100000);
		err = swap2_off(me, &s);
		if (err) {
			error_msg(me, "swapoff %s: %s", s.path, strerror(-err));
			break;
		}
		/* Brought back by unuse_pte(): check, then write in place. */
		for (i = 0; i < r.n; i++) {
			region_verify(me, &r, i, r.tag);
			if (rnd(&seed) & 1)
				region_write(me, &r, i);
		}
		op_add(me, OP_VERIFY_PASS, 1);
	}
	if (!me->ops[OP_SWAPON] && !me->errors)
		skip_worker(me, "no second swap area (no zram or -z 0, no COWSWAP_SLOW_SWAP_DEV or -S 0)");
	if (s.path[0] && swap2_off(me, &s))
		error_msg(me, "cannot switch %s off at the end", s.path);
	else if (stable_saved >= 0)
		blk_stable_writes_set(env.slow_swap, stable_saved);
	region_final(me, &r, r.tag);
}

static long ksm_sharing(void)
{
	char buf[32];

	if (sysfs_read(KSM_DIR "pages_sharing", buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

/* In the KSM region the pattern is keyed by the pair, not the page. */
static void ksm_write(struct wstat *me, struct region *r, size_t i, uint32_t gen)
{
	r->gen[i] = gen;
	pat_fill(rpage(r, i), 0, words, r->tag, i / 2, gen);
	op_add(me, OP_WRITE, 1);
}

static void ksm_verify(struct wstat *me, struct region *r, size_t i)
{
	if (!verify_page(me, rpage(r, i), i / 2, r->tag, r->gen[i], r->tag))
		ksm_write(me, r, i, r->gen[i] + 5);
}

void worker_ksm(struct wstat *me)
{
	unsigned int seed = opt.seed ^ (me->id * 977 + 13);
	double next_full = now() + 5, next_unmerge = now() + 10;
	struct ksm_saved saved;
	struct region r;
	size_t i, k;

	if (region_init(&r, pages_of(512 << 10, 16), 0x400 + me->id, false)) {
		error_msg(me, "out of memory");
		return;
	}
	r.n &= ~(size_t)1;
	for (i = 0; i < r.n; i++)
		ksm_write(me, &r, i, 0);
	if (madvise(r.p, r.n * ps, MADV_MERGEABLE)) {
		skip_worker(me, "MADV_MERGEABLE: %s", strerror(errno));
		return;
	}
	if (ksm_start(&saved, 200, 20)) {
		ksm_restore(&saved);
		skip_worker(me, "KSM not available (%s)", KSM_DIR);
		return;
	}
	while (!stopping()) {
		k = rnd(&seed) % (r.n / 2);
		ksm_verify(me, &r, 2 * k);
		ksm_verify(me, &r, 2 * k + 1);
		switch (rnd(&seed) % 4) {
		case 0:	/* rewrite the pair: unmerged, merged again later */
			ksm_write(me, &r, 2 * k, r.gen[2 * k] + 1);
			ksm_write(me, &r, 2 * k + 1, r.gen[2 * k]);
			break;
		case 1:
			worker_page_out(me, rpage(&r, 2 * k), 2);
			break;
		case 2:
			worker_page_out(me, r.p, r.n);
			break;
		default:
			break;
		}
		if (ksm_sharing() > 0)
			op_max(me, OP_KSM_SHARING, ksm_sharing());
		if (now() > next_unmerge) {
			madvise(r.p, r.n * ps, MADV_UNMERGEABLE);
			for (i = 0; i < r.n; i++)
				ksm_verify(me, &r, i);
			madvise(r.p, r.n * ps, MADV_MERGEABLE);
			op_add(me, OP_KSM_UNMERGE, 1);
			next_unmerge = now() + 10;
		}
		if (now() > next_full) {
			for (i = 0; i < r.n; i++)
				ksm_verify(me, &r, i);
			op_add(me, OP_VERIFY_PASS, 1);
			next_full = now() + 5;
		}
		sleep_us(20000);
	}
	ksm_restore(&saved);
	worker_page_out(me, r.p, r.n);
	count_swapped(me, r.p, r.n);
	for (i = 0; i < r.n; i++)
		ksm_verify(me, &r, i);
	op_add(me, OP_VERIFY_PASS, 1);
}

void worker_pressure(struct wstat *me)
{
	struct region r;
	size_t i;
	int pass;

	if (pressure_pages <= 0) {
		skip_worker(me, "disabled (-m 0 or no swap)");
		return;
	}
	write_text("/proc/self/oom_score_adj", "1000");
	/*
	 * Ten busy workers share the CPU (one vCPU under TCG): without a
	 * bigger share this one would not get past the RAM size in time.
	 * Once it has, sweeping keeps the pressure up at a fair share.
	 */
	if (setpriority(PRIO_PROCESS, 0, -10))
		msg("%s: setpriority: %s", me->name, strerror(errno));
	r.n = pressure_pages;
	r.tag = 0x500 + me->id;
	/* THP: the first pass faults 2 MiB at a time, the RAM fills fast. */
	r.p = map_region(r.n, true);
	r.gen = calloc(r.n, sizeof(*r.gen));
	if (!r.p || !r.gen) {
		error_msg(me, "cannot map %ld pages", pressure_pages);
		return;
	}
	for (i = 0; i < r.n && !stopping(); i++) {
		pat_fill(rpage(&r, i), 0, words, r.tag, i, 0);
		op_add(me, OP_TOUCH, 1);
	}
	r.n = i;
	setpriority(PRIO_PROCESS, 0, 0);
	for (pass = 1; !stopping(); pass++) {
		for (i = 0; i < r.n && !stopping(); i++) {
			region_verify(me, &r, i, r.tag);
			if (pass & 1)
				region_write(me, &r, i);
			op_add(me, OP_TOUCH, 1);
		}
		op_add(me, OP_SWEEP, 1);
	}
	/* Final sweep: every page, most of them come back from swap. */
	for (i = 0; i < r.n; i++)
		region_verify(me, &r, i, r.tag);
	op_add(me, OP_VERIFY_PASS, 1);
}

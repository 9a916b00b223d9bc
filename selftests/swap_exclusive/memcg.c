// SPDX-License-Identifier: GPL-2.0
/*
 * memcg.c - reclaim by a cgroup v2 memory limit instead of MADV_PAGEOUT,
 * and a swap-in into a memory cgroup too small for it (swap_exclusive
 * selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

#include <sys/prctl.h>

#define OOM_FILL_PAGES		64	/* the victim's locked memory */
#define OOM_OUT_PAGES		32	/* its paged-out memory: more than any slack */
#define OOM_CANARY_PAGES	16	/* the worker's memory, paged out */
#define OOM_WAIT_SECS		60

/*
 * memcg: the swap disk of the fault setup, and the worker moved into a
 * memory cgroup of its own, so that mem_page_out() reclaims through its
 * memory.reclaim.
 */
enum res setup_memcg(struct setup_ctx *c, char *why)
{
	char cwhy[WHY_LEN];
	enum res res;
	int r;

	if (!env.root)
		return SKIP(why, "needs root");
	r = memcg_create(&c->memcg, "memcg", cwhy, sizeof(cwhy));
	if (r)
		return SKIP(why, "%s", cwhy);
	res = setup_disk(c, why);
	if (res != RES_PASS) {
		memcg_destroy(&c->memcg);
		return res;
	}
	r = memcg_enter(&c->memcg, 0);
	if (r) {
		teardown_disk(c);
		memcg_destroy(&c->memcg);
		return SKIP(why, "cannot move into %s: %s", c->memcg.path, strerror(-r));
	}
	ksft_print_msg("setup memcg: the worker runs in %s, reclaimed by memory.reclaim\n",
		       c->memcg.path);
	return RES_PASS;
}

void teardown_memcg(struct setup_ctx *c)
{
	memcg_destroy(&c->memcg);
	teardown_disk(c);
}

static unsigned char oom_byte(size_t i)
{
	return (unsigned char)(0x5a ^ (i * 7));
}

/*
 * The victim: in its own cgroup, OOM_OUT_PAGES pages paged out, the rest
 * of its memory locked; once the parent set memory.max to what it uses
 * now it touches them (a page or two of slack, a pipe buffer freed
 * meanwhile, cannot take them all back).  Exits 0 when they came back
 * intact, 3 when one came back wrong, 4 when it could not set itself up.
 */
static void oom_victim(struct memcg *vic, int ready_fd, int go_fd)
{
	size_t i, len = OOM_OUT_PAGES * (size_t)ps;
	unsigned char *p, *fill, c = 'r';

	prctl(PR_SET_NAME, "cowswap_oomvic");
	if (memcg_enter(vic, 0) || pagemap_reopen())
		_exit(4);
	p = map_pages(OOM_OUT_PAGES);
	fill = map_pages(OOM_FILL_PAGES);
	if (!p || !fill)
		_exit(4);
	for (i = 0; i < len; i++)
		p[i] = oom_byte(i);
	memset(fill, 0x77, OOM_FILL_PAGES * ps);
	if (page_out(p, OOM_OUT_PAGES, 5))
		_exit(4);
	/* all that is mapped now stays; the page out there is not faulted in */
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT))
		_exit(4);
	if (xwrite(ready_fd, &c, 1) || xread(go_fd, &c, 1))
		_exit(4);
	for (i = 0; i < len; i++)
		if (read_byte(p + i) != oom_byte(i))
			_exit(3);
	_exit(0);
}

/* Wait for the victim at most OOM_WAIT_SECS; false if it had to be killed. */
static bool oom_wait(pid_t pid, int *status)
{
	double end = now() + OOM_WAIT_SECS;

	while (now() < end) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
		sleep_us(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return false;
}

/* The worker's own memory, paged out while the victim runs, checked after. */
static long canary_bad(const unsigned char *cp)
{
	size_t i;

	for (i = 0; i < OOM_CANARY_PAGES * (size_t)ps; i++)
		if (cp[i] != (unsigned char)(i / ps + 0x31))
			return (long)i;
	return -1;
}

static enum res oom_verdict(int status, bool in_time, long long max_ev,
			    long long kills, long bad, char *why)
{
	ksft_print_msg(
		"memcg_oom_swapin: victim %s %d; memory.events of its cgroup: max %lld, oom_kill %lld\n",
		!in_time ? "hung, killed by the test, status" :
		WIFSIGNALED(status) ? "killed by signal" : "exited with",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		max_ev, kills);
	if (bad >= 0)
		return FAIL(why, "the worker's own paged-out memory changed at byte %ld", bad);
	if (!in_time)
		return FAIL(why, "the victim's swap-in neither failed nor finished in %d s",
			    OOM_WAIT_SECS);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
		return SKIP(why,
			    "the victim could not set itself up (mmap, MADV_PAGEOUT, mlockall)");
	if (max_ev <= 0)
		return FAIL(why,
			    "the swap-in never hit the cgroup's memory.max: nothing was tested");
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && kills > 0)
		return RES_PASS;	/* killed by the memcg OOM killer */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return RES_PASS;	/* the fault was retried and the page came back */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		return FAIL(why, "a page came back with wrong data after the failed charge");
	return FAIL(why, "the victim ended with status 0x%x (%s)", status,
		    WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exit");
}

/*
 * memcg_oom_swapin: a process whose memory cgroup has no room left to
 * bring its swapped-out pages back.  It must be killed by the memcg OOM
 * killer or get its pages intact; the kernel survives and the worker's
 * own memory, paged out meanwhile, stays as it was.
 */
enum res check_memcg_oom_swapin(struct setup_ctx *c, char *why)
{
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 }, status = 0;
	long long cur0, cur, max_ev = -1, kills = -1;
	char cwhy[WHY_LEN], buf[32], x = 'g';
	struct memcg vic;
	bool in_time = false;
	unsigned char *cp;
	enum res res;
	long bad = -1;
	pid_t pid;
	size_t i;

	(void)c;
	if (memcg_create(&vic, "oom", cwhy, sizeof(cwhy)))
		return SKIP(why, "%s", cwhy);
	cp = map_pages(OOM_CANARY_PAGES);
	if (!cp || pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
		res = SKIP(why, "mmap/pipe: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < OOM_CANARY_PAGES * (size_t)ps; i++)
		cp[i] = (unsigned char)(i / ps + 0x31);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		res = SKIP(why, "fork: %s", strerror(errno));
		goto out;
	}
	if (!pid)
		oom_victim(&vic, ready[1], go[0]);
	close(ready[1]);
	close(go[0]);
	ready[1] = -1;
	go[0] = -1;
	if (xread(ready[0], &x, 1)) {
		oom_wait(pid, &status);
		res = oom_verdict(status, true, 1, 0, -1, why);
		goto out;
	}
	page_out(cp, OOM_CANARY_PAGES, 5);
	/*
	 * All the victim has is locked now but its paged-out pages, which may
	 * still sit in the swap cache, charged: reclaim them from there, so
	 * that bringing them back needs new charges.
	 */
	for (i = 0; i < 20; i++) {
		memcg_write(&vic, "memory.reclaim", "1M");
		sleep_us(10000);
	}
	/*
	 * memory.current still counts what the kernel charged ahead for the
	 * victim (batches of 64 pages, kept per CPU): with 64K pages, where
	 * its page tables and kernel objects charge next to nothing, that
	 * was all the room the swap-in needed.  Drain it, so that the limit
	 * is what the victim really uses.
	 */
	cur0 = memcg_read(&vic, "memory.current", NULL);
	cur = memcg_settle(&vic);
	if (cur <= 0) {
		kill(pid, SIGKILL);
		oom_wait(pid, &status);
		res = SKIP(why, "cannot drain the charges of %s through memory.high: %s",
			   vic.path, strerror(cur < 0 ? (int)-cur : EIO));
		goto out;
	}
	snprintf(buf, sizeof(buf), "%lld", cur);
	if (memcg_write(&vic, "memory.max", buf)) {
		kill(pid, SIGKILL);
		oom_wait(pid, &status);
		res = SKIP(why, "cannot set memory.max of %s to %s", vic.path, buf);
		goto out;
	}
	ksft_print_msg(
		"memcg_oom_swapin: memory.max of the victim's cgroup set to %lld (memory.current %lld before the per-cpu charges were drained)\n",
		cur, cur0);
	kmsg_expect(KMSG_MEMCG_OOM, true);
	x = 'g';
	if (xwrite(go[1], &x, 1))
		kill(pid, SIGKILL);
	in_time = oom_wait(pid, &status);
	kmsg_expect(KMSG_MEMCG_OOM, false);
	max_ev = memcg_read(&vic, "memory.events", "max");
	kills = memcg_read(&vic, "memory.events", "oom_kill");
	bad = canary_bad(cp);
	res = oom_verdict(status, in_time, max_ev, kills, bad, why);
out:
	pipe_close(ready);
	pipe_close(go);
	if (cp)
		unmap_pages(cp, OOM_CANARY_PAGES);
	memcg_destroy(&vic);
	return res;
}

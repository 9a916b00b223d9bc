// SPDX-License-Identifier: GPL-2.0
/*
 * supervisor.c - the parent that watches the checks and puts back what they change
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

/*
 * State shared between the process that runs the checks (the worker) and
 * its parent (the supervisor, see supervise()): what the worker is doing
 * right now, for the watchdog, and the global settings it changed, so the
 * supervisor can put them back when the worker hangs or dies.  Swap
 * areas, KSM and THP settings and the cowswap_* devices are restored from
 * a snapshot taken before the worker starts and need no record here.
 */
#define SHARED_MAX	8
static struct shared_state {
	char phase[160];		/* "<check>/<setup>" or a set-up step */
	double since;			/* CLOCK_MONOTONIC when it began */
	int nr_zram;
	struct zram_dev zram[SHARED_MAX];	/* zram devices to remove */
	int nr_stable;
	struct {
		char dev[PATH_MAX];
		int orig;
	} stable[SHARED_MAX];		/* stable_writes to put back */
} *shared;

void phase_set(const char *fmt, ...)
{
	va_list ap;

	if (!shared)
		return;
	va_start(ap, fmt);
	vsnprintf(shared->phase, sizeof(shared->phase), fmt, ap);
	va_end(ap);
	shared->since = now();
}

void shared_zram_add(const struct zram_dev *z)
{
	if (shared && shared->nr_zram < SHARED_MAX)
		shared->zram[shared->nr_zram++] = *z;
}

void shared_zram_del(const struct zram_dev *z)
{
	int i;

	for (i = 0; shared && i < shared->nr_zram; i++) {
		if (shared->zram[i].id != z->id)
			continue;
		shared->zram[i] = shared->zram[--shared->nr_zram];
		return;
	}
}

void shared_stable_add(const char *dev, int orig)
{
	int n;

	if (!shared || shared->nr_stable >= SHARED_MAX)
		return;
	n = shared->nr_stable;
	snprintf(shared->stable[n].dev, sizeof(shared->stable[n].dev), "%s", dev);
	shared->stable[n].orig = orig;
	shared->nr_stable++;
}

void shared_stable_del(const char *dev)
{
	int i;

	for (i = 0; shared && i < shared->nr_stable; i++) {
		if (strcmp(shared->stable[i].dev, dev))
			continue;
		shared->stable[i] = shared->stable[--shared->nr_stable];
		return;
	}
}

/*
 * The checks run in a child process (the worker).  The parent only
 * watches: it ends a check that takes longer than CHECK_TIMEOUT, stops the
 * worker when it gets SIGINT/SIGTERM/SIGHUP (kselftest's runner sends
 * SIGTERM at its timeout), and afterwards puts back every global setting
 * the worker may have changed, however it ended: swap areas as they were
 * before the run, KSM and THP settings, stable_writes, zram devices and
 * the cowswap_* null_blk/dm devices.  A worker that finished normally
 * left nothing to do; anything the supervisor had to restore is printed.
 */
static const char *const knob_paths[] = {
	KSM_DIR "run", KSM_DIR "pages_to_scan", KSM_DIR "sleep_millisecs",
	KSM_DIR "smart_scan",	/* 6.7 on */
	KSM_DIR "advisor_mode",	/* 6.8 on; after pages_to_scan, which it owns */
	"/sys/kernel/mm/transparent_hugepage/enabled",
	"/sys/kernel/mm/transparent_hugepage/defrag",
};

static struct {
	char val[ARRAY_SIZE(knob_paths)][64];
	bool have[ARRAY_SIZE(knob_paths)];
	struct swap_area swaps[SWAP_SAVED_MAX];
	int nr_swaps;
} snap;

/* A lock-free atomic: what a signal handler may set besides a volatile sig_atomic_t */
static atomic_int stop_signal;

static void on_stop_signal(int sig)
{
	atomic_store_explicit(&stop_signal, sig, memory_order_relaxed);
}

static void snapshot_take(void)
{
	size_t i;
	int n;

	for (i = 0; i < ARRAY_SIZE(knob_paths); i++)
		snap.have[i] = !knob_read(knob_paths[i], snap.val[i], sizeof(snap.val[i]));
	n = swap_list(snap.swaps, SWAP_SAVED_MAX);
	snap.nr_swaps = n < 0 ? 0 : n > SWAP_SAVED_MAX ? SWAP_SAVED_MAX : n;
}

/* Put everything back; returns how many things had to be fixed. */
static int snapshot_restore(void)
{
	struct swap_area *cur = calloc(SWAP_SAVED_MAX, sizeof(*cur));
	char val[64];
	int i, j, n, fixed = 0;
	size_t k;

	for (i = 0; i < snap.nr_swaps; i++) {
		if (swap_is_active(snap.swaps[i].path) == 1)
			continue;
		n = swap_on(snap.swaps[i].path, snap.swaps[i].prio);
		ksft_print_msg("supervisor: swap area %s switched on again%s%s\n",
			       snap.swaps[i].path, n ? ": " : "", n ? strerror(-n) : "");
		fixed++;
	}
	n = cur ? swap_list(cur, SWAP_SAVED_MAX) : 0;
	for (i = 0; i < n && i < SWAP_SAVED_MAX; i++) {
		for (j = 0; j < snap.nr_swaps; j++)
			if (!strcmp(cur[i].path, snap.swaps[j].path))
				break;
		if (j < snap.nr_swaps)
			continue;
		j = swap_off(cur[i].path);
		ksft_print_msg("supervisor: swap area %s left on by the checks, switched off%s%s\n",
			       cur[i].path, j ? ": " : "", j ? strerror(-j) : "");
		fixed++;
	}
	free(cur);
	for (i = 0; i < shared->nr_zram; i++) {
		zram_destroy(&shared->zram[i]);
		ksft_print_msg("supervisor: removed %s\n", shared->zram[i].path);
		fixed++;
	}
	shared->nr_zram = 0;
	for (i = 0; i < shared->nr_stable; i++) {
		blk_stable_writes_set(shared->stable[i].dev, shared->stable[i].orig);
		ksft_print_msg("supervisor: stable_writes of %s set back to %d\n",
			       shared->stable[i].dev, shared->stable[i].orig);
		fixed++;
	}
	shared->nr_stable = 0;
	for (k = 0; k < ARRAY_SIZE(knob_paths); k++) {
		if (!snap.have[k] || knob_read(knob_paths[k], val, sizeof(val)) ||
		    !strcmp(val, snap.val[k]))
			continue;
		n = write_text(knob_paths[k], snap.val[k]);
		ksft_print_msg("supervisor: %s set back from %s to %s%s%s\n",
			       knob_paths[k], val, snap.val[k], n ? ": " : "",
			       n ? strerror(-n) : "");
		fixed++;
	}
	n = memcg_sweep();
	if (n > 0) {
		ksft_print_msg("supervisor: removed %d " TEST_DEV_PREFIX "* cgroup(s)\n", n);
		fixed += n;
	}
	n = test_devs_sweep();
	if (n > 0) {
		ksft_print_msg("supervisor: removed %d " TEST_DEV_PREFIX "* device(s)\n", n);
		fixed += n;
	}
	return fixed;
}

int supervise(unsigned int plan)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	int status = 0, code, i;
	bool reaped = false;
	pid_t pid;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		shared = NULL;
		return run_checks(plan);	/* no watchdog then */
	}
	memset(shared, 0, sizeof(*shared));
	snprintf(shared->phase, sizeof(shared->phase), "start-up");
	shared->since = now();
	if (env.root)
		snapshot_take();
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ksft_print_msg("fork: %s; running without a supervisor\n", strerror(errno));
		return run_checks(plan);
	}
	if (!pid)
		exit(run_checks(plan));

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			reaped = true;
			break;
		}
		if (stop_signal) {
			printf("Bail out! signal %d during %s: checks stopped\n",
			       (int)stop_signal, shared->phase);
			break;
		}
		if (now() - shared->since > CHECK_TIMEOUT) {
			printf("Bail out! %s hung for more than %d s (watchdog)\n",
			       shared->phase, CHECK_TIMEOUT);
			break;
		}
		sleep_us(100000);
	}
	if (!reaped) {
		kill(pid, SIGKILL);
		for (i = 0; i < 100 && !reaped; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				reaped = true;
			else
				sleep_us(100000);
		}
		if (!reaped)
			ksft_print_msg(
				"supervisor: the worker does not die (stuck in the kernel?)\n");
		code = KSFT_FAIL;
	} else if (WIFSIGNALED(status)) {
		printf("Bail out! the checks died of signal %d during %s\n",
		       WTERMSIG(status), shared->phase);
		code = KSFT_FAIL;
	} else {
		code = WEXITSTATUS(status);
	}
	if (env.root && snapshot_restore() && code == KSFT_PASS)
		ksft_print_msg("supervisor: the checks ended normally but left the above behind\n");
	return code;
}

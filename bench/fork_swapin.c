// SPDX-License-Identifier: GPL-2.0
/*
 * fork_swapin.c - swap_bench's fork/<MiB> and swapin_cache, swapin_disk/<MiB>
 * (see swap_bench.c).
 */
#include "swap_bench.h"

static double timed_fork(void)
{
	double t0, t1;
	int status;
	pid_t pid;

	t0 = now_us();
	pid = fork();
	if (pid == 0)
		_exit(0);
	t1 = now_us();
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return t1 - t0;
}

void bench_fork(unsigned int mib)
{
	static struct series first, again;
	size_t n = mib * pages_per_mib;
	long long free_kb = sw.size_kb - meminfo_kb("SwapTotal") + meminfo_kb("SwapFree");
	char why[REASON_LEN];
	int run, k;

	first.n = again.n = 0;
	if ((long long)mib * 1024 + 4096 > free_kb) {
		bench_tap(BENCH_SKIP, "fork/%u: does not fit in swap (%lld MiB free on %s)\n",
				      mib, free_kb / 1024, sw.dev);
		return;
	}
	for (run = 0; run < opt.runs; run++) {
		char *p = swapped_region(n, 0x200 + run, why);
		double t;

		if (!p) {
			bench_tap(BENCH_SKIP, "fork/%u: %s\n", mib, why);
			return;
		}
		t = timed_fork();
		if (t < 0) {
			unmap_pages(p, n);
			bench_tap(BENCH_SKIP, "fork/%u: fork: %s\n", mib, strerror(errno));
			return;
		}
		add(&first, t);
		for (k = 0; k < opt.forks; k++) {
			t = timed_fork();
			if (t >= 0)
				add(&again, t);
		}
		vmsg("run %d: first fork %.0f us\n", run, first.v[first.n - 1]);
		unmap_pages(p, n);
	}
	result("fork_us", mib, "us", &first, "");
	if (again.n)
		result("fork_again_us", mib, "us", &again, "");
	bench_tap(BENCH_PASS, "fork/%u\n", mib);
}

/* Does mib MiB fit in RAM and (twice for disk) in the swap area?  Else its SKIP. */
static bool swapin_fits(const char *name, unsigned int mib, bool disk)
{
	long long avail = meminfo_kb("MemAvailable");

	if ((long long)mib * 1024 + 65536 > avail) {
		bench_tap(BENCH_SKIP, "%s/%u: does not fit in RAM (MemAvailable %lld MiB)\n",
				      name, mib, avail / 1024);
		return false;
	}
	if ((long long)mib * 1024 * (disk ? 2 : 1) + 4096 > sw.size_kb) {
		bench_tap(BENCH_SKIP, "%s/%u: swap area %s too small (%lld MiB%s)\n",
				      name, mib, sw.dev, sw.size_kb / 1024,
				      disk ? ", needs twice the size" : "");
		return false;
	}
	return true;
}

/*
 * One run of swapin: time the write faults over n swapped-out pages into
 * us and cpu (per page).  0, -1 with the reason for a SKIP, or the number
 * of pages that came back wrong.
 */
static long swapin_run(size_t n, bool disk, int run, uint64_t *pm, struct series *us,
		       struct series *cpu, double *cached_sum, char *why)
{
	unsigned int seed = (disk ? 0x400 : 0x300) + run;
	char *p = swapped_region(n, seed, why);
	struct rusage ru0, ru1;
	long long cached;
	double t0, c0;
	size_t bad;
	long r;

	if (!p)
		return -1;
	if (disk) {
		/* back in read-only, then out again: clean, so freed */
		read_all(p, n);
		r = page_out_all(p, n, pm);
		if (r < (long)(n - n / 1000)) {
			unmap_pages(p, n);
			return reason(why, "second pageout: %s",
				      r < 0 ? strerror((int)-r) : "pages stayed");
		}
		wait_writeback();
	}
	cached = meminfo_kb("SwapCached");
	*cached_sum += cached;
	getrusage(RUSAGE_THREAD, &ru0);
	c0 = cpu_us();
	t0 = now_us();
	write_all(p, n, seed);
	add(us, (now_us() - t0) / n);
	add(cpu, (cpu_us() - c0) / n);
	getrusage(RUSAGE_THREAD, &ru1);
	bad = bad_pages(p, n, seed);
	unmap_pages(p, n);
	vmsg("run %d: %.2f us/page (CPU %.2f), SwapCached %lld MiB before, %lld after; "
	     "faults: %ld major, %ld minor; %ld waits\n", run,
	     us->v[us->n - 1], cpu->v[cpu->n - 1], cached / 1024,
	     meminfo_kb("SwapCached") / 1024, ru1.ru_majflt - ru0.ru_majflt,
	     ru1.ru_minflt - ru0.ru_minflt, ru1.ru_nvcsw - ru0.ru_nvcsw);
	return bad;
}

void bench_swapin(unsigned int mib, bool disk)
{
	static struct series us, cpu;
	const char *name = disk ? "swapin_disk" : "swapin_cache";
	size_t n = mib * pages_per_mib;
	double cached_sum = 0, mibs;
	char why[REASON_LEN], extra[96];
	uint64_t *pm;
	long bad;
	int run;

	us.n = cpu.n = 0;
	if (!swapin_fits(name, mib, disk))
		return;
	pm = malloc(n * sizeof(*pm));
	if (!pm) {
		bench_tap(BENCH_SKIP, "%s/%u: out of memory\n", name, mib);
		return;
	}
	for (run = 0; run < opt.runs; run++) {
		bad = swapin_run(n, disk, run, pm, &us, &cpu, &cached_sum, why);
		if (bad < 0) {
			bench_tap(BENCH_SKIP, "%s/%u: %s\n", name, mib, why);
			goto out;
		}
		if (bad) {
			ksft_print_msg("%s/%u: %ld pages came back with wrong content\n",
				       name, mib, bad);
			bench_tap(BENCH_FAIL, "%s/%u\n", name, mib);
			goto out;
		}
	}
	mibs = 1e6 / (median(&us) * pages_per_mib);
	snprintf(extra, sizeof(extra), ",\"mib_s\":%.1f,\"swapcached_mib\":%.0f",
		 mibs, cached_sum / opt.runs / 1024);
	result(disk ? "swapin_disk_us" : "swapin_cache_us", mib, "us/page", &us, extra);
	ksft_print_msg("%-22s           = %.1f MiB/s; swap cache before the faults: %.0f MiB\n",
		       "", mibs, cached_sum / opt.runs / 1024);
	/* with the disk the wall time includes waiting for reads: add CPU time */
	if (disk)
		result("swapin_disk_cpu_us", mib, "us/page", &cpu, "");
	bench_tap(BENCH_PASS, "%s/%u\n", name, mib);
out:
	free(pm);
}

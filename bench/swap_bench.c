// SPDX-License-Identifier: GPL-2.0
/*
 * swap_bench - what keeping PG_anon_exclusive in swap PTEs costs and saves.
 *
 * Runs as root inside the cowswap QEMU harness (scripts/bench.sh boots the
 * baseline, patched and upstream kernels with it) and measures:
 *
 *   copies/held, copies/dropped, copies/writeback
 *	Needless copies.  -c MiB of exclusive anonymous memory is paged out
 *	(MADV_PAGEOUT) and then write-faulted back in, page by page; a page
 *	counts as copied when its PFN (pagemap, root only) changed although
 *	the old page was still in the swap cache right before the fault
 *	(/proc/kpageflags), i.e. the kernel could have reused it.  Pages that
 *	left the swap cache come back from disk and are not counted.
 *	  held:      every -e'th page carries an extra reference (vmsplice()
 *	             into a pipe, a R/O FOLL_GET reference like the one an
 *	             O_DIRECT read holds) from before the pageout until after
 *	             the write fault.  Reclaim cannot write such a page, it
 *	             stays in the swap cache.
 *	  dropped:   the same, but the pipes are closed after the pageout and
 *	             before the faults.
 *	  writeback: -W pages without extra references are paged out, one
 *	             madvise() each, to the write-throttled disk
 *	             COWSWAP_SLOW_SWAP_DEV (4 IOPS in the harness; it gets the
 *	             highest swap priority meanwhile) and each is written right
 *	             away, while its write waits in the throttle; split by
 *	             whether the old page was under writeback at the fault.
 *	In held and dropped the pageout's writeback is waited for first; -L
 *	also drains the per-CPU LRU batches before the faults.
 *   fork/<MiB>
 *	fork() of this process with <MiB> swapped out, the child _exit()s at
 *	once; time of the fork() call in the parent.  "fork_us" is the first
 *	fork after the pageout (the swap PTEs still carry the exclusive
 *	marker, which the series clears in the parent), "fork_again_us" the
 *	-k forks after it (markers already cleared).
 *   swapin_cache/<MiB>, swapin_disk/<MiB>
 *	Write-fault throughput of <MiB> from swap, in microseconds per page
 *	(and MiB/s): _cache with the pages still in the swap cache after the
 *	pageout (minor faults), _disk with the pages read from the swap disk
 *	(they are read-faulted back once, then paged out again while clean,
 *	which frees them; the write faults then read them with readahead).
 *	For _disk also the CPU time of the faulting thread per page
 *	(swapin_disk_cpu_us): the wall time includes waiting for the disk.
 *
 * Every measurement is repeated -r times; its median, min and max are
 * printed as a TAP diagnostic and as one machine-readable line
 *
 *   COWSWAP-BENCH {"metric":"fork_us","size_mib":256,"median":...,
 *                  "min":...,"max":...,"runs":R,"unit":"us"}
 *
 * for scripts/bench_report.py.  TAP: one "ok" line per measurement that
 * ran, SKIP (with the reason) otherwise, "not ok" only if data came back
 * wrong.  Under TCG absolute times mean little: compare kernels by ratio
 * (scripts/bench.sh runs QEMU with -icount, so that guest time counts
 * executed instructions and host load does not show in the numbers).
 *
 * Swap: the bench uses, as its only active swap area, in this order: -d
 * <dev>; the disk whose virtio serial is "cowswap-bench" (scripts/bench.sh
 * adds one, mkswap'ed here); COWSWAP_SWAP_DEV; the active area with the
 * highest priority.  A size that does not fit (fork: free swap; swapin:
 * RAM, and at most half the swap area for _disk, since a fuller area makes
 * the kernel drop swap slots on read faults) is skipped with the reason.
 */
#include "swap_bench.h"

struct options opt = {
	.runs = 3, .copy_mib = 64, .every = 8, .wb_pages = 8, .forks = 3, .watchdog = 900,
};

long ps;
size_t pages_per_mib;
int pm_fd = -1;
bool pfn_visible;
struct swap_use sw;

/* CPU time of this thread: excludes time blocked, e.g. on swap reads. */
double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/*
 * Smallest step of CLOCK_MONOTONIC seen in up to 20 ms: the real
 * resolution of the clocksource (clock_getres() reports the timer tick
 * without high-resolution timers).  An x86 guest without HPET/PM timer
 * cannot calibrate its TSC and falls back to jiffies (4 ms steps).
 */
static double clock_step_us(void)
{
	double t0 = now_us(), last = t0, best = 1e9, t;

	do {
		t = now_us();
		if (t != last) {
			if (t - last < best)
				best = t - last;
			last = t;
		}
	} while (t - t0 < 20000 && best > 0.05);
	return best;
}

/* Wait until no page is under writeback; 0, or -ETIMEDOUT. */
int wait_writeback(void)
{
	double t0 = now_us();

	while (proc_value("/proc/vmstat", "nr_writeback") > 0) {
		if (now_us() - t0 > WB_TIMEOUT * 1e6)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
	return 0;
}

/* pagemap entries of n pages from addr into out; 0 or -errno. */
int pm_read(const void *addr, size_t n, uint64_t *out)
{
	off_t off = (off_t)((uintptr_t)addr / ps) * sizeof(*out);
	size_t len = n * sizeof(*out), got = 0;
	ssize_t r;

	while (got < len) {
		r = pread(pm_fd, (char *)out + got, len - got, off + got);
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		got += r;
	}
	return 0;
}

void fill(char *p, size_t from, size_t to, unsigned int seed)
{
	size_t i;

	for (i = from; i < to; i++)
		*word(p, i, 0) = tag(seed, i);
}

/* The timed loop: one write fault per page. */
void write_all(char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		*(volatile uint64_t *)word(p, i, 1) = ~tag(seed, i);
}

void read_all(char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)*(volatile uint64_t *)word(p, i, 0);
}

/* Pages whose content is not what fill() + write_all() left. */
size_t bad_pages(char *p, size_t n, unsigned int seed)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++)
		if (*word(p, i, 0) != tag(seed, i) ||
		    *word(p, i, 1) != ~tag(seed, i))
			bad++;
	return bad;
}

/*
 * Page out [p, p + n pages): up to 4 rounds of MADV_PAGEOUT over the
 * pages that are still present.  Returns how many are swap entries, or
 * -errno.  pm is scratch space for n entries.
 */
long page_out_all(char *p, size_t n, uint64_t *pm)
{
	size_t i, swapped = 0;
	int round, r;

	for (round = 0; round < 4; round++) {
		if (!round) {
			if (madvise(p, n * ps, MADV_PAGEOUT))
				return -errno;
		} else {
			for (i = 0; i < n; i++)
				if (pm_present(pm[i]) &&
				    madvise(p + i * ps, ps, MADV_PAGEOUT))
					return -errno;
		}
		r = pm_read(p, n, pm);
		if (r)
			return r;
		for (i = 0, swapped = 0; i < n; i++)
			swapped += pm_swapped(pm[i]) && !pm_present(pm[i]);
		if (swapped == n)
			break;
		sleep_ms(20);
	}
	return swapped;
}

/*
 * Map n pages, fill them and page them out chunk by chunk (so that more
 * than RAM can be swapped out), wait for the writeback.  NULL with a
 * reason if not (nearly) all of them became swap entries.
 */
char *swapped_region(size_t n, unsigned int seed, char *why)
{
	size_t chunk = CHUNK_MIB * pages_per_mib, i, swapped = 0;
	uint64_t *pm;
	char *p;
	long r;

	pm = malloc(chunk * sizeof(*pm));
	p = map_pages(n);
	if (!p || !pm) {
		reason(why, "out of memory for %zu MiB", n / pages_per_mib);
		goto fail;
	}
	for (i = 0; i < n; i += chunk) {
		size_t c = n - i < chunk ? n - i : chunk;

		fill(p, i, i + c, seed);
		r = page_out_all(p + i * ps, c, pm);
		if (r < 0) {
			reason(why, "MADV_PAGEOUT: %s", strerror((int)-r));
			goto fail;
		}
		swapped += r;
		if (wait_writeback()) {
			reason(why, "swap writeback did not finish in %d s", WB_TIMEOUT);
			goto fail;
		}
	}
	/* 0.1% slack: a page may be busy (LRU batch) at MADV_PAGEOUT time */
	if (swapped < n - n / 1000) {
		reason(why, "only %zu of %zu pages were swapped out", swapped, n);
		goto fail;
	}
	if (swapped < n)
		vmsg("%zu of %zu pages swapped out\n", swapped, n);
	free(pm);
	return p;
fail:
	free(pm);
	unmap_pages(p, n);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void add(struct series *s, double v)
{
	if (s->n < (int)ARRAY_SIZE(s->v))
		s->v[s->n++] = v;
}

double median(struct series *s)
{
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_double);
	if (!s->n)
		return 0;
	return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

void bench_tap(enum bench_outcome how, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	switch (how) {
	case BENCH_PASS:
		ksft_test_result_pass("%s", line);
		break;
	case BENCH_FAIL:
		ksft_test_result_fail("%s", line);
		break;
	default:
		ksft_test_result_skip("%s", line);
		break;
	}
}

/*
 * Print one result: a TAP diagnostic and the COWSWAP-BENCH line.  extra
 * is appended to the JSON object (starts with a comma) or empty.
 */
void result(const char *metric, unsigned int mib, const char *unit,
	    struct series *s, const char *extra)
{
	double med = median(s);
	int prec = strcmp(unit, "pages") ? 2 : 1;

	ksft_print_msg("%-22s %5u MiB: median %.*f %s (min %.*f, max %.*f, %d runs)\n",
		       metric, mib, prec, med, unit, prec, s->v[0], prec,
		       s->v[s->n - 1], s->n);
	printf("COWSWAP-BENCH {\"metric\":\"%s\",\"size_mib\":%u,\"median\":%.3f,"
	       "\"min\":%.3f,\"max\":%.3f,\"runs\":%d,\"unit\":\"%s\"%s}\n",
	       metric, mib, med, s->v[0], s->v[s->n - 1], s->n, unit, extra);
	fflush(stdout);
}

static int swap_setup(char *why)
{
	const char *env = getenv("COWSWAP_SWAP_DEV");
	struct swap_area *a;
	int i, nr, r, pick = -1;

	if (opt.dev) {
		snprintf(sw.dev, sizeof(sw.dev), "%s", opt.dev);
		sw.dedicated = true;
	} else if (!blk_find_serial(BENCH_SERIAL, sw.dev, sizeof(sw.dev))) {
		sw.dedicated = true;
	} else if (env && *env) {
		snprintf(sw.dev, sizeof(sw.dev), "%s", env);
	}
	/* a dedicated disk is (re)formatted unless it is already swap */
	if (sw.dedicated && swap_is_active(sw.dev) == 1)
		sw.dedicated = false;
	if (sw.dedicated) {
		r = swap_mkswap(sw.dev);
		if (r) {
			sw.dedicated = false;
			return reason(why, "mkswap %s: %s", sw.dev, strerror(-r));
		}
	}
	if (sw.dev[0]) {
		r = swap_only(sw.dev, 5, &sw.saved);
		if (r) {
			sw.dedicated = false;
			return reason(why, "cannot make %s the only swap area: %s",
				      sw.dev, strerror(-r));
		}
		sw.only = true;
	}
	a = calloc(SWAP_SAVED_MAX, sizeof(*a));
	if (!a)
		return reason(why, "out of memory");
	nr = swap_list(a, SWAP_SAVED_MAX);
	for (i = 0; i < nr && i < SWAP_SAVED_MAX; i++)
		if (pick < 0 || a[i].prio > a[pick].prio)
			pick = i;
	if (pick >= 0) {
		/* with swap_only() this is the one and only area, sw.dev */
		if (!sw.dev[0])
			snprintf(sw.dev, sizeof(sw.dev), "%s", a[pick].path);
		sw.size_kb = a[pick].size_kb;
	}
	free(a);
	if (pick < 0)
		return reason(why, "no swap area (no -d, no disk with serial %s, no COWSWAP_SWAP_DEV, none active)",
			      BENCH_SERIAL);
	return 0;
}

static void swap_teardown(void)
{
	if (sw.dedicated && swap_is_active(sw.dev) == 1)
		swap_off(sw.dev);
	if (sw.only)
		swap_restore(&sw.saved);
}

static void watchdog(int sig)
{
	(void)sig;
	printf("Bail out! swap_bench: watchdog (%d s) expired\n", opt.watchdog);
	fflush(stdout);
	_exit(KSFT_FAIL);
}

/* Run a measurement and say how long it took (guest time). */
#define timed(call) do {						\
	double __t0 = now_us();						\
									\
	call;								\
	ksft_print_msg("(%.1f s guest time)\n", (now_us() - __t0) / 1e6);	\
} while (0)

static bool want(const char *test)
{
	const char *t = opt.tests;
	size_t len = strlen(test);

	if (!t)
		return true;
	while (*t) {
		size_t l = strcspn(t, ",");

		if (l == len && !strncmp(t, test, len))
			return true;
		t += l + (t[l] == ',');
	}
	return false;
}

static int parse_sizes(const char *s, unsigned int *out)
{
	int n = 0;
	char *end;

	while (*s && n < MAX_SIZES) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v == 0 || v > 1 << 20 || (*end && *end != ','))
			return -1;
		out[n++] = v;
		s = *end ? end + 1 : end;
	}
	return *s ? -1 : n;
}

static void usage(const char *prog, int code)
{
	printf("Usage: %s [-r runs] [-c MiB] [-e every] [-W pages] [-f MiB,...] [-s MiB,...]\n"
	       "          [-k forks] [-d swapdev] [-t tests] [-w seconds] [-L] [-v]\n"
	       "  -r  repetitions of every measurement (default %d)\n"
	       "  -c  size of the needless-copies test (default %u MiB)\n"
	       "  -e  extra reference on every e'th page (default %u)\n"
	       "  -W  pages of copies/writeback, on the throttled disk (default %u)\n"
	       "  -f  fork sizes (default 64,256,1024)\n"
	       "  -s  swap-in sizes (default 64,256)\n"
	       "  -k  forks per run after the first one (default %d)\n"
	       "  -d  swap device to mkswap and use (default: the disk with serial\n"
	       "      \"%s\", else COWSWAP_SWAP_DEV, else the active swap area)\n"
	       "  -t  tests, comma separated: copies,fork,swapin (default all)\n"
	       "  -w  watchdog in seconds (default %d)\n"
	       "  -L  copies/held, dropped: drain the LRU batches before the faults\n"
	       "  -v  verbose\n", prog, opt.runs, opt.copy_mib, opt.every, opt.wb_pages,
	       opt.forks, BENCH_SERIAL, opt.watchdog);
	exit(code);
}

static int num_arg(const char *s, int min, int max, const char *prog)
{
	long v;

	if (parse_num(s, min, max, &v))
		usage(prog, KSFT_FAIL);
	return (int)v;
}

static void parse_args(int argc, char **argv)
{
	int o;

	opt.nr_fork = parse_sizes("64,256,1024", opt.fork_mib);
	opt.nr_swapin = parse_sizes("64,256", opt.swapin_mib);
	while ((o = getopt(argc, argv, "r:c:e:W:f:s:k:d:t:w:Lvh")) != -1) {
		switch (o) {
		case 'r': opt.runs = num_arg(optarg, 1, MAX_RUNS, argv[0]); break;
		case 'c': opt.copy_mib = num_arg(optarg, 1, 1 << 20, argv[0]); break;
		case 'e': opt.every = num_arg(optarg, 1, 1 << 20, argv[0]); break;
		case 'W': opt.wb_pages = num_arg(optarg, 1, 4096, argv[0]); break;
		case 'k': opt.forks = num_arg(optarg, 0, MAX_FORKS - 1, argv[0]); break;
		case 'w': opt.watchdog = num_arg(optarg, 0, 1 << 20, argv[0]); break;
		case 'd': opt.dev = optarg; break;
		case 't': opt.tests = optarg; break;
		case 'L': opt.drain = true; break;
		case 'v': verbose = true; break;
		case 'f':
			opt.nr_fork = parse_sizes(optarg, opt.fork_mib);
			if (opt.nr_fork < 0)
				usage(argv[0], KSFT_FAIL);
			break;
		case 's':
			opt.nr_swapin = parse_sizes(optarg, opt.swapin_mib);
			if (opt.nr_swapin < 0)
				usage(argv[0], KSFT_FAIL);
			break;
		case 'h': usage(argv[0], KSFT_PASS); break;
		default: usage(argv[0], KSFT_FAIL);
		}
	}
	if (optind < argc)
		usage(argv[0], KSFT_FAIL);
}

/* The clock's resolution, as a diagnostic and a COWSWAP-BENCH line. */
static void report_clock(void)
{
	double step = clock_step_us();

	ksft_print_msg("CLOCK_MONOTONIC steps by %.3f us%s\n", step,
		       step > 100 ? ": too coarse for the fork times (on x86 boot with "
		       "tsc_early_khz=<host TSC kHz> tsc=reliable)" : "");
	printf("COWSWAP-BENCH {\"metric\":\"clock_step_us\",\"size_mib\":0,\"median\":%.3f,"
	       "\"min\":%.3f,\"max\":%.3f,\"runs\":1,\"unit\":\"us\"}\n", step, step, step);
}

/* Root, pagemap and the bench's swap area: true when the benches can run. */
static bool prepare(char *why)
{
	bool ready = true;

	pm_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (geteuid() != 0) {
		reason(why, "needs root");
		ready = false;
	} else if (pm_fd < 0) {
		reason(why, "/proc/self/pagemap: %s", strerror(errno));
		ready = false;
	} else if (swap_setup(why)) {
		ready = false;
	}
	pfn_visible = ready && pagemap_shows_pfn();
	if (ready)
		ksft_print_msg("swap: %s only, %lld MiB%s\n", sw.dev, sw.size_kb / 1024,
			       sw.dedicated ? " (mkswap'ed by the bench)" : "");
	return ready;
}

/* Every wanted measurement, or its SKIP with why when not ready. */
static void run_benches(bool ready, const char *why)
{
	int i, m;

	for (m = 0; want("copies") && m < NR_COPY_MODES; m++) {
		uint64_t flags;

		if (!ready)
			ksft_test_result_skip("copies/%s: %s\n", copy_mode_name[m], why);
		else if (!pfn_visible)
			ksft_test_result_skip("copies/%s: pagemap hides PFNs\n",
					      copy_mode_name[m]);
		else if (kpageflags_get(page_pfn(&flags), &flags))
			ksft_test_result_skip("copies/%s: no /proc/kpageflags\n",
					      copy_mode_name[m]);
		else
			timed(bench_copies(m));
	}
	for (i = 0; want("fork") && i < opt.nr_fork; i++) {
		if (!ready)
			ksft_test_result_skip("fork/%u: %s\n", opt.fork_mib[i], why);
		else
			timed(bench_fork(opt.fork_mib[i]));
	}
	for (m = 0; want("swapin") && m < 2; m++) {
		for (i = 0; i < opt.nr_swapin; i++) {
			if (!ready)
				ksft_test_result_skip("swapin_%s/%u: %s\n", m ? "disk" : "cache",
						      opt.swapin_mib[i], why);
			else
				timed(bench_swapin(opt.swapin_mib[i], m));
		}
	}
}

int main(int argc, char **argv)
{
	char why[REASON_LEN] = "";
	struct utsname u;
	unsigned int plan;
	bool ready;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ps = sysconf(_SC_PAGESIZE);
	pages_per_mib = (1 << 20) / ps;

	plan = (want("copies") ? NR_COPY_MODES : 0) +
	       (want("fork") ? opt.nr_fork : 0) +
	       (want("swapin") ? 2 * opt.nr_swapin : 0);
	ksft_print_header();
	ksft_set_plan(plan);
	uname(&u);
	ksft_print_msg("swap_bench on %s %s, page size %ld, %lld MiB RAM, %d runs\n",
		       u.release, u.machine, ps, meminfo_kb("MemTotal") / 1024, opt.runs);
	report_clock();
	ready = prepare(why);
	if (opt.watchdog) {
		signal(SIGALRM, watchdog);
		alarm(opt.watchdog);
	}
	run_benches(ready, why);
	alarm(0);
	swap_teardown();
	pagemap_close();
	ksft_finished();
	return KSFT_PASS;
}

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
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "pagemap.h"
#include "swap_helpers.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ	1031
#define F_GETPIPE_SZ	1032
#endif

#define BENCH_SERIAL	"cowswap-bench"
#define MAX_SIZES	8
#define MAX_RUNS	101
#define MAX_FORKS	32
#define CHUNK_MIB	32		/* fill and page out this much at a time */
#define PIPE_BYTES	(1 << 20)	/* vmsplice pipes: 256 4K pages each */
#define WB_TIMEOUT	120		/* seconds to wait for swap writeback */
#define REASON_LEN	256

static struct {
	int runs;			/* -r */
	unsigned int copy_mib;		/* -c */
	unsigned int every;		/* -e */
	unsigned int wb_pages;		/* -W */
	unsigned int fork_mib[MAX_SIZES];	/* -f */
	int nr_fork;
	unsigned int swapin_mib[MAX_SIZES];	/* -s */
	int nr_swapin;
	int forks;			/* -k */
	int watchdog;			/* -w */
	const char *dev;		/* -d */
	const char *tests;		/* -t */
	bool drain;			/* -L */
	bool verbose;			/* -v */
} opt = {
	.runs = 3,
	.copy_mib = 64,
	.every = 8,
	.wb_pages = 8,
	.forks = 3,
	.watchdog = 900,
};

static long ps;
static size_t pages_per_mib;
static int pm_fd = -1;
static bool pfn_visible;
static struct {
	char dev[PATH_MAX];
	long long size_kb;		/* the bench's swap area */
	bool dedicated;			/* we mkswap'ed and enabled it */
	struct swap_saved saved;	/* areas switched off meanwhile */
	bool only;
} sw;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* CPU time of this thread: excludes time blocked, e.g. on swap reads. */
static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void vmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void vmsg(const char *fmt, ...)
{
	va_list ap;

	if (!opt.verbose)
		return;
	va_start(ap, fmt);
	printf("#   ");
	vprintf(fmt, ap);
	va_end(ap);
}

static int reason(char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int reason(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, REASON_LEN, fmt, ap);
	va_end(ap);
	return -1;
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

/* A "name value" line of a /proc file such as /proc/vmstat, or -1. */
static long long proc_value(const char *path, const char *key)
{
	static char buf[32768];
	size_t klen = strlen(key);
	long long v = -1;
	ssize_t n;
	char *q;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (q = buf; q; q = strchr(q, '\n')) {
		if (*q == '\n')
			q++;
		if (!strncmp(q, key, klen) && (q[klen] == ' ' || q[klen] == ':')) {
			v = strtoll(q + klen + 1, NULL, 10);
			break;
		}
	}
	return v;
}

static long long meminfo_kb(const char *key)
{
	return proc_value("/proc/meminfo", key);
}

/* Wait until no page is under writeback; 0, or -ETIMEDOUT. */
static int wait_writeback(void)
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
static int pm_read(const void *addr, size_t n, uint64_t *out)
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

/* ------------------------------------------------------------------ */
/* Memory                                                               */

/* n private anonymous pages between PROT_NONE guards, THP off. */
static char *map_pages(size_t n)
{
	char *p;

	p = mmap(NULL, (n + 2) * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, ps, PROT_NONE) ||
	    mprotect(p + (n + 1) * ps, ps, PROT_NONE)) {
		munmap(p, (n + 2) * ps);
		return NULL;
	}
	madvise(p + ps, n * ps, MADV_NOHUGEPAGE);	/* EINVAL without THP */
	return p + ps;
}

static void unmap_pages(char *p, size_t n)
{
	if (p)
		munmap(p - ps, (n + 2) * ps);
}

/* The first word of page i holds tag(seed, i); a write fault stores ~tag. */
static inline uint64_t tag(unsigned int seed, size_t i)
{
	return ((uint64_t)seed << 40) ^ (i * 0x9e3779b97f4a7c15ULL >> 24) ^ i;
}

static inline uint64_t *word(char *p, size_t i, int w)
{
	return (uint64_t *)(p + i * ps) + w;
}

static void fill(char *p, size_t from, size_t to, unsigned int seed)
{
	size_t i;

	for (i = from; i < to; i++)
		*word(p, i, 0) = tag(seed, i);
}

/* The timed loop: one write fault per page. */
static void write_all(char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		*(volatile uint64_t *)word(p, i, 1) = ~tag(seed, i);
}

static void read_all(char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)*(volatile uint64_t *)word(p, i, 0);
}

/* Pages whose content is not what fill() + write_all() left. */
static size_t bad_pages(char *p, size_t n, unsigned int seed)
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
static long page_out(char *p, size_t n, uint64_t *pm)
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
static char *swapped_region(size_t n, unsigned int seed, char *why)
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
		r = page_out(p + i * ps, c, pm);
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

/* ------------------------------------------------------------------ */
/* Statistics and output                                               */

struct series {
	double v[MAX_RUNS * MAX_FORKS];
	int n;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void add(struct series *s, double v)
{
	if (s->n < (int)ARRAY_SIZE(s->v))
		s->v[s->n++] = v;
}

static double median(struct series *s)
{
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_double);
	if (!s->n)
		return 0;
	return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

/*
 * Print one result: a TAP diagnostic and the COWSWAP-BENCH line.  extra
 * is appended to the JSON object (starts with a comma) or empty.
 */
static void result(const char *metric, unsigned int mib, const char *unit,
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

/* ------------------------------------------------------------------ */
/* Extra references: pages vmsplice()d into pipes                       */

struct refs {
	int (*pfd)[2];
	int nr, max;
};

static void refs_put(struct refs *r)
{
	int i;

	for (i = 0; i < r->nr; i++) {
		close(r->pfd[i][0]);
		close(r->pfd[i][1]);
	}
	free(r->pfd);
	memset(r, 0, sizeof(*r));
}

/* Take a reference on every opt.every'th of n pages; 0 or -errno. */
static int refs_get(struct refs *r, char *p, size_t n)
{
	struct iovec *iov = NULL;
	size_t i = 0, cap;
	int err = 0;

	memset(r, 0, sizeof(*r));
	while (i < n) {
		int fd[2], k = 0;
		ssize_t done;

		if (pipe2(fd, O_CLOEXEC)) {
			err = -errno;
			break;
		}
		fcntl(fd[1], F_SETPIPE_SZ, PIPE_BYTES);	/* best effort */
		cap = fcntl(fd[1], F_GETPIPE_SZ);
		cap = cap >= (size_t)ps ? cap / ps : 1;
		if (r->nr == r->max) {
			void *q = realloc(r->pfd, (r->max * 2 + 8) * sizeof(*r->pfd));

			if (!q) {
				close(fd[0]);
				close(fd[1]);
				err = -ENOMEM;
				break;
			}
			r->pfd = q;
			r->max = r->max * 2 + 8;
		}
		r->pfd[r->nr][0] = fd[0];
		r->pfd[r->nr][1] = fd[1];
		r->nr++;
		free(iov);
		iov = calloc(cap, sizeof(*iov));
		if (!iov) {
			err = -ENOMEM;
			break;
		}
		for (; i < n && (size_t)k < cap && k < 1024; i += opt.every) {
			iov[k].iov_base = p + i * ps;
			iov[k].iov_len = ps;
			k++;
		}
		done = vmsplice(fd[1], iov, k, SPLICE_F_NONBLOCK);
		if (done != (ssize_t)k * ps) {
			err = done < 0 ? -errno : -ENOSPC;
			break;
		}
	}
	free(iov);
	if (err)
		refs_put(r);
	return err;
}

/* ------------------------------------------------------------------ */
/* copies/<mode>                                                        */

enum copy_mode { COPY_HELD, COPY_DROPPED, COPY_WRITEBACK, NR_COPY_MODES };
static const char *const copy_mode_name[NR_COPY_MODES] = {
	"held", "dropped", "writeback"
};

/* Per run: [0] = referenced / under writeback, [1] = the others. */
struct copy_run {
	size_t copied[2], eligible[2], reread, unswapped;
};

/* Class of a page at its fault: 0/1 counted, see struct copy_run. */
enum { CLS_REREAD = 2, CLS_UNSWAPPED = 3 };

static unsigned char classify(enum copy_mode mode, size_t i, uint64_t e,
			      uint64_t pfn0)
{
	uint64_t kpf;

	if (!pm_swapped(e) || pm_present(e))
		return CLS_UNSWAPPED;
	if (kpageflags_get(pfn0, &kpf) || !(kpf & (1ULL << KPF_BIT_SWAPCACHE)) ||
	    !(kpf & (1ULL << KPF_BIT_ANON)))
		return CLS_REREAD;
	if (mode == COPY_WRITEBACK)
		return !(kpf & (1ULL << KPF_BIT_WRITEBACK));
	return i % opt.every != 0;
}

/*
 * Drain this CPU's LRU batches (madvise_pageout() starts with
 * lru_add_drain(); the range has nothing to reclaim).  Their references
 * are what the pre-fix kernel trips over on pages without extra refs.
 */
static void drain_lru_batches(void)
{
	static char *scratch;

	if (!scratch)
		scratch = map_pages(1);
	if (scratch)
		madvise(scratch, ps, MADV_PAGEOUT);
}

static int copies_once(enum copy_mode mode, unsigned int seed,
		       struct copy_run *cr, char *why)
{
	bool wb = mode == COPY_WRITEBACK;
	size_t n = wb ? opt.wb_pages : opt.copy_mib * pages_per_mib;
	uint64_t *pfn0 = NULL, *pm = NULL;
	unsigned char *cls = NULL;
	struct refs refs = { 0 };
	size_t i, bad, swapped = 0;
	char *p = NULL;
	int ret = -1, r;
	long out;

	memset(cr, 0, sizeof(*cr));
	p = map_pages(n + 1);		/* + a warm-up page for wb */
	pfn0 = malloc(n * sizeof(*pfn0));
	pm = malloc(n * sizeof(*pm));
	cls = malloc(n);
	if (!p || !pfn0 || !pm || !cls) {
		reason(why, "out of memory");
		goto out;
	}
	fill(p, 0, n + 1, seed);
	r = pm_read(p, n, pfn0);
	if (r) {
		reason(why, "pagemap: %s", strerror(-r));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!pm_pfn(pfn0[i])) {
			reason(why, "page %zu not present after the fill", i);
			goto out;
		}
		pfn0[i] = pm_pfn(pfn0[i]);
	}

	if (wb) {
		/*
		 * Like the selftest's stable_writes check: a first write-out
		 * uses up the throttle's budget, then each page is paged out
		 * on its own (madvise() plugs the queue: one call over the
		 * range would become one request, let through at once) and
		 * written right away, while its write waits in the throttle.
		 */
		madvise(p + n * ps, ps, MADV_PAGEOUT);
		sleep_ms(20);
		for (i = 0; i < n; i++) {
			madvise(p + i * ps, ps, MADV_PAGEOUT);
			cls[i] = classify(mode, i, pagemap_entry(p + i * ps), pfn0[i]);
			swapped += cls[i] != CLS_UNSWAPPED;
			*(volatile uint64_t *)word(p, i, 1) = ~tag(seed, i);
		}
	} else {
		r = refs_get(&refs, p, n);
		if (r) {
			reason(why, "vmsplice: %s", strerror(-r));
			goto out;
		}
		out = page_out(p, n, pm);
		if (out < 0) {
			reason(why, "MADV_PAGEOUT: %s", strerror((int)-out));
			goto out;
		}
		swapped = out;
		if (wait_writeback()) {
			reason(why, "swap writeback did not finish in %d s", WB_TIMEOUT);
			goto out;
		}
		if (mode == COPY_DROPPED)
			refs_put(&refs);
		if (opt.drain)
			drain_lru_batches();
		for (i = 0; i < n; i++) {
			cls[i] = classify(mode, i, pm[i], pfn0[i]);
			*(volatile uint64_t *)word(p, i, 1) = ~tag(seed, i);
		}
	}
	if (swapped < n / 2) {
		reason(why, "only %zu of %zu pages were swapped out", swapped, n);
		goto out;
	}
	r = pm_read(p, n, pm);
	refs_put(&refs);
	if (r) {
		reason(why, "pagemap: %s", strerror(-r));
		goto out;
	}
	bad = bad_pages(p, n, seed);
	if (wb && wait_writeback()) {
		reason(why, "swap writeback did not finish in %d s", WB_TIMEOUT);
		goto out;
	}
	if (bad) {
		reason(why, "%zu pages came back with wrong content", bad);
		ret = -2;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (cls[i] == CLS_UNSWAPPED) {
			cr->unswapped++;
		} else if (cls[i] == CLS_REREAD) {
			cr->reread++;
		} else {
			cr->eligible[cls[i]]++;
			cr->copied[cls[i]] += pm_pfn(pm[i]) != pfn0[i];
		}
	}
	ret = 0;
out:
	refs_put(&refs);
	unmap_pages(p, n + 1);
	free(pfn0);
	free(pm);
	free(cls);
	return ret;
}

static const char *copy_metric[NR_COPY_MODES][2] = {
	{ "copies_held_ref",	"copies_held_noref" },
	{ "copies_dropped_ref",	"copies_dropped_noref" },
	{ "copies_wb_writeback", "copies_wb_clean" },
};

/*
 * writeback mode: the write-throttled disk becomes the preferred swap area
 * (priority above the bench's area), so that paged-out pages stay under
 * writeback long enough; stable_writes off, as on the bench's area.
 */
static const char *slow_dev;
static int slow_stable = -1;

static void slow_swap_off(void);

static int slow_swap_on(char *why)
{
	int r, prio;

	slow_dev = getenv("COWSWAP_SLOW_SWAP_DEV");
	if (!slow_dev || !*slow_dev)
		return reason(why, "needs COWSWAP_SLOW_SWAP_DEV (a write-throttled disk)");
	if (swap_is_active(slow_dev) == 1 && (r = swap_off(slow_dev)))
		return reason(why, "swapoff %s: %s", slow_dev, strerror(-r));
	slow_stable = blk_stable_writes_get(slow_dev);
	if (slow_stable == 1 && (r = blk_stable_writes_set(slow_dev, 0)))
		return reason(why, "%s: cannot turn stable_writes off: %s", slow_dev,
			      strerror(-r));
	r = swap_mkswap(slow_dev);
	if (!r)
		r = swap_on(slow_dev, 20);
	if (r) {
		if (slow_stable == 1)
			blk_stable_writes_set(slow_dev, 1);
		return reason(why, "swap on %s: %s", slow_dev, strerror(-r));
	}
	/*
	 * The per-CPU swap slot cache may still hold slots of the bench's
	 * area, which would be used before the preferred one: a swapoff
	 * drains the caches.  The area is empty between measurements.
	 */
	if (swap_get_prio(sw.dev, &prio) || swap_off(sw.dev) || swap_on(sw.dev, prio)) {
		slow_swap_off();
		return reason(why, "cannot cycle %s to drain the swap slot cache", sw.dev);
	}
	return 0;
}

static void slow_swap_off(void)
{
	swap_off(slow_dev);
	if (slow_stable == 1)
		blk_stable_writes_set(slow_dev, 1);
}

static void bench_copies(enum copy_mode mode)
{
	static struct series copied[2], eligible[2], reread;
	bool wb = mode == COPY_WRITEBACK;
	struct copy_run cr;
	char why[REASON_LEN], extra[96];
	int run, k, r = 0;

	for (k = 0; k < 2; k++)
		copied[k].n = eligible[k].n = 0;
	reread.n = 0;
	if (wb && slow_swap_on(why)) {
		ksft_test_result_skip("copies/%s: %s\n", copy_mode_name[mode], why);
		return;
	}
	for (run = 0; run < opt.runs; run++) {
		r = copies_once(mode, 0x100 + run, &cr, why);
		if (r)
			break;
		vmsg("run %d: copied %zu/%zu, %zu/%zu; %zu reread, %zu not swapped\n",
		     run, cr.copied[0], cr.eligible[0], cr.copied[1], cr.eligible[1],
		     cr.reread, cr.unswapped);
		for (k = 0; k < 2; k++) {
			add(&copied[k], cr.copied[k]);
			add(&eligible[k], cr.eligible[k]);
		}
		add(&reread, cr.reread);
	}
	if (wb)
		slow_swap_off();
	if (r == -2) {
		ksft_print_msg("copies/%s: %s\n", copy_mode_name[mode], why);
		ksft_test_result_fail("copies/%s\n", copy_mode_name[mode]);
		return;
	}
	if (r) {
		ksft_test_result_skip("copies/%s: %s\n", copy_mode_name[mode], why);
		return;
	}
	for (k = 0; k < 2; k++) {
		snprintf(extra, sizeof(extra), ",\"of\":%.0f,\"reread\":%.0f",
			 median(&eligible[k]), median(&reread));
		/* writeback: a few pages, not a MiB size: size_mib 0 */
		result(copy_metric[mode][k], wb ? 0 : opt.copy_mib, "pages", &copied[k],
		       extra);
		ksft_print_msg("%-22s           of a median %.0f pages in the swap cache at the fault\n",
			       "", median(&eligible[k]));
	}
	ksft_test_result_pass("copies/%s\n", copy_mode_name[mode]);
}

/* ------------------------------------------------------------------ */
/* fork/<size>                                                          */

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

static void bench_fork(unsigned int mib)
{
	static struct series first, again;
	size_t n = mib * pages_per_mib;
	long long free_kb = sw.size_kb - meminfo_kb("SwapTotal") + meminfo_kb("SwapFree");
	char why[REASON_LEN];
	int run, k;

	first.n = again.n = 0;
	if ((long long)mib * 1024 + 4096 > free_kb) {
		ksft_test_result_skip("fork/%u: does not fit in swap (%lld MiB free on %s)\n",
				      mib, free_kb / 1024, sw.dev);
		return;
	}
	for (run = 0; run < opt.runs; run++) {
		char *p = swapped_region(n, 0x200 + run, why);
		double t;

		if (!p) {
			ksft_test_result_skip("fork/%u: %s\n", mib, why);
			return;
		}
		t = timed_fork();
		if (t < 0) {
			unmap_pages(p, n);
			ksft_test_result_skip("fork/%u: fork: %s\n", mib, strerror(errno));
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
	ksft_test_result_pass("fork/%u\n", mib);
}

/* ------------------------------------------------------------------ */
/* swapin_cache/<size>, swapin_disk/<size>                              */

static void bench_swapin(unsigned int mib, bool disk)
{
	static struct series us, cpu;
	const char *name = disk ? "swapin_disk" : "swapin_cache";
	size_t n = mib * pages_per_mib;
	long long avail = meminfo_kb("MemAvailable");
	double cached_sum = 0, mibs;
	char why[REASON_LEN], extra[96];
	uint64_t *pm;
	int run;

	us.n = cpu.n = 0;
	if ((long long)mib * 1024 + 65536 > avail) {
		ksft_test_result_skip("%s/%u: does not fit in RAM (MemAvailable %lld MiB)\n",
				      name, mib, avail / 1024);
		return;
	}
	if ((long long)mib * 1024 * (disk ? 2 : 1) + 4096 > sw.size_kb) {
		ksft_test_result_skip("%s/%u: swap area %s too small (%lld MiB%s)\n",
				      name, mib, sw.dev, sw.size_kb / 1024,
				      disk ? ", needs twice the size" : "");
		return;
	}
	pm = malloc(n * sizeof(*pm));
	if (!pm) {
		ksft_test_result_skip("%s/%u: out of memory\n", name, mib);
		return;
	}
	for (run = 0; run < opt.runs; run++) {
		unsigned int seed = (disk ? 0x400 : 0x300) + run;
		char *p = swapped_region(n, seed, why);
		long long cached;
		size_t bad;
		struct rusage ru0, ru1;
		double t0, c0;
		long r;

		if (!p) {
			ksft_test_result_skip("%s/%u: %s\n", name, mib, why);
			goto out;
		}
		if (disk) {
			/* back in read-only, then out again: clean, so freed */
			read_all(p, n);
			r = page_out(p, n, pm);
			if (r < (long)(n - n / 1000)) {
				unmap_pages(p, n);
				ksft_test_result_skip("%s/%u: second pageout: %s\n", name, mib,
						      r < 0 ? strerror((int)-r) : "pages stayed");
				goto out;
			}
			wait_writeback();
		}
		cached = meminfo_kb("SwapCached");
		cached_sum += cached;
		getrusage(RUSAGE_THREAD, &ru0);
		c0 = cpu_us();
		t0 = now_us();
		write_all(p, n, seed);
		add(&us, (now_us() - t0) / n);
		add(&cpu, (cpu_us() - c0) / n);
		getrusage(RUSAGE_THREAD, &ru1);
		bad = bad_pages(p, n, seed);
		unmap_pages(p, n);
		vmsg("run %d: %.2f us/page (CPU %.2f), SwapCached %lld MiB before, %lld after; "
		     "faults: %ld major, %ld minor; %ld waits\n", run,
		     us.v[us.n - 1], cpu.v[cpu.n - 1], cached / 1024,
		     meminfo_kb("SwapCached") / 1024, ru1.ru_majflt - ru0.ru_majflt,
		     ru1.ru_minflt - ru0.ru_minflt, ru1.ru_nvcsw - ru0.ru_nvcsw);
		if (bad) {
			ksft_print_msg("%s/%u: %zu pages came back with wrong content\n",
				       name, mib, bad);
			ksft_test_result_fail("%s/%u\n", name, mib);
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
	ksft_test_result_pass("%s/%u\n", name, mib);
out:
	free(pm);
}

/* ------------------------------------------------------------------ */
/* Swap area                                                            */

/* /dev/<disk> of the virtio disk with the given serial, or -ENOENT. */
static int find_serial(const char *serial, char *dev, size_t len)
{
	char path[PATH_MAX], buf[64];
	struct dirent *d;
	DIR *dir;
	int ret = -ENOENT;

	dir = opendir("/sys/block");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		ssize_t n;
		int fd;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/serial", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (!strcmp(buf, serial)) {
			snprintf(dev, len, "/dev/%s", d->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

static int swap_setup(char *why)
{
	const char *env = getenv("COWSWAP_SWAP_DEV");
	struct swap_area *a;
	int i, nr, r, pick = -1;

	if (opt.dev) {
		snprintf(sw.dev, sizeof(sw.dev), "%s", opt.dev);
		sw.dedicated = true;
	} else if (!find_serial(BENCH_SERIAL, sw.dev, sizeof(sw.dev))) {
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

/* ------------------------------------------------------------------ */
/* Main                                                                 */

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
	char *end;
	long v = strtol(s, &end, 0);

	if (*end || end == s || v < min || v > max)
		usage(prog, KSFT_FAIL);
	return (int)v;
}

int main(int argc, char **argv)
{
	char why[REASON_LEN] = "";
	struct utsname u;
	unsigned int plan;
	double step;
	int o, i, m;
	bool ready;

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
		case 'v': opt.verbose = true; break;
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

	step = clock_step_us();
	ksft_print_msg("CLOCK_MONOTONIC steps by %.3f us%s\n", step,
		       step > 100 ? ": too coarse for the fork times (on x86 boot with "
		       "tsc_early_khz=<host TSC kHz> tsc=reliable)" : "");
	printf("COWSWAP-BENCH {\"metric\":\"clock_step_us\",\"size_mib\":0,\"median\":%.3f,"
	       "\"min\":%.3f,\"max\":%.3f,\"runs\":1,\"unit\":\"us\"}\n", step, step, step);

	ready = true;
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
	if (opt.watchdog) {
		signal(SIGALRM, watchdog);
		alarm(opt.watchdog);
	}

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
	alarm(0);
	swap_teardown();
	pagemap_close();
	ksft_finished();
	return KSFT_PASS;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * swap_stress - a bounded stress test of anonymous memory across swap.
 *
 * Several worker processes (and threads inside them) run for -t seconds.
 * Every page a worker owns carries a pattern derived from (owner tag, page
 * index, generation); the owner remembers the generation of each page and
 * verifies it periodically, before it rewrites it and once more at the end,
 * after a last MADV_PAGEOUT, so that the final check reads the pages back
 * through swap.  Workers:
 *
 *   pageout   a writer thread verifies and rewrites random runs of pages
 *             while a second thread keeps paging random ranges of the same
 *             region out (MADV_PAGEOUT, MADV_COLD).  The first pageout
 *             worker asks for THP (MADV_HUGEPAGE), the others do not.
 *   odirect   pairs of threads: a reader does an O_DIRECT read of one block
 *             into a page while the other thread pages that page out and
 *             writes the rest of it; afterwards the block must hold the
 *             data from the disk (checked against a buffered reference
 *             read) and the rest of the page the new pattern.  Reads from
 *             COWSWAP_FAST_READ_DEV with random head starts, and (first
 *             worker) one pair reading COWSWAP_SLOW_READ_DEV, throttled so
 *             that every read stays in flight while the page is paged out.
 *             A kernel that forgets PG_anon_exclusive across swap loses
 *             the read data here.  This worker never forks.
 *   fork      pages out its region and forks; the child verifies what it
 *             inherited, writes its own copies of half of the pages, pages
 *             out and verifies again, while the parent rewrites pages of
 *             its own: neither may see the other's writes.  Up to three
 *             children at a time.
 *   race      two threads write-fault (or one read-faults, one writes)
 *             the same swapped-out pages at the same moment, each in its
 *             own half of every page, on a THP-backed region; a third
 *             thread forks in the middle of those faults and the child
 *             checks that no later write of the parent reaches it.
 *             Counts the iterations in which the two faults really
 *             overlapped and the forks that ran during a fault (see the
 *             comment above worker_race()).
 *   swapoff   cycles a second swap area with a higher priority than the
 *             main one: COWSWAP_SLOW_SWAP_DEV (writes throttled to 4 IOPS,
 *             queue/stable_writes alternately off and on, the area limited
 *             to 64 pages so that swapoff does not wait minutes for
 *             writeback) and, with -z 1 or when there is no pressure
 *             worker or no slow disk, an 8 MiB zram device (swap_helpers):
 *             then the slow disk is used in the second and every -S-th
 *             cycle.  zram is left out under memory exhaustion because its
 *             fallback allocation warns ("page allocation failure", with a
 *             stack trace: a splat for the judge).  Its own pages are paged
 *             out to the area, which is then swapped off (unuse_pte())
 *             with everybody else's pages in it.
 *   ksm       a MADV_MERGEABLE region of identical page pairs with KSM
 *             running (run=1); pairs are rewritten, paged out, unmerged
 *             and merged again.
 *   pressure  one process allocates more than the RAM (MemTotal * 5/4, at
 *             most half of RAM + free swap; -m) and sweeps it, verifying
 *             every page and rewriting it every other pass: real reclaim.
 *             The first pass runs at nice -10 on THP (MADV_HUGEPAGE; 6.1
 *             turns THP off below 512 MiB of RAM, so the test switches it
 *             to "madvise" for the run) to get past the RAM size quickly.
 *
 * Output: TAP, one line per worker kind plus one for the workers' exits
 * (a kind FAILs on any corruption; "workers" FAILs on a crash, a hang or
 * an error of the test machinery), then one machine-readable line
 *
 *   COWSWAP-STRESS {"seconds":..,"ops":{...},"pages_verified":..,"corruptions":..}
 *
 * Run as root, with swap already active (COWSWAP_SWAP_DEV).  Options: -t
 * seconds (default 60), -m pressure MiB (0: none, default automatic), -p
 * pageout workers, -o odirect workers, -f fork workers, -r race workers
 * (default 2, 2, 1, 1),
 * -S slow swap disk every N swapoff cycles when zram is used too (0: never,
 * default 4), -z 1/0 zram cycles on/off (default: see swapoff), -g grace
 * seconds for the final verification (default 300), -s random seed, -v.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "pagemap.h"
#include "swap_helpers.h"

#ifndef MADV_COLD
#define MADV_COLD	20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif

#define MAX_WORKERS	32
#define MAX_REPORTS	8	/* corruption messages per worker */
#define REF_LEN		(256 << 10)
#define REF_TEXT	"cowswap O_DIRECT test data, sector by sector\n"
#define ZRAM_SIZE	(8ULL << 20)
#define SWAP2_PRIO	20	/* above /init's priority for the main area */
#define SLOW_PAGES	64	/* usable pages of the slow swap area */
#define KSM_DIR		"/sys/kernel/mm/ksm/"
#define PAT_STEP	0x9e3779b97f4a7c15ULL
#define CHILD_TAG	0x10000u

enum kind { K_PAGEOUT, K_ODIRECT, K_FORK, K_RACE, K_SWAPOFF, K_KSM, K_PRESSURE, NR_KINDS };

static const char *const kind_name[NR_KINDS] = {
	"pageout", "odirect", "fork", "race", "swapoff", "ksm", "pressure",
};

enum op {
	OP_PAGEOUT,		/* MADV_PAGEOUT / MADV_COLD calls */
	OP_SWAPPED,		/* pages seen as swap entries */
	OP_WRITE,		/* pages rewritten */
	OP_VERIFY_PASS,		/* full verification passes */
	OP_ODIRECT,		/* O_DIRECT reads, fast disk */
	OP_ODIRECT_SLOW,	/* O_DIRECT reads, throttled disk */
	OP_ODIRECT_RACED,	/* paged out and written with the read in flight */
	OP_FORK,		/* children forked */
	OP_SWAPON,		/* second swap area switched on */
	OP_SWAPOFF,		/* ... and off again */
	OP_SWAPOFF_SLOW,	/* of those on the slow disk */
	OP_KSM_UNMERGE,		/* MADV_UNMERGEABLE + MADV_MERGEABLE */
	OP_KSM_SHARING,		/* maximum of ksm/pages_sharing seen */
	OP_SWEEP,		/* pressure: passes over its memory */
	OP_TOUCH,		/* pressure: pages touched */
	OP_RACE_ITER,		/* race: iterations */
	OP_RACE_OVERLAP,	/* ... in which both faulters faulted at once */
	OP_RACE_READ,		/* ... of them a read fault against a write fault */
	OP_RACE_FORK,		/* race: fork() calls */
	OP_RACE_FORK_OVERLAP,	/* ... while a faulter faulted */
	OP_RACE_THP,		/* race: THPs found in the region after a refill */
	NR_OPS
};

static const char *const op_name[NR_OPS] = {
	"pageout", "swapped_seen", "page_writes", "verify_passes",
	"odirect_reads", "odirect_slow_reads", "odirect_raced", "forks",
	"swapon", "swapoff", "swapoff_slow", "ksm_unmerge",
	"ksm_pages_sharing_max", "pressure_sweeps", "pressure_pages",
	"race_iterations", "race_overlapped", "race_read_overlapped", "race_forks",
	"race_fork_overlapped", "race_thp",
};

/* Per-worker statistics, in memory shared by all processes. */
struct wstat {
	int kind;
	int id;
	pid_t pid;
	char name[24];
	uint64_t ops[NR_OPS];
	uint64_t verified;
	uint64_t corruptions;
	uint64_t errors;
	uint64_t reports;
	int skipped;
	char skip_why[128];
	int finished;		/* final verification done */
	int status;		/* wait status, filled in by main */
	int reaped;
	int hung;
};

struct shared {
	int stop;
	int nr;
	struct wstat w[MAX_WORKERS];
};

static struct {
	int seconds;
	long pressure_mb;	/* -1: automatic */
	int pageout;
	int odirect;
	int fork;
	int race;
	int slow_every;
	int zram;		/* -1: automatic */
	int grace;
	unsigned int seed;
	bool verbose;
} opt = {
	.seconds = 60,
	.pressure_mb = -1,
	.pageout = 2,
	.odirect = 2,
	.fork = 1,
	.race = 1,
	.slow_every = 4,
	.zram = -1,
	.grace = 300,
};

static struct {
	const char *swap_dev;
	const char *slow_swap;
	const char *fast_read;
	const char *slow_read;
} env;

static struct shared *sh;
static long ps;
static size_t words;		/* 64-bit words per page */
static unsigned char *ref;	/* buffered read of the fast disk */
static char ref_why[160];	/* why there is no ref */
static long pressure_pages;	/* size of the pressure worker's memory */
static size_t thp_bytes = 2UL << 20;	/* hpage_pmd_size, when THP is there */

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED);
}

static void op_add(struct wstat *me, enum op op, uint64_t n)
{
	__atomic_fetch_add(&me->ops[op], n, __ATOMIC_RELAXED);
}

static void op_max(struct wstat *me, enum op op, uint64_t v)
{
	uint64_t cur = __atomic_load_n(&me->ops[op], __ATOMIC_RELAXED);

	while (v > cur &&
	       !__atomic_compare_exchange_n(&me->ops[op], &cur, v, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void cnt_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/*
 * One diagnostic line, written with a single write(2): workers are
 * separate processes and threads sharing the console.
 */
static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	strcpy(buf, "# ");
	va_start(ap, fmt);
	n = vsnprintf(buf + 2, sizeof(buf) - 3, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += 2;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, n) < 0)
		return;
}

/* A machinery error: not a corruption, but the run is not trustworthy. */
static void error_msg(struct wstat *me, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void error_msg(struct wstat *me, const char *fmt, ...)
{
	char buf[320];
	va_list ap;

	cnt_add(&me->errors, 1);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	msg("%s: error: %s", me->name, buf);
}

static void skip_worker(struct wstat *me, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void skip_worker(struct wstat *me, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(me->skip_why, sizeof(me->skip_why), fmt, ap);
	va_end(ap);
	me->skipped = 1;
	msg("%s: skipped: %s", me->name, me->skip_why);
}

/* xorshift, per thread */
static unsigned int rnd(unsigned int *s)
{
	unsigned int x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x ? x : 0x9e3779b9u;
	return *s;
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int write_file(const char *path, const char *val)
{
	ssize_t len = strlen(val);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* A "Field:  N kB" line of a /proc file such as meminfo, in kB, or -1. */
static long long proc_kb(const char *path, const char *field)
{
	char buf[4096], *p;
	size_t len = strlen(field);

	if (read_file(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, field, len) && p[len] == ':')
			return strtoll(p + len + 1, NULL, 10);
	}
	return -1;
}

static long long meminfo(const char *field)
{
	return proc_kb("/proc/meminfo", field);
}

/*
 * n private anonymous pages between two PROT_NONE guard pages, aligned to
 * the THP size when thp so that the region can get huge pages.
 */
static unsigned char *map_region(size_t n, bool thp)
{
	size_t align = thp ? thp_bytes : (size_t)ps;
	size_t len = n * ps + 2 * ps + align;
	unsigned char *p, *q;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	q = (unsigned char *)(((uintptr_t)p + ps + align - 1) & ~(uintptr_t)(align - 1));
	if (mprotect(q - ps, ps, PROT_NONE) || mprotect(q + n * ps, ps, PROT_NONE)) {
		munmap(p, len);
		return NULL;
	}
	madvise(q, n * ps, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return q;
}

static size_t pages_of(size_t bytes, size_t min)
{
	size_t n = bytes / ps;

	return n < min ? min : n;
}

/* ------------------------------------------------------------------ */
/* Patterns                                                             */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t pat_seed(uint32_t tag, uint64_t idx, uint32_t gen)
{
	return mix64(mix64(mix64(tag + 0x5157ULL) ^ idx) ^ gen) | 1;
}

/* Words [from, to) of a page get the pattern of (tag, idx, gen). */
static void pat_fill(unsigned char *page, size_t from, size_t to, uint32_t tag,
		     uint64_t idx, uint32_t gen)
{
	uint64_t *w = (uint64_t *)page, s = pat_seed(tag, idx, gen);
	size_t i;

	for (i = from; i < to; i++)
		w[i] = s + i * PAT_STEP;
}

/* First word in [from, to) that does not hold the pattern, or -1. */
static long pat_check(const unsigned char *page, size_t from, size_t to,
		      uint32_t tag, uint64_t idx, uint32_t gen)
{
	const uint64_t *w = (const uint64_t *)page;
	uint64_t s = pat_seed(tag, idx, gen);
	size_t i;

	for (i = from; i < to; i++)
		if (w[i] != s + i * PAT_STEP)
			return i;
	return -1;
}

/*
 * Describe what a page holds instead of (tag, idx, gen) in words [from,
 * to): zeros, an older or newer generation (a lost or misplaced write),
 * another owner's pattern (alt_tag, e.g. the other side of a fork) or
 * something else.
 */
static void pat_explain(const unsigned char *page, size_t from, size_t to,
			uint32_t tag, uint32_t alt_tag, uint64_t idx,
			uint32_t gen, char *buf, size_t len)
{
	const uint64_t *w = (const uint64_t *)page;
	long bad = pat_check(page, from, to, tag, idx, gen);
	size_t i, zero = 0;
	int d;

	for (i = from; i < to; i++)
		zero += !w[i];
	if (zero == to - from) {
		snprintf(buf, len, "words %zu-%zu are all zero", from, to - 1);
		return;
	}
	for (d = -4; d <= 4; d++) {
		if (!d || (d < 0 && gen < (uint32_t)-d))
			continue;
		if (pat_check(page, from, to, tag, idx, gen + d) < 0) {
			snprintf(buf, len, "holds generation %u instead of %u (%s)",
				 gen + d, gen, d < 0 ? "a write was lost" :
				 "a newer write showed up");
			return;
		}
	}
	if (alt_tag != tag) {
		for (d = -2; d <= 2; d++) {
			if (pat_check(page, from, to, alt_tag, idx, gen + d) < 0) {
				snprintf(buf, len, "holds the other process's data (tag %#x gen %u)",
					 alt_tag, gen + d);
				return;
			}
		}
	}
	snprintf(buf, len, "word %ld is %#" PRIx64 " (expected %#" PRIx64 "), %zu zero words",
		 bad, w[bad], (uint64_t)(pat_seed(tag, idx, gen) + bad * PAT_STEP), zero);
}

static void report(struct wstat *me, const void *page, size_t idx,
		   const char *what)
{
	char d[96];

	cnt_add(&me->corruptions, 1);
	if (__atomic_fetch_add(&me->reports, 1, __ATOMIC_RELAXED) >= MAX_REPORTS)
		return;
	msg("%s: CORRUPTION page %zu at %p: %s (pid %d, now %s)", me->name, idx,
	    page, what, getpid(), pm_describe(pagemap_entry(page), d, sizeof(d)));
}

/* Verify a whole-page pattern; reports and returns false on a mismatch. */
static bool verify_page(struct wstat *me, const unsigned char *page,
			size_t idx, uint32_t tag, uint32_t gen, uint32_t alt_tag)
{
	char why[160];

	cnt_add(&me->verified, 1);
	if (pat_check(page, 0, words, tag, idx, gen) < 0)
		return true;
	pat_explain(page, 0, words, tag, alt_tag, idx, gen, why, sizeof(why));
	report(me, page, idx, why);
	return false;
}

/* Count the pages of [p, p + n pages) that are swap entries right now. */
static void count_swapped(struct wstat *me, const unsigned char *p, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += page_swapped(p + i * ps);
	op_add(me, OP_SWAPPED, c);
}

static void page_out(struct wstat *me, void *p, size_t n)
{
	if (madvise(p, n * ps, MADV_PAGEOUT) && errno != EAGAIN && errno != ENOMEM) {
		static int once;

		if (!once++)
			error_msg(me, "MADV_PAGEOUT: %s", strerror(errno));
	}
	op_add(me, OP_PAGEOUT, 1);
}

/* ------------------------------------------------------------------ */
/* A simple region: n pages, one owner tag, a generation per page       */

struct region {
	unsigned char *p;
	size_t n;
	uint32_t tag;
	uint32_t *gen;
};

static int region_init(struct region *r, size_t n, uint32_t tag, bool thp)
{
	size_t i;

	r->n = n;
	r->tag = tag;
	r->p = map_region(n, thp);
	r->gen = calloc(n, sizeof(*r->gen));
	if (!r->p || !r->gen)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pat_fill(r->p + i * ps, 0, words, tag, i, 0);
	return 0;
}

static unsigned char *rpage(struct region *r, size_t i)
{
	return r->p + i * ps;
}

/* Verify page i; on a mismatch rewrite it so it is reported only once. */
static void region_verify(struct wstat *me, struct region *r, size_t i,
			  uint32_t alt_tag)
{
	if (!verify_page(me, rpage(r, i), i, r->tag, r->gen[i], alt_tag))
		pat_fill(rpage(r, i), 0, words, r->tag, i, ++r->gen[i]);
}

static void region_write(struct wstat *me, struct region *r, size_t i)
{
	pat_fill(rpage(r, i), 0, words, r->tag, i, ++r->gen[i]);
	op_add(me, OP_WRITE, 1);
}

static void region_verify_all(struct wstat *me, struct region *r,
			      uint32_t alt_tag)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		region_verify(me, r, i, alt_tag);
	op_add(me, OP_VERIFY_PASS, 1);
}

/* The end of every worker: page everything out, read it back, check. */
static void region_final(struct wstat *me, struct region *r, uint32_t alt_tag)
{
	page_out(me, r->p, r->n);
	count_swapped(me, r->p, r->n);
	region_verify_all(me, r, alt_tag);
}

/* ------------------------------------------------------------------ */
/* pageout: a writer and a pager on one region                          */

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
			page_out(pg->me, rpage(pg->r, start), len);
		}
		sleep_us(rnd(&pg->seed) % 2000);
	}
	return NULL;
}

static void worker_pageout(struct wstat *me)
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

/* ------------------------------------------------------------------ */
/* odirect: O_DIRECT reads into pages that are paged out and written    */

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
		page_out(dp->me, page, 1);
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
		if (opt.verbose)
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
			page_out(dp->me, dp->p, dp->n);
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

	page_out(dp->me, dp->p, dp->n);
	count_swapped(dp->me, dp->p, dp->n);
	for (i = 0; i < dp->n; i++)
		dio_verify(dp, i);
	op_add(dp->me, OP_VERIFY_PASS, 1);
}

static void worker_odirect(struct wstat *me)
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

/* ------------------------------------------------------------------ */
/* fork: children verify what they inherited, then write their copies  */

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
	page_out(me, r->p, r->n);
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
static void child_exited(struct wstat *me, pid_t pid, int status)
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

static void worker_fork(struct wstat *me)
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
		page_out(me, r.p, r.n);
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

/* ------------------------------------------------------------------ */
/* race: two threads fault on the same swap entries, a third forks     */

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
	page_out(rw->me, rw->p, rw->n);
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
	page_out(rw->me, rw->p, rw->n);
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
	kb = proc_kb("/proc/self/smaps_rollup", "AnonHugePages");
	if (kb > 0)
		op_add(rw->me, OP_RACE_THP, kb / (thp_bytes >> 10));
	if (!rw->me->ops[OP_RACE_ITER])
		msg("%s: %zu pages, %lld kB of them in THPs after the first fill", rw->me->name,
		    rw->n, kb);
}

/* Were both walks in progress at once, each with a fault? */
static bool race_overlapped(const struct race_worker *rw)
{
	unsigned int s = rw->t0[0] > rw->t0[1] ? rw->t0[0] : rw->t0[1];
	unsigned int e = rw->t1[0] < rw->t1[1] ? rw->t1[0] : rw->t1[1];

	return s < e && rw->faults[0] > 0 && rw->faults[1] > 0;
}

/* Did the last fork() run while a faulter walked and faulted? */
static bool race_fork_overlapped(struct race_worker *rw)
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

static void worker_race(struct wstat *me)
{
	struct race_worker *rw = calloc(1, sizeof(*rw));
	struct race_lane_arg la[RACE_LANES];
	unsigned int seed = opt.seed ^ (me->id * 65537 + 9);
	size_t bytes = thp_bytes <= (4UL << 20) ? thp_bytes : 2UL << 20;
	uint64_t iter = 0;
	int t, err;

	if (!rw) {
		error_msg(me, "out of memory");
		return;
	}
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
	if (!rw->p) {
		error_msg(me, "out of memory");
		return;
	}
	race_fill_all(rw);
	pthread_barrier_init(&rw->go, NULL, RACE_LANES + 1);
	pthread_barrier_init(&rw->done, NULL, RACE_LANES + 1);
	pthread_mutex_init(&rw->fork_lock, NULL);
	for (t = 0; t < RACE_LANES; t++) {
		la[t].rw = rw;
		la[t].lane = t;
		err = pthread_create(&rw->th[t], NULL, race_faulter, &la[t]);
		if (err) {
			error_msg(me, "pthread_create: %s", strerror(err));
			return;
		}
	}
	race_pin(rw);
	err = pthread_create(&rw->th[RACE_LANES], NULL, race_forker, rw);
	if (err) {
		error_msg(me, "pthread_create: %s", strerror(err));
		return;
	}
	while (!stopping()) {
		if (iter % 64 == 0)
			race_refill(rw);
		iter++;
		if (iter % 16 == 0) {
			rw->start = 0;
			rw->len = rw->n;
		} else {
			rw->len = 1 + rnd(&seed) % RACE_MAX_RUN;
			rw->start = rnd(&seed) % (rw->n - rw->len + 1);
		}
		page_out(me, rw->p + rw->start * ps, rw->len);
		count_swapped(me, rw->p + rw->start * ps, rw->len);
		rw->reader = rnd(&seed) % 4 == 0 ? (int)(rnd(&seed) % RACE_LANES) : -1;
		for (t = 0; t < RACE_LANES; t++)
			rw->spin[t] = 0;
		rw->spin[rnd(&seed) % RACE_LANES] = rnd(&seed) & 1 ? 1u << (rnd(&seed) % 17) : 0;
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
	__atomic_store_n(&rw->quit, 1, __ATOMIC_RELEASE);
	pthread_barrier_wait(&rw->go);
	for (t = 0; t <= RACE_LANES; t++)
		pthread_join(rw->th[t], NULL);
	/* The end: everything out, read back through swap, checked. */
	page_out(me, rw->p, rw->n);
	count_swapped(me, rw->p, rw->n);
	race_check_all(rw, "final check");
	op_add(me, OP_VERIFY_PASS, 1);
}

/* ------------------------------------------------------------------ */
/* swapoff: cycle a second, higher priority swap area                   */

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
	if (opt.verbose)
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
	if (opt.verbose)
		msg("%s: swapoff %s took %.1f s", me->name, s->path, now() - t0);
	s->path[0] = '\0';
	return 0;
}

static void worker_swapoff(struct wstat *me)
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
		page_out(me, r.p, r.n);
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

/* ------------------------------------------------------------------ */
/* ksm: pairs of identical pages in a mergeable region                  */

struct ksm_saved {
	char run[16], pages_to_scan[16], sleep_millisecs[16];
	bool valid;
};

static int ksm_start(struct ksm_saved *s)
{
	s->valid = false;
	if (read_file(KSM_DIR "run", s->run, sizeof(s->run)) ||
	    read_file(KSM_DIR "pages_to_scan", s->pages_to_scan, sizeof(s->pages_to_scan)) ||
	    read_file(KSM_DIR "sleep_millisecs", s->sleep_millisecs,
		      sizeof(s->sleep_millisecs)))
		return -ENOENT;
	s->valid = true;
	if (write_file(KSM_DIR "pages_to_scan", "200") ||
	    write_file(KSM_DIR "sleep_millisecs", "20") ||
	    write_file(KSM_DIR "run", "1"))
		return -EIO;
	return 0;
}

static void ksm_restore(struct ksm_saved *s)
{
	if (!s->valid)
		return;
	write_file(KSM_DIR "run", s->run);
	write_file(KSM_DIR "pages_to_scan", s->pages_to_scan);
	write_file(KSM_DIR "sleep_millisecs", s->sleep_millisecs);
}

static long ksm_sharing(void)
{
	char buf[32];

	if (read_file(KSM_DIR "pages_sharing", buf, sizeof(buf)))
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

static void worker_ksm(struct wstat *me)
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
	if (ksm_start(&saved)) {
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
			page_out(me, rpage(&r, 2 * k), 2);
			break;
		case 2:
			page_out(me, r.p, r.n);
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
	page_out(me, r.p, r.n);
	count_swapped(me, r.p, r.n);
	for (i = 0; i < r.n; i++)
		ksm_verify(me, &r, i);
	op_add(me, OP_VERIFY_PASS, 1);
}

/* ------------------------------------------------------------------ */
/* pressure: more than the RAM, swept over and over                     */

static void worker_pressure(struct wstat *me)
{
	struct region r;
	size_t i;
	int pass;

	if (pressure_pages <= 0) {
		skip_worker(me, "disabled (-m 0 or no swap)");
		return;
	}
	write_file("/proc/self/oom_score_adj", "1000");
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

/* ------------------------------------------------------------------ */
/* main                                                                 */

static void (*const worker_fn[NR_KINDS])(struct wstat *) = {
	[K_PAGEOUT] = worker_pageout,
	[K_ODIRECT] = worker_odirect,
	[K_FORK] = worker_fork,
	[K_RACE] = worker_race,
	[K_SWAPOFF] = worker_swapoff,
	[K_KSM] = worker_ksm,
	[K_PRESSURE] = worker_pressure,
};

static int start_worker(enum kind kind, int id)
{
	struct wstat *w;
	pid_t pid;

	if (sh->nr >= MAX_WORKERS)
		return -1;
	w = &sh->w[sh->nr++];
	w->kind = kind;
	w->id = id;
	snprintf(w->name, sizeof(w->name), "%s%d", kind_name[kind], id);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		w->errors++;
		msg("%s: fork: %s", w->name, strerror(errno));
		w->reaped = 1;
		return -1;
	}
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(0);
		pagemap_reopen();
		worker_fn[kind](w);
		__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
		_exit(0);
	}
	w->pid = pid;
	return 0;
}

/*
 * Where the threads of a hung worker are: state, wait channel and
 * syscall (number and arguments) of each, from /proc.
 */
static void dump_threads(struct wstat *w)
{
	char path[64], stat[512], wchan[64], sc[160], *p;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", w->pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		int tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", w->pid, tid);
		if (read_file(path, stat, sizeof(stat)))
			continue;
		p = strrchr(stat, ')');
		snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", w->pid, tid);
		if (read_file(path, wchan, sizeof(wchan)))
			strcpy(wchan, "?");
		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", w->pid, tid);
		if (read_file(path, sc, sizeof(sc)))
			strcpy(sc, "?");
		msg("%s: thread %d state %c wchan %s syscall %s", w->name, tid,
		    p && p[1] ? p[2] : '?', wchan, sc);
	}
	closedir(d);
}

static void kill_workers(int sig)
{
	int i;

	for (i = 0; i < sh->nr; i++)
		if (sh->w[i].pid > 0 && !sh->w[i].reaped)
			kill(sh->w[i].pid, sig);
}

static void watchdog(int sig)
{
	static const char bail[] = "Bail out! swap_stress: watchdog expired, workers killed\n";

	(void)sig;
	kill_workers(SIGKILL);
	if (write(STDOUT_FILENO, bail, sizeof(bail) - 1) < 0)
		_exit(KSFT_FAIL);
	_exit(KSFT_FAIL);
}

/* Reap what has exited; returns the number of workers still running. */
static int reap_workers(void)
{
	int i, left = 0, status;

	for (i = 0; i < sh->nr; i++) {
		struct wstat *w = &sh->w[i];

		if (w->reaped)
			continue;
		if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
			w->reaped = 1;
			w->status = status;
			if (WIFSIGNALED(status))
				msg("%s: killed by signal %d", w->name, WTERMSIG(status));
			continue;
		}
		left++;
	}
	return left;
}

struct totals {
	uint64_t ops[NR_OPS];
	uint64_t verified, corruptions, errors;
};

static void sum(struct totals *t, int kind)
{
	int i, o;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < sh->nr; i++) {
		struct wstat *w = &sh->w[i];

		if (kind >= 0 && w->kind != kind)
			continue;
		for (o = 0; o < NR_OPS; o++) {
			if (o == OP_KSM_SHARING)
				t->ops[o] = t->ops[o] > w->ops[o] ? t->ops[o] : w->ops[o];
			else
				t->ops[o] += w->ops[o];
		}
		t->verified += w->verified;
		t->corruptions += w->corruptions;
		t->errors += w->errors;
	}
}

static long long swap_used_max;

/* Swap in use now, and the maximum seen, in kB. */
static long long swap_used(void)
{
	long long used = meminfo("SwapTotal") - meminfo("SwapFree");

	if (used > swap_used_max)
		swap_used_max = used;
	return used;
}

static void progress(double t0)
{
	struct totals t;

	sum(&t, -1);
	msg("t=%.0fs: %" PRIu64 " pages verified, %" PRIu64 " corruptions, %" PRIu64
	    " errors; pageout %" PRIu64 ", odirect %" PRIu64 "+%" PRIu64 " (raced %" PRIu64
	    "), forks %" PRIu64 ", swapoff %" PRIu64 ", pressure sweeps %" PRIu64
	    " (%" PRIu64 " pages touched), swap used %lld kB (max %lld), AnonHugePages %lld kB",
	    now() - t0, t.verified, t.corruptions, t.errors,
	    t.ops[OP_PAGEOUT], t.ops[OP_ODIRECT], t.ops[OP_ODIRECT_SLOW],
	    t.ops[OP_ODIRECT_RACED], t.ops[OP_FORK], t.ops[OP_SWAPOFF],
	    t.ops[OP_SWEEP], t.ops[OP_TOUCH], swap_used(), swap_used_max,
	    meminfo("AnonHugePages"));
}

/* The reference copy of the fast disk's data, read through the page cache. */
static void read_reference(void)
{
	size_t got = 0, i, tl = strlen(REF_TEXT);
	ssize_t n;
	int fd;

	if (!env.fast_read) {
		snprintf(ref_why, sizeof(ref_why), "COWSWAP_FAST_READ_DEV not set");
		return;
	}
	fd = open(env.fast_read, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(ref_why, sizeof(ref_why), "open %s: %s", env.fast_read,
			 strerror(errno));
		return;
	}
	ref = malloc(REF_LEN);
	while (ref && got < REF_LEN) {
		n = read(fd, ref + got, REF_LEN - got);
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	if (!ref || got < REF_LEN) {
		snprintf(ref_why, sizeof(ref_why), "cannot read %d bytes from %s",
			 REF_LEN, env.fast_read);
		free(ref);
		ref = NULL;
		return;
	}
	for (i = 0; i < REF_LEN && ref[i] == (unsigned char)REF_TEXT[i % tl]; i++)
		;
	if (i < REF_LEN)
		msg("note: %s differs from the expected test pattern at byte %zu; "
		    "checking O_DIRECT reads against the buffered read", env.fast_read, i);
}

#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

/*
 * 6.1 turns THP off on machines with less than 512 MiB; our guests are
 * smaller.  Switch it to "madvise" for the MADV_HUGEPAGE regions (the
 * pressure worker, the first pageout worker) and remember the old mode.
 */
static void thp_enable(char *saved, size_t len)
{
	char buf[64], *l, *r;

	saved[0] = '\0';
	if (read_file(THP_ENABLED, buf, sizeof(buf)))
		return;
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r || strncmp(l + 1, "never", 5))
		return;
	*r = '\0';
	snprintf(saved, len, "%s", l + 1);
	if (write_file(THP_ENABLED, "madvise"))
		saved[0] = '\0';
}

/* hpage_pmd_size: what MADV_HUGEPAGE regions are aligned to. */
static void thp_size_read(void)
{
	char buf[32];
	long long v;

	if (read_file("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", buf, sizeof(buf)))
		return;
	v = strtoll(buf, NULL, 10);
	if (v > ps && v % ps == 0)
		thp_bytes = v;
}

/* The /proc/vmstat counters the report shows, as deltas over the run. */
static const char *const vm_name[] = {
	"thp_fault_alloc", "thp_fault_fallback", "thp_split_pmd", "thp_split_page",
	"thp_swpout", "thp_swpout_fallback", "pswpin", "pswpout",
};

#define NR_VM	ARRAY_SIZE(vm_name)

static void vmstat_read(long long *v)
{
	char name[64];
	long long val;
	size_t i;
	FILE *f;

	for (i = 0; i < NR_VM; i++)
		v[i] = -1;
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return;
	while (fscanf(f, "%63s %lld", name, &val) == 2)
		for (i = 0; i < NR_VM; i++)
			if (!strcmp(name, vm_name[i]))
				v[i] = val;
	fclose(f);
}

static void vmstat_json(char *buf, size_t len, const long long *a, const long long *b)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < NR_VM && off < len; i++) {
		if (a[i] < 0 || b[i] < 0)
			continue;
		off += snprintf(buf + off, len - off, "%s\"%s\":%lld", off ? "," : "",
				vm_name[i], b[i] - a[i]);
	}
}

static const char *getenv_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void usage(const char *prog, int code)
{
	printf("usage: %s [-t seconds] [-m pressure-MiB] [-p pageout] [-o odirect] [-f fork]\n"
	       "          [-r race] [-S slow-every] [-z 0|1] [-g grace] [-s seed] [-v]\n"
	       "Environment: COWSWAP_SWAP_DEV, COWSWAP_SLOW_SWAP_DEV, COWSWAP_FAST_READ_DEV,\n"
	       "COWSWAP_SLOW_READ_DEV (see the comment at the top of swap_stress.c)\n", prog);
	exit(code);
}

static int num_arg(const char *s, const char *prog)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*end || v < -1 || v > 1000000)
		usage(prog, KSFT_FAIL);
	return (int)v;
}

static void json_ops(char *buf, size_t len, const struct totals *t)
{
	size_t off = 0;
	int o;

	for (o = 0; o < NR_OPS && off < len; o++)
		off += snprintf(buf + off, len - off, "%s\"%s\":%" PRIu64, o ? "," : "",
				op_name[o], t->ops[o]);
}

int main(int argc, char **argv)
{
	int c, i, k, left, hung = 0, crashed = 0;
	double t0, t_stop, t_end, next_progress;
	long long mem_kb, swap_free_kb;
	char opsbuf[2048], kinds[1024], thp_saved[16], vmbuf[512];
	size_t off = 0;
	struct totals all;
	long long vm0[NR_VM], vm1[NR_VM];

	while ((c = getopt(argc, argv, "t:m:p:o:f:r:S:z:g:s:vh")) != -1) {
		switch (c) {
		case 't':
			opt.seconds = num_arg(optarg, argv[0]);
			break;
		case 'm':
			opt.pressure_mb = num_arg(optarg, argv[0]);
			break;
		case 'p':
			opt.pageout = num_arg(optarg, argv[0]);
			break;
		case 'o':
			opt.odirect = num_arg(optarg, argv[0]);
			break;
		case 'f':
			opt.fork = num_arg(optarg, argv[0]);
			break;
		case 'r':
			opt.race = num_arg(optarg, argv[0]);
			break;
		case 'S':
			opt.slow_every = num_arg(optarg, argv[0]);
			break;
		case 'z':
			opt.zram = num_arg(optarg, argv[0]);
			break;
		case 'g':
			opt.grace = num_arg(optarg, argv[0]);
			break;
		case 's':
			opt.seed = (unsigned int)num_arg(optarg, argv[0]);
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage(argv[0], 0);
			break;
		default:
			usage(argv[0], KSFT_FAIL);
		}
	}
	if (opt.seconds < 1 || opt.grace < 10)
		usage(argv[0], KSFT_FAIL);

	ksft_print_header();
	ksft_set_plan(NR_KINDS + 1);
	ps = sysconf(_SC_PAGESIZE);
	words = ps / 8;
	if (!opt.seed)
		opt.seed = (unsigned int)time(NULL) ^ getpid();
	env.swap_dev = getenv_nonempty("COWSWAP_SWAP_DEV");
	env.slow_swap = getenv_nonempty("COWSWAP_SLOW_SWAP_DEV");
	env.fast_read = getenv_nonempty("COWSWAP_FAST_READ_DEV");
	env.slow_read = getenv_nonempty("COWSWAP_SLOW_READ_DEV");

	if (geteuid() != 0) {
		for (k = 0; k <= NR_KINDS; k++)
			ksft_test_result_skip("stress/%s needs root\n",
					      k < NR_KINDS ? kind_name[k] : "workers");
		ksft_finished();
	}
	mem_kb = meminfo("MemTotal");
	swap_free_kb = meminfo("SwapFree");
	if (opt.pressure_mb >= 0) {
		pressure_pages = opt.pressure_mb * (1L << 20) / ps;
	} else if (mem_kb > 0 && swap_free_kb > 0) {
		long long kb = mem_kb * 5 / 4;

		if (kb > mem_kb / 2 + swap_free_kb / 2)
			kb = mem_kb / 2 + swap_free_kb / 2;
		pressure_pages = kb * 1024 / ps;
	}
	read_reference();
	thp_enable(thp_saved, sizeof(thp_saved));
	thp_size_read();
	vmstat_read(vm0);
	msg("swap_stress: %d s, page size %ld, seed %u, MemTotal %lld kB, SwapFree %lld kB, "
	    "pressure %ld MiB, THP %zu kB; swap %s, slow swap %s, O_DIRECT %s / throttled %s%s",
	    opt.seconds, ps, opt.seed, mem_kb, swap_free_kb,
	    pressure_pages * ps >> 20, thp_bytes >> 10, env.swap_dev ?: "-", env.slow_swap ?: "-",
	    env.fast_read ?: "-", env.slow_read ?: "-",
	    thp_saved[0] ? "; THP switched from never to madvise" : "");

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		ksft_exit_fail_msg("mmap of the shared statistics: %s\n", strerror(errno));
	memset(sh, 0, sizeof(*sh));

	signal(SIGALRM, watchdog);
	alarm(opt.seconds + opt.grace + 60);
	t0 = now();
	start_worker(K_PRESSURE, 0);
	for (i = 0; i < opt.pageout; i++)
		start_worker(K_PAGEOUT, i);
	for (i = 0; i < opt.odirect; i++)
		start_worker(K_ODIRECT, i);
	for (i = 0; i < opt.fork; i++)
		start_worker(K_FORK, i);
	for (i = 0; i < opt.race; i++)
		start_worker(K_RACE, i);
	start_worker(K_SWAPOFF, 0);
	start_worker(K_KSM, 0);
	/* On time, and not slowed down by the pressure we create. */
	if (setpriority(PRIO_PROCESS, 0, -15))
		msg("setpriority: %s", strerror(errno));
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		msg("mlockall: %s", strerror(errno));

	next_progress = t0 + 15;
	while (now() < t0 + opt.seconds) {
		sleep_us(200000);
		if (!reap_workers())
			break;
		swap_used();
		if (now() >= next_progress) {
			progress(t0);
			next_progress += 15;
		}
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	t_stop = now();
	msg("stop after %.0f s; final verification", t_stop - t0);
	while ((left = reap_workers()) && now() < t_stop + opt.grace)
		sleep_us(200000);
	if (left) {
		for (i = 0; i < sh->nr; i++)
			if (!sh->w[i].reaped) {
				sh->w[i].hung = 1;
				msg("%s: still running %d s after the stop, killed",
				    sh->w[i].name, opt.grace);
				dump_threads(&sh->w[i]);
			}
		kill_workers(SIGKILL);
		while (reap_workers())
			sleep_us(100000);
	}
	t_end = now();
	progress(t0);
	vmstat_read(vm1);
	vmstat_json(vmbuf, sizeof(vmbuf), vm0, vm1);
	if (thp_saved[0])
		write_file(THP_ENABLED, thp_saved);

	for (k = 0; k < NR_KINDS; k++) {
		struct totals t;
		int nr = 0, skipped = 0;
		const char *why = "";

		for (i = 0; i < sh->nr; i++) {
			if (sh->w[i].kind != k)
				continue;
			nr++;
			if (sh->w[i].skipped) {
				skipped++;
				why = sh->w[i].skip_why;
			}
		}
		sum(&t, k);
		off += snprintf(kinds + off, sizeof(kinds) - off,
				"%s\"%s\":{\"workers\":%d,\"pages_verified\":%" PRIu64
				",\"corruptions\":%" PRIu64 ",\"errors\":%" PRIu64 "}",
				k ? "," : "", kind_name[k], nr, t.verified,
				t.corruptions, t.errors);
		if (t.corruptions)
			ksft_test_result_fail("stress/%s: %" PRIu64 " corruptions in %" PRIu64
					      " page verifications\n", kind_name[k],
					      t.corruptions, t.verified);
		else if (!nr || skipped == nr)
			ksft_test_result_skip("stress/%s %s\n", kind_name[k],
					      nr ? why : "no workers");
		else if (k == K_RACE)
			ksft_test_result_pass("stress/race: %" PRIu64 " pages verified; %" PRIu64
					      " of %" PRIu64 " iterations overlapped (%" PRIu64
					      " read against write), %" PRIu64 " of %" PRIu64
					      " forks raced a fault, %" PRIu64 " THPs\n",
					      t.verified, t.ops[OP_RACE_OVERLAP],
					      t.ops[OP_RACE_ITER], t.ops[OP_RACE_READ],
					      t.ops[OP_RACE_FORK_OVERLAP], t.ops[OP_RACE_FORK],
					      t.ops[OP_RACE_THP]);
		else
			ksft_test_result_pass("stress/%s: %" PRIu64 " pages verified\n",
					      kind_name[k], t.verified);
	}
	for (i = 0; i < sh->nr; i++) {
		struct wstat *w = &sh->w[i];

		hung += w->hung;
		if (!w->hung && (WIFSIGNALED(w->status) ||
				 (WIFEXITED(w->status) && WEXITSTATUS(w->status)) ||
				 !w->finished))
			crashed++;
	}
	sum(&all, -1);
	if (hung || crashed || all.errors)
		ksft_test_result_fail("stress/workers: %d hung, %d crashed, %" PRIu64
				      " errors\n", hung, crashed, all.errors);
	else
		ksft_test_result_pass("stress/workers: %d workers finished cleanly\n", sh->nr);

	json_ops(opsbuf, sizeof(opsbuf), &all);
	printf("COWSWAP-STRESS {\"seconds\":%.0f,\"total_seconds\":%.0f,\"page_size\":%ld,"
	       "\"mem_kb\":%lld,\"pressure_mb\":%ld,\"swap_used_max_kb\":%lld,"
	       "\"seed\":%u,\"thp_kb\":%zu,\"ops\":{%s},\"vmstat\":{%s},"
	       "\"pages_verified\":%" PRIu64 ",\"corruptions\":%" PRIu64 ",\"errors\":%" PRIu64
	       ",\"hung\":%d,\"crashed\":%d,\"kinds\":{%s}}\n",
	       t_stop - t0, t_end - t0, ps, mem_kb, pressure_pages * ps >> 20,
	       swap_used_max, opt.seed, thp_bytes >> 10,
	       opsbuf, vmbuf, all.verified, all.corruptions, all.errors, hung, crashed, kinds);
	fflush(stdout);
	ksft_finished();
	return 0;
}

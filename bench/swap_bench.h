/* SPDX-License-Identifier: GPL-2.0 */
/*
 * swap_bench.h - what the files of swap_bench share: options, the bench's
 * swap area, the page patterns, series of measurements and the benches
 * (see swap_bench.c).
 */
#ifndef SWAP_BENCH_H
#define SWAP_BENCH_H

#define _GNU_SOURCE
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
#include "test_util.h"

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

struct series {
	double v[MAX_RUNS * MAX_FORKS];
	int n;
};

struct options {
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
};

/* The bench's swap area. */
struct swap_use {
	char dev[PATH_MAX];
	long long size_kb;		/* the bench's swap area */
	bool dedicated;			/* we mkswap'ed and enabled it */
	struct swap_saved saved;	/* areas switched off meanwhile */
	bool only;
};

enum copy_mode { COPY_HELD, COPY_DROPPED, COPY_WRITEBACK, NR_COPY_MODES };

/* swap_bench.c */
extern struct options opt;
extern struct swap_use sw;
extern long ps;
extern size_t pages_per_mib;
extern int pm_fd;
extern bool pfn_visible;

/* The first word of page i holds tag(seed, i); a write fault stores ~tag. */
static inline uint64_t tag(unsigned int seed, size_t i)
{
	return ((uint64_t)seed << 40) ^ (i * 0x9e3779b97f4a7c15ULL >> 24) ^ i;
}

static inline uint64_t *word(char *p, size_t i, int w)
{
	return (uint64_t *)(p + i * ps) + w;
}

/* The reason for a SKIP into why (REASON_LEN bytes); -1. */
#define reason(why, ...)	reasonf(why, REASON_LEN, __VA_ARGS__)

/* CLOCK_MONOTONIC in microseconds. */
static inline double now_us(void)
{
	return now() * 1e6;
}

static inline void sleep_ms(long ms)
{
	sleep_us(ms * 1000);
}

static inline long long meminfo_kb(const char *key)
{
	return proc_value("/proc/meminfo", key);
}

/* copies.c */
extern const char *const copy_mode_name[NR_COPY_MODES];
void bench_copies(enum copy_mode mode);

/* fork_swapin.c */
void bench_fork(unsigned int mib);
void bench_swapin(unsigned int mib, bool disk);

/* swap_bench.c */
double cpu_us(void);
int wait_writeback(void);
int pm_read(const void *addr, size_t n, uint64_t *out);
void fill(char *p, size_t from, size_t to, unsigned int seed);
void write_all(char *p, size_t n, unsigned int seed);
void read_all(char *p, size_t n);
size_t bad_pages(char *p, size_t n, unsigned int seed);
long page_out_all(char *p, size_t n, uint64_t *pm);
char *swapped_region(size_t n, unsigned int seed, char *why);
void add(struct series *s, double v);
double median(struct series *s);
void result(const char *metric, unsigned int mib, const char *unit,
	    struct series *s, const char *extra);

/*
 * The TAP result of one measurement. kselftest.h keeps its counters in a
 * static variable per translation unit: every result must be counted in
 * swap_bench.c, which prints the plan and the totals, so copies.c and
 * fork_swapin.c report through these.
 */
enum bench_outcome { BENCH_PASS, BENCH_FAIL, BENCH_SKIP };
void bench_tap(enum bench_outcome how, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* SWAP_BENCH_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * swap_stress.h - what the files of the swap_stress test share: the
 * options, the per-worker statistics in shared memory, the page
 * patterns and regions, and the workers (see swap_stress.c).
 */
#ifndef SWAP_STRESS_H
#define SWAP_STRESS_H

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
#include "test_util.h"

#define MAX_WORKERS	32
#define MAX_REPORTS	8	/* corruption messages per worker */
#define REF_LEN		(256 << 10)
#define REF_TEXT	"cowswap O_DIRECT test data, sector by sector\n"
#define ZRAM_SIZE	(8ULL << 20)
#define SWAP2_PRIO	20	/* above /init's priority for the main area */
#define SLOW_PAGES	64	/* usable pages of the slow swap area */
#define PAT_STEP	0x9e3779b97f4a7c15ULL
#define CHILD_TAG	0x10000u

enum kind {
	K_PAGEOUT, K_ODIRECT, K_FORK, K_RACE, K_SWAPOFF, K_KSM, K_PRESSURE, K_FAULT, K_MEMCG,
	NR_KINDS
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
	OP_FAULT_INJECTED,	/* fault: windows in which the area failed I/O */
	OP_FAULT_WRITE_FAILED,	/* ... own pages whose write failed */
	OP_FAULT_READ_FAILED,	/* ... own pages whose slots failed reads */
	OP_SIGBUS,		/* ... SIGBUS seen touching own pages */
	OP_FAULT_SWAPOFF,	/* ... swapoff of the area after faults */
	OP_MEMCG_TOUCH,		/* memcg: pages touched */
	OP_MEMCG_HIGH,		/* ... memory.events "high" of its cgroup */
	OP_MEMCG_FAULTS,	/* ... memory.stat "pgmajfault" of its cgroup */
	NR_OPS
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
	int ready;		/* set up (fault workers): the others may start */
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

struct region {
	unsigned char *p;
	size_t n;
	uint32_t tag;
	uint32_t *gen;
};

struct totals {
	uint64_t ops[NR_OPS];
	uint64_t verified, corruptions, errors;
};

struct options {
	int seconds;
	long pressure_mb;	/* -1: automatic */
	int pageout;
	int odirect;
	int fork;
	int race;
	int fault;
	int memcg;
	int slow_every;
	int zram;		/* -1: automatic */
	int grace;
	unsigned int seed;
};

/* The disks the harness named (COWSWAP_*_DEV), NULL for none. */
struct environment {
	const char *swap_dev, *slow_swap;	/* swap areas */
	const char *fast_read, *slow_read;	/* O_DIRECT sources */
};

/* swap_stress.c */
extern struct options opt;
extern struct environment env;
extern struct shared *sh;
extern long ps;
extern size_t words;		/* 64-bit words per page */
extern unsigned char *ref;	/* buffered read of the fast disk */
extern char ref_why[160];	/* why there is no ref */
extern long pressure_pages;	/* size of the pressure worker's memory */
extern size_t thp_bytes;	/* hpage_pmd_size, when THP is there */

/* A region of n pages with guard pages, THP-aligned and MADV_HUGEPAGE when thp. */
static inline unsigned char *map_region(size_t n, bool thp)
{
	return map_guarded(n, thp ? thp_bytes : (size_t)ps, thp);
}

/* common.c */
bool stopping(void);
void op_add(struct wstat *me, enum op op, uint64_t n);
void op_max(struct wstat *me, enum op op, uint64_t v);
void cnt_add(uint64_t *c, uint64_t n);
void msg(const char *fmt, ...) __printf(1, 2);
void error_msg(struct wstat *me, const char *fmt, ...) __printf(2, 3);
void skip_worker(struct wstat *me, const char *fmt, ...) __printf(2, 3);
unsigned int rnd(unsigned int *s);
size_t pages_of(size_t bytes, size_t min);
uint64_t pat_seed(uint32_t tag, uint64_t idx, uint32_t gen);
void pat_fill(unsigned char *page, size_t from, size_t to, uint32_t tag,
	      uint64_t idx, uint32_t gen);
long pat_check(const unsigned char *page, size_t from, size_t to,
	       uint32_t tag, uint64_t idx, uint32_t gen);
void pat_explain(const unsigned char *page, size_t from, size_t to,
		 uint32_t tag, uint32_t alt_tag, uint64_t idx,
		 uint32_t gen, char *buf, size_t len);
void report(struct wstat *me, const void *page, size_t idx, const char *what);
bool verify_page(struct wstat *me, const unsigned char *page,
		 size_t idx, uint32_t tag, uint32_t gen, uint32_t alt_tag);
void count_swapped(struct wstat *me, const unsigned char *p, size_t n);
void worker_page_out(struct wstat *me, void *p, size_t n);
int region_init(struct region *r, size_t n, uint32_t tag, bool thp);
unsigned char *rpage(struct region *r, size_t i);
void region_verify(struct wstat *me, struct region *r, size_t i, uint32_t alt_tag);
void region_write(struct wstat *me, struct region *r, size_t i);
void region_verify_all(struct wstat *me, struct region *r, uint32_t alt_tag);
void region_final(struct wstat *me, struct region *r, uint32_t alt_tag);

/* faults.c */
void worker_fault(struct wstat *me);
void worker_memcg(struct wstat *me);

/* odirect.c */
void worker_odirect(struct wstat *me);

/* race.c */
void worker_race(struct wstat *me);

/* workers.c */
void worker_pageout(struct wstat *me);
void child_exited(struct wstat *me, pid_t pid, int status);
void worker_fork(struct wstat *me);
void worker_swapoff(struct wstat *me);
void worker_ksm(struct wstat *me);
void worker_pressure(struct wstat *me);

#endif /* SWAP_STRESS_H */

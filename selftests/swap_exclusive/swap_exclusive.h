/* SPDX-License-Identifier: GPL-2.0 */
/*
 * swap_exclusive.h - what the files of the swap_exclusive selftest share:
 * the result type, the options and environment, the setups (where a
 * page goes and how it comes back) and the memory a check tests, and
 * the functions one file offers the others.  See swap_exclusive.c for
 * the test itself.
 */
#ifndef SWAP_EXCLUSIVE_H
#define SWAP_EXCLUSIVE_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "cgroup_helpers.h"
#include "pagemap.h"
#include "swap_helpers.h"
#include "test_devs.h"
#include "test_util.h"
#include "vm_util.h"

#define WHY_LEN		320
#define ZRAM_DISKSIZE	(64ULL << 20)
#define CHECK_TIMEOUT	300	/* seconds, per check */
#define DM_DELAY_READ_MS	250	/* own slow source: a read waits this long */
#define DM_DELAY_RACY_MS	1	/* own fast source: about one jiffy */
#define OWN_SWAP_MB		128	/* own swap area (null_blk) */
#define OWN_SLOW_SWAP_MB	64	/* own slow-writeback swap area */
#define OWN_SLOW_SWAP_NSEC	250000000UL	/* its completion delay */
#define OWN_THP_SWAP_MB		64	/* own swap area of the THP setups */
#define OWN_THP_SWAP_NSEC	10000000UL	/* its completion delay */
#define OWN_FAULTY_SWAP_MB	32	/* own swap area of the faulty setup */
#define KPF_BIT_THP		22

enum res { RES_PASS, RES_FAIL, RES_SKIP };

/* Options (swap_exclusive.c) */
struct options {
	int iterations;		/* -n: O_DIRECT in-flight iterations */
	int racy_max;		/* -r: racy iteration cap */
	int racy_secs;		/* -t: racy time cap */
	int stable_pages;	/* -p: pages per stable_writes check */
	int ksm_secs;		/* -k: KSM merge timeout */
	int race_iters;		/* -f: iterations of the fault races */
	int race_secs;		/* -T: time cap of each fault race */
	const char *select[16];	/* -s: substrings of "<check>/<setup>" */
	int nr_select;
};

/* The environment: named devices and what the process may see. */
struct environment {
	const char *slow_read;
	const char *fast_read;
	const char *swap_dev;
	const char *slow_swap;
	const char *odirect_dir;
	bool zram;
	bool root;
	bool pfn_visible;
	bool kpageflags;
};

extern struct options opt;
extern struct environment env;
extern long ps;				/* page size */
extern unsigned int pattern_seq;	/* makes fill patterns unique */

/* A read-only FOLL_GET reference on the page held by a pipe (vmsplice). */
struct page_ref {
	int pfd[2];
};

/* A load the compiler must emit (READ_ONCE() of one byte): the fault happens here. */
static inline unsigned char read_byte(const void *p)
{
	return __atomic_load_n((const unsigned char *)p, __ATOMIC_RELAXED);
}

/* A store the compiler must emit (WRITE_ONCE() of one byte): the fault happens here. */
static inline void write_byte(unsigned char *p, unsigned char v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/*
 * What the setup's memory looks like (struct setup .mem).  For the THP
 * kinds the check's page is subpage nr/2 + 1 of a THP (never the first
 * one), "other" is subpage 1.
 */
enum mem_kind {
	MEM_PAGE,		/* a base page */
	MEM_THP_WHOLE,		/* PMD-mapped THP, paged out whole */
	MEM_THP_PTE,		/* PTE-mapped THP (PMD split), paged out whole */
	MEM_THP_SUBPAGE,	/* PMD-mapped THP, only the check's subpage paged out */
	MEM_THP_PARTIAL,	/* THP paged out whole, then its first half faulted back */
};

struct setup;

struct setup_ctx {
	const struct setup *setup;
	char dev[PATH_MAX];		/* the only active swap area */
	int prio;			/* its priority, -1 if none given */
	bool we_enabled;		/* dev was not active before */
	struct swap_saved saved;	/* areas switched off for the setup */
	struct zram_dev zram;
	int stable_orig;		/* stable_writes before, -1 unknown */
	struct nullb_dev own_dev;	/* the area, when the test made it */
	char thp_enabled[16];		/* THP "enabled" before a THP setup */
	bool thp_changed;		/* ... which changed it */
	struct memcg memcg;		/* memcg: the cgroup the worker is in */
	struct dm_fault_dev fault;	/* faulty: the area, over own_dev */
};

struct setup {
	const char *name;
	bool via_swapoff;	/* pages come back through swapoff */
	enum res (*prepare)(struct setup_ctx *c, char *why);
	void (*teardown)(struct setup_ctx *c);
	enum mem_kind mem;	/* what the checks' memory is */
};

enum {
	SETUP_FAULT, SETUP_SWAPOFF, SETUP_ZRAM, SETUP_STABLE,
	SETUP_THP_WHOLE, SETUP_THP_PTE, SETUP_THP_SUBPAGE, SETUP_THP_PARTIAL,
	SETUP_MEMCG, SETUP_FAULTY,
	NR_SETUPS
};

struct test_mem {
	enum mem_kind kind;
	char *page;		/* the page the check tests */
	char *other;		/* another subpage of the THP; NULL for a base page */
	char *thp;		/* the THP (thp_size bytes); NULL for a base page */
	char *raw;		/* the whole mapping */
	size_t raw_len;
	int whole;		/* last page-out: 1 the THP went to swap whole
				 * (in the swap cache unsplit), 0 it was split,
				 * -1 unknown
				 */
	const struct memcg *memcg;	/* paged out by its memory.reclaim */
	bool presplit;		/* split by mem_get() (MEM_REFS) */
	bool no_refs;		/* MEM_REFS asked, but the check must take none */
};

/* mem_get() flags */
#define MEM_REFS	1	/* the check holds references across the page-out */

/* r, once reasonf() has written the reason. */
static inline enum res with_reason(enum res r, int reasonf_ret)
{
	(void)reasonf_ret;
	return r;
}

/* The reason into why (WHY_LEN bytes), and that result. */
#define SKIP(why, ...)	with_reason(RES_SKIP, reasonf(why, WHY_LEN, __VA_ARGS__))
#define FAIL(why, ...)	with_reason(RES_FAIL, reasonf(why, WHY_LEN, __VA_ARGS__))

/* cow.c */
enum res check_fork_parent_first(struct setup_ctx *c, char *why);
enum res check_fork_child_first(struct setup_ctx *c, char *why);
enum res check_reuse_pfn(struct setup_ctx *c, char *why);
enum res check_shared_copy(struct setup_ctx *c, char *why);

/* faults.c */
enum res setup_faulty(struct setup_ctx *c, char *why);
void teardown_faulty(struct setup_ctx *c);
enum res check_swapout_error(struct setup_ctx *c, char *why);
enum res check_swapout_error_odirect(struct setup_ctx *c, char *why);
enum res check_swapin_error(struct setup_ctx *c, char *why);
enum res check_swapin_error_odirect(struct setup_ctx *c, char *why);

/* io_uring.c */
enum res check_iouring_fixed_buf(struct setup_ctx *c, char *why);

/* ksm.c */
enum res check_ksm(struct setup_ctx *c, char *why);
enum res check_ksm_write(struct setup_ctx *c, char *why);

/* memcg.c */
enum res setup_memcg(struct setup_ctx *c, char *why);
void teardown_memcg(struct setup_ctx *c);
enum res check_memcg_oom_swapin(struct setup_ctx *c, char *why);

/* odirect.c */
struct dio_params {
	size_t bs;		/* the read's size */
	unsigned char fill;	/* a byte the read's data does not hold */
	unsigned char marker;	/* another one */
};

struct dio_flight;
enum res dio_slow_params(struct dio_params *p, char *why);
enum res dio_flight_start(struct dio_flight **fp, void *buf, char *why);
bool dio_flight_done(const struct dio_flight *f);
ssize_t dio_flight_end(struct dio_flight *f, int *err);
bool dio_landed(const unsigned char *p);
void odirect_cleanup(void);
enum res check_odirect_inflight(struct setup_ctx *c, char *why);
enum res check_odirect_clear_refs(struct setup_ctx *c, char *why);
enum res check_odirect_racy(struct setup_ctx *c, char *why);
enum res check_fork_odirect_inflight(struct setup_ctx *c, char *why);

/* pageout.c */
unsigned char new_fill(void);
enum res page_out_why(void *p, size_t n, char *why);
enum res swapcache_held(uint64_t pfn, char *why);
enum res page_out_held(void *p, uint64_t pfn, char *why);
int page_ref_get(struct page_ref *r, void *p);
int page_ref_put(struct page_ref *r, void *buf);
enum res page_out_with_ref(struct page_ref *ref, void *p, uint64_t pfn, char *why);
int clear_refs_soft_dirty(void);
enum res page_out_soft_dirty(struct page_ref *ref, void *p, uint64_t pfn, char *why);
enum res clear_refs_on_swap_entry(const void *p, char *why);
long first_diff_byte(const unsigned char *p, long from, long to, unsigned char c);

/* races.c */
enum res check_race_write_write(struct setup_ctx *c, char *why);
enum res check_race_read_write(struct setup_ctx *c, char *why);
enum res check_race_read_wp(struct setup_ctx *c, char *why);
enum res check_fork_race_swapin(struct setup_ctx *c, char *why);

/* setups.c */
enum res own_swap_make(struct setup_ctx *c, const char *role, unsigned int mb,
		       unsigned long delay_nsec, char *why);
enum res setup_disk(struct setup_ctx *c, char *why);
void teardown_disk(struct setup_ctx *c);
enum res setup_zram(struct setup_ctx *c, char *why);
void teardown_zram(struct setup_ctx *c);
enum res setup_stable(struct setup_ctx *c, char *why);
void teardown_stable(struct setup_ctx *c);
int cycle_swap(struct setup_ctx *c, int stable_writes);
enum res bring_back(struct setup_ctx *c, char *why);

/* softdirty_uffd.c */
bool soft_dirty_supported(void);
enum res check_softdirty(struct setup_ctx *c, char *why);
int uffd_wp(int uffd, void *p, size_t len, bool protect);
int uffd_page_get(unsigned char **pp, unsigned char fill, char *why, enum res *res);
enum res check_uffd_wp(struct setup_ctx *c, char *why);
enum res check_uffd_wp_swapped(struct setup_ctx *c, char *why);
enum res check_softdirty_swapped(struct setup_ctx *c, char *why);

/* stable_writes.c */
enum res check_stable_on(struct setup_ctx *c, char *why);
enum res check_stable_off(struct setup_ctx *c, char *why);
enum res check_swapoff_writeback(struct setup_ctx *c, char *why);

/* supervisor.c */
void phase_set(const char *fmt, ...) __printf(1, 2);
void shared_zram_add(const struct zram_dev *z);
void shared_zram_del(const struct zram_dev *z);
void shared_stable_add(const char *dev, int orig);
void shared_stable_del(const char *dev);
int supervise(unsigned int plan);

/* swap_exclusive.c */
int run_checks(unsigned int plan);

/* thp.c */
enum res setup_thp(struct setup_ctx *c, char *why);
void teardown_thp(struct setup_ctx *c);
void mem_put(struct test_mem *m);
enum res mem_get(struct setup_ctx *c, struct test_mem *m, int flags, char *why);
int mem_page_out(struct test_mem *m, int tries);
const char *mem_describe(const struct test_mem *m);
enum res mem_page_out_why(struct test_mem *m, char *why);
enum res mem_page_out_held(struct test_mem *m, uint64_t pfn, char *why);

#endif /* SWAP_EXCLUSIVE_H */

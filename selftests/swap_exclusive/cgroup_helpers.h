/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgroup_helpers.h - a cgroup v2 memory cgroup of the test's own, for
 * the swap_exclusive selftest and the cowswap stress test: reclaim by a
 * memory limit (memory.reclaim, memory.max) instead of MADV_PAGEOUT, and
 * swap-ins into a cgroup too small for them.
 *
 * When no cgroup2 hierarchy is mounted, one is mounted on a temporary
 * directory and unmounted again by memcg_destroy().  The test's cgroup is
 * made where the memory controller may be enabled for it: below the root
 * when the process sits in the root cgroup, else next to the process's
 * own cgroup (cgroup v2 lets no cgroup with processes in it hand
 * controllers down).  Names start with TEST_DEV_PREFIX so that a
 * supervisor can remove what a killed test left (memcg_sweep()).
 *
 * Plain libc + Linux uapi, no kselftest dependency.  Functions return 0
 * or a value where documented, -errno on failure; *why receives a reason,
 * naming the CONFIG_ option when the kernel lacks memory cgroups.
 */
#ifndef CGROUP_HELPERS_H
#define CGROUP_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "swap_helpers.h"	/* PATH_MAX */

struct memcg {
	char path[PATH_MAX];	/* the test's cgroup directory */
	char home[PATH_MAX];	/* the cgroup the process came from */
	char mnt[PATH_MAX];	/* our own cgroup2 mount point, "" if none */
	bool created;
	bool entered;
};

/*
 * Make the memory cgroup TEST_DEV_PREFIX<role>, mounting cgroup2 and
 * enabling the memory controller where needed.  -ENODEV with a reason
 * when the kernel has no cgroup v2 memory controller.
 */
int memcg_create(struct memcg *m, const char *role, char *why, size_t why_len);

/* Move process pid (0: the caller, all its threads) into the cgroup. */
int memcg_enter(struct memcg *m, int pid);

/* Move the calling process back where memcg_create() found it. */
int memcg_leave(struct memcg *m);

/* Leave, remove the cgroup, unmount what memcg_create() mounted. */
int memcg_destroy(struct memcg *m);

/* Write val to the cgroup's file (memory.max, memory.high, ...). */
int memcg_write(const struct memcg *m, const char *file, const char *val);

/*
 * The number in a one-number file (memory.current), or the value of key
 * in a "key value" file (memory.events, memory.stat) when key is given;
 * -1 when there is none.
 */
long long memcg_read(const struct memcg *m, const char *file, const char *key);

/*
 * Make memory.current what the cgroup really uses: the kernel charges a
 * cgroup in batches of 64 pages (whatever the page size) and keeps what
 * a CPU charged ahead in memory.current until it is used or drained, so
 * memory.current may exceed the cgroup's memory by up to 63 pages per
 * CPU.  Writing memory.high below the usage drains these stocks (and
 * reclaims what it can, never invoking the OOM killer); memory.high is
 * then "max" again.  Returns memory.current once it no longer changes
 * (remote CPUs drain asynchronously), or -errno.
 */
long long memcg_settle(const struct memcg *m);

/*
 * Reclaim from the cgroup (memory.reclaim) until the n pages at p are
 * all swap entries, at most tries rounds: 0, -EAGAIN (still mapped) or
 * -errno.  The pages are aged with MADV_COLD first (a deactivation, no
 * page-out): reclaim skips young pages on its first passes.  Needs
 * pagemap_open().
 */
int memcg_page_out(const struct memcg *m, void *p, size_t n, int tries);

/*
 * Reclaim from the cgroup until none of the n pages (PFNs, 0 for none)
 * is in the swap cache any more, at most tries rounds: a page paged out
 * is only read from the swap device once it left the swap cache.
 * Returns how many are still there.  Needs /proc/kpageflags.
 */
int memcg_evict(const struct memcg *m, const uint64_t *pfn, size_t n, int tries);

/*
 * Remove TEST_DEV_PREFIX cgroups in every mounted cgroup2 hierarchy
 * (after moving their processes to the parent); the number removed.
 */
int memcg_sweep(void);

#endif /* CGROUP_HELPERS_H */

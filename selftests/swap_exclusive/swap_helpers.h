/* SPDX-License-Identifier: GPL-2.0 */
/*
 * swap_helpers.h - swap area set-up for the swap_exclusive selftest and
 * for the cowswap /init.
 *
 * Plain libc + Linux uapi, no kselftest dependency.  Functions return 0
 * (or a non-negative value where documented) on success and -errno on
 * failure; they print to stderr only when something fails.
 */
#ifndef SWAP_HELPERS_H
#define SWAP_HELPERS_H

#include <limits.h>
#include <stddef.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/*
 * The kernel's __printf(): 6.1's kselftest.h does not have it (later ones
 * define it the same way) and tools/include is not on the include path.
 */
#ifndef __printf
#define __printf(a, b) __attribute__((format(printf, a, b)))
#endif

/*
 * Write a version-1 swap header ("SWAPSPACE2" at the end of the first
 * page, page size from sysconf) on a block device or a regular file.
 * Refuses (-EBUSY) a block device that somebody holds exclusively, such
 * as an active swap area or a mounted file system.
 */
int swap_mkswap(const char *dev);

/*
 * Write val (no newline added) to a sysfs/configfs file: 0, -errno, or
 * -EIO on a short write.
 */
int write_text(const char *path, const char *val);

/* swapon(2); with SWAP_FLAG_PREFER and that priority when prio >= 0. */
int swap_on(const char *dev, int prio);

/* swapoff(2). */
int swap_off(const char *dev);

/* One line of /proc/swaps. */
struct swap_area {
	char path[PATH_MAX];
	char type[16];		/* "partition", "file" */
	long long size_kb;
	long long used_kb;
	int prio;		/* negative: no priority was given at swapon */
};

/*
 * Parse /proc/swaps into areas[0..max-1].  Returns the number of active
 * areas (may be larger than max: only max are stored) or -errno.
 */
int swap_list(struct swap_area *areas, int max);

/*
 * 1 if dev (compared by device number / inode) is an active swap area,
 * 0 if not, -errno on error.
 */
int swap_is_active(const char *dev);

/*
 * Priority of an active swap area (as in /proc/swaps) in *prio; returns 0,
 * -ENOENT if dev is not active or -errno.
 */
int swap_get_prio(const char *dev, int *prio);

#define SWAP_SAVED_MAX 16

/* Areas switched off by swap_only(), to be switched on again. */
struct swap_saved {
	int nr;
	struct swap_area areas[SWAP_SAVED_MAX];
};

/*
 * Make dev the only active swap area: swap it on (with prio, see
 * swap_on()) if it is not active yet, then swap off every other active
 * area and remember those in *saved.  On failure everything that was
 * switched off is switched on again and *saved is left empty.
 */
int swap_only(const char *dev, int prio, struct swap_saved *saved);

/*
 * Switch the areas remembered by swap_only() back on (their original
 * priority when one was given).  Returns 0 or the first error.
 */
int swap_restore(struct swap_saved *saved);

/*
 * /sys/block/<disk>/queue/stable_writes of the disk behind dev (a
 * whole-disk block device node such as /dev/vdc).  swapon() samples this
 * flag (SWP_STABLE_WRITES), so change it only while dev is swapped off.
 */
int blk_stable_writes_get(const char *dev);	/* 0, 1 or -errno */
int blk_stable_writes_set(const char *dev, int on);

/*
 * Best effort: run "modprobe -q <module> [param]" (param may be NULL) and
 * wait for it, its output thrown away; nothing happens when modprobe is
 * not on $PATH (an initramfs without it, a kernel without modules).  The
 * caller looks again for what the module provides.
 */
void try_modprobe(const char *module, const char *param);

/* A zram device used as swap. */
struct zram_dev {
	int id;
	int hot_added;		/* created through zram-control/hot_add */
	char path[32];		/* /dev/zram<id> */
};

/*
 * Get an unused zram device (zram-control/hot_add, or zram0 if hot_add is
 * not available and zram0's disksize is still 0) and give it a disksize.
 * Loads the zram module first when neither is there.  -ENODEV when zram
 * is not available.
 */
int zram_create(struct zram_dev *z, unsigned long long disksize);

/* Reset the device and hot-remove it if zram_create() hot-added it. */
int zram_destroy(struct zram_dev *z);

/* zram_create() + swap_mkswap() + swap_on(); undo with zram_swap_teardown(). */
int zram_swap_setup(struct zram_dev *z, unsigned long long disksize, int prio);
int zram_swap_teardown(struct zram_dev *z);

#endif /* SWAP_HELPERS_H */

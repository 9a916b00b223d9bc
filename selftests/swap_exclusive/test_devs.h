/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test_devs.h - block devices the swap_exclusive selftest makes for itself,
 * so that it needs no disk and no harness: memory-backed null_blk devices
 * (configfs), and dm-delay and fault-injecting (linear / dm-flakey)
 * mappings over one of them.
 *
 * Everything created here is named with the "cowswap_" prefix so that a
 * supervisor can find and remove what a killed test left behind
 * (test_devs_sweep()).
 *
 * Plain libc + Linux uapi, no kselftest dependency.  Functions return 0
 * on success and -errno on failure; *why (when given) receives a reason
 * a person can act on, naming the CONFIG_ option when kernel support is
 * missing.
 */
#ifndef TEST_DEVS_H
#define TEST_DEVS_H

#include <stddef.h>

#define TEST_DEV_PREFIX		"cowswap_"
#define TEST_DEV_WHY		256

struct nullb_dev {
	char name[32];		/* configfs directory, cowswap_<role> */
	char path[64];		/* its block device node */
	int created;
};

struct nullb_opts {
	unsigned int size_mb;
	unsigned int blocksize;
	/*
	 * complete every request this long after submission (timer mode);
	 * the data is copied at submission, only the completion waits
	 */
	unsigned long completion_nsec;
};

/*
 * Create a memory-backed null_blk named TEST_DEV_PREFIX<role> through
 * configfs (mounting configfs on /sys/kernel/config if needed).  -ENODEV
 * with a reason when null_blk or configfs is not available.
 */
int nullb_create(struct nullb_dev *d, const char *role,
		 const struct nullb_opts *o, char *why);
int nullb_destroy(struct nullb_dev *d);

struct dm_delay_dev {
	char name[32];		/* device-mapper name, cowswap_<role> */
	char path[64];		/* /dev/dm-<minor> */
	int created;
};

/*
 * A dm-delay mapping over the whole of lower (a block device node):
 * reads wait read_ms, writes write_ms before they are passed down, so
 * the data of a read lands in the buffer only after the delay, as a DMA
 * would.  -ENODEV with a reason when device-mapper or the delay target
 * is not available.
 */
int dm_delay_create(struct dm_delay_dev *d, const char *role,
		    const char *lower, unsigned int read_ms,
		    unsigned int write_ms, char *why);
int dm_delay_destroy(struct dm_delay_dev *d);

/* What a fault device does with I/O (dm_fault_set()). */
enum dm_fault_mode {
	DM_FAULT_NONE,		/* linear: every I/O passed down */
	DM_FAULT_WRITES,	/* flakey, error_writes: writes fail, reads pass */
	DM_FAULT_ALL,		/* flakey: every read and write fails */
};

/*
 * A device-mapper device over the whole of lower whose table is swapped
 * at will between a linear mapping and dm-flakey set to be down all the
 * time, so that I/O fails on demand and recovers.  -ENODEV with a reason
 * naming CONFIG_DM_FLAKEY when the flakey target is not available.
 */
struct dm_fault_dev {
	struct dm_delay_dev dm;	/* the device made (name, node) */
	char path[64];		/* its node, as dm.path */
	char lower[32];		/* "<major>:<minor>" of lower */
	unsigned long long bytes;
	enum dm_fault_mode mode;
};

int dm_fault_create(struct dm_fault_dev *f, const char *role, const char *lower,
		    char *why);
/* Switch to the table of mode (I/O in flight finishes first); 0 or -errno. */
int dm_fault_set(struct dm_fault_dev *f, enum dm_fault_mode mode, char *why);

/* Sectors [start, start + len) of a fault device. */
struct dm_range {
	unsigned long long start, len;
};

/*
 * dm_fault_set() for the n ranges only (sorted, not overlapping), rest
 * elsewhere; -ENOSPC when the table does not fit.
 */
int dm_fault_set_ranges(struct dm_fault_dev *f, enum dm_fault_mode mode,
			const struct dm_range *ranges, int n, enum dm_fault_mode rest,
			char *why);
int dm_fault_destroy(struct dm_fault_dev *f);

/*
 * Remove every dm device and null_blk whose name starts with
 * TEST_DEV_PREFIX (dm devices first: they hold the null_blks).  For a
 * supervisor cleaning up after a killed test; returns the number removed.
 */
int test_devs_sweep(void);

/*
 * Fill the first len bytes of a block device with a repeating text
 * pattern (buffered writes, then fsync).
 */
int blkdev_fill_text(const char *path, size_t len, const char *text);

#endif /* TEST_DEVS_H */

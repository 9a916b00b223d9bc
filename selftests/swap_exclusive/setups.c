// SPDX-License-Identifier: GPL-2.0
/*
 * setups.c - the swap areas the checks run on: disk, swapoff, zram, stable
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

/*
 * A swap area of the test's own on a memory-backed null_blk (with a
 * completion delay for the stable setup): made here, so mkswap on it is
 * fine.  The caller swaps it on.
 */
enum res own_swap_make(struct setup_ctx *c, const char *role,
		       unsigned int mb, unsigned long delay_nsec, char *why)
{
	struct nullb_opts o = { .size_mb = mb, .blocksize = 4096,
				.completion_nsec = delay_nsec };
	char dwhy[TEST_DEV_WHY];
	int r;

	if (nullb_create(&c->own_dev, role, &o, dwhy))
		return SKIP(why, "no swap device given and cannot make one: %s", dwhy);
	r = swap_mkswap(c->own_dev.path);
	if (r) {
		nullb_destroy(&c->own_dev);
		return SKIP(why, "mkswap %s: %s", c->own_dev.path, strerror(-r));
	}
	snprintf(c->dev, sizeof(c->dev), "%s", c->own_dev.path);
	return RES_PASS;
}

/*
 * fault and swapoff: the named disk (COWSWAP_SWAP_DEV), else the active
 * swap area with the highest priority, else a null_blk of our own.
 */
enum res setup_disk(struct setup_ctx *c, char *why)
{
	enum res res;
	int r, prio = -1;

	if (!env.root)
		return SKIP(why, "needs root");
	if (env.swap_dev) {
		struct stat st;

		if (stat(env.swap_dev, &st))
			return SKIP(why, "COWSWAP_SWAP_DEV=%s: %s", env.swap_dev,
				    strerror(errno));
		snprintf(c->dev, sizeof(c->dev), "%s", env.swap_dev);
	} else {
		struct swap_area *a = calloc(SWAP_SAVED_MAX, sizeof(*a));
		int i, nr, best = -1;

		if (!a)
			return SKIP(why, "out of memory");
		nr = swap_list(a, SWAP_SAVED_MAX);
		if (nr > SWAP_SAVED_MAX)
			nr = SWAP_SAVED_MAX;
		for (i = 0; i < nr; i++)
			if (best < 0 || a[i].prio > a[best].prio)
				best = i;
		if (best >= 0)
			snprintf(c->dev, sizeof(c->dev), "%s", a[best].path);
		free(a);
		if (best < 0) {
			res = own_swap_make(c, "swap", OWN_SWAP_MB, 0, why);
			if (res != RES_PASS)
				return res;
		}
	}
	r = swap_is_active(c->dev);
	if (r < 0) {
		nullb_destroy(&c->own_dev);
		return SKIP(why, "/proc/swaps: %s", strerror(-r));
	}
	c->we_enabled = !r;
	if (r == 1 && !swap_get_prio(c->dev, &prio) && prio < 0)
		prio = -1;
	c->prio = prio;
	r = swap_only(c->dev, c->prio, &c->saved);
	if (r) {
		nullb_destroy(&c->own_dev);
		return SKIP(why, "cannot make %s the only active swap area: %s",
			    c->dev, strerror(-r));
	}
	if (c->we_enabled && !swap_get_prio(c->dev, &prio) && prio >= 0)
		c->prio = prio;
	return RES_PASS;
}

void teardown_disk(struct setup_ctx *c)
{
	if (c->we_enabled && swap_is_active(c->dev) == 1)
		swap_off(c->dev);
	swap_restore(&c->saved);
	nullb_destroy(&c->own_dev);
}

enum res setup_zram(struct setup_ctx *c, char *why)
{
	int r;

	if (!env.root)
		return SKIP(why, "needs root");
	if (!env.zram)
		return SKIP(why, "zram setup disabled (COWSWAP_ZRAM=0)");
	r = zram_swap_setup(&c->zram, ZRAM_DISKSIZE, -1);
	if (r == -ENODEV)
		return SKIP(why, "zram not available (CONFIG_ZRAM)");
	if (r)
		return SKIP(why, "zram swap set-up failed: %s", strerror(-r));
	shared_zram_add(&c->zram);
	snprintf(c->dev, sizeof(c->dev), "%s", c->zram.path);
	c->prio = -1;
	r = swap_only(c->dev, -1, &c->saved);
	if (r) {
		shared_zram_del(&c->zram);
		zram_swap_teardown(&c->zram);
		return SKIP(why, "cannot make %s the only active swap area: %s",
			    c->dev, strerror(-r));
	}
	return RES_PASS;
}

void teardown_zram(struct setup_ctx *c)
{
	shared_zram_del(&c->zram);	/* before: teardown forgets the id */
	zram_swap_teardown(&c->zram);
	swap_restore(&c->saved);
}

/*
 * stable: the named write-throttled disk (COWSWAP_SLOW_SWAP_DEV), else a
 * null_blk of our own whose requests complete OWN_SLOW_SWAP_NSEC late, so
 * a page stays under writeback that long.
 */
enum res setup_stable(struct setup_ctx *c, char *why)
{
	enum res res;
	int r;

	c->stable_orig = -1;
	if (!env.root)
		return SKIP(why, "needs root");
	if (env.slow_swap) {
		snprintf(c->dev, sizeof(c->dev), "%s", env.slow_swap);
	} else {
		res = own_swap_make(c, "slow_swap", OWN_SLOW_SWAP_MB,
				    OWN_SLOW_SWAP_NSEC, why);
		if (res != RES_PASS)
			return res;
	}
	c->prio = -1;
	/* stable_writes is sampled at swapon: start from swapped off */
	if (swap_is_active(c->dev) == 1) {
		r = swap_off(c->dev);
		if (r) {
			res = SKIP(why, "swapoff %s: %s", c->dev, strerror(-r));
			goto fail;
		}
	}
	r = blk_stable_writes_get(c->dev);
	if (r < 0) {
		res = SKIP(why, "%s has no queue/stable_writes: %s", c->dev,
			   strerror(-r));
		goto fail;
	}
	c->stable_orig = r;
	shared_stable_add(c->dev, r);
	/* a named device was given for this; our own has its header */
	r = c->own_dev.created ? 0 : swap_mkswap(c->dev);
	if (r) {
		res = SKIP(why, "mkswap %s: %s", c->dev, strerror(-r));
		goto fail;
	}
	r = blk_stable_writes_set(c->dev, 1);
	if (r) {
		res = SKIP(why, "cannot set %s stable_writes=1: %s", c->dev,
			   strerror(-r));
		goto fail;
	}
	r = swap_only(c->dev, -1, &c->saved);
	if (r) {
		res = SKIP(why, "cannot make %s the only active swap area: %s",
			   c->dev, strerror(-r));
		goto fail;
	}
	return RES_PASS;
fail:
	if (c->stable_orig >= 0)
		blk_stable_writes_set(c->dev, c->stable_orig);
	shared_stable_del(c->dev);
	nullb_destroy(&c->own_dev);
	return res;
}

void teardown_stable(struct setup_ctx *c)
{
	if (swap_is_active(c->dev) == 1)
		swap_off(c->dev);
	if (c->stable_orig >= 0)
		blk_stable_writes_set(c->dev, c->stable_orig);
	shared_stable_del(c->dev);
	swap_restore(&c->saved);
	nullb_destroy(&c->own_dev);
}

/* Switch the setup's area off and on again (changing stable_writes between). */
int cycle_swap(struct setup_ctx *c, int stable_writes)
{
	int r;

	r = swap_off(c->dev);
	if (r)
		return r;
	if (stable_writes >= 0) {
		r = blk_stable_writes_set(c->dev, stable_writes);
		if (r) {
			swap_on(c->dev, c->prio);
			return r;
		}
	}
	return swap_on(c->dev, c->prio);
}

/*
 * Bring paged-out pages back the setup's way: swapoff (and on again) for
 * the swapoff setup, nothing for the others (the next access faults).
 */
enum res bring_back(struct setup_ctx *c, char *why)
{
	int r;

	if (!c->setup->via_swapoff)
		return RES_PASS;
	r = cycle_swap(c, -1);
	if (r)
		return SKIP(why, "swapoff/swapon %s: %s", c->dev, strerror(-r));
	return RES_PASS;
}

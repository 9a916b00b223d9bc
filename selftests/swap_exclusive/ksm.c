// SPDX-License-Identifier: GPL-2.0
/*
 * ksm.c - a KSM page swapped out and in must never be written in place
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

static bool wait_same_pfn(const void *a, const void *b, int secs)
{
	double deadline = now() + secs;

	do {
		uint64_t pa = page_pfn(a), pb = page_pfn(b);

		if (pa && pa == pb)
			return true;
		sleep_us(20000);
	} while (now() < deadline);
	return false;
}

static void fill_unique(unsigned char *p, unsigned int tag)
{
	long i;

	for (i = 0; i < ps; i++)
		p[i] = (unsigned char)(0x41 + (i * 7 + tag) % 57);
	memcpy(p, &tag, sizeof(tag));
}

/* A counter in KSM_DIR, or -1. */
static long long ksm_counter(const char *name)
{
	char path[96], buf[32];

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	if (sysfs_read(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* Two identical pages a and b that KSM merges, and what the check saw. */
struct ksm_pair {
	unsigned char *p, *a, *b;	/* p: the mapping of a and b */
	unsigned char *orig, *seen;	/* their content; what the pipe sees */
	struct page_ref ref;		/* on a, held across the page-out */
	struct ksm_saved ks;
	uint64_t k;			/* the KSM page */
	uint64_t pfn_in, pfn_a, pfn_b;
	bool remerged;
};

/* Map a and b with the same content and let KSM merge them (into kp->k). */
static enum res ksm_merge(struct ksm_pair *kp, unsigned int tag, char *why)
{
	long long scans, skipped;
	char sk[48];
	double t0;
	int r;

	kp->p = (unsigned char *)map_pages(2);
	kp->orig = malloc(ps);
	kp->seen = malloc(ps);
	if (!kp->p || !kp->orig || !kp->seen)
		return SKIP(why, "out of memory");
	kp->a = kp->p;
	kp->b = kp->p + ps;
	fill_unique(kp->orig, tag);
	memcpy(kp->a, kp->orig, ps);
	memcpy(kp->b, kp->orig, ps);
	if (madvise(kp->p, 2 * ps, MADV_MERGEABLE))
		return SKIP(why, "MADV_MERGEABLE: %s", strerror(errno));
	r = ksm_start(&kp->ks, 1000, 10);
	if (r)
		return SKIP(why, "cannot start ksmd: %s", strerror(-r));
	t0 = now();
	scans = ksm_counter("full_scans");
	skipped = ksm_counter("pages_skipped");
	if (!wait_same_pfn(kp->a, kp->b, opt.ksm_secs)) {
		/* pages_skipped: smart_scan's count (6.7 on) */
		snprintf(sk, sizeof(sk), ", %lld pages skipped",
			 ksm_counter("pages_skipped") - skipped);
		return SKIP(why, "KSM did not merge the pages within %d s (%lld full scans%s)",
			    opt.ksm_secs, ksm_counter("full_scans") - scans,
			    skipped < 0 ? "" : sk);
	}
	kp->k = page_pfn(kp->a);
	/* Keep the merged page as it is from now on: stop scanning. */
	write_text(KSM_DIR "run", "0");
	ksft_print_msg("merged into pfn 0x%llx after %.1f s\n", (unsigned long long)kp->k,
		       now() - t0);
	return RES_PASS;
}

/* Swap the KSM page in with a read and map it twice again (merge a fresh b). */
static void ksm_read_remerge(struct ksm_pair *kp)
{
	read_byte(kp->a);		/* read fault (no-op after swapoff) */
	kp->pfn_in = page_pfn(kp->a);
	memcpy(kp->b, kp->orig, ps);
	write_text(KSM_DIR "run", "1");
	kp->remerged = wait_same_pfn(kp->a, kp->b, opt.ksm_secs);
	write_text(KSM_DIR "run", "0");
	kp->pfn_b = page_pfn(kp->b);
}

/* r: what page_ref_put() returned when it copied the pipe's view to kp->seen. */
static enum res ksm_verdict(const struct ksm_pair *kp, bool write_first, int r, char *why)
{
	unsigned char *a = kp->a, *orig = kp->orig;

	if (write_first)
		ksft_print_msg("KSM pfn 0x%llx; written on swap-in: 0x%llx (%s)\n",
			       (unsigned long long)kp->k, (unsigned long long)kp->pfn_a,
			       kp->pfn_a == kp->k ? "in place" : "copy");
	else
		ksft_print_msg("KSM pfn 0x%llx; after swap-in 0x%llx (%s); "
			       "second page %s (0x%llx); written page 0x%llx\n",
			       (unsigned long long)kp->k, (unsigned long long)kp->pfn_in,
			       kp->pfn_in == kp->k ? "same KSM page" : "copy",
			       kp->remerged ? "merged again" : "not merged again",
			       (unsigned long long)kp->pfn_b, (unsigned long long)kp->pfn_a);
	if (memcmp(a, orig, ps - 1) || a[ps - 1] != (unsigned char)~orig[ps - 1])
		return FAIL(why, "written page has wrong content");
	if (!write_first && memcmp(kp->b, orig, ps))
		return FAIL(why, "the other page changed");
	if (!r && memcmp(kp->seen, orig, ps))
		return FAIL(why, "the KSM page was written in place (pipe sees the write)");
	if (kp->pfn_a == kp->k || (kp->remerged && kp->pfn_a == kp->pfn_b))
		return FAIL(why, "KSM page written in place (pfn 0x%llx)",
			    (unsigned long long)kp->pfn_a);
	return RES_PASS;
}

/*
 * write_first: the first access after the swap-out is the write, so
 * do_swap_page() itself decides about the KSM page (with a read first it
 * is mapped read-only and do_wp_page() decides).
 */
static enum res ksm_swapin(struct setup_ctx *c, bool write_first, char *why)
{
	unsigned int tag = (unsigned int)getpid() * 2654435761u + pattern_seq++;
	struct ksm_pair kp = { .ref = { { -1, -1 } }, .ks = { .valid = false } };
	enum res res;
	int r;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	if (access(KSM_DIR "run", F_OK))
		return SKIP(why, "KSM not configured (no " KSM_DIR "run)");
	res = ksm_merge(&kp, tag, why);
	if (res != RES_PASS)
		goto out;
	r = page_ref_get(&kp.ref, kp.a);	/* keeps the KSM page in the swap cache */
	if (r) {
		res = SKIP(why, "vmsplice: %s", strerror(-r));
		goto out;
	}
	/* 6.1's MADV_PAGEOUT leaves pages mapped more than once alone. */
	madvise(kp.b, ps, MADV_DONTNEED);
	res = page_out_held(kp.a, kp.k, why);
	if (res == RES_PASS)
		res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	if (!write_first)
		ksm_read_remerge(&kp);
	kp.a[ps - 1] = (unsigned char)~kp.orig[ps - 1];
	kp.pfn_a = page_pfn(kp.a);
	r = page_ref_put(&kp.ref, kp.seen);
	res = ksm_verdict(&kp, write_first, r, why);
	/*
	 * A KSM page mapped writable cannot be unmerged (break_ksm() would
	 * retry its write fault for ever): just unmap it.
	 */
	if (write_first && res == RES_FAIL)
		madvise(kp.p, 2 * ps, MADV_DONTNEED);
out:
	page_ref_put(&kp.ref, NULL);
	ksm_restore(&kp.ks);
	if (kp.p) {
		madvise(kp.p, 2 * ps, MADV_UNMERGEABLE);
		unmap_pages(kp.p, 2);
	}
	free(kp.orig);
	free(kp.seen);
	return res;
}

enum res check_ksm(struct setup_ctx *c, char *why)
{
	return ksm_swapin(c, false, why);
}

enum res check_ksm_write(struct setup_ctx *c, char *why)
{
	return ksm_swapin(c, true, why);
}

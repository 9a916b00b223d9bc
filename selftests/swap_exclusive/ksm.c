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

/*
 * write_first: the first access after the swap-out is the write, so
 * do_swap_page() itself decides about the KSM page (with a read first it
 * is mapped read-only and do_wp_page() decides).
 */
static enum res ksm_swapin(struct setup_ctx *c, bool write_first, char *why)
{
	unsigned int tag = (unsigned int)getpid() * 2654435761u + pattern_seq++;
	struct page_ref ref = { { -1, -1 } };
	unsigned char *p, *a, *b, *orig = NULL, *seen = NULL;
	uint64_t k, pfn_in = 0, pfn_a, pfn_b = 0;
	struct ksm_saved ks = { .valid = false };
	bool remerged = false;
	enum res res;
	double t0;
	int r;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	if (access(KSM_DIR "run", F_OK))
		return SKIP(why, "KSM not configured (no " KSM_DIR "run)");
	p = (unsigned char *)map_pages(2);
	orig = malloc(ps);
	seen = malloc(ps);
	if (!p || !orig || !seen) {
		res = SKIP(why, "out of memory");
		goto out;
	}
	a = p;
	b = p + ps;
	fill_unique(orig, tag);
	memcpy(a, orig, ps);
	memcpy(b, orig, ps);
	if (madvise(p, 2 * ps, MADV_MERGEABLE)) {
		res = SKIP(why, "MADV_MERGEABLE: %s", strerror(errno));
		goto out;
	}
	r = ksm_start(&ks);
	if (r) {
		res = SKIP(why, "cannot start ksmd: %s", strerror(-r));
		goto out;
	}
	t0 = now();
	if (!wait_same_pfn(a, b, opt.ksm_secs)) {
		res = SKIP(why, "KSM did not merge the pages within %d s", opt.ksm_secs);
		goto out;
	}
	k = page_pfn(a);
	/* Keep the merged page as it is from now on: stop scanning. */
	write_text(KSM_DIR "run", "0");
	ksft_print_msg("merged into pfn 0x%llx after %.1f s\n", (unsigned long long)k,
		       now() - t0);

	r = page_ref_get(&ref, a);	/* keeps the KSM page in the swap cache */
	if (r) {
		res = SKIP(why, "vmsplice: %s", strerror(-r));
		goto out;
	}
	/* 6.1's MADV_PAGEOUT leaves pages mapped more than once alone. */
	madvise(b, ps, MADV_DONTNEED);
	res = page_out_held(a, k, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	if (!write_first) {
		read_byte(a);		/* read fault (no-op after swapoff) */
		pfn_in = page_pfn(a);

		/* Map the KSM page twice again: merge a fresh identical page. */
		memcpy(b, orig, ps);
		write_text(KSM_DIR "run", "1");
		remerged = wait_same_pfn(a, b, opt.ksm_secs);
		write_text(KSM_DIR "run", "0");
		pfn_b = page_pfn(b);
	}

	a[ps - 1] = (unsigned char)~orig[ps - 1];
	pfn_a = page_pfn(a);
	r = page_ref_put(&ref, seen);

	if (write_first)
		ksft_print_msg("KSM pfn 0x%llx; written on swap-in: 0x%llx (%s)\n",
			       (unsigned long long)k, (unsigned long long)pfn_a,
			       pfn_a == k ? "in place" : "copy");
	else
		ksft_print_msg("KSM pfn 0x%llx; after swap-in 0x%llx (%s); "
			       "second page %s (0x%llx); written page 0x%llx\n",
			       (unsigned long long)k, (unsigned long long)pfn_in,
			       pfn_in == k ? "same KSM page" : "copy",
			       remerged ? "merged again" : "not merged again",
			       (unsigned long long)pfn_b, (unsigned long long)pfn_a);
	if (memcmp(a, orig, ps - 1) || a[ps - 1] != (unsigned char)~orig[ps - 1])
		res = FAIL(why, "written page has wrong content");
	else if (!write_first && memcmp(b, orig, ps))
		res = FAIL(why, "the other page changed");
	else if (!r && memcmp(seen, orig, ps))
		res = FAIL(why, "the KSM page was written in place (pipe sees the write)");
	else if (pfn_a == k || (remerged && pfn_a == pfn_b))
		res = FAIL(why, "KSM page written in place (pfn 0x%llx)",
			   (unsigned long long)pfn_a);
	else
		res = RES_PASS;
	/*
	 * A KSM page mapped writable cannot be unmerged (break_ksm() would
	 * retry its write fault for ever): just unmap it.
	 */
	if (write_first && res == RES_FAIL)
		madvise(p, 2 * ps, MADV_DONTNEED);
out:
	page_ref_put(&ref, NULL);
	ksm_restore(&ks);
	if (p) {
		madvise(p, 2 * ps, MADV_UNMERGEABLE);
		unmap_pages((char *)p, 2);
	}
	free(orig);
	free(seen);
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

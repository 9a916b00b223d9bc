// SPDX-License-Identifier: GPL-2.0
/*
 * softdirty_uffd.c - soft-dirty and uffd-wp next to the exclusive marker
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

static int soft_dirty_state = -1;	/* -1 unknown, 0 no, 1 yes */

bool soft_dirty_supported(void)
{
	char *p;

	if (soft_dirty_state >= 0)
		return soft_dirty_state;
	soft_dirty_state = 0;
	p = map_pages(1);
	if (!p)
		return false;
	p[0] = 1;
	if (!clear_refs_soft_dirty() && !pm_soft_dirty(pagemap_entry(p))) {
		p[0] = 2;
		soft_dirty_state = pm_soft_dirty(pagemap_entry(p));
	}
	unmap_pages(p, 1);
	return soft_dirty_state;
}

/* soft-dirty next to the exclusive marker */
enum res check_softdirty(struct setup_ctx *c, char *why)
{
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p;
	uint64_t pfn0, e;
	char d[96];
	enum res res;
	int r;

	if (!soft_dirty_supported())
		return SKIP(why, "soft-dirty tracking not available (CONFIG_MEM_SOFT_DIRTY)");
	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	p = (unsigned char *)map_pages(1);
	if (!p)
		return SKIP(why, "mmap: %s", strerror(errno));
	memset(p, fill, ps);
	r = clear_refs_soft_dirty();
	if (r) {
		res = SKIP(why, "clear_refs: %s", strerror(-r));
		goto out;
	}
	if (pm_soft_dirty(pagemap_entry(p))) {
		res = FAIL(why, "soft-dirty bit not cleared by clear_refs");
		goto out;
	}
	p[0] = fill ^ 1;		/* write: soft-dirty again, reused in place */
	pfn0 = page_pfn(p);

	/* A: soft-dirty set before swap-out */
	res = page_out_soft_dirty(&ref, p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	p[ps - 1] = fill ^ 2;
	e = pagemap_entry(p);
	ksft_print_msg("A (soft-dirty while swapped): %s, pfn before 0x%llx\n",
		       pm_describe(e, d, sizeof(d)), (unsigned long long)pfn0);
	if (!pm_soft_dirty(e)) {
		res = FAIL(why, "soft-dirty lost on swap-in");
		goto out;
	}
	if (pm_pfn(e) != pfn0) {
		res = FAIL(why, "page copied on the write after swap-in with soft-dirty set");
		goto out;
	}

	/* B: soft-dirty cleared on the swap entry */
	res = page_out_held(p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	res = clear_refs_on_swap_entry(p, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	p[ps - 1] = fill ^ 3;
	e = pagemap_entry(p);
	ksft_print_msg("B (soft-dirty cleared while swapped): %s\n",
		       pm_describe(e, d, sizeof(d)));
	if (pm_pfn(e) != pfn0)
		res = FAIL(why,
			   "clearing soft-dirty on the swap entry lost exclusivity (page copied)");
	else if (!pm_soft_dirty(e))
		res = FAIL(why, "write after swap-in did not set soft-dirty");
	else if (p[0] != (unsigned char)(fill ^ 1) || p[ps - 1] != (unsigned char)(fill ^ 3) ||
		 first_diff_byte(p, 1, ps - 1, fill) >= 0)
		res = FAIL(why, "page content changed");
	else
		res = RES_PASS;
out:
	page_ref_put(&ref, NULL);
	unmap_pages((char *)p, 1);
	return res;
}

/* uffd-wp: a userfaultfd for write-protection of anonymous memory */
static int uffd_open_wp(char *why, enum res *res)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	int uffd;

	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0) {
		*res = SKIP(why, "userfaultfd: %s (CONFIG_USERFAULTFD)", strerror(errno));
		return -1;
	}
	if (ioctl(uffd, UFFDIO_API, &api)) {
		*res = SKIP(why, "UFFDIO_API: %s", strerror(errno));
		close(uffd);
		return -1;
	}
	if (!(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
		*res = SKIP(why,
			    "uffd-wp not supported on anonymous memory here (CONFIG_HAVE_ARCH_USERFAULTFD_WP: x86_64 only in 6.1, x86_64 and arm64 in 6.12)");
		close(uffd);
		return -1;
	}
	return uffd;
}

static int uffd_register_wp(int uffd, void *p, size_t len)
{
	struct uffdio_register reg = { .range = { (uintptr_t)p, len },
				       .mode = UFFDIO_REGISTER_MODE_WP };

	return ioctl(uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

int uffd_wp(int uffd, void *p, size_t len, bool protect)
{
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)p, len },
					  .mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

/*
 * A page of its own, filled, registered for uffd-wp: the userfaultfd, or
 * -1 with *res set.  Closing the userfaultfd unregisters the page.
 */
int uffd_page_get(unsigned char **pp, unsigned char fill, char *why, enum res *res)
{
	int uffd = uffd_open_wp(why, res), r;

	if (uffd < 0)
		return -1;
	*pp = (unsigned char *)map_pages(1);
	if (!*pp) {
		*res = SKIP(why, "mmap: %s", strerror(errno));
		close(uffd);
		return -1;
	}
	memset(*pp, fill, ps);
	r = uffd_register_wp(uffd, *pp, ps);
	if (r) {
		*res = SKIP(why, "UFFDIO_REGISTER(WP): %s", strerror(-r));
		unmap_pages((char *)*pp, 1);
		*pp = NULL;
		close(uffd);
		return -1;
	}
	return uffd;
}

/* uffd-wp next to the exclusive marker */
enum res check_uffd_wp(struct setup_ctx *c, char *why)
{
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p = NULL;
	uint64_t pfn0, e;
	int uffd, r;
	enum res res;
	char d[96];

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	uffd = uffd_page_get(&p, fill, why, &res);
	if (uffd < 0)
		return res;
	pfn0 = page_pfn(p);
	r = uffd_wp(uffd, p, ps, true);
	if (r) {
		res = SKIP(why, "UFFDIO_WRITEPROTECT: %s", strerror(-r));
		goto out;
	}
	if (!pm_uffd_wp(pagemap_entry(p))) {
		res = SKIP(why, "pagemap does not report uffd-wp (bit 57)");
		goto out;
	}
	res = page_out_with_ref(&ref, p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	e = pagemap_entry(p);
	if (!pm_uffd_wp(e)) {
		res = FAIL(why, "swap entry lost uffd-wp (%s)", pm_describe(e, d, sizeof(d)));
		goto out;
	}
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	read_byte(p);			/* swap in by a read: no uffd event */
	e = pagemap_entry(p);
	ksft_print_msg("after read swap-in: %s (pfn before 0x%llx)\n",
		       pm_describe(e, d, sizeof(d)), (unsigned long long)pfn0);
	if (!pm_uffd_wp(e)) {
		res = FAIL(why, "uffd-wp lost on swap-in");
		goto out;
	}
	r = uffd_wp(uffd, p, ps, false);
	if (r || pm_uffd_wp(pagemap_entry(p))) {
		/* never write to a still protected page: it would block */
		res = FAIL(why, "un-protect without effect: %s",
			   r ? strerror(-r) : "uffd-wp bit still set");
		goto out;
	}
	p[ps - 1] = (unsigned char)~fill;
	e = pagemap_entry(p);
	ksft_print_msg("after un-protect and write: %s\n", pm_describe(e, d, sizeof(d)));
	if (pm_pfn(e) != pfn0)
		res = FAIL(why, "page copied: exclusivity lost next to the uffd-wp bit");
	else if (first_diff_byte(p, 0, ps - 1, fill) >= 0)
		res = FAIL(why, "page content changed");
	else
		res = RES_PASS;
out:
	close(uffd);	/* unregisters */
	page_ref_put(&ref, NULL);
	unmap_pages((char *)p, 1);
	return res;
}

/*
 * One phase of uffd_wp_swapped on the swapped-out page p (pfn0), which
 * holds fill but for the bytes written by earlier phases.  A (wp_stays):
 * protected on the swap entry, read back (still protected), un-protected
 * and its last byte written.  B: protected and un-protected on the swap
 * entry, then its first byte written, a write fault straight on the
 * entry.  Either way the write must find the same page.
 */
static enum res uffd_wp_swapped_phase(struct setup_ctx *c, int uffd, unsigned char *p,
				      unsigned char fill, uint64_t pfn0, bool wp_stays,
				      char *why)
{
	char d[96];
	uint64_t e;
	int r;

	r = uffd_wp(uffd, p, ps, true);
	if (!r && !wp_stays)
		r = uffd_wp(uffd, p, ps, false);
	e = pagemap_entry(p);
	if (r || !pm_swapped(e) || pm_uffd_wp(e) != wp_stays)
		/* never write to a page that may still be protected: it would block */
		return FAIL(why, "%s on the swap entry: %s (%s)",
			    wp_stays ? "UFFDIO_WRITEPROTECT" : "protect + un-protect",
			    r ? strerror(-r) :
			    wp_stays ? "no uffd-wp bit on it" : "uffd-wp bit stays",
			    pm_describe(e, d, sizeof(d)));
	if (bring_back(c, why) != RES_PASS)
		return RES_SKIP;
	if (wp_stays) {
		read_byte(p);
		e = pagemap_entry(p);
		ksft_print_msg(
			"A (protected on the swap entry), after a read swap-in: %s; pfn before 0x%llx\n",
			pm_describe(e, d, sizeof(d)), (unsigned long long)pfn0);
		if (!pm_uffd_wp(e))
			return FAIL(why, "uffd-wp set on the swap entry lost on swap-in");
		r = uffd_wp(uffd, p, ps, false);
		if (r || pm_uffd_wp(pagemap_entry(p)))
			return FAIL(why, "un-protect without effect: %s",
				    r ? strerror(-r) : "bit still set");
		p[ps - 1] = (unsigned char)~fill;
	} else {
		if (pm_uffd_wp(pagemap_entry(p)))
			return FAIL(why, "uffd-wp came back on swapoff although it was cleared");
		p[0] = (unsigned char)~fill;
	}
	e = pagemap_entry(p);
	ksft_print_msg("%s: %s\n", wp_stays ? "A, after un-protect and write" :
		       "B (protected and un-protected on the swap entry), after a write",
		       pm_describe(e, d, sizeof(d)));
	if (!wp_stays && pm_uffd_wp(e))
		return FAIL(why, "uffd-wp set after un-protect and a write");
	if (pm_pfn(e) != pfn0)
		return FAIL(why, "page copied: %s uffd-wp on the swap entry lost exclusivity",
			    wp_stays ? "setting" : "clearing");
	/* B runs after A: both the first and the last byte are written now */
	if (!wp_stays && (p[0] != (unsigned char)~fill || p[ps - 1] != (unsigned char)~fill ||
			  first_diff_byte(p, 1, ps - 1, fill) >= 0))
		return FAIL(why, "page content changed");
	return RES_PASS;
}

/*
 * uffd_wp_swapped: uffd-wp changed on the swap entry itself.  The page
 * is swapped out unprotected, protected while it is a swap entry (the
 * bit must show on the entry), swapped in by a read (still protected),
 * unprotected and written: the same page (PFN), so the marker survived
 * the uffd-wp bit being set next to it.  Then once more with protect
 * and un-protect both on the swap entry, and a write fault straight on
 * it: no uffd-wp bit, same page.
 */
enum res check_uffd_wp_swapped(struct setup_ctx *c, char *why)
{
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p = NULL;
	uint64_t pfn0;
	enum res res;
	int uffd;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	uffd = uffd_page_get(&p, fill, why, &res);
	if (uffd < 0)
		return res;
	pfn0 = page_pfn(p);
	res = page_out_with_ref(&ref, p, pfn0, why);
	if (res == RES_PASS)
		res = uffd_wp_swapped_phase(c, uffd, p, fill, pfn0, true, why);
	if (res == RES_PASS)
		res = page_out_held(p, pfn0, why);
	if (res == RES_PASS)
		res = uffd_wp_swapped_phase(c, uffd, p, fill, pfn0, false, why);
	close(uffd);
	page_ref_put(&ref, NULL);
	unmap_pages(p, 1);
	return res;
}

/*
 * softdirty_swapped: soft-dirty cleared by clear_refs on the swap entry,
 * then the page swapped in by a read: not soft-dirty, the same page; the
 * write after it (a write-protect fault, not a swap fault) reuses the
 * page and makes it soft-dirty.  The marker must survive the clear and
 * give the read swap-in an exclusive mapping.
 */
enum res check_softdirty_swapped(struct setup_ctx *c, char *why)
{
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p;
	uint64_t pfn0, e;
	enum res res;
	char d[96];

	if (!soft_dirty_supported())
		return SKIP(why, "soft-dirty tracking not available (CONFIG_MEM_SOFT_DIRTY)");
	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	p = (unsigned char *)map_pages(1);
	if (!p)
		return SKIP(why, "mmap: %s", strerror(errno));
	memset(p, fill, ps);
	pfn0 = page_pfn(p);
	res = page_out_soft_dirty(&ref, p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	res = clear_refs_on_swap_entry(p, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	read_byte(p + ps / 2);
	e = pagemap_entry(p);
	ksft_print_msg(
		"after clear_refs on the swap entry and a read swap-in: %s; pfn before 0x%llx\n",
		pm_describe(e, d, sizeof(d)), (unsigned long long)pfn0);
	if (pm_soft_dirty(e)) {
		res = FAIL(why,
			   "soft-dirty back after a read swap-in although clear_refs cleared it");
		goto out;
	}
	if (pm_pfn(e) != pfn0) {
		res = FAIL(why, "a read swap-in mapped another page");
		goto out;
	}
	p[ps - 1] = (unsigned char)~fill;
	e = pagemap_entry(p);
	ksft_print_msg("after the write: %s\n", pm_describe(e, d, sizeof(d)));
	if (pm_pfn(e) != pfn0)
		res = FAIL(why,
			   "page copied on the write after a read swap-in: the exclusive marker did not survive clear_refs on the swap entry");
	else if (!pm_soft_dirty(e))
		res = FAIL(why, "the write did not make the page soft-dirty");
	else if (first_diff_byte(p, 0, ps - 1, fill) >= 0)
		res = FAIL(why, "page content changed");
	else
		res = RES_PASS;
out:
	page_ref_put(&ref, NULL);
	unmap_pages((char *)p, 1);
	return res;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * thp.c - the THP setups and the memory a check tests: a base page or a THP subpage
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

static size_t thp_size;		/* hpage_pmd_size once a THP setup ran */

/*
 * The THP setups: swap on a null_blk of their own (non-rotational, so
 * swap has the clusters in which a THP can go out whole) whose writes
 * complete OWN_THP_SWAP_NSEC late: a THP swapped out whole is still in
 * the swap cache when the page-out returns, and stays there (nothing
 * reclaims it), which is what keeps its PFNs meaningful without a
 * reference (see mem_get()).  Transparent huge pages are enabled at least
 * for MADV_HUGEPAGE regions; the THP size is the architecture's
 * (hpage_pmd_size).
 */
enum res setup_thp(struct setup_ctx *c, char *why)
{
	enum res res;
	int r;

	if (!env.root)
		return SKIP(why, "needs root");
	if (access(THP_DIR "hpage_pmd_size", R_OK))
		return SKIP(why,
			    "no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE, or none for this MMU)");
	thp_size = read_pmd_pagesize();
	if (thp_size <= (size_t)ps || thp_size % ps)
		return SKIP(why, "unusable hpage_pmd_size %zu", thp_size);
	r = knob_read(THP_DIR "enabled", c->thp_enabled, sizeof(c->thp_enabled));
	if (r)
		return SKIP(why, THP_DIR "enabled: %s", strerror(-r));
	if (!strcmp(c->thp_enabled, "never")) {
		r = write_text(THP_DIR "enabled", "madvise");
		if (r)
			return SKIP(why, "THP disabled (enabled=never) and cannot be enabled: %s",
				    strerror(-r));
		c->thp_changed = true;
	}
	res = own_swap_make(c, "thp_swap", OWN_THP_SWAP_MB, OWN_THP_SWAP_NSEC, why);
	if (res == RES_PASS) {
		c->prio = -1;
		r = swap_only(c->dev, -1, &c->saved);
		if (r) {
			res = SKIP(why, "cannot make %s the only active swap area: %s", c->dev,
				   strerror(-r));
			nullb_destroy(&c->own_dev);
		}
	}
	if (res != RES_PASS && c->thp_changed)
		write_text(THP_DIR "enabled", c->thp_enabled);
	if (res == RES_PASS)
		ksft_print_msg("setup %s: THP size %zu kB, enabled=%s%s\n", c->setup->name,
			       thp_size >> 10, c->thp_changed ? "madvise" : c->thp_enabled,
			       c->thp_changed ? " (was never)" : "");
	return res;
}

void teardown_thp(struct setup_ctx *c)
{
	if (swap_is_active(c->dev) == 1)
		swap_off(c->dev);
	swap_restore(&c->saved);
	nullb_destroy(&c->own_dev);
	if (c->thp_changed)
		write_text(THP_DIR "enabled", c->thp_enabled);
}

/* Is the page at p part of a compound (THP) page?  -1: cannot tell. */
static int page_is_thp(const void *p)
{
	uint64_t flags, pfn = page_pfn(p);

	if (!env.kpageflags || !pfn || kpageflags_get(pfn, &flags))
		return -1;
	return !!(flags & (1ULL << KPF_BIT_THP));
}

void mem_put(struct test_mem *m)
{
	if (m->kind == MEM_PAGE)
		unmap_pages(m->page, 1);
	else if (m->raw)
		munmap(m->raw, m->raw_len);
	m->page = NULL;
	m->raw = NULL;
}

/* Is m's THP mapped by its PMD (AnonHugePages of its mapping one THP)? */
static bool thp_pmd_mapped(const struct test_mem *m)
{
	return smaps_anon_huge_kb(m->thp) == (long long)(thp_size >> 10);
}

/* Map and fill a THP of its own for m (m->raw, m->thp). */
static enum res thp_map(struct test_mem *m, char *why)
{
	size_t i, nr = thp_size / ps;

	m->raw_len = 2 * thp_size;
	m->raw = mmap(NULL, m->raw_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->raw == MAP_FAILED) {
		m->raw = NULL;
		return SKIP(why, "mmap of %zu kB: %s", m->raw_len >> 10, strerror(errno));
	}
	m->thp = (char *)(((uintptr_t)m->raw + thp_size - 1) & ~(uintptr_t)(thp_size - 1));
	if (madvise(m->thp, thp_size, MADV_HUGEPAGE))
		return SKIP(why, "MADV_HUGEPAGE: %s (CONFIG_TRANSPARENT_HUGEPAGE)",
			    strerror(errno));
	for (i = 0; i < nr; i++)	/* the first write faults in the THP */
		memset(m->thp + i * ps, 0x40 + (int)(i % 64), ps);
	if (!thp_pmd_mapped(m))
		return SKIP(why,
			    "no THP of %zu kB could be allocated (AnonHugePages stays 0: memory too fragmented?)",
			    thp_size >> 10);
	return RES_PASS;
}

/* MEM_THP_PTE: split the PMD only, by write-protecting one subpage and back. */
static enum res thp_split_pmd(struct test_mem *m, char *why)
{
	if (mprotect(m->other, ps, PROT_READ) ||
	    mprotect(m->other, ps, PROT_READ | PROT_WRITE))
		return SKIP(why, "mprotect: %s", strerror(errno));
	if (thp_pmd_mapped(m) || !page_is_thp(m->page))
		return SKIP(why,
			    "the THP did not end up PTE-mapped (AnonHugePages %s, compound %d)",
			    thp_pmd_mapped(m) ? "still set" : "0",
			    page_is_thp(m->page));
	return RES_PASS;
}

/*
 * MEM_REFS on MEM_THP_PTE and MEM_THP_SUBPAGE: split the THP with
 * MADV_COLD (see mem_get()) before the caller takes its references.
 */
static enum res thp_presplit(struct test_mem *m, char *why)
{
	void *range = m->kind == MEM_THP_PTE ? m->thp : m->page;
	size_t len = m->kind == MEM_THP_PTE ? thp_size : (size_t)ps;
	int t;

	madvise(range, len, MADV_COLD);
	for (t = 0; t < 5 && page_is_thp(m->page) > 0; t++) {
		sleep_us(10000);
		/*
		 * Later kernels (6.12) keep a large folio the range covers
		 * whole, to swap it out whole, and split only one the range
		 * covers in part: leave out the last subpage then.
		 */
		madvise(range, t && len > (size_t)ps ? len - ps : len, MADV_COLD);
	}
	if (page_is_thp(m->page) > 0)
		return SKIP(why, "MADV_COLD did not split the THP");
	m->presplit = true;
	return RES_PASS;
}

/*
 * The memory of the setup's kind, filled (the THP subpage by subpage
 * with different bytes).  With MEM_REFS the caller wants to hold
 * references on the page while it is paged out, which 6.1 allows for a
 * base page only: MADV_PAGEOUT splits a PTE-mapped THP, and the THP of
 * which only one subpage is paged out, before it pages anything out, and
 * reclaim swaps a THP out whole only if it could split it; splitting
 * fails while anybody else holds a reference.  So for MEM_THP_PTE and
 * MEM_THP_SUBPAGE the THP is split here, before the references exist
 * (MADV_COLD splits it the way MADV_PAGEOUT would, without paging out);
 * the check's page then is a base page that was a subpage of the THP,
 * its PG_anon_exclusive carried through the split.  For MEM_THP_WHOLE and
 * MEM_THP_PARTIAL, m->no_refs tells the caller to take none: the THP
 * stays in the swap cache after the page-out anyway (the setup's slow
 * device, and a THP's swap cache references are what the pre-fix
 * kernel's reference count test trips over, as it does over a pipe's).
 */
enum res mem_get(struct setup_ctx *c, struct test_mem *m, int flags, char *why)
{
	bool in_cache;
	enum res res;

	memset(m, 0, sizeof(*m));
	m->kind = c->setup->mem;
	m->whole = -1;
	if (c->memcg.entered)
		m->memcg = &c->memcg;
	if (m->kind == MEM_PAGE) {
		m->page = map_pages(1);
		if (!m->page)
			return SKIP(why, "mmap: %s", strerror(errno));
		return RES_PASS;
	}
	res = thp_map(m, why);
	if (res != RES_PASS)
		goto fail;
	/*
	 * In 6.1 with CONFIG_KSM a fault on any but the first subpage of a
	 * THP that is still in the swap cache copies it whatever the swap
	 * PTE says (ksm_might_need_to_copy() compares page->index, which
	 * tail pages do not keep up to date): for the kinds that keep the
	 * THP in the swap cache the check's page is the first subpage, the
	 * one the marker decides for.  The others split the THP, so there
	 * it is a subpage from the middle.
	 */
	in_cache = m->kind == MEM_THP_WHOLE || m->kind == MEM_THP_PARTIAL;
	m->page = in_cache ? m->thp : m->thp + (thp_size / ps / 2 + 1) * ps;
	m->other = m->thp + ps;
	m->no_refs = (flags & MEM_REFS) && in_cache;
	if (m->kind == MEM_THP_PTE)
		res = thp_split_pmd(m, why);
	if (res == RES_PASS && (flags & MEM_REFS) && !in_cache)
		res = thp_presplit(m, why);
	if (res == RES_PASS)
		return RES_PASS;
fail:
	mem_put(m);
	return res;
}

/*
 * Page the memory out the way its kind says: the check's page alone for
 * a base page and MEM_THP_SUBPAGE, the whole THP range for the others
 * (MEM_THP_PARTIAL then faults the second half of the THP back in with
 * reads).  0 when the check's page became a swap entry, -EAGAIN when
 * it did not in tries attempts, -errno of madvise.
 */
int mem_page_out(struct test_mem *m, int tries)
{
	uint64_t pfn, flags;
	size_t i;
	int t;

	if (m->memcg)	/* reclaimed by the cgroup's limit, not MADV_PAGEOUT */
		return memcg_page_out(m->memcg, m->page, 1, tries * 4);
	if (m->kind == MEM_PAGE || m->kind == MEM_THP_SUBPAGE)
		return page_out(m->page, 1, tries);
	pfn = page_pfn(m->thp);
	for (t = 0; t < tries; t++) {
		int r = madvise_on_cpu(m->thp, thp_size, MADV_PAGEOUT, t);

		if (r)
			return r;
		if (page_swapped(m->page))
			break;
		if (t + 1 < tries)
			sleep_us(10000);
	}
	if (t == tries)
		return -EAGAIN;
	/* swapped out whole: the THP, unsplit, is in the swap cache now */
	if (pfn && env.kpageflags && !kpageflags_get(pfn, &flags))
		m->whole = (flags & (1ULL << KPF_BIT_THP)) && (flags & (1ULL << KPF_BIT_SWAPCACHE));
	/*
	 * Let the writeback to the slow device end first: what the checks
	 * look at must not depend on whether a fault comes while it lasts.
	 */
	for (t = 0; t < 100 && pfn && env.kpageflags &&
	     !kpageflags_get(pfn, &flags) && (flags & (1ULL << KPF_BIT_WRITEBACK)); t++)
		sleep_us(10000);
	if (m->kind == MEM_THP_PARTIAL)
		for (i = thp_size / ps / 2; i < thp_size / ps; i++)
			read_byte(m->thp + i * ps);
	return 0;
}

/* "; THP swapped out whole" and the like, for diagnostics. */
const char *mem_describe(const struct test_mem *m)
{
	if (m->kind == MEM_PAGE)
		return "";
	if (m->presplit)
		return "; a subpage of a THP split before the page-out";
	if (m->kind == MEM_THP_SUBPAGE)
		return "; a subpage of a THP, paged out alone";
	return m->whole > 0 ? "; the THP went to swap whole" :
	       m->whole == 0 ? "; the THP was split to go to swap" : "";
}

enum res mem_page_out_why(struct test_mem *m, char *why)
{
	char d[96];
	int r = mem_page_out(m, 5);

	if (r == -EAGAIN && m->thp && m->kind != MEM_THP_SUBPAGE)
		return SKIP(why, "MADV_PAGEOUT did not swap the THP out (%s)",
			    pm_describe(pagemap_entry(m->page), d, sizeof(d)));
	if (r == -EAGAIN || r == -EINVAL)
		return page_out_why(m->page, 1, why);
	if (r)
		return SKIP(why, "MADV_PAGEOUT: %s", strerror(-r));
	if ((m->kind == MEM_THP_WHOLE || m->kind == MEM_THP_PARTIAL) && !m->whole)
		return SKIP(why,
			    "the THP was split to be swapped out, not swapped out whole (CONFIG_THP_SWAP: x86_64 and arm64 with 4K pages in 6.1)");
	return RES_PASS;
}

/* mem_page_out_why() of memory on which the caller holds a reference. */
enum res mem_page_out_held(struct test_mem *m, uint64_t pfn, char *why)
{
	enum res res = mem_page_out_why(m, why);

	if (res != RES_PASS)
		return res;
	return swapcache_held(pfn, why);
}

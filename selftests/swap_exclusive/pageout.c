// SPDX-License-Identifier: GPL-2.0
/*
 * pageout.c - paging the check's page out, with a reference held on it
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

unsigned char new_fill(void)
{
	/* never 0: a zero page would be indistinguishable from a lost page */
	return (unsigned char)(0x21 + (pattern_seq++ % 0x5b));
}

enum res page_out_why(void *p, size_t n, char *why)
{
	char d[96];
	int r = page_out(p, n, 5);

	if (r == -EINVAL)
		return SKIP(why, "MADV_PAGEOUT not supported");
	if (r == -EAGAIN)
		return SKIP(why, "MADV_PAGEOUT did not swap the page out (%s)",
			    pm_describe(pagemap_entry(p), d, sizeof(d)));
	if (r)
		return SKIP(why, "MADV_PAGEOUT: %s", strerror(-r));
	return RES_PASS;
}

/*
 * Page out a page on which we hold an extra reference (page_ref_get()) and
 * make sure the physical page pfn stayed in the swap cache: PFN
 * comparisons are only meaningful while the old page cannot be freed and
 * handed out again.
 */
enum res swapcache_held(uint64_t pfn, char *why)
{
	uint64_t flags;

	if (!env.kpageflags)
		return RES_PASS;
	if (kpageflags_get(pfn, &flags))
		return SKIP(why, "cannot read /proc/kpageflags");
	if (!(flags & (1ULL << KPF_BIT_SWAPCACHE)))
		return FAIL(why,
			    "the paged-out page (pfn 0x%llx) left the swap cache despite the extra reference",
			    (unsigned long long)pfn);
	return RES_PASS;
}

enum res page_out_held(void *p, uint64_t pfn, char *why)
{
	enum res res = page_out_why(p, 1, why);

	if (res != RES_PASS)
		return res;
	return swapcache_held(pfn, why);
}

int page_ref_get(struct page_ref *r, void *p)
{
	struct iovec iov = { .iov_base = p, .iov_len = ps };
	ssize_t n;

	if (pipe2(r->pfd, O_CLOEXEC))
		return -errno;
	n = vmsplice(r->pfd[1], &iov, 1, 0);
	if (n != ps) {
		int err = n < 0 ? errno : EIO;

		close(r->pfd[0]);
		close(r->pfd[1]);
		r->pfd[0] = -1;
		r->pfd[1] = -1;
		return -err;
	}
	return 0;
}

/* Drop the reference; if buf, first copy what the pipe sees into it. */
int page_ref_put(struct page_ref *r, void *buf)
{
	ssize_t n = 0, got = 0;
	int ret = 0;

	if (r->pfd[0] < 0)
		return -EBADF;
	if (buf) {
		while (got < ps) {
			n = read(r->pfd[0], (char *)buf + got, ps - got);
			if (n <= 0)
				break;
			got += n;
		}
		if (got != ps)
			ret = -EIO;
	}
	close(r->pfd[0]);
	close(r->pfd[1]);
	r->pfd[0] = -1;
	r->pfd[1] = -1;
	return ret;
}

/* Take a pipe reference on the page at p and page it out holding it. */
enum res page_out_with_ref(struct page_ref *ref, void *p, uint64_t pfn, char *why)
{
	int r = page_ref_get(ref, p);

	if (r)
		return SKIP(why, "vmsplice: %s", strerror(-r));
	return page_out_held(p, pfn, why);
}

int clear_refs_soft_dirty(void)
{
	int fd, ret = 0;

	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "4", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/* Page out with a pipe reference held; the swap entry must be soft-dirty. */
enum res page_out_soft_dirty(struct page_ref *ref, void *p, uint64_t pfn, char *why)
{
	enum res res = page_out_with_ref(ref, p, pfn, why);
	uint64_t e = pagemap_entry(p);
	char d[96];

	if (res == RES_PASS && !pm_soft_dirty(e))
		return FAIL(why, "the swap entry of a written page is not soft-dirty (%s)",
			    pm_describe(e, d, sizeof(d)));
	return res;
}

/* clear_refs with the page at p swapped out: it must clear soft-dirty there. */
enum res clear_refs_on_swap_entry(const void *p, char *why)
{
	int r = clear_refs_soft_dirty();
	uint64_t e = pagemap_entry(p);
	char d[96];

	if (r || pm_soft_dirty(e) || !pm_swapped(e))
		return FAIL(why, "clear_refs on the swap entry: %s (%s)",
			    r ? strerror(-r) : "bit stays", pm_describe(e, d, sizeof(d)));
	return RES_PASS;
}

/* First offset in [from, to) where p differs from byte c, or -1. */
long first_diff_byte(const unsigned char *p, long from, long to,
		     unsigned char c)
{
	long i;

	for (i = from; i < to; i++)
		if (p[i] != c)
			return i;
	return -1;
}

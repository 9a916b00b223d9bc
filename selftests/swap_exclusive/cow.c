// SPDX-License-Identifier: GPL-2.0
/*
 * cow.c - reuse or copy: fork() after swap-out, a page shared with a child, PFN reuse
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

/*
 * fork_after_swapout: parent and child write the same byte in turn.
 *
 * The first writer pages its page out again before the second one looks.
 * A fixed kernel copied the page on that write, so this swaps out a
 * private copy. A kernel that wrongly kept the marker wrote in place into
 * the page that the other process still reaches through its swap PTE; the
 * page is unmapped again (losing PG_anon_exclusive on the way), so the
 * second process swaps in that very page, sees the write, and the test
 * reports the leak. Without this step the second swapin would find a page
 * that is still mapped exclusive and trip the BUG_ON() in do_swap_page(),
 * which proves the same bug but brings the whole guest down.
 */
enum { FK_OK, FK_SAW_OTHER, FK_OWN_LOST, FK_NO_PAGEOUT, FK_ERR };

static const char *const fk_str[] = {
	[FK_OK] = "ok",
	[FK_SAW_OTHER] = "saw the other process's write",
	[FK_OWN_LOST] = "its own write or content changed",
	[FK_NO_PAGEOUT] = "could not page its page out again",
	[FK_ERR] = "error",
};

/* Nobody's write visible yet except maybe mine: p[0] in {fill, mine}. */
static int fk_verify(const unsigned char *p, unsigned char fill,
		     unsigned char mine, unsigned char other, bool written)
{
	if (p[0] == other)
		return FK_SAW_OTHER;
	if (p[0] != (written ? mine : fill))
		return FK_OWN_LOST;
	if (first_diff_byte(p, 1, ps, fill) >= 0)
		return FK_OWN_LOST;
	return FK_OK;
}

/*
 * Page the page out again after every look at it, whatever was seen: on a
 * kernel with the bug, a page left mapped exclusive here would make the
 * other process's next swapin hit the BUG_ON() in do_swap_page().
 */
static int fk_done(unsigned char *p, int r)
{
	if (page_out(p, 1, 5) && r == FK_OK)
		return FK_NO_PAGEOUT;
	return r;
}

/* Look, then write my byte (*pfn: the page written) and look again. */
static int fk_write(unsigned char *p, unsigned char fill, unsigned char mine,
		    unsigned char other, uint64_t *pfn)
{
	int r = fk_verify(p, fill, mine, other, false);

	if (r == FK_OK) {
		p[0] = mine;
		*pfn = page_pfn(p);
		r = fk_verify(p, fill, mine, other, true);
	}
	return fk_done(p, r);
}

static enum res fork_after_swapout(struct setup_ctx *c, bool parent_first,
				   char *why)
{
	const unsigned char P = 0x01, C = 0x02;	/* never a fill byte */
	int p2c[2] = { -1, -1 }, c2p[2] = { -1, -1 };
	struct { int status; uint64_t pfn; } cres = { FK_ERR, 0 };
	unsigned char fill = new_fill(), *p, go;
	int pres = FK_OK, status = 0;
	struct test_mem m;
	uint64_t ppfn = 0;
	enum res res;
	pid_t pid;

	res = mem_get(c, &m, 0, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)m.page;
	memset(p, fill, ps);
	res = mem_page_out_why(&m, why);
	if (res != RES_PASS)
		goto out;
	if (pipe(p2c) || pipe(c2p)) {
		res = SKIP(why, "pipe: %s", strerror(errno));
		goto out;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		res = SKIP(why, "fork: %s", strerror(errno));
		goto out;
	}
	if (!pid) {
		int st = FK_ERR;

		close(p2c[1]);
		close(c2p[0]);
		pagemap_reopen();	/* /proc/self of the child */
		if (xread(p2c[0], &go, 1) || go != 'g')
			_exit(0);
		if (parent_first) {
			/* parent has written: I must not see it */
			st = fk_write(p, fill, C, P, &cres.pfn);
		} else {
			st = fk_write(p, fill, C, P, &cres.pfn);
			cres.status = st;
			xwrite(c2p[1], &go, 1);
			if (xread(p2c[0], &go, 1))
				_exit(0);
			if (st == FK_OK)
				st = fk_done(p, fk_verify(p, fill, C, P, true));
		}
		cres.status = st;
		xwrite(c2p[1], &cres, sizeof(cres));
		_exit(0);
	}
	close(p2c[0]);
	close(c2p[1]);
	p2c[0] = -1;
	c2p[1] = -1;

	res = bring_back(c, why);
	if (res != RES_PASS) {
		go = 'x';
		xwrite(p2c[1], &go, 1);
		waitpid(pid, NULL, 0);
		goto out;
	}
	go = 'g';
	if (parent_first) {
		pres = fk_write(p, fill, P, C, &ppfn);
		xwrite(p2c[1], &go, 1);
		if (xread(c2p[0], &cres, sizeof(cres)))
			cres.status = FK_ERR;
		if (pres == FK_OK)
			pres = fk_done(p, fk_verify(p, fill, P, C, true));
	} else {
		xwrite(p2c[1], &go, 1);
		if (xread(c2p[0], &go, 1)) {
			cres.status = FK_ERR;
		} else {
			pres = fk_write(p, fill, P, C, &ppfn);
			go = 'g';
			xwrite(p2c[1], &go, 1);
			if (xread(c2p[0], &cres, sizeof(cres)))
				cres.status = FK_ERR;
		}
	}
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		ksft_print_msg("child killed by signal %d\n", WTERMSIG(status));

	ksft_print_msg("parent: %s, child: %s; pfn parent 0x%llx child 0x%llx%s\n",
		       fk_str[pres], fk_str[cres.status], (unsigned long long)ppfn,
		       (unsigned long long)cres.pfn, mem_describe(&m));
	if (pres == FK_SAW_OTHER || cres.status == FK_SAW_OTHER)
		res = FAIL(why, "a write leaked between parent and child");
	else if (pres == FK_NO_PAGEOUT || cres.status == FK_NO_PAGEOUT)
		res = SKIP(why, "MADV_PAGEOUT did not page the written page out again");
	else if (pres != FK_OK || cres.status != FK_OK)
		res = FAIL(why, "page content changed unexpectedly (parent: %s, child: %s)",
			   fk_str[pres], fk_str[cres.status]);
	else
		res = RES_PASS;
out:
	if (p2c[0] >= 0)
		close(p2c[0]);
	if (p2c[1] >= 0)
		close(p2c[1]);
	if (c2p[0] >= 0)
		close(c2p[0]);
	if (c2p[1] >= 0)
		close(c2p[1]);
	mem_put(&m);
	return res;
}

enum res check_fork_parent_first(struct setup_ctx *c, char *why)
{
	return fork_after_swapout(c, true, why);
}

enum res check_fork_child_first(struct setup_ctx *c, char *why)
{
	return fork_after_swapout(c, false, why);
}

/* reuse_pfn: exclusive page with an extra reference keeps its PFN. */
enum res check_reuse_pfn(struct setup_ctx *c, char *why)
{
	unsigned char fill = new_fill(), *p;
	struct page_ref ref = { { -1, -1 } };
	uint64_t pfn0, pfn1, e;
	struct test_mem m;
	char d[96];
	enum res res;
	int r;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	res = mem_get(c, &m, MEM_REFS, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)m.page;
	memset(p, fill, ps);
	pfn0 = page_pfn(p);
	r = m.no_refs ? 0 : page_ref_get(&ref, p);
	if (r) {
		res = SKIP(why, "vmsplice: %s", strerror(-r));
		goto out;
	}
	res = mem_page_out_held(&m, pfn0, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	p[ps - 1] = (unsigned char)~fill;
	e = pagemap_entry(p);
	pfn1 = pm_pfn(e);
	ksft_print_msg("pfn 0x%llx -> 0x%llx (%s); now %s%s\n", (unsigned long long)pfn0,
		       (unsigned long long)pfn1, pfn0 == pfn1 ? "written in place" : "copied",
		       pm_describe(e, d, sizeof(d)), mem_describe(&m));
	if (first_diff_byte(p, 0, ps - 1, fill) >= 0 || p[ps - 1] != (unsigned char)~fill)
		res = FAIL(why, "page content changed");
	else if (pfn1 != pfn0)
		res = FAIL(why,
			   "exclusive page was copied on the write (exclusivity lost across swap)");
	else
		res = RES_PASS;
out:
	page_ref_put(&ref, NULL);
	mem_put(&m);
	return res;
}

/* shared_copy: page shared with a child forked after the swap-out. */
enum res check_shared_copy(struct setup_ctx *c, char *why)
{
	unsigned char fill = new_fill(), *p, go = 'g';
	struct page_ref ref = { { -1, -1 } };
	struct { int ok; uint64_t pfn; } cres = { 0, 0 };
	int p2c[2] = { -1, -1 }, c2p[2] = { -1, -1 };
	uint64_t pfn0, ppfn;
	struct test_mem m;
	enum res res;
	pid_t pid;
	int r;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	res = mem_get(c, &m, MEM_REFS, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)m.page;
	memset(p, fill, ps);
	pfn0 = page_pfn(p);
	r = m.no_refs ? 0 : page_ref_get(&ref, p);	/* keeps the page in the swap cache */
	if (r) {
		res = SKIP(why, "vmsplice: %s", strerror(-r));
		goto out;
	}
	res = mem_page_out_held(&m, pfn0, why);
	if (res != RES_PASS)
		goto out;
	if (pipe(p2c) || pipe(c2p)) {
		res = SKIP(why, "pipe: %s", strerror(errno));
		goto out;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		res = SKIP(why, "fork: %s", strerror(errno));
		goto out;
	}
	if (!pid) {
		close(p2c[1]);
		close(c2p[0]);
		pagemap_reopen();	/* /proc/self of the child */
		if (xread(p2c[0], &go, 1) || go != 'g')
			_exit(0);
		cres.ok = first_diff_byte(p, 0, ps, fill) < 0;
		cres.pfn = page_pfn(p);
		xwrite(c2p[1], &cres, sizeof(cres));
		_exit(0);
	}
	close(p2c[0]);
	close(c2p[1]);
	p2c[0] = -1;
	c2p[1] = -1;
	res = bring_back(c, why);
	if (res != RES_PASS) {
		go = 'x';
		xwrite(p2c[1], &go, 1);
		waitpid(pid, NULL, 0);
		goto out;
	}
	p[0] = (unsigned char)~fill;
	ppfn = page_pfn(p);
	if (ppfn == pfn0) {
		/*
		 * Written in place while the child still maps the page through
		 * its swap PTE. Keep the child away from it: its swapin would
		 * find a page mapped exclusive and hit the BUG_ON() in
		 * do_swap_page() instead of letting us report the bug.
		 */
		go = 'x';
		xwrite(p2c[1], &go, 1);
		waitpid(pid, NULL, 0);
		ksft_print_msg("pfn 0x%llx before and after the parent's write\n",
			       (unsigned long long)pfn0);
		res = FAIL(why, "the parent wrote in place into a page shared with its child");
		goto out;
	}
	xwrite(p2c[1], &go, 1);
	if (xread(c2p[0], &cres, sizeof(cres)))
		cres.ok = -1;
	waitpid(pid, NULL, 0);
	ksft_print_msg(
		"pfn before 0x%llx, parent after its write 0x%llx, child 0x%llx; child content %s%s\n",
		(unsigned long long)pfn0, (unsigned long long)ppfn, (unsigned long long)cres.pfn,
		cres.ok > 0 ? "intact" : cres.ok ? "unknown" : "CHANGED",
		mem_describe(&m));
	if (cres.ok < 0)
		res = FAIL(why, "child did not report");
	else if (!cres.ok)
		res = FAIL(why, "the child sees the parent's write");
	else if (ppfn == pfn0 || ppfn == cres.pfn)
		res = FAIL(why, "the parent wrote in place into a page shared with its child");
	else if (p[0] != (unsigned char)~fill || first_diff_byte(p, 1, ps, fill) >= 0)
		res = FAIL(why, "parent's page content wrong");
	else
		res = RES_PASS;
out:
	if (p2c[0] >= 0)
		close(p2c[0]);
	if (p2c[1] >= 0)
		close(p2c[1]);
	if (c2p[0] >= 0)
		close(c2p[0]);
	if (c2p[1] >= 0)
		close(c2p[1]);
	page_ref_put(&ref, NULL);
	mem_put(&m);
	return res;
}

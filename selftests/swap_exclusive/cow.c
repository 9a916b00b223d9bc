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

/* A child forked to look at the page, and the pipes to take turns with it. */
struct peer {
	int p2c[2], c2p[2];
	pid_t pid;
};

#define PEER_INIT	{ { -1, -1 }, { -1, -1 }, -1 }

/*
 * Fork a child with a pipe each way.  In the child (pr->pid == 0) pagemap
 * is reopened for it; each side closes the other's ends.
 */
static enum res peer_fork(struct peer *pr, char *why)
{
	if (pipe(pr->p2c) || pipe(pr->c2p))
		return SKIP(why, "pipe: %s", strerror(errno));
	fflush(stdout);
	pr->pid = fork();
	if (pr->pid < 0)
		return SKIP(why, "fork: %s", strerror(errno));
	if (!pr->pid) {
		close(pr->p2c[1]);
		close(pr->c2p[0]);
		pagemap_reopen();	/* /proc/self of the child */
		return RES_PASS;
	}
	close(pr->p2c[0]);
	close(pr->c2p[1]);
	pr->p2c[0] = -1;
	pr->c2p[1] = -1;
	return RES_PASS;
}

/* In the child: wait for the parent's 'g'; anything else ends the child. */
static void peer_wait_go(struct peer *pr)
{
	unsigned char go;

	if (xread(pr->p2c[0], &go, 1) || go != 'g')
		_exit(0);
}

static void peer_send(struct peer *pr, unsigned char go)
{
	xwrite(pr->p2c[1], &go, 1);
}

/* Let the child end without looking at the page, and reap it. */
static void peer_cancel(struct peer *pr)
{
	peer_send(pr, 'x');
	waitpid(pr->pid, NULL, 0);
}

static void peer_close(struct peer *pr)
{
	int *fd[] = { &pr->p2c[0], &pr->p2c[1], &pr->c2p[0], &pr->c2p[1] };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fd); i++) {
		if (*fd[i] >= 0)
			close(*fd[i]);
		*fd[i] = -1;
	}
}

#define FK_P	0x01	/* the parent's byte (never a fill byte) */
#define FK_C	0x02	/* the child's byte */

struct fk_result {
	int status;
	uint64_t pfn;
};

/* The child of fork_after_swapout(): its turn, then its report. */
static void fk_child(struct peer *pr, unsigned char *p, unsigned char fill,
		     bool parent_first)
{
	struct fk_result cres = { FK_ERR, 0 };
	int st;

	peer_wait_go(pr);
	/* parent_first: the parent has written, I must not see it */
	st = fk_write(p, fill, FK_C, FK_P, &cres.pfn);
	if (!parent_first) {
		/* my write came first: the parent's turn, then I look again */
		xwrite(pr->c2p[1], "g", 1);
		peer_wait_go(pr);
		if (st == FK_OK)
			st = fk_done(p, fk_verify(p, fill, FK_C, FK_P, true));
	}
	cres.status = st;
	xwrite(pr->c2p[1], &cres, sizeof(cres));
	_exit(0);
}

/* The parent's turn in fork_after_swapout(); the child's report in *cres. */
static int fk_parent(struct peer *pr, unsigned char *p, unsigned char fill,
		     bool parent_first, struct fk_result *cres, uint64_t *ppfn)
{
	unsigned char go;
	int pres = FK_OK;

	if (parent_first) {
		pres = fk_write(p, fill, FK_P, FK_C, ppfn);
		peer_send(pr, 'g');
		if (xread(pr->c2p[0], cres, sizeof(*cres)))
			cres->status = FK_ERR;
		if (pres == FK_OK)
			pres = fk_done(p, fk_verify(p, fill, FK_P, FK_C, true));
		return pres;
	}
	peer_send(pr, 'g');
	if (xread(pr->c2p[0], &go, 1)) {
		cres->status = FK_ERR;
		return pres;
	}
	pres = fk_write(p, fill, FK_P, FK_C, ppfn);
	peer_send(pr, 'g');
	if (xread(pr->c2p[0], cres, sizeof(*cres)))
		cres->status = FK_ERR;
	return pres;
}

static enum res fk_verdict(int pres, int cst, char *why)
{
	if (pres == FK_SAW_OTHER || cst == FK_SAW_OTHER)
		return FAIL(why, "a write leaked between parent and child");
	if (pres == FK_NO_PAGEOUT || cst == FK_NO_PAGEOUT)
		return SKIP(why, "MADV_PAGEOUT did not page the written page out again");
	if (pres != FK_OK || cst != FK_OK)
		return FAIL(why, "page content changed unexpectedly (parent: %s, child: %s)",
			    fk_str[pres], fk_str[cst]);
	return RES_PASS;
}

static enum res fork_after_swapout(struct setup_ctx *c, bool parent_first,
				   char *why)
{
	struct fk_result cres = { FK_ERR, 0 };
	unsigned char fill = new_fill(), *p;
	struct peer pr = PEER_INIT;
	int pres, status = 0;
	struct test_mem m;
	uint64_t ppfn = 0;
	enum res res;

	res = mem_get(c, &m, 0, why);
	if (res != RES_PASS)
		return res;
	p = (unsigned char *)m.page;
	memset(p, fill, ps);
	res = mem_page_out_why(&m, why);
	if (res == RES_PASS)
		res = peer_fork(&pr, why);
	if (res != RES_PASS)
		goto out;
	if (!pr.pid)
		fk_child(&pr, p, fill, parent_first);
	res = bring_back(c, why);
	if (res != RES_PASS) {
		peer_cancel(&pr);
		goto out;
	}
	pres = fk_parent(&pr, p, fill, parent_first, &cres, &ppfn);
	waitpid(pr.pid, &status, 0);
	if (WIFSIGNALED(status))
		ksft_print_msg("child killed by signal %d\n", WTERMSIG(status));

	ksft_print_msg("parent: %s, child: %s; pfn parent 0x%llx child 0x%llx%s\n",
		       fk_str[pres], fk_str[cres.status], (unsigned long long)ppfn,
		       (unsigned long long)cres.pfn, mem_describe(&m));
	res = fk_verdict(pres, cres.status, why);
out:
	peer_close(&pr);
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

/*
 * The setup's memory filled with fill and paged out with a pipe
 * reference held on the check's page (none where m->no_refs), so that it
 * stays in the swap cache; *pfn its PFN before.  The caller puts m and
 * ref, also on failure.
 */
static enum res mem_out_held(struct setup_ctx *c, struct test_mem *m, struct page_ref *ref,
			     unsigned char fill, uint64_t *pfn, char *why)
{
	enum res res = mem_get(c, m, MEM_REFS, why);
	int r;

	if (res != RES_PASS)
		return res;
	memset(m->page, fill, ps);
	*pfn = page_pfn(m->page);
	r = m->no_refs ? 0 : page_ref_get(ref, m->page);
	if (r)
		return SKIP(why, "vmsplice: %s", strerror(-r));
	return mem_page_out_held(m, *pfn, why);
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

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	res = mem_out_held(c, &m, &ref, fill, &pfn0, why);
	if (res == RES_PASS)
		res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	p = (unsigned char *)m.page;
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

struct sc_result {
	int ok;		/* 1 content intact, 0 changed, -1 no report */
	uint64_t pfn;
};

/* The child of shared_copy: what it sees of the page, when told to look. */
static void sc_child(struct peer *pr, const unsigned char *p, unsigned char fill)
{
	struct sc_result cres;

	peer_wait_go(pr);
	cres.ok = first_diff_byte(p, 0, ps, fill) < 0;
	cres.pfn = page_pfn(p);
	xwrite(pr->c2p[1], &cres, sizeof(cres));
	_exit(0);
}

static enum res sc_verdict(const struct sc_result *cres, const unsigned char *p,
			   unsigned char fill, uint64_t pfn0, uint64_t ppfn, char *why)
{
	if (cres->ok < 0)
		return FAIL(why, "child did not report");
	if (!cres->ok)
		return FAIL(why, "the child sees the parent's write");
	if (ppfn == pfn0 || ppfn == cres->pfn)
		return FAIL(why, "the parent wrote in place into a page shared with its child");
	if (p[0] != (unsigned char)~fill || first_diff_byte(p, 1, ps, fill) >= 0)
		return FAIL(why, "parent's page content wrong");
	return RES_PASS;
}

/* shared_copy: page shared with a child forked after the swap-out. */
enum res check_shared_copy(struct setup_ctx *c, char *why)
{
	unsigned char fill = new_fill(), *p;
	struct page_ref ref = { { -1, -1 } };
	struct sc_result cres = { 0, 0 };
	struct peer pr = PEER_INIT;
	uint64_t pfn0, ppfn;
	struct test_mem m;
	enum res res;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	res = mem_out_held(c, &m, &ref, fill, &pfn0, why);
	if (res == RES_PASS)
		res = peer_fork(&pr, why);
	if (res != RES_PASS)
		goto out;
	p = (unsigned char *)m.page;
	if (!pr.pid)
		sc_child(&pr, p, fill);
	res = bring_back(c, why);
	if (res != RES_PASS) {
		peer_cancel(&pr);
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
		peer_cancel(&pr);
		ksft_print_msg("pfn 0x%llx before and after the parent's write\n",
			       (unsigned long long)pfn0);
		res = FAIL(why, "the parent wrote in place into a page shared with its child");
		goto out;
	}
	peer_send(&pr, 'g');
	if (xread(pr.c2p[0], &cres, sizeof(cres)))
		cres.ok = -1;
	waitpid(pr.pid, NULL, 0);
	ksft_print_msg(
		"pfn before 0x%llx, parent after its write 0x%llx, child 0x%llx; child content %s%s\n",
		(unsigned long long)pfn0, (unsigned long long)ppfn, (unsigned long long)cres.pfn,
		cres.ok > 0 ? "intact" : cres.ok ? "unknown" : "CHANGED",
		mem_describe(&m));
	res = sc_verdict(&cres, p, fill, pfn0, ppfn, why);
out:
	peer_close(&pr);
	page_ref_put(&ref, NULL);
	mem_put(&m);
	return res;
}

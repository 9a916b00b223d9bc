// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring.c - an io_uring fixed buffer on a swapped-out page
 * (swap_exclusive selftest, see swap_exclusive.c).
 */
#include "swap_exclusive.h"

/*
 * io_uring with the raw system calls (no liburing): just enough for one
 * IORING_OP_READ_FIXED at a time.
 */
struct uring {
	int fd;
	void *sq_ring, *cq_ring;
	size_t sq_len, cq_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	atomic_uint *sq_tail;		/* the ring indexes the kernel shares */
	unsigned int *sq_mask, *sq_array;
	atomic_uint *cq_head, *cq_tail;
	unsigned int *cq_mask;
	struct io_uring_cqe *cqes;
};

static void uring_exit(struct uring *u)
{
	if (u->sqes)
		munmap(u->sqes, u->sqes_len);
	if (u->cq_ring && u->cq_ring != u->sq_ring)
		munmap(u->cq_ring, u->cq_len);
	if (u->sq_ring)
		munmap(u->sq_ring, u->sq_len);
	if (u->fd >= 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

/* 0 or -errno (-ENOSYS without CONFIG_IO_URING). */
static int uring_init(struct uring *u, unsigned int entries)
{
	struct io_uring_params pr;
	int err;

	memset(u, 0, sizeof(*u));
	memset(&pr, 0, sizeof(pr));
	u->fd = (int)syscall(__NR_io_uring_setup, entries, &pr);
	if (u->fd < 0)
		return -errno;
	u->sq_len = pr.sq_off.array + pr.sq_entries * sizeof(unsigned int);
	u->cq_len = pr.cq_off.cqes + pr.cq_entries * sizeof(struct io_uring_cqe);
	if (pr.features & IORING_FEAT_SINGLE_MMAP) {
		if (u->cq_len > u->sq_len)
			u->sq_len = u->cq_len;
		u->cq_len = u->sq_len;
	}
	u->sq_ring = mmap(NULL, u->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			  u->fd, IORING_OFF_SQ_RING);
	if (u->sq_ring == MAP_FAILED) {
		u->sq_ring = NULL;
		goto fail;
	}
	if (pr.features & IORING_FEAT_SINGLE_MMAP) {
		u->cq_ring = u->sq_ring;
	} else {
		u->cq_ring = mmap(NULL, u->cq_len, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_CQ_RING);
		if (u->cq_ring == MAP_FAILED) {
			u->cq_ring = NULL;
			goto fail;
		}
	}
	u->sqes_len = pr.sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       u->fd, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED) {
		u->sqes = NULL;
		goto fail;
	}
	u->sq_tail = (atomic_uint *)((char *)u->sq_ring + pr.sq_off.tail);
	u->sq_mask = (unsigned int *)((char *)u->sq_ring + pr.sq_off.ring_mask);
	u->sq_array = (unsigned int *)((char *)u->sq_ring + pr.sq_off.array);
	u->cq_head = (atomic_uint *)((char *)u->cq_ring + pr.cq_off.head);
	u->cq_tail = (atomic_uint *)((char *)u->cq_ring + pr.cq_off.tail);
	u->cq_mask = (unsigned int *)((char *)u->cq_ring + pr.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)((char *)u->cq_ring + pr.cq_off.cqes);
	return 0;
fail:
	err = -errno;
	uring_exit(u);
	return err;
}

/*
 * One IORING_OP_READ_FIXED of len bytes at off into buffer 0, waited for:
 * the CQE's result (bytes or -errno), or -errno of io_uring_enter.
 */
static int uring_read_fixed(struct uring *u, int fd, void *buf, unsigned int len, off_t off)
{
	unsigned int tail = atomic_load_explicit(u->sq_tail, memory_order_acquire);
	unsigned int idx = tail & *u->sq_mask, head;
	struct io_uring_sqe *sqe = &u->sqes[idx];
	int res;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_READ_FIXED;
	sqe->fd = fd;
	sqe->addr = (uintptr_t)buf;
	sqe->len = len;
	sqe->off = off;
	sqe->buf_index = 0;
	sqe->user_data = 0xc0ffee;
	u->sq_array[idx] = idx;
	atomic_store_explicit(u->sq_tail, tail + 1, memory_order_release);
	if (syscall(__NR_io_uring_enter, u->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -errno;
	head = atomic_load_explicit(u->cq_head, memory_order_relaxed);
	if (head == atomic_load_explicit(u->cq_tail, memory_order_acquire))
		return -EAGAIN;
	res = u->cqes[head & *u->cq_mask].res;
	atomic_store_explicit(u->cq_head, head + 1, memory_order_release);
	return res;
}

#define FIXED_LEN	512	/* bytes of the IORING_OP_READ_FIXED */

/* The data the io_uring read brings: in src, and in a memfd (*mfd). */
static enum res uring_source(unsigned char *src, int *mfd, char *why)
{
	static const char text[] = "io_uring fixed buffer data ";
	unsigned int i;

	for (i = 0; i < FIXED_LEN; i++)
		src[i] = (unsigned char)text[i % (sizeof(text) - 1)];
	*mfd = (int)syscall(__NR_memfd_create, "swap_exclusive", 0);
	if (*mfd < 0 || pwrite(*mfd, src, FIXED_LEN, 0) != (ssize_t)FIXED_LEN)
		return SKIP(why, "memfd: %s", strerror(errno));
	return RES_PASS;
}

/* PFNs of the page: swapped out, pinned (registered), after the write. */
struct fixed_pfns {
	uint64_t out, pinned, written;
	bool registered;
};

static enum res fixed_verdict(const unsigned char *p, const unsigned char *src,
			      unsigned char fill, const struct fixed_pfns *f, int r,
			      char *why)
{
	if (r != FIXED_LEN)
		return FAIL(why, "IORING_OP_READ_FIXED of %d bytes returned %d (%s)", FIXED_LEN,
			    r, r < 0 ? strerror(-r) : "short");
	if (memcmp(p, src, FIXED_LEN))
		return FAIL(why,
			    "the io_uring read into the fixed buffer is not in the page the process maps (data lost%s)",
			    f->written != f->pinned ? ": the pinned page was copied" : "");
	if (first_diff_byte(p, FIXED_LEN, ps - 1, fill) >= 0 ||
	    p[ps - 1] != (unsigned char)~fill)
		return FAIL(why, "page content changed");
	if (f->pinned != f->out)
		return FAIL(why,
			    "registering the swapped-out exclusive page copied it (needless copy)");
	if (f->written != f->pinned)
		return FAIL(why, "the pinned page was copied on the write");
	return RES_PASS;
}

/*
 * The swapped-out page p registered as fixed buffer 0 (the pipe's
 * reference dropped once it is pinned), paged out again and written,
 * then read into with IORING_OP_READ_FIXED from mfd.
 */
static enum res fixed_buf_run(struct setup_ctx *c, struct uring *u, struct page_ref *ref,
			      unsigned char *p, unsigned char fill, int mfd,
			      struct fixed_pfns *f, int *r, char *why)
{
	struct iovec iov = { .iov_base = p, .iov_len = ps };
	bool swapped;
	char d[96];
	uint64_t e;

	if (syscall(__NR_io_uring_register, u->fd, IORING_REGISTER_BUFFERS, &iov, 1))
		return FAIL(why, "IORING_REGISTER_BUFFERS on a swapped-out page: %s",
			    strerror(errno));
	f->registered = true;
	f->pinned = page_pfn(p);
	page_ref_put(ref, NULL);

	madvise(p, ps, MADV_PAGEOUT);
	swapped = page_swapped(p);
	if (bring_back(c, why) != RES_PASS)
		return RES_SKIP;
	p[ps - 1] = (unsigned char)~fill;
	f->written = page_pfn(p);
	*r = uring_read_fixed(u, mfd, p, FIXED_LEN, 0);
	e = pagemap_entry(p);
	ksft_print_msg(
		"pfn 0x%llx; pinned (registered) 0x%llx; MADV_PAGEOUT of the pinned page %s; after the write 0x%llx; READ_FIXED returned %d; now %s\n",
		(unsigned long long)f->out, (unsigned long long)f->pinned,
		swapped ? "swapped it out" : "left it mapped", (unsigned long long)f->written,
		*r, pm_describe(e, d, sizeof(d)));
	return RES_PASS;
}

/*
 * iouring_fixed_buf: a page registered as an io_uring fixed buffer
 * (IORING_REGISTER_BUFFERS pins it with FOLL_PIN | FOLL_LONGTERM).  The
 * page is swapped out first, with a pipe holding an extra reference:
 * registering it faults it back in for writing, which must reuse it
 * (same PFN), not copy it.  Then the pinned page is paged out (6.1
 * refuses to unmap a pinned exclusive page, so it should stay) and
 * written: still the same page.  Last, io_uring reads from a memfd into
 * the fixed buffer: the data must be in the page the process sees.
 */
enum res check_iouring_fixed_buf(struct setup_ctx *c, char *why)
{
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p = NULL, *src = NULL;
	struct uring u = { .fd = -1 };
	struct fixed_pfns f = { 0 };
	int r, mfd = -1;
	enum res res;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	r = uring_init(&u, 4);
	if (r == -ENOSYS)
		return SKIP(why, "io_uring not available (CONFIG_IO_URING)");
	if (r)
		return SKIP(why, "io_uring_setup: %s", strerror(-r));
	p = (unsigned char *)map_pages(1);
	src = malloc(FIXED_LEN);
	res = p && src ? uring_source(src, &mfd, why) : SKIP(why, "out of memory");
	if (res != RES_PASS)
		goto out;
	memset(p, fill, ps);
	f.out = page_pfn(p);
	res = page_out_with_ref(&ref, p, f.out, why);
	if (res == RES_PASS)
		res = bring_back(c, why);
	if (res == RES_PASS)
		res = fixed_buf_run(c, &u, &ref, p, fill, mfd, &f, &r, why);
	if (res == RES_PASS)
		res = fixed_verdict(p, src, fill, &f, r, why);
	if (f.registered)
		syscall(__NR_io_uring_register, u.fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
out:
	uring_exit(&u);
	if (mfd >= 0)
		close(mfd);
	free(src);
	page_ref_put(&ref, NULL);
	unmap_pages(p, 1);
	return res;
}

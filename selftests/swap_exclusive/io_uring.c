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
	static const char text[] = "io_uring fixed buffer data ";
	struct page_ref ref = { { -1, -1 } };
	unsigned char fill = new_fill(), *p = NULL, *src = NULL;
	uint64_t pfn0, pfn1, pfn2, e;
	struct uring u = { .fd = -1 };
	bool registered = false, swapped;
	unsigned int len = 512, i;
	int r, mfd = -1;
	enum res res;
	char d[96];
	struct iovec iov;

	if (!env.pfn_visible)
		return SKIP(why, "pagemap hides PFNs (needs CAP_SYS_ADMIN)");
	r = uring_init(&u, 4);
	if (r == -ENOSYS)
		return SKIP(why, "io_uring not available (CONFIG_IO_URING)");
	if (r)
		return SKIP(why, "io_uring_setup: %s", strerror(-r));
	p = (unsigned char *)map_pages(1);
	src = malloc(len);
	if (!p || !src) {
		res = SKIP(why, "out of memory");
		goto out;
	}
	for (i = 0; i < len; i++)
		src[i] = (unsigned char)text[i % (sizeof(text) - 1)];
	mfd = (int)syscall(__NR_memfd_create, "swap_exclusive", 0);
	if (mfd < 0 || pwrite(mfd, src, len, 0) != (ssize_t)len) {
		res = SKIP(why, "memfd: %s", strerror(errno));
		goto out;
	}
	memset(p, fill, ps);
	pfn0 = page_pfn(p);
	res = page_out_with_ref(&ref, p, pfn0, why);
	if (res != RES_PASS)
		goto out;
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;

	iov.iov_base = p;
	iov.iov_len = ps;
	if (syscall(__NR_io_uring_register, u.fd, IORING_REGISTER_BUFFERS, &iov, 1)) {
		res = FAIL(why, "IORING_REGISTER_BUFFERS on a swapped-out page: %s",
			   strerror(errno));
		goto out;
	}
	registered = true;
	pfn1 = page_pfn(p);
	page_ref_put(&ref, NULL);

	madvise(p, ps, MADV_PAGEOUT);
	swapped = page_swapped(p);
	res = bring_back(c, why);
	if (res != RES_PASS)
		goto out;
	p[ps - 1] = (unsigned char)~fill;
	pfn2 = page_pfn(p);
	r = uring_read_fixed(&u, mfd, p, len, 0);
	e = pagemap_entry(p);
	ksft_print_msg(
		"pfn 0x%llx; pinned (registered) 0x%llx; MADV_PAGEOUT of the pinned page %s; after the write 0x%llx; READ_FIXED returned %d; now %s\n",
		(unsigned long long)pfn0, (unsigned long long)pfn1,
		swapped ? "swapped it out" : "left it mapped", (unsigned long long)pfn2, r,
		pm_describe(e, d, sizeof(d)));
	if (r != (int)len) {
		res = FAIL(why, "IORING_OP_READ_FIXED of %u bytes returned %d (%s)", len, r,
			   r < 0 ? strerror(-r) : "short");
	} else if (memcmp(p, src, len)) {
		res = FAIL(why,
			   "the io_uring read into the fixed buffer is not in the page the process maps (data lost%s)",
			   pfn2 != pfn1 ? ": the pinned page was copied" : "");
	} else if (first_diff_byte(p, len, ps - 1, fill) >= 0 ||
		   p[ps - 1] != (unsigned char)~fill) {
		res = FAIL(why, "page content changed");
	} else if (pfn1 != pfn0) {
		res = FAIL(why,
			   "registering the swapped-out exclusive page copied it (needless copy)");
	} else if (pfn2 != pfn1) {
		res = FAIL(why, "the pinned page was copied on the write");
	} else {
		res = RES_PASS;
	}
out:
	if (registered)
		syscall(__NR_io_uring_register, u.fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
	uring_exit(&u);
	if (mfd >= 0)
		close(mfd);
	free(src);
	page_ref_put(&ref, NULL);
	unmap_pages((char *)p, 1);
	return res;
}

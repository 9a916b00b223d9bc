// SPDX-License-Identifier: GPL-2.0
/*
 * pagemap.c - /proc/self/pagemap and /proc/kpageflags helpers for the
 * swap_exclusive selftest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "pagemap.h"

static int pagemap_fd = -1;
static int kpageflags_fd = -1;

int pagemap_open(void)
{
	if (pagemap_fd >= 0)
		return 0;
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	return pagemap_fd < 0 ? -errno : 0;
}

int pagemap_reopen(void)
{
	if (pagemap_fd >= 0)
		close(pagemap_fd);
	pagemap_fd = -1;
	return pagemap_open();
}

void pagemap_close(void)
{
	if (pagemap_fd >= 0)
		close(pagemap_fd);
	if (kpageflags_fd >= 0)
		close(kpageflags_fd);
	pagemap_fd = -1;
	kpageflags_fd = -1;
}

uint64_t pagemap_entry(const void *addr)
{
	static long ps;
	uint64_t e;
	off_t off;

	if (!ps)
		ps = sysconf(_SC_PAGESIZE);
	if (pagemap_open())
		return 0;
	off = (off_t)((uintptr_t)addr / ps) * sizeof(e);
	if (pread(pagemap_fd, &e, sizeof(e), off) != sizeof(e))
		return 0;
	return e;
}

uint64_t page_pfn(const void *addr)
{
	return pm_pfn(pagemap_entry(addr));
}

bool page_swapped(const void *addr)
{
	uint64_t e = pagemap_entry(addr);

	return pm_swapped(e) && !pm_present(e);
}

bool page_present(const void *addr)
{
	return pm_present(pagemap_entry(addr));
}

bool pagemap_shows_pfn(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	bool ret;
	char *p;

	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return false;
	p[0] = 1;
	ret = page_pfn(p) != 0;
	munmap(p, ps);
	return ret;
}

/*
 * The flags of one PFN: 0, or -errno; -ENODATA when the file ends before
 * that PFN (it stops at the kernel's max_pfn, and a kernel that leaves
 * max_pfn unset shows no page at all).
 */
int kpageflags_get(uint64_t pfn, uint64_t *flags)
{
	ssize_t n;

	if (kpageflags_fd < 0) {
		kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
		if (kpageflags_fd < 0)
			return -errno;
	}
	n = pread(kpageflags_fd, flags, sizeof(*flags), (off_t)(pfn * sizeof(*flags)));
	if (n < 0)
		return -errno;
	return n == sizeof(*flags) ? 0 : -ENODATA;
}

bool kpf_has(uint64_t pfn, int bit)
{
	uint64_t flags;

	return pfn && !kpageflags_get(pfn, &flags) && (flags & (1ULL << bit));
}

void kpf_wait_writeback(const uint64_t *pfn, size_t n, int ms)
{
	struct timespec ts = { 0, 10 * 1000000L };
	size_t i;
	int t;

	for (t = 0; t < ms; t += 10) {
		for (i = 0; i < n && !kpf_has(pfn[i], KPF_BIT_WRITEBACK); i++)
			;
		if (i == n)
			return;
		nanosleep(&ts, NULL);
	}
}

const char *pm_describe(uint64_t e, char *buf, int len)
{
	if (pm_present(e))
		snprintf(buf, len, "present pfn=0x%llx%s%s%s", (unsigned long long)pm_pfn(e),
			 pm_soft_dirty(e) ? " soft-dirty" : "",
			 pm_exclusive(e) ? " mapped-once" : "",
			 pm_uffd_wp(e) ? " uffd-wp" : "");
	else if (pm_swapped(e))
		snprintf(buf, len, "swapped type=%u offset=0x%llx%s%s",
			 pm_swap_type(e), (unsigned long long)pm_swap_offset(e),
			 pm_soft_dirty(e) ? " soft-dirty" : "",
			 pm_uffd_wp(e) ? " uffd-wp" : "");
	else
		snprintf(buf, len, "none (0x%llx)", (unsigned long long)e);
	return buf;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pagemap.h - /proc/self/pagemap and /proc/kpageflags helpers for the
 * swap_exclusive selftest (see Documentation/admin-guide/mm/pagemap.rst).
 */
#ifndef SWAP_EXCLUSIVE_PAGEMAP_H
#define SWAP_EXCLUSIVE_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>

/* The kernel's BIT_ULL(), which userspace has no header for. */
#ifndef BIT_ULL
#define BIT_ULL(nr)		(1ULL << (nr))
#endif

/* Bits of a /proc/<pid>/pagemap entry. */
#define PM_PFN_MASK		(BIT_ULL(55) - 1)	/* present: PFN (needs CAP_SYS_ADMIN) */
#define PM_SWAP_TYPE_BITS	5			/* swapped: type in bits 0-4 ... */
#define PM_SOFT_DIRTY		BIT_ULL(55)
#define PM_MMAP_EXCLUSIVE	BIT_ULL(56)		/* mapped exactly once */
#define PM_UFFD_WP		BIT_ULL(57)
#define PM_FILE			BIT_ULL(61)
#define PM_SWAP			BIT_ULL(62)
#define PM_PRESENT		BIT_ULL(63)

/* Bits of a /proc/kpageflags entry (include/uapi/linux/kernel-page-flags.h). */
#define KPF_BIT_DIRTY		4
#define KPF_BIT_WRITEBACK	8
#define KPF_BIT_ANON		12
#define KPF_BIT_SWAPCACHE	13
#define KPF_BIT_KSM		21

/*
 * Open /proc/self/pagemap once; returns 0 or -errno.  The descriptor stays
 * bound to the process that opened it: a child of fork() must call
 * pagemap_reopen() before it looks at its own pages.
 */
int pagemap_open(void);
int pagemap_reopen(void);
void pagemap_close(void);

/* The pagemap entry of the page containing addr, or 0 on error. */
uint64_t pagemap_entry(const void *addr);

static inline bool pm_present(uint64_t e) { return e & PM_PRESENT; }
static inline bool pm_swapped(uint64_t e) { return e & PM_SWAP; }
static inline bool pm_soft_dirty(uint64_t e) { return e & PM_SOFT_DIRTY; }
static inline bool pm_exclusive(uint64_t e) { return e & PM_MMAP_EXCLUSIVE; }
static inline bool pm_uffd_wp(uint64_t e) { return e & PM_UFFD_WP; }

/* PFN of a present page; 0 if not present or PFNs are hidden from us. */
static inline uint64_t pm_pfn(uint64_t e)
{
	return pm_present(e) ? (e & PM_PFN_MASK) : 0;
}

/* Swap type / offset of a swapped-out page. */
static inline unsigned int pm_swap_type(uint64_t e)
{
	return (unsigned int)(e & ((1ULL << PM_SWAP_TYPE_BITS) - 1));
}

static inline uint64_t pm_swap_offset(uint64_t e)
{
	return (e & PM_PFN_MASK) >> PM_SWAP_TYPE_BITS;
}

/* Shortcuts on an address. */
uint64_t page_pfn(const void *addr);
bool page_swapped(const void *addr);
bool page_present(const void *addr);

/*
 * True when the kernel shows us PFNs: touches a scratch page and checks that
 * its pagemap entry carries a non-zero PFN.
 */
bool pagemap_shows_pfn(void);

/*
 * /proc/kpageflags of a PFN: 0 on success with the flags in *flags,
 * -errno otherwise (-ENOENT when the file does not exist).
 */
int kpageflags_get(uint64_t pfn, uint64_t *flags);

/* Does the page frame pfn (0: none) have kpageflags bit set? */
bool kpf_has(uint64_t pfn, int bit);

/* Wait up to ms milliseconds until none of the n page frames is under writeback. */
void kpf_wait_writeback(const uint64_t *pfn, size_t n, int ms);

/* Human readable one-line summary of an entry, for diagnostics. */
const char *pm_describe(uint64_t e, char *buf, int len);

#endif /* SWAP_EXCLUSIVE_PAGEMAP_H */

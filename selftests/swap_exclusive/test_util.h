/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test_util.h - small helpers shared by the swap_exclusive selftest, the
 * cowswap stress test (stress/) and benchmark (bench/): clock and sleep,
 * /proc and sysfs values, KSM settings, test mappings, paging out,
 * pipes, number arguments and disks found by serial.
 *
 * Plain libc + Linux uapi, no kselftest dependency; the THP size comes
 * from the vm selftests' vm_util.h, sysfs writes from swap_helpers.h
 * (write_text()).  Functions return 0 (or a value where
 * documented) on success and -errno on failure.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "swap_helpers.h"	/* __printf() */

#ifndef MADV_COLD
#define MADV_COLD	20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif

#define KSM_DIR		"/sys/kernel/mm/ksm/"
#define THP_DIR		"/sys/kernel/mm/transparent_hugepage/"

/* -v of the program: vmsg() prints only when it is set. */
extern bool verbose;

/* A TAP diagnostic line ("#   " and the text) when verbose. */
void vmsg(const char *fmt, ...) __printf(1, 2);

/* Print the reason for a SKIP or a failure into why (len bytes); -1. */
int reasonf(char *why, size_t len, const char *fmt, ...) __printf(3, 4);

/* CLOCK_MONOTONIC in seconds. */
double now(void);

/* Sleep that long, whatever signals arrive meanwhile. */
void sleep_us(long us);

/* The page size, from sysconf() once. */
long page_size(void);

/*
 * Read a sysfs (or /proc) file into buf (len bytes at most, NUL
 * terminated), trailing blanks and newlines cut off.
 */
int sysfs_read(const char *path, char *buf, size_t len);

/* A sysfs value; for "always [madvise] never" the selected word. */
int knob_read(const char *path, char *buf, size_t len);

/*
 * The number after key in a /proc file made of "key value" lines
 * (/proc/vmstat) or "Key:  value kB" lines (/proc/meminfo), or -1.
 */
long long proc_value(const char *path, const char *key);

/*
 * AnonHugePages (kB) of the mapping in /proc/self/smaps that contains
 * addr: how much of it is mapped by PMD-sized THPs.  -ENOENT when no
 * mapping contains addr (or it has no such line), -errno.  (Not vm_util's
 * check_huge_anon(): up to 6.12 at least it scans the value with %ld into
 * a uint64_t, which on 32-bit fills only one half of it, so it never sees
 * a THP there.)
 */
long long smaps_anon_huge_kb(const void *addr);

/*
 * The KSM settings ksm_start() changes, in the order it sets them
 * (ksm_restore() goes backwards).  advisor_mode (6.8) and smart_scan
 * (6.7) are left alone where the kernel has no such file.
 */
enum { KSM_ADVISOR, KSM_SMART_SCAN, KSM_PAGES_TO_SCAN, KSM_SLEEP, KSM_RUN, KSM_KNOBS };

/* KSM's settings before ksm_start(), put back by ksm_restore(). */
struct ksm_saved {
	char val[KSM_KNOBS][32];
	bool have[KSM_KNOBS];
	bool valid;
};

/*
 * Remember KSM's settings, then let ksmd run, scanning pages_to_scan
 * pages every sleep_ms ms: with no advisor (it owns pages_to_scan) and
 * smart_scan off (it skips pages that did not merge before, and its
 * record of that outlives the mapping: see ksm_start()).  -ENOENT
 * without KSM.
 */
int ksm_start(struct ksm_saved *s, int pages_to_scan, int sleep_ms);
void ksm_restore(struct ksm_saved *s);

/*
 * n private anonymous pages between two PROT_NONE guard pages (so the
 * VMA never merges with a neighbour), the first one aligned to align
 * bytes (a power of two, at least a page), with MADV_HUGEPAGE when thp,
 * else MADV_NOHUGEPAGE.  NULL on failure.
 */
void *map_guarded(size_t n, size_t align, bool thp);

/* map_guarded() of base pages (THP off), and its undoing. */
void *map_pages(size_t n);
void unmap_pages(void *p, size_t n);

/*
 * madvise() on the k-th CPU this thread may run on (k = 0: where it is).
 * MADV_PAGEOUT skips a page that is not on the LRU yet, and a page just
 * faulted in waits in the per-CPU LRU cache of the CPU that faulted it
 * until that cache is drained, which madvise() does for its own CPU.
 */
int madvise_on_cpu(void *p, size_t len, int advice, int k);

/*
 * MADV_PAGEOUT [p, p + n pages) until all of them are swap entries, at most
 * tries times (from each CPU in turn).  0, -EAGAIN (not swapped) or -errno
 * of madvise.  Needs pagemap_open().
 */
int page_out(void *p, size_t n, int tries);

/* Are the n pages at p all swap entries?  Needs pagemap_open(). */
bool pages_swapped(const void *p, size_t n);

/* Close both ends of a pipe (those not -1) and set them to -1. */
void pipe_close(int fd[2]);

/* read() all of len bytes (EINTR retried) / write() them: 0 or -1. */
int xread(int fd, void *buf, size_t len);
int xwrite(int fd, const void *buf, size_t len);

/* getenv(), NULL for an empty value too. */
const char *getenv_nonempty(const char *name);

/* A whole decimal (or 0x) number in [min, max] into *out: 0 or -EINVAL. */
int parse_num(const char *s, long min, long max, long *out);

/*
 * Kernel messages a test provokes on purpose (a swap device failing I/O,
 * an OOM kill in a memory cgroup) are announced in the kernel log with
 * "cowswap: expect <kind> begin" before and "... end" after, so that a
 * judge of the console can tell them from real trouble.  The kinds:
 * "swap-io-error" (Read-/Write-error on swap-device) and "memcg-oom"
 * (the OOM report of a memory cgroup and its stack dump).
 */
#define KMSG_EXPECT		"cowswap: expect "
#define KMSG_SWAP_IO_ERROR	"swap-io-error"
#define KMSG_MEMCG_OOM		"memcg-oom"
void kmsg_expect(const char *kind, bool begin);

/*
 * memcpy() that survives a SIGBUS or SIGSEGV raised by reading src (a
 * page whose swap-in failed): 0, the signal's number (its si_code in
 * *code), or -errno when the handlers could not be set.  Per thread.
 */
int copy_catch(void *dst, const void *src, size_t len, int *code);

/*
 * From now on a SIGBUS or SIGSEGV that no copy_catch() catches is told
 * on stdout before the process dies of it as before: the signal, its
 * si_code, the address, the thread, and the line of /proc/self/maps
 * holding the address (which access it was: a page under test, or the
 * program's own stack, heap or libc).  0 or -errno.
 */
int fatal_signal_report(void);

/* /dev/<disk> of the disk whose /sys/block/<disk>/serial is serial. */
int blk_find_serial(const char *serial, char *dev, size_t len);

#endif /* TEST_UTIL_H */

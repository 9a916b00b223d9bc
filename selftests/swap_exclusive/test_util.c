// SPDX-License-Identifier: GPL-2.0
/*
 * test_util.c - helpers shared by the swap_exclusive selftest, the stress
 * test and the benchmark (see test_util.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "pagemap.h"
#include "swap_helpers.h"
#include "test_util.h"

bool verbose;

void vmsg(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	printf("#   ");
	vprintf(fmt, ap);
	va_end(ap);
}

int reasonf(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

long page_size(void)
{
	static long ps;

	if (!ps)
		ps = sysconf(_SC_PAGESIZE);
	return ps;
}

int sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int knob_read(const char *path, char *buf, size_t len)
{
	char raw[128], *l, *r;
	int ret = sysfs_read(path, raw, sizeof(raw));

	if (ret)
		return ret;
	l = strchr(raw, '[');
	r = l ? strchr(l, ']') : NULL;
	if (l && r) {
		*r = '\0';
		snprintf(buf, len, "%.*s", (int)len - 1, l + 1);
	} else {
		snprintf(buf, len, "%.*s", (int)len - 1, raw);
	}
	return 0;
}

long long proc_value(const char *path, const char *key)
{
	const size_t size = 32768, klen = strlen(key);
	long long v = -1;
	char *buf, *q;

	buf = malloc(size);
	if (!buf)
		return -1;
	if (sysfs_read(path, buf, size)) {
		free(buf);
		return -1;
	}
	for (q = buf; q; q = strchr(q, '\n')) {
		if (*q == '\n')
			q++;
		if (!strncmp(q, key, klen) && (q[klen] == ' ' || q[klen] == ':')) {
			v = strtoll(q + klen + 1, NULL, 10);
			break;
		}
	}
	free(buf);
	return v;
}

long long smaps_anon_huge_kb(const void *addr)
{
	unsigned long start, end, a = (unsigned long)addr;
	bool bol = true, in = false;
	unsigned long long kb;
	long long ret = -ENOENT;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* the rest of a line longer than the buffer: no field starts here */
		bool whole = bol;

		bol = strchr(line, '\n');
		if (!whole)
			continue;
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			if (in)
				break;	/* past the mapping: it had no such line */
			in = a >= start && a < end;
		} else if (in && sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) {
			ret = kb;
			break;
		}
	}
	fclose(f);
	return ret;
}

static const char *const ksm_knob[KSM_KNOBS] = {
	[KSM_ADVISOR] = KSM_DIR "advisor_mode",
	[KSM_SMART_SCAN] = KSM_DIR "smart_scan",
	[KSM_PAGES_TO_SCAN] = KSM_DIR "pages_to_scan",
	[KSM_SLEEP] = KSM_DIR "sleep_millisecs",
	[KSM_RUN] = KSM_DIR "run",
};

/*
 * smart_scan (on by default since 6.7) counts, per rmap_item (one per
 * address of a mergeable mapping), how often the page there failed to
 * merge and then skips it in more and more of ksmd's scans.  The count
 * is never reset, and the rmap_items of an unmapped range are only freed
 * when ksmd next walks that mm: a check that maps its pair where an
 * earlier check had its pair gets the old counts, and once both pages of
 * the pair are skipped in different scans they are never in the unstable
 * tree together, so they never merge.  The checks need a merge within
 * seconds, so they scan without it.
 */
int ksm_start(struct ksm_saved *s, int pages_to_scan, int sleep_ms)
{
	char want[KSM_KNOBS][16] = { [KSM_ADVISOR] = "none", [KSM_SMART_SCAN] = "0",
				     [KSM_RUN] = "1" };
	int i, r = 0;

	s->valid = false;
	for (i = 0; i < KSM_KNOBS; i++) {
		s->have[i] = !knob_read(ksm_knob[i], s->val[i], sizeof(s->val[i]));
		if (!s->have[i] && i >= KSM_PAGES_TO_SCAN)
			return -ENOENT;
	}
	s->valid = true;
	snprintf(want[KSM_PAGES_TO_SCAN], sizeof(want[0]), "%d", pages_to_scan);
	snprintf(want[KSM_SLEEP], sizeof(want[0]), "%d", sleep_ms);
	for (i = 0; i < KSM_KNOBS && !r; i++)
		if (s->have[i])
			r = write_text(ksm_knob[i], want[i]);
	return r;
}

void ksm_restore(struct ksm_saved *s)
{
	int i;

	if (!s->valid)
		return;
	/* the advisor last: pages_to_scan is only written without one */
	for (i = KSM_KNOBS - 1; i >= 0; i--)
		if (s->have[i])
			write_text(ksm_knob[i], s->val[i]);
	s->valid = false;
}

void *map_guarded(size_t n, size_t align, bool thp)
{
	size_t ps = page_size(), len = n * ps + 2 * ps + align - ps;
	char *p, *q;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	q = (char *)(((uintptr_t)p + ps + align - 1) & ~(uintptr_t)(align - 1));
	if (mprotect(q - ps, ps, PROT_NONE) || mprotect(q + n * ps, ps, PROT_NONE)) {
		munmap(p, len);
		return NULL;
	}
	/* trim what the alignment left over on either side */
	if (q - ps > p)
		munmap(p, q - ps - p);
	if (q + (n + 1) * ps < p + len)
		munmap(q + (n + 1) * ps, p + len - (q + (n + 1) * ps));
	madvise(q, n * ps, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);	/* EINVAL without THP */
	return q;
}

void *map_pages(size_t n)
{
	return map_guarded(n, page_size(), false);
}

void unmap_pages(void *p, size_t n)
{
	long ps = page_size();

	if (p)
		munmap((char *)p - ps, (n + 2) * ps);
}

int madvise_on_cpu(void *p, size_t len, int advice, int k)
{
	cpu_set_t saved, one;
	int cpu, n = 0, r;

	if (k && !sched_getaffinity(0, sizeof(saved), &saved) && CPU_COUNT(&saved) > 1) {
		k %= CPU_COUNT(&saved);
		for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
			if (!CPU_ISSET(cpu, &saved) || n++ != k)
				continue;
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			if (sched_setaffinity(0, sizeof(one), &one))
				break;
			r = madvise(p, len, advice) ? -errno : 0;
			sched_setaffinity(0, sizeof(saved), &saved);
			return r;
		}
	}
	return madvise(p, len, advice) ? -errno : 0;
}

bool pages_swapped(const void *p, size_t n)
{
	long ps = page_size();
	size_t i;

	for (i = 0; i < n; i++)
		if (!page_swapped((const char *)p + i * ps))
			return false;
	return true;
}

void pipe_close(int fd[2])
{
	int i;

	for (i = 0; i < 2; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		fd[i] = -1;
	}
}

int page_out(void *p, size_t n, int tries)
{
	long ps = page_size();
	int t, r;

	for (t = 0; t < tries; t++) {
		r = madvise_on_cpu(p, n * ps, MADV_PAGEOUT, t);
		if (r)
			return r;
		if (pages_swapped(p, n))
			return 0;
		if (t + 1 < tries)
			sleep_us(10000);
	}
	return -EAGAIN;
}

int xread(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

int xwrite(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

const char *getenv_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (!*s || *end || errno || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int blk_find_serial(const char *serial, char *dev, size_t len)
{
	char path[PATH_MAX], buf[64];
	struct dirent *d;
	int ret = -ENOENT;
	DIR *dir;

	dir = opendir("/sys/block");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/serial", d->d_name);
		if (sysfs_read(path, buf, sizeof(buf)))
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		if (!strcmp(buf, serial)) {
			snprintf(dev, len, "/dev/%s", d->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

void kmsg_expect(const char *kind, bool begin)
{
	char line[96];
	int fd, n;

	fflush(NULL);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* level 4: shown on a console with the default log level */
	n = snprintf(line, sizeof(line), "<4>" KMSG_EXPECT "%s %s\n", kind,
		     begin ? "begin" : "end");
	if (write(fd, line, n) != n)
		n = -1;
	close(fd);
}

static __thread sigjmp_buf copy_jmp;
static __thread int copy_sig, copy_code;	/* set by the handler, read after it */

static void copy_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	copy_sig = sig;
	copy_code = si->si_code;
	siglongjmp(copy_jmp, 1);
}

int copy_catch(void *dst, const void *src, size_t len, int *code)
{
	struct sigaction sa = { .sa_sigaction = copy_handler, .sa_flags = SA_SIGINFO };
	struct sigaction old_bus, old_segv;
	int r;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old_bus))
		return -errno;
	if (sigaction(SIGSEGV, &sa, &old_segv)) {
		r = -errno;
		sigaction(SIGBUS, &old_bus, NULL);
		return r;
	}
	copy_sig = 0;
	if (!sigsetjmp(copy_jmp, 1))
		memcpy(dst, src, len);
	r = copy_sig;
	if (r && code)
		*code = copy_code;
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return r;
}

/*
 * The handler of fatal_signal_report(): only write(2) and snprintf() into
 * its own buffers, on a stack of its own (the faulting access may be the
 * thread's stack).  SA_RESETHAND: back from here, the access faults again
 * and the default action ends the process with the same signal.
 */
static void fatal_report_line(const void *addr)
{
	static char maps[16384];
	unsigned long a = (unsigned long)addr, lo, hi;
	char *line, *nl;
	ssize_t n = 0, r;
	int fd;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (n < (ssize_t)sizeof(maps) - 1 &&
	       (r = read(fd, maps + n, sizeof(maps) - 1 - n)) > 0)
		n += r;
	close(fd);
	maps[n] = '\0';
	for (line = maps; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi) {
			*nl = '\0';
			dprintf(STDOUT_FILENO, "# fatal signal: the address is in %s\n", line);
			return;
		}
	}
	dprintf(STDOUT_FILENO, "# fatal signal: the address is in no mapping\n");
}

static void fatal_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	dprintf(STDOUT_FILENO,
		"# fatal signal %d (si_code %d) at %p in thread %ld, outside copy_catch()\n",
		sig, si->si_code, si->si_addr, (long)gettid());
	fatal_report_line(si->si_addr);
}

int fatal_signal_report(void)
{
	static char altstack[65536];
	struct sigaction sa = {
		.sa_sigaction = fatal_handler,
		.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK,
	};
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };

	sigemptyset(&sa.sa_mask);
	if (sigaltstack(&ss, NULL) || sigaction(SIGBUS, &sa, NULL) ||
	    sigaction(SIGSEGV, &sa, NULL))
		return -errno;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * swap_helpers.c - swap area set-up shared by the swap_exclusive selftest
 * and the cowswap /init: mkswap, swapon/swapoff, "only this area active",
 * the block queue's stable_writes flag, zram devices and loading a module.
 *
 * No kselftest dependency; errors are reported on stderr and as -errno.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/fs.h>

#include "swap_helpers.h"

#ifndef SWAP_FLAG_PREFER
#define SWAP_FLAG_PREFER	0x8000
#endif
#ifndef SWAP_FLAG_PRIO_MASK
#define SWAP_FLAG_PRIO_MASK	0x7fff
#endif
#ifndef SWAP_FLAG_PRIO_SHIFT
#define SWAP_FLAG_PRIO_SHIFT	0
#endif

/* Offsets inside the first page of a version-1 swap area. */
#define SWAP_HDR_VERSION	1024
#define SWAP_HDR_LAST_PAGE	1028
#define SWAP_HDR_NR_BADPAGES	1032
#define SWAP_HDR_UUID		1036
#define SWAP_HDR_VOLUME		1052
#define SWAP_MAGIC		"SWAPSPACE2"
#define SWAP_MAGIC_LEN		10

#define ZRAM_CONTROL		"/sys/class/zram-control"

static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return 0;
}

int write_text(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

/* Into hdr (ps bytes, zeroed): a version-1 swap header for that many pages. */
static void swap_header_fill(char *hdr, long ps, unsigned long long pages)
{
	uint32_t val;

	val = 1;
	memcpy(hdr + SWAP_HDR_VERSION, &val, sizeof(val));
	val = (uint32_t)(pages - 1);
	memcpy(hdr + SWAP_HDR_LAST_PAGE, &val, sizeof(val));
	val = 0;
	memcpy(hdr + SWAP_HDR_NR_BADPAGES, &val, sizeof(val));
	/* A random (version 4) UUID if the kernel gives us one cheaply. */
	if (getrandom(hdr + SWAP_HDR_UUID, 16, GRND_NONBLOCK) == 16) {
		hdr[SWAP_HDR_UUID + 6] = (hdr[SWAP_HDR_UUID + 6] & 0x0f) | 0x40;
		hdr[SWAP_HDR_UUID + 8] = (hdr[SWAP_HDR_UUID + 8] & 0x3f) | 0x80;
	} else {
		memset(hdr + SWAP_HDR_UUID, 0, 16);
	}
	memcpy(hdr + SWAP_HDR_VOLUME, "cowswap", 7);
	memcpy(hdr + ps - SWAP_MAGIC_LEN, SWAP_MAGIC, SWAP_MAGIC_LEN);
}

int swap_mkswap(const char *dev)
{
	long ps = sysconf(_SC_PAGESIZE);
	unsigned long long size, pages;
	struct stat st;
	char *hdr = NULL;
	int fd, ret = 0;
	ssize_t n;

	if (ps <= 0 || ps < 2 * SWAP_HDR_VOLUME) {
		fprintf(stderr, "mkswap %s: odd page size %ld\n", dev, ps);
		return -EINVAL;
	}
	if (stat(dev, &st)) {
		ret = -errno;
		fprintf(stderr, "mkswap %s: stat: %s\n", dev, strerror(-ret));
		return ret;
	}
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "mkswap %s: not a block device or file\n", dev);
		return -EINVAL;
	}
	/* O_EXCL on a block device fails while swapon or a mount holds it. */
	fd = open(dev, O_RDWR | O_CLOEXEC | (S_ISBLK(st.st_mode) ? O_EXCL : 0));
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "mkswap %s: open: %s\n", dev, strerror(-ret));
		return ret;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size)) {
			ret = -errno;
			fprintf(stderr, "mkswap %s: BLKGETSIZE64: %s\n", dev,
				strerror(-ret));
			goto out;
		}
	} else {
		size = st.st_size;
	}
	pages = size / ps;
	if (pages < 2) {
		fprintf(stderr, "mkswap %s: %llu bytes is too small for %ld-byte pages\n",
			dev, size, ps);
		ret = -ENOSPC;
		goto out;
	}
	if (pages - 1 > UINT32_MAX)
		pages = (unsigned long long)UINT32_MAX + 1;

	hdr = calloc(1, ps);
	if (!hdr) {
		ret = -ENOMEM;
		fprintf(stderr, "mkswap %s: out of memory\n", dev);
		goto out;
	}
	swap_header_fill(hdr, ps, pages);

	n = pwrite(fd, hdr, ps, 0);
	if (n != ps) {
		ret = n < 0 ? -errno : -EIO;
		fprintf(stderr, "mkswap %s: write: %s\n", dev, strerror(-ret));
		goto out;
	}
	if (fsync(fd)) {
		ret = -errno;
		fprintf(stderr, "mkswap %s: fsync: %s\n", dev, strerror(-ret));
	}
out:
	free(hdr);
	close(fd);
	return ret;
}

int swap_on(const char *dev, int prio)
{
	int flags = 0;

	if (prio >= 0) {
		if (prio > SWAP_FLAG_PRIO_MASK)
			prio = SWAP_FLAG_PRIO_MASK;
		flags = SWAP_FLAG_PREFER |
			((prio << SWAP_FLAG_PRIO_SHIFT) & SWAP_FLAG_PRIO_MASK);
	}
	if (swapon(dev, flags)) {
		int err = errno;

		fprintf(stderr, "swapon %s: %s\n", dev, strerror(err));
		return -err;
	}
	return 0;
}

int swap_off(const char *dev)
{
	if (swapoff(dev)) {
		int err = errno;

		fprintf(stderr, "swapoff %s: %s\n", dev, strerror(err));
		return -err;
	}
	return 0;
}

/* /proc/swaps escapes blanks, tabs, newlines and backslashes as \ooo. */
static void unescape_octal(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) |
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

int swap_list(struct swap_area *areas, int max)
{
	char line[PATH_MAX + 128];
	struct swap_area a;
	int nr = 0, err;
	FILE *f;

	f = fopen("/proc/swaps", "re");
	if (!f) {
		err = errno;
		fprintf(stderr, "/proc/swaps: %s\n", strerror(err));
		return -err;
	}
	while (fgets(line, sizeof(line), f)) {
		char path[PATH_MAX];

		if (!strncmp(line, "Filename", 8))
			continue;
		memset(&a, 0, sizeof(a));
		if (sscanf(line, "%4095s %15s %lld %lld %d", path, a.type,
			   &a.size_kb, &a.used_kb, &a.prio) != 5)
			continue;
		unescape_octal(path);
		snprintf(a.path, sizeof(a.path), "%s", path);
		if (nr < max)
			areas[nr] = a;
		nr++;
	}
	fclose(f);
	return nr;
}

/* Same block device (by device number) or same file (by inode)? */
static int same_swap_target(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return 1;
	if (stat(a, &sa) || stat(b, &sb))
		return 0;
	if (S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode))
		return sa.st_rdev == sb.st_rdev;
	if (S_ISBLK(sa.st_mode) || S_ISBLK(sb.st_mode))
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int swap_find(const char *dev, struct swap_area *found)
{
	struct swap_area *areas;
	int nr, i, ret = 0;

	areas = calloc(SWAP_SAVED_MAX, sizeof(*areas));
	if (!areas)
		return -ENOMEM;
	nr = swap_list(areas, SWAP_SAVED_MAX);
	if (nr < 0) {
		ret = nr;
		goto out;
	}
	if (nr > SWAP_SAVED_MAX)
		nr = SWAP_SAVED_MAX;
	for (i = 0; i < nr; i++) {
		if (same_swap_target(areas[i].path, dev)) {
			if (found)
				*found = areas[i];
			ret = 1;
			break;
		}
	}
out:
	free(areas);
	return ret;
}

int swap_is_active(const char *dev)
{
	return swap_find(dev, NULL);
}

int swap_get_prio(const char *dev, int *prio)
{
	struct swap_area a;
	int ret = swap_find(dev, &a);

	if (ret < 0)
		return ret;
	if (!ret)
		return -ENOENT;
	*prio = a.prio;
	return 0;
}

int swap_restore(struct swap_saved *saved)
{
	int i, ret = 0, r;

	for (i = saved->nr - 1; i >= 0; i--) {
		struct swap_area *a = &saved->areas[i];

		if (swap_is_active(a->path) == 1)
			continue;
		r = swap_on(a->path, a->prio >= 0 ? a->prio : -1);
		if (r && !ret)
			ret = r;
	}
	saved->nr = 0;
	return ret;
}

int swap_only(const char *dev, int prio, struct swap_saved *saved)
{
	struct swap_area *areas;
	int nr, i, ret, we_enabled = 0;

	saved->nr = 0;
	ret = swap_is_active(dev);
	if (ret < 0)
		return ret;
	if (!ret) {
		ret = swap_on(dev, prio);
		if (ret)
			return ret;
		we_enabled = 1;
	}

	areas = calloc(SWAP_SAVED_MAX, sizeof(*areas));
	if (!areas) {
		ret = -ENOMEM;
		goto fail;
	}
	nr = swap_list(areas, SWAP_SAVED_MAX);
	if (nr < 0) {
		ret = nr;
		goto fail;
	}
	if (nr > SWAP_SAVED_MAX) {
		fprintf(stderr, "%s: more than %d active swap areas\n",
			__func__, SWAP_SAVED_MAX);
		ret = -E2BIG;
		goto fail;
	}
	for (i = 0; i < nr; i++) {
		if (same_swap_target(areas[i].path, dev))
			continue;
		ret = swap_off(areas[i].path);
		if (ret)
			goto fail;
		saved->areas[saved->nr++] = areas[i];
	}
	free(areas);
	return 0;

fail:
	free(areas);
	swap_restore(saved);
	if (we_enabled)
		swap_off(dev);
	return ret;
}

/* /sys/dev/block/M:m/queue/stable_writes, or the parent disk's for a partition. */
static int stable_writes_path(const char *dev, char *path, size_t len)
{
	struct stat st;
	int err;

	if (stat(dev, &st)) {
		err = errno;
		fprintf(stderr, "%s: stat: %s\n", dev, strerror(err));
		return -err;
	}
	if (!S_ISBLK(st.st_mode)) {
		fprintf(stderr, "%s: not a block device\n", dev);
		return -ENOTBLK;
	}
	snprintf(path, len, "/sys/dev/block/%u:%u/queue/stable_writes",
		 major(st.st_rdev), minor(st.st_rdev));
	if (!access(path, F_OK))
		return 0;
	snprintf(path, len, "/sys/dev/block/%u:%u/../queue/stable_writes",
		 major(st.st_rdev), minor(st.st_rdev));
	if (!access(path, F_OK))
		return 0;
	fprintf(stderr, "%s: no queue/stable_writes in sysfs\n", dev);
	return -ENOENT;
}

int blk_stable_writes_get(const char *dev)
{
	char path[128], buf[16];
	int ret;

	ret = stable_writes_path(dev, path, sizeof(path));
	if (ret)
		return ret;
	ret = read_text(path, buf, sizeof(buf));
	if (ret) {
		fprintf(stderr, "%s: %s\n", path, strerror(-ret));
		return ret;
	}
	return atoi(buf) ? 1 : 0;
}

int blk_stable_writes_set(const char *dev, int on)
{
	char path[128];
	int ret;

	ret = stable_writes_path(dev, path, sizeof(path));
	if (ret)
		return ret;
	ret = write_text(path, on ? "1" : "0");
	if (ret) {
		fprintf(stderr, "%s: write %d: %s\n", path, !!on, strerror(-ret));
		return ret;
	}
	ret = blk_stable_writes_get(dev);
	if (ret < 0)
		return ret;
	if (ret != !!on) {
		fprintf(stderr, "%s: stable_writes stays %d\n", dev, ret);
		return -EIO;
	}
	return 0;
}

void try_modprobe(const char *module, const char *param)
{
	int status, null;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execlp("modprobe", "modprobe", "-q", module, param, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* Make sure /dev/zram<id> exists (mknod from sysfs if devtmpfs is absent). */
static int zram_node(struct zram_dev *z)
{
	char path[64], buf[32];
	unsigned int maj, min;
	int i, ret;

	snprintf(z->path, sizeof(z->path), "/dev/zram%d", z->id);
	for (i = 0; i < 100; i++) {
		if (!access(z->path, F_OK))
			return 0;
		usleep(10000);
	}
	snprintf(path, sizeof(path), "/sys/block/zram%d/dev", z->id);
	ret = read_text(path, buf, sizeof(buf));
	if (ret || sscanf(buf, "%u:%u", &maj, &min) != 2) {
		fprintf(stderr, "%s: cannot read device number\n", path);
		return ret ? ret : -EINVAL;
	}
	if (mknod(z->path, S_IFBLK | 0600, makedev(maj, min))) {
		ret = -errno;
		fprintf(stderr, "mknod %s: %s\n", z->path, strerror(-ret));
		return ret;
	}
	return 0;
}

int zram_create(struct zram_dev *z, unsigned long long disksize)
{
	char path[96], buf[32];
	int ret;

	memset(z, 0, sizeof(*z));
	z->id = -1;
	/* A modular kernel (a distribution's) loads zram only on demand. */
	if (access(ZRAM_CONTROL, F_OK) && access("/sys/block/zram0", F_OK))
		try_modprobe("zram", NULL);
	if (!access(ZRAM_CONTROL "/hot_add", F_OK)) {
		ret = read_text(ZRAM_CONTROL "/hot_add", buf, sizeof(buf));
		if (ret) {
			fprintf(stderr, ZRAM_CONTROL "/hot_add: %s\n", strerror(-ret));
			return ret;
		}
		z->id = atoi(buf);
		z->hot_added = 1;
	} else if (!access("/sys/block/zram0", F_OK)) {
		ret = read_text("/sys/block/zram0/disksize", buf, sizeof(buf));
		if (ret || strtoull(buf, NULL, 0)) {
			fprintf(stderr, "zram0 is in use and zram-control/hot_add is missing\n");
			return -EBUSY;
		}
		z->id = 0;
	} else {
		return -ENODEV;
	}

	snprintf(path, sizeof(path), "/sys/block/zram%d/disksize", z->id);
	snprintf(buf, sizeof(buf), "%llu", disksize);
	ret = write_text(path, buf);
	if (ret) {
		fprintf(stderr, "%s: write %s: %s\n", path, buf, strerror(-ret));
		goto fail;
	}
	ret = zram_node(z);
	if (ret)
		goto fail;
	return 0;
fail:
	zram_destroy(z);
	return ret;
}

int zram_destroy(struct zram_dev *z)
{
	char path[96], buf[16];
	int ret = 0, r;

	if (z->id < 0)
		return 0;
	snprintf(path, sizeof(path), "/sys/block/zram%d/reset", z->id);
	r = write_text(path, "1");
	if (r) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		ret = r;
	}
	if (z->hot_added) {
		snprintf(buf, sizeof(buf), "%d", z->id);
		r = write_text(ZRAM_CONTROL "/hot_remove", buf);
		if (r) {
			fprintf(stderr, ZRAM_CONTROL "/hot_remove %s: %s\n", buf,
				strerror(-r));
			if (!ret)
				ret = r;
		}
	}
	z->id = -1;
	return ret;
}

int zram_swap_setup(struct zram_dev *z, unsigned long long disksize, int prio)
{
	int ret;

	ret = zram_create(z, disksize);
	if (ret)
		return ret;
	ret = swap_mkswap(z->path);
	if (!ret)
		ret = swap_on(z->path, prio);
	if (ret)
		zram_destroy(z);
	return ret;
}

int zram_swap_teardown(struct zram_dev *z)
{
	int ret = 0;

	if (z->id < 0)
		return 0;
	if (swap_is_active(z->path) == 1)
		ret = swap_off(z->path);
	if (ret)
		return ret;
	return zram_destroy(z);
}

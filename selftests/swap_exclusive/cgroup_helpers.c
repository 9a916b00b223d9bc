// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup_helpers.c - a cgroup v2 memory cgroup of the test's own (see
 * cgroup_helpers.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cgroup_helpers.h"
#include "pagemap.h"
#include "test_devs.h"
#include "test_util.h"

#define CG_MNT_TEMPLATE	"/tmp/" TEST_DEV_PREFIX "cg.XXXXXX"

/* The mount point of the first cgroup2 hierarchy in /proc/self/mounts. */
static int cg2_mount_point(char *mnt, size_t len)
{
	char dev[64], dir[PATH_MAX], type[32];
	int r = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %4095s %31s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(mnt, len, "%s", dir);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

/* The caller's cgroup v2 path ("0::<path>" in /proc/self/cgroup). */
static int cg2_own_path(char *path, size_t len)
{
	char line[PATH_MAX + 8];
	int r = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		r = snprintf(path, len, "%s", line + 3) < (int)len ? 0 : -ENAMETOOLONG;
		break;
	}
	fclose(f);
	return r;
}

/* Does the whitespace-separated list in file name word? */
static int file_has_word(const char *file, const char *word)
{
	char buf[512], *tok, *save;

	if (sysfs_read(file, buf, sizeof(buf)))
		return -errno;
	for (tok = strtok_r(buf, "\n\t ", &save); tok; tok = strtok_r(NULL, "\n\t ", &save))
		if (!strcmp(tok, word))
			return 1;
	return 0;
}

static int put(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return write_text(path, val);
}

int memcg_create(struct memcg *m, const char *role, char *why, size_t why_len)
{
	char mnt[PATH_MAX], own[PATH_MAX], parent[PATH_MAX], file[PATH_MAX + 32];
	int r;

	memset(m, 0, sizeof(*m));
	if (cg2_mount_point(mnt, sizeof(mnt))) {
		snprintf(m->mnt, sizeof(m->mnt), CG_MNT_TEMPLATE);
		if (!mkdtemp(m->mnt)) {
			r = -errno;
			reasonf(why, why_len, "cannot make a cgroup2 mount point %s: %s",
				m->mnt, strerror(errno));
			m->mnt[0] = '\0';
			return r;
		}
		if (mount("cgroup2", m->mnt, "cgroup2", 0, NULL)) {
			r = -errno;
			reasonf(why, why_len, "cannot mount cgroup2 (CONFIG_CGROUPS): %s",
				strerror(errno));
			if (r == -ENODEV)
				reasonf(why, why_len,
					"no cgroup v2 memory controller (CONFIG_MEMCG): cgroup2 not mountable");
			rmdir(m->mnt);
			m->mnt[0] = '\0';
			return r == -ENODEV ? -ENODEV : r;
		}
		snprintf(mnt, sizeof(mnt), "%s", m->mnt);
	}
	if (cg2_own_path(own, sizeof(own)))
		snprintf(own, sizeof(own), "/");
	if (snprintf(m->home, sizeof(m->home), "%s%s", mnt,
		     strcmp(own, "/") ? own : "") >= (int)sizeof(m->home)) {
		reasonf(why, why_len, "cgroup path too long: %s%s", mnt, own);
		memcg_destroy(m);
		return -ENAMETOOLONG;
	}
	/* below the root, or next to our own cgroup */
	if (!strcmp(own, "/")) {
		snprintf(parent, sizeof(parent), "%s", mnt);
	} else {
		snprintf(parent, sizeof(parent), "%s", m->home);
		*strrchr(parent, '/') = '\0';
	}
	snprintf(file, sizeof(file), "%s/cgroup.controllers", parent);
	r = file_has_word(file, "memory");
	if (r <= 0) {
		reasonf(why, why_len,
			"no cgroup v2 memory controller in %s (CONFIG_MEMCG, or it is bound to cgroup v1)",
			parent);
		memcg_destroy(m);
		return -ENODEV;
	}
	snprintf(file, sizeof(file), "%s/cgroup.subtree_control", parent);
	if (file_has_word(file, "memory") != 1) {
		r = put(parent, "cgroup.subtree_control", "+memory");
		if (r) {
			reasonf(why, why_len, "cannot enable +memory in %s: %s", file,
				strerror(-r));
			memcg_destroy(m);
			return r;
		}
	}
	if (snprintf(m->path, sizeof(m->path), "%s/" TEST_DEV_PREFIX "%s", parent, role) >=
	    (int)sizeof(m->path)) {
		reasonf(why, why_len, "cgroup path too long: %s", parent);
		memcg_destroy(m);
		return -ENAMETOOLONG;
	}
	if (rmdir(m->path) && errno != ENOENT) {
		r = -errno;
		reasonf(why, why_len, "a cgroup %s is left over and busy: %s", m->path,
			strerror(errno));
		memcg_destroy(m);
		return r;
	}
	if (mkdir(m->path, 0755)) {
		r = -errno;
		reasonf(why, why_len, "mkdir %s: %s", m->path, strerror(errno));
		memcg_destroy(m);
		return r;
	}
	m->created = true;
	snprintf(file, sizeof(file), "%s/memory.reclaim", m->path);
	if (access(file, W_OK)) {
		reasonf(why, why_len,
			"%s has no memory.reclaim (CONFIG_MEMCG of 5.19 or later)", m->path);
		memcg_destroy(m);
		return -ENODEV;
	}
	return 0;
}

int memcg_enter(struct memcg *m, int pid)
{
	char buf[32];
	int r;

	snprintf(buf, sizeof(buf), "%d", pid ? pid : getpid());
	r = put(m->path, "cgroup.procs", buf);
	if (!r && !pid)
		m->entered = true;
	return r;
}

int memcg_leave(struct memcg *m)
{
	char buf[32];
	int r;

	if (!m->entered)
		return 0;
	snprintf(buf, sizeof(buf), "%d", getpid());
	r = put(m->home, "cgroup.procs", buf);
	if (!r)
		m->entered = false;
	return r;
}

int memcg_destroy(struct memcg *m)
{
	int r = 0, i;

	memcg_leave(m);
	if (m->created) {
		/* a killed child may take a moment to leave */
		for (i = 0; i < 100 && rmdir(m->path) && errno == EBUSY; i++)
			sleep_us(10000);
		if (!access(m->path, F_OK))
			r = -EBUSY;
		m->created = false;
	}
	if (m->mnt[0]) {
		if (umount(m->mnt) && !r)
			r = -errno;
		rmdir(m->mnt);
		m->mnt[0] = '\0';
	}
	return r;
}

int memcg_write(const struct memcg *m, const char *file, const char *val)
{
	return put(m->path, file, val);
}

long long memcg_read(const struct memcg *m, const char *file, const char *key)
{
	char path[PATH_MAX + 64], buf[64];

	snprintf(path, sizeof(path), "%s/%s", m->path, file);
	if (key)
		return proc_value(path, key);
	if (sysfs_read(path, buf, sizeof(buf)))
		return -1;
	if (!strcmp(buf, "max"))
		return -1;
	return strtoll(buf, NULL, 10);
}

long long memcg_settle(const struct memcg *m)
{
	long long cur, last = -1;
	int r, i;

	r = memcg_write(m, "memory.high", "0");
	if (!r)
		r = memcg_write(m, "memory.high", "max");
	if (r)
		return r;
	for (i = 0; i < 50; i++) {
		cur = memcg_read(m, "memory.current", NULL);
		if (cur < 0)
			return -EIO;
		if (cur == last)
			break;
		last = cur;
		sleep_us(20000);
	}
	return cur;
}

int memcg_page_out(const struct memcg *m, void *p, size_t n, int tries)
{
	long long cur;
	char buf[32];
	int t, r;

	/*
	 * Age the pages first (the memset that filled them left them
	 * young): MADV_COLD only deactivates, the cgroup's reclaim swaps.
	 */
	madvise(p, n * page_size(), MADV_COLD);
	for (t = 0; t < tries; t++) {
		cur = memcg_read(m, "memory.current", NULL);
		snprintf(buf, sizeof(buf), "%lld", cur > 0 ? cur : 1LL << 20);
		/* -EAGAIN: reclaimed less than asked, which is expected */
		r = memcg_write(m, "memory.reclaim", buf);
		if (r && r != -EAGAIN)
			return r;
		if (pages_swapped(p, n))
			return 0;
	}
	return -EAGAIN;
}

int memcg_evict(const struct memcg *m, const uint64_t *pfn, size_t n, int tries)
{
	size_t i, left = n;
	int t;

	for (t = 0; t < tries && left; t++) {
		for (i = 0, left = 0; i < n; i++)
			left += kpf_has(pfn[i], KPF_BIT_SWAPCACHE);
		if (!left)
			break;
		memcg_write(m, "memory.reclaim", "8M");
		sleep_us(10000);
	}
	return (int)left;
}

/* Remove the TEST_DEV_PREFIX cgroups directly below dir. */
static int sweep_dir(const char *dir)
{
	char path[PATH_MAX + 300], procs[PATH_MAX + 320];
	struct dirent *de;
	int removed = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, TEST_DEV_PREFIX, strlen(TEST_DEV_PREFIX)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
		if (access(procs, F_OK))
			continue;
		removed += !rmdir(path);
	}
	closedir(d);
	return removed;
}

int memcg_sweep(void)
{
	char mnt[PATH_MAX], own[PATH_MAX], dir[2 * PATH_MAX];
	int removed;

	if (cg2_mount_point(mnt, sizeof(mnt)))
		return 0;
	removed = sweep_dir(mnt);
	if (!cg2_own_path(own, sizeof(own)) && strcmp(own, "/")) {
		snprintf(dir, sizeof(dir), "%s%s", mnt, own);
		*strrchr(dir, '/') = '\0';
		removed += sweep_dir(dir);
	}
	/* our own mount, when a killed test left it */
	if (!strncmp(mnt, "/tmp/" TEST_DEV_PREFIX "cg.", strlen("/tmp/" TEST_DEV_PREFIX "cg.")) &&
	    !umount(mnt))
		rmdir(mnt);
	return removed;
}

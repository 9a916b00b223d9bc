// SPDX-License-Identifier: GPL-2.0
/*
 * test_devs.c - memory-backed null_blk devices and dm-delay mappings made
 * by the test itself (see test_devs.h).
 *
 * null_blk is configured through configfs (/sys/kernel/config/nullb/<name>,
 * 6.1 names the disk after that directory); device-mapper through its
 * ioctls on /dev/mapper/control, so neither needs dmsetup nor udev.  When
 * a piece is missing and modprobe is on $PATH, the module is loaded first
 * (null_blk with nr_devices=0: its default nullb0 is not memory backed).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "swap_helpers.h"
#include "test_devs.h"

#define CONFIGFS	"/sys/kernel/config"
#define NULLB_DIR	CONFIGFS "/nullb"
#define DM_CONTROL	"/dev/mapper/control"
#define DM_BUF_SIZE	16384

static void why_set(char *why, const char *fmt, ...)
	__printf(2, 3);

static void why_set(char *why, const char *fmt, ...)
{
	va_list ap;

	if (!why)
		return;
	va_start(ap, fmt);
	vsnprintf(why, TEST_DEV_WHY, fmt, ap);
	va_end(ap);
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int put_attr(const char *dir, const char *attr, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	return write_text(path, val);
}

static int put_attr_ul(const char *dir, const char *attr, unsigned long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", v);
	return put_attr(dir, attr, buf);
}

/* Wait up to a second for a device node with this device number. */
static int wait_node(const char *path, dev_t devt)
{
	struct stat st;
	int i;

	for (i = 0; i < 100; i++) {
		if (!stat(path, &st) && S_ISBLK(st.st_mode) &&
		    (!devt || st.st_rdev == devt))
			return 0;
		pause_ms(10);
	}
	return -ENOENT;
}

/* /sys/kernel/config/nullb, loading and mounting what it takes. */
static int nullb_configfs(char *why)
{
	struct stat st;

	if (!access(NULLB_DIR, F_OK))
		return 0;
	if (stat(CONFIGFS, &st)) {
		try_modprobe("configfs", NULL);
		if (stat(CONFIGFS, &st)) {
			why_set(why, "configfs not available (CONFIG_CONFIGFS_FS): no " CONFIGFS);
			return -ENODEV;
		}
	}
	if (mount("configfs", CONFIGFS, "configfs", 0, NULL) && errno != EBUSY) {
		why_set(why, "cannot mount configfs on " CONFIGFS ": %s", strerror(errno));
		return -errno;
	}
	if (access(NULLB_DIR, F_OK)) {
		try_modprobe("null_blk", "nr_devices=0");
		if (access(NULLB_DIR, F_OK)) {
			why_set(why,
				"null_blk not available (CONFIG_BLK_DEV_NULL_BLK): no " NULLB_DIR);
			return -ENODEV;
		}
	}
	return 0;
}

int nullb_create(struct nullb_dev *d, const char *role,
		 const struct nullb_opts *o, char *why)
{
	char dir[128], idx[16];
	int r;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), TEST_DEV_PREFIX "%s", role);
	r = nullb_configfs(why);
	if (r)
		return r;
	snprintf(dir, sizeof(dir), NULLB_DIR "/%s", d->name);
	if (!access(dir, F_OK)) {
		/* left behind by an earlier run that was killed */
		struct nullb_dev old = { .created = 1 };

		snprintf(old.name, sizeof(old.name), "%s", d->name);
		nullb_destroy(&old);
	}
	if (mkdir(dir, 0755)) {
		r = -errno;
		why_set(why, "mkdir %s: %s", dir, strerror(errno));
		return r;
	}
	d->created = 1;
	r = put_attr_ul(dir, "size", o->size_mb);
	if (!r)
		r = put_attr_ul(dir, "blocksize", o->blocksize ? o->blocksize : 512);
	if (!r)
		r = put_attr(dir, "memory_backed", "1");
	if (!r && o->completion_nsec) {
		r = put_attr(dir, "irqmode", "2");
		if (!r)
			r = put_attr_ul(dir, "completion_nsec", o->completion_nsec);
	}
	if (!r)
		r = put_attr(dir, "power", "1");
	if (r) {
		why_set(why, "configuring null_blk %s: %s", d->name, strerror(-r));
		goto fail;
	}
	snprintf(d->path, sizeof(d->path), "/dev/%s", d->name);
	if (!wait_node(d->path, 0))
		return 0;
	/* older naming: nullb<index> */
	{
		char ipath[160];
		int fd = -1;
		ssize_t n = -1;

		snprintf(ipath, sizeof(ipath), "%s/index", dir);
		fd = open(ipath, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, idx, sizeof(idx) - 1);
			close(fd);
		}
		if (n > 0) {
			idx[n] = '\0';
			snprintf(d->path, sizeof(d->path), "/dev/nullb%d", atoi(idx));
			if (!wait_node(d->path, 0))
				return 0;
		}
	}
	r = -ENOENT;
	why_set(why, "null_blk %s is powered on but has no device node in /dev", d->name);
fail:
	nullb_destroy(d);
	return r;
}

int nullb_destroy(struct nullb_dev *d)
{
	char dir[128];
	int r = 0;

	if (!d->created)
		return 0;
	snprintf(dir, sizeof(dir), NULLB_DIR "/%s", d->name);
	put_attr(dir, "power", "0");
	if (rmdir(dir) && errno != ENOENT)
		r = -errno;
	d->created = 0;
	return r;
}

/* ---- device-mapper ------------------------------------------------ */

static int dm_open(char *why)
{
	int fd;

	fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		try_modprobe("dm_mod", NULL);
		wait_node(DM_CONTROL, 0);
		fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT)
			why_set(why,
				"device-mapper not available (CONFIG_BLK_DEV_DM): no " DM_CONTROL);
		else
			why_set(why, "open " DM_CONTROL ": %s", strerror(err));
		return -err;
	}
	return fd;
}

static struct dm_ioctl *dm_init(void *buf, const char *name)
{
	struct dm_ioctl *io = buf;

	memset(buf, 0, DM_BUF_SIZE);
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = DM_BUF_SIZE;
	io->data_start = sizeof(*io);
	if (name)
		snprintf(io->name, sizeof(io->name), "%s", name);
	return io;
}

/* Is the target type registered (after trying to load its module)? */
static int dm_has_target(int fd, const char *type)
{
	static alignas(8) char buf[DM_BUF_SIZE];
	struct dm_target_versions *v;
	struct dm_ioctl *io;
	char mod[64];
	size_t off;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		io = dm_init(buf, NULL);
		if (ioctl(fd, DM_LIST_VERSIONS, io))
			return -errno;
		for (off = io->data_start; off + sizeof(*v) <= io->data_size;) {
			v = (struct dm_target_versions *)(buf + off);
			if (!strcmp(v->name, type))
				return 1;
			if (!v->next)
				break;
			off += v->next;
		}
		snprintf(mod, sizeof(mod), "dm_%s", type);
		try_modprobe(mod, NULL);
	}
	return 0;
}

static int dm_remove_name(int fd, const char *name)
{
	static alignas(8) char buf[DM_BUF_SIZE];
	struct dm_ioctl *io = dm_init(buf, name);
	int i;

	/* The node may still be open for a moment (udev): retry briefly. */
	for (i = 0; i < 50; i++) {
		if (!ioctl(fd, DM_DEV_REMOVE, io))
			return 0;
		if (errno != EBUSY)
			return errno == ENXIO ? 0 : -errno;
		pause_ms(20);
		io = dm_init(buf, name);
	}
	return -EBUSY;
}

/* Size of a block device in bytes, 0 if unknown. */
static unsigned long long blkdev_bytes(const char *path)
{
	unsigned long long bytes = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (ioctl(fd, BLKGETSIZE64, &bytes))
		bytes = 0;
	close(fd);
	return bytes;
}

/* Append one target to the DM_TABLE_LOAD request in buf; -ENOSPC when full. */
static int dm_table_add(char *buf, size_t *off, unsigned long long start,
			unsigned long long len, const char *type, const char *params)
{
	struct dm_ioctl *io = (struct dm_ioctl *)buf;
	struct dm_target_spec *spec = (struct dm_target_spec *)(buf + *off);
	size_t plen = strlen(params) + 1, next;

	next = (sizeof(*spec) + plen + 7) & ~(size_t)7;
	if (*off + next > DM_BUF_SIZE)
		return -ENOSPC;
	memset(spec, 0, next);
	spec->sector_start = start;
	spec->length = len;
	snprintf(spec->target_type, sizeof(spec->target_type), "%s", type);
	memcpy(spec + 1, params, plen);
	spec->next = next;
	io->target_count++;
	*off += next;
	return 0;
}

/* A DM_TABLE_LOAD request in buf: one target of that type and parameters. */
static struct dm_ioctl *dm_table(char *buf, const char *name, unsigned long long bytes,
				 const char *type, const char *params)
{
	struct dm_ioctl *io = dm_init(buf, name);
	size_t off = io->data_start;

	dm_table_add(buf, &off, 0, bytes / 512, type, params);
	return io;
}

/* "<major>:<minor>" of lower, its size in bytes; -errno and a reason. */
static int dm_lower(const char *lower, char *mm, size_t len, unsigned long long *bytes,
		    char *why)
{
	struct stat st;

	if (stat(lower, &st) || !S_ISBLK(st.st_mode)) {
		why_set(why, "%s is not a block device", lower);
		return -ENOTBLK;
	}
	*bytes = blkdev_bytes(lower);
	if (*bytes < 512) {
		why_set(why, "cannot get the size of %s", lower);
		return -EIO;
	}
	snprintf(mm, len, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	return 0;
}

/*
 * Make the dm device d->name with one target (type, params) over bytes,
 * after checking that the target type config_opt builds exists.
 */
static int dm_make(struct dm_delay_dev *d, unsigned long long bytes, const char *type,
		   const char *params, const char *config_opt, char *why)
{
	static alignas(8) char buf[DM_BUF_SIZE];
	struct dm_ioctl *io;
	dev_t devt;
	int fd, r;

	fd = dm_open(why);
	if (fd < 0)
		return fd;
	r = dm_has_target(fd, type);
	if (r <= 0) {
		why_set(why, "dm-%s target not available (%s)%s%s", type, config_opt,
			r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		close(fd);
		return r < 0 ? r : -ENODEV;
	}
	dm_remove_name(fd, d->name);	/* a leftover of a killed run */

	io = dm_init(buf, d->name);
	if (ioctl(fd, DM_DEV_CREATE, io)) {
		r = -errno;
		why_set(why, "DM_DEV_CREATE %s: %s", d->name, strerror(errno));
		close(fd);
		return r;
	}
	d->created = 1;
	devt = makedev(major(io->dev), minor(io->dev));

	io = dm_table(buf, d->name, bytes, type, params);
	if (ioctl(fd, DM_TABLE_LOAD, io)) {
		r = -errno;
		why_set(why, "DM_TABLE_LOAD %s %s: %s", type, params, strerror(errno));
		goto fail;
	}
	io = dm_init(buf, d->name);	/* no DM_SUSPEND_FLAG: resume */
	if (ioctl(fd, DM_DEV_SUSPEND, io)) {
		r = -errno;
		why_set(why, "resuming %s: %s", d->name, strerror(errno));
		goto fail;
	}
	snprintf(d->path, sizeof(d->path), "/dev/dm-%u", minor(devt));
	if (wait_node(d->path, devt)) {
		r = -ENOENT;
		why_set(why, "%s (%u:%u) has no node %s", d->name, major(devt),
			minor(devt), d->path);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	dm_remove_name(fd, d->name);
	d->created = 0;
	close(fd);
	return r;
}

int dm_delay_create(struct dm_delay_dev *d, const char *role,
		    const char *lower, unsigned int read_ms,
		    unsigned int write_ms, char *why)
{
	unsigned long long bytes;
	char mm[32], params[96];
	int r;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), TEST_DEV_PREFIX "%s", role);
	r = dm_lower(lower, mm, sizeof(mm), &bytes, why);
	if (r)
		return r;
	snprintf(params, sizeof(params), "%s 0 %u %s 0 %u", mm, read_ms, mm, write_ms);
	return dm_make(d, bytes, "delay", params, "CONFIG_DM_DELAY", why);
}

static int dm_remove(struct dm_delay_dev *d)
{
	int fd, r;

	if (!d->created)
		return 0;
	fd = dm_open(NULL);
	if (fd < 0)
		return fd;
	r = dm_remove_name(fd, d->name);
	close(fd);
	d->created = 0;
	return r;
}

int dm_delay_destroy(struct dm_delay_dev *d)
{
	return dm_remove(d);
}

/* The target of a fault mode from sector start on: linear, or flakey always down. */
static const char *dm_fault_params(const struct dm_fault_dev *f, enum dm_fault_mode mode,
				   unsigned long long start, char *params, size_t len)
{
	if (mode == DM_FAULT_NONE) {
		snprintf(params, len, "%s %llu", f->lower, start);
		return "linear";
	}
	/* up 0 s, down 1 s: always down */
	snprintf(params, len, "%s %llu 0 1%s", f->lower, start,
		 mode == DM_FAULT_WRITES ? " 1 error_writes" : "");
	return "flakey";
}

/*
 * The table: mode over the sector ranges (all of the device when n is 0),
 * rest elsewhere.
 */
static int dm_fault_table(char *buf, const struct dm_fault_dev *f, enum dm_fault_mode mode,
			  const struct dm_range *ranges, int n, enum dm_fault_mode rest)
{
	unsigned long long pos = 0, end = f->bytes / 512;
	size_t off;
	char params[96];
	const char *type;
	int i, r = 0;

	dm_init(buf, f->dm.name);
	off = ((struct dm_ioctl *)buf)->data_start;
	if (!n) {
		type = dm_fault_params(f, mode, 0, params, sizeof(params));
		return dm_table_add(buf, &off, 0, end, type, params);
	}
	for (i = 0; i < n && !r; i++) {
		if (ranges[i].start < pos || ranges[i].start + ranges[i].len > end)
			return -EINVAL;
		if (ranges[i].start > pos) {
			type = dm_fault_params(f, rest, pos, params, sizeof(params));
			r = dm_table_add(buf, &off, pos, ranges[i].start - pos, type, params);
		}
		pos = ranges[i].start;
		type = dm_fault_params(f, mode, pos, params, sizeof(params));
		if (!r)
			r = dm_table_add(buf, &off, pos, ranges[i].len, type, params);
		pos += ranges[i].len;
	}
	if (!r && pos < end) {
		type = dm_fault_params(f, rest, pos, params, sizeof(params));
		r = dm_table_add(buf, &off, pos, end - pos, type, params);
	}
	return r;
}

int dm_fault_create(struct dm_fault_dev *f, const char *role, const char *lower,
		    char *why)
{
	const char *type;
	char params[96];
	int fd, r;

	memset(f, 0, sizeof(*f));
	snprintf(f->dm.name, sizeof(f->dm.name), TEST_DEV_PREFIX "%s", role);
	r = dm_lower(lower, f->lower, sizeof(f->lower), &f->bytes, why);
	if (r)
		return r;
	/* the faults need the flakey target: check for it before anything */
	fd = dm_open(why);
	if (fd < 0)
		return fd;
	r = dm_has_target(fd, "flakey");
	close(fd);
	if (r <= 0) {
		why_set(why, "dm-flakey target not available (CONFIG_DM_FLAKEY)");
		return r < 0 ? r : -ENODEV;
	}
	type = dm_fault_params(f, DM_FAULT_NONE, 0, params, sizeof(params));
	r = dm_make(&f->dm, f->bytes, type, params, "CONFIG_BLK_DEV_DM", why);
	if (!r)
		snprintf(f->path, sizeof(f->path), "%s", f->dm.path);
	return r;
}

int dm_fault_set_ranges(struct dm_fault_dev *f, enum dm_fault_mode mode,
			const struct dm_range *ranges, int n, enum dm_fault_mode rest,
			char *why)
{
	static alignas(8) char buf[DM_BUF_SIZE];
	struct dm_ioctl *io;
	int fd, r;

	fd = dm_open(why);
	if (fd < 0)
		return fd;
	/*
	 * Load the new table as the inactive one, then resume: the kernel
	 * suspends (letting I/O in flight finish), swaps the tables and
	 * resumes within the one ioctl, so no page fault of ours can wait
	 * for a suspended swap device.
	 */
	r = dm_fault_table(buf, f, mode, ranges, n, rest);
	if (r) {
		why_set(why, "a table of %d ranges for %s: %s", n, f->dm.name, strerror(-r));
		goto out;
	}
	if (ioctl(fd, DM_TABLE_LOAD, buf)) {
		r = -errno;
		why_set(why, "DM_TABLE_LOAD for %s: %s", f->dm.name, strerror(errno));
		goto out;
	}
	io = dm_init(buf, f->dm.name);	/* no DM_SUSPEND_FLAG: resume */
	if (ioctl(fd, DM_DEV_SUSPEND, io)) {
		r = -errno;
		why_set(why, "switching %s to the new table: %s", f->dm.name, strerror(errno));
		goto out;
	}
	f->mode = mode;
out:
	close(fd);
	return r;
}

int dm_fault_set(struct dm_fault_dev *f, enum dm_fault_mode mode, char *why)
{
	return dm_fault_set_ranges(f, mode, NULL, 0, DM_FAULT_NONE, why);
}

int dm_fault_destroy(struct dm_fault_dev *f)
{
	return dm_remove(&f->dm);
}

int test_devs_sweep(void)
{
	static alignas(8) char buf[DM_BUF_SIZE];
	char names[16][DM_NAME_LEN];
	struct dm_name_list *nl;
	struct dm_ioctl *io;
	int fd, i, nr = 0, removed = 0;
	struct dirent *de;
	DIR *dir;

	fd = access(DM_CONTROL, F_OK) ? -1 : open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		io = dm_init(buf, NULL);
		if (!ioctl(fd, DM_LIST_DEVICES, io) && !(io->flags & DM_BUFFER_FULL_FLAG) &&
		    io->data_size > io->data_start) {
			size_t off = io->data_start;

			for (;;) {
				nl = (struct dm_name_list *)(buf + off);
				if (!nl->dev)
					break;
				if (!strncmp(nl->name, TEST_DEV_PREFIX, strlen(TEST_DEV_PREFIX)) &&
				    nr < 16)
					snprintf(names[nr++], DM_NAME_LEN, "%s", nl->name);
				if (!nl->next)
					break;
				off += nl->next;
			}
		}
		for (i = 0; i < nr; i++)
			removed += !dm_remove_name(fd, names[i]);
		close(fd);
	}
	dir = opendir(NULLB_DIR);
	while (dir && (de = readdir(dir))) {
		struct nullb_dev d = { .created = 1 };

		if (strncmp(de->d_name, TEST_DEV_PREFIX, strlen(TEST_DEV_PREFIX)) ||
		    strlen(de->d_name) >= sizeof(d.name))
			continue;
		snprintf(d.name, sizeof(d.name), "%.31s", de->d_name);
		removed += !nullb_destroy(&d);
	}
	if (dir)
		closedir(dir);
	return removed;
}

int blkdev_fill_text(const char *path, size_t len, const char *text)
{
	size_t tl = strlen(text), i;
	char *buf;
	int fd, r = 0;

	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < len; i++)
		buf[i] = text[i % tl];
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
	} else {
		if (write(fd, buf, len) != (ssize_t)len || fsync(fd))
			r = -EIO;
		close(fd);
	}
	free(buf);
	return r;
}

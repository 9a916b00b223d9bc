// SPDX-License-Identifier: GPL-2.0
/*
 * root-run <command> [<argument>...]: run a command inside a Debian root
 * on a disk, from the test initramfs, and hand the root back to the host.
 *
 * scripts/distro-guest.sh uses it for architectures this machine cannot
 * run (debootstrap's second stage and dpkg -i of an armhf or mips root):
 * the record's own Debian kernel boots with our /init (init.c), which
 * loads the disk and ext4 modules of the package and names the disks by
 * their virtio serial:
 *
 *   COWSWAP_ROOT_DEV  ext4, the root (made by the host with mkfs.ext4 -d)
 *   COWSWAP_OUT_DEV   a raw disk at least as large as the root's content
 *
 * The root is mounted on /target with /proc, /sys, /dev and /dev/pts in
 * it and the command runs chrooted there. When it succeeds, those are
 * unmounted again and the root's own GNU tar writes the whole root
 * (ownership, modes, hard links, device nodes, extended attributes) as
 * one archive onto COWSWAP_OUT_DEV; the host unpacks it. The host cannot
 * mount the ext4 image itself (no loop devices in its container), and
 * debugfs's rdump would drop device nodes and extended attributes.
 *
 * Console lines: "COWSWAP-INIT root-run ..." progress; the exit status
 * is the command's if it failed, else tar's, and init.c reports it as
 * "COWSWAP-END <name> exit=<status>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TARGET "/target"

/* stdout is line buffered (main): each line reaches the console whole */
#define say(fmt, ...) printf("COWSWAP-INIT root-run " fmt "\n", ##__VA_ARGS__)

static int mount_in(const char *src, const char *dir, const char *type)
{
	char path[256];

	snprintf(path, sizeof(path), TARGET "%s", dir);
	mkdir(path, 0755);
	if (mount(src, path, type, 0, NULL)) {
		say("cannot mount %s on %s: %s", type, path, strerror(errno));
		return -1;
	}
	return 0;
}

static void umount_in(const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), TARGET "%s", dir);
	/* EINVAL: not a mount point, the command unmounted it itself
	 * (debootstrap's second stage does so with /proc, /sys, /dev/pts) */
	if (umount2(path, 0) && errno != EINVAL && umount2(path, MNT_DETACH))
		say("cannot unmount %s: %s", path, strerror(errno));
}

/* Run argv chrooted in TARGET, stdout on out_fd if >= 0; its exit status. */
static int run(char *const argv[], int out_fd)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0) {
		if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
			_exit(126);
		if (chroot(TARGET) || chdir("/")) {
			fprintf(stderr, "COWSWAP-INIT root-run chroot " TARGET ": %s\n", strerror(errno));
			_exit(126);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "COWSWAP-INIT root-run exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 127;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	const char *root = getenv("COWSWAP_ROOT_DEV");
	const char *out = getenv("COWSWAP_OUT_DEV");
	char *tar[] = { "tar", "--create", "--file=-", "--one-file-system", "--numeric-owner",
			"--xattrs", "--xattrs-include=*", "--directory=/", ".", NULL };
	int rc, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || !root || !out) {
		say("usage: root-run <command> [<argument>...], with COWSWAP_ROOT_DEV%s and COWSWAP_OUT_DEV%s set",
		    root ? "" : " (missing)", out ? "" : " (missing)");
		return 2;
	}
	mkdir(TARGET, 0755);
	if (mount(root, TARGET, "ext4", 0, NULL)) {
		say("cannot mount %s as ext4: %s", root, strerror(errno));
		return 2;
	}
	if (mount_in("proc", "/proc", "proc") || mount_in("sysfs", "/sys", "sysfs") ||
	    mount_in("devtmpfs", "/dev", "devtmpfs") || mount_in("devpts", "/dev/pts", "devpts"))
		return 2;
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("LANG", "C.UTF-8", 1);
	setenv("DEBIAN_FRONTEND", "noninteractive", 1);
	say("running %s%s in the root", argv[1], argc > 2 ? " ..." : "");
	rc = run(argv + 1, -1);
	sync();
	umount_in("/dev/pts");
	umount_in("/dev");
	umount_in("/sys");
	umount_in("/proc");
	if (rc) {
		say("%s failed: exit status %d", argv[1], rc);
		umount2(TARGET, 0);
		return rc;
	}
	fd = open(out, O_WRONLY);
	if (fd < 0) {
		say("cannot open %s: %s", out, strerror(errno));
		return 2;
	}
	say("%s done; writing the root to %s with its tar", argv[1], out);
	rc = run(tar, fd);
	if (fsync(fd))
		say("fsync %s: %s", out, strerror(errno));
	close(fd);
	if (umount2(TARGET, 0))
		say("cannot unmount %s: %s", TARGET, strerror(errno));
	sync();
	return rc;
}

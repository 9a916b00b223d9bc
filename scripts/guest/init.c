// SPDX-License-Identifier: GPL-2.0
/*
 * cowswap /init: the only userspace program in the test initramfs.
 *
 * It mounts what the tests need, turns the harness's disks into
 * environment variables, prepares the swap disk, runs every test listed
 * in /etc/cowswap-tests with its output on the console, and then ends
 * the guest. The host side (scripts/run-qemu.sh) reads the console log:
 *
 *   COWSWAP-INIT <message>          progress and setup
 *   COWSWAP-BEGIN <name>            a test starts; its TAP output follows
 *   COWSWAP-END <name> exit=<code>  it ended (KSFT exit code)
 *   COWSWAP-DONE                    all tests ran, the guest goes down
 *
 * Disks are found by the virtio serial the harness gives them
 * (cowswap-<role>, see export_disks()), never by letter.
 *
 * Kernel command line parameters read from /proc/cmdline:
 *   cowswap.halt=reboot|poweroff    how to leave (default reboot; QEMU
 *                                   runs with -no-reboot)
 *   cowswap.fault=exit|hang         deliberate failures for testing the
 *                                   harness: let init exit (the kernel
 *                                   panics) or never finish (timeout)
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "swap_helpers.h"

static char cmdline[4096];

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("COWSWAP-INIT ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
}

static void mount_one(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, NULL) && errno != EBUSY)
		say("mount %s on %s failed: %s", type, dir, strerror(errno));
}

/* Value of a "key=value" word of the kernel command line, or NULL. */
static const char *param(const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " \t\n");

			if (n >= len)
				n = len - 1;
			memcpy(buf, p + klen + 1, n);
			buf[n] = '\0';
			return buf;
		}
		p += strcspn(p, " \t\n");
	}
	return NULL;
}

/*
 * A kernel that is not ours (a distribution's) has the drivers the tests
 * need as modules, and there is no modprobe here: initramfs.sh lists
 * them in /etc/cowswap-modules, one per line in dependency order,
 * "<path> [param=value ...]", and each is loaded with finit_module(2).
 * Our own kernels have everything built in and no such file.
 */
static void load_modules(void)
{
	FILE *f = fopen("/etc/cowswap-modules", "r");
	char line[512], *params, *name;
	int loaded = 0, failed = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int fd;

		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		params = strchr(line, ' ');
		if (params)
			*params++ = '\0';
		else
			params = "";
		name = strrchr(line, '/') ? strrchr(line, '/') + 1 : line;
		fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			say("module %s: cannot open %s: %s", name, line, strerror(errno));
			failed++;
			continue;
		}
		if (!syscall(SYS_finit_module, fd, params, 0)) {
			say("module %s loaded%s%s", name, *params ? ": " : "", params);
			loaded++;
		} else if (errno == EEXIST) {
			say("module %s was already loaded", name);
		} else {
			say("module %s: finit_module failed: %s", name, strerror(errno));
			failed++;
		}
		close(fd);
	}
	fclose(f);
	say("modules: %d loaded, %d failed", loaded, failed);
}

/*
 * The harness names each disk by its role in the virtio serial
 * (-device virtio-blk-...,serial=cowswap-<role>), readable in
 * /sys/block/<disk>/serial.  Disk letters follow probe order, which is
 * not stable (virtio-ccw on s390x), so roles never come from letters:
 * serial cowswap-swap on vdb -> COWSWAP_SWAP_DEV=/dev/vdb.
 */
static void export_disks(void)
{
	static const char prefix[] = "cowswap-";
	char path[PATH_MAX], serial[64], var[128], dev[300], *c;
	struct dirent *d;
	DIR *dir;
	int nr = 0;

	dir = opendir("/sys/block");
	if (!dir) {
		say("cannot list /sys/block: %s", strerror(errno));
		return;
	}
	while ((d = readdir(dir))) {
		ssize_t n;
		int fd;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/serial", d->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, serial, sizeof(serial) - 1);
		close(fd);
		if (n <= 0)
			continue;
		serial[n] = '\0';
		serial[strcspn(serial, " \n")] = '\0';
		if (strncmp(serial, prefix, sizeof(prefix) - 1))
			continue;
		snprintf(var, sizeof(var), "COWSWAP_%s_DEV", serial + sizeof(prefix) - 1);
		for (c = var; *c; c++)
			*c = toupper((unsigned char)*c);
		if (getenv(var)) {
			say("two disks claim the serial %s (%s and /dev/%s): giving up on both",
			    serial, getenv(var), d->d_name);
			unsetenv(var);
			continue;
		}
		snprintf(dev, sizeof(dev), "/dev/%s", d->d_name);
		setenv(var, dev, 1);
		say("%s=%s (serial %s)", var, dev, serial);
		nr++;
	}
	closedir(dir);
	if (!nr)
		say("no disk with a cowswap-<role> serial: the tests bring their own devices");
}

static void prepare_swap(void)
{
	const char *dev = getenv("COWSWAP_SWAP_DEV");
	int err;

	if (!dev) {
		say("no swap disk given, tests needing swap will skip");
		return;
	}
	err = swap_mkswap(dev);
	if (!err)
		err = swap_on(dev, 10);
	if (err)
		say("swap on %s failed: %s", dev, strerror(-err));
	else
		say("swap on %s", dev);
}

static int run_test(char *line)
{
	char *argv[32], *save = NULL, *name;
	int argc = 0, status;
	pid_t pid;

	name = strtok_r(line, " \t\n", &save);
	if (!name || name[0] == '#')
		return 0;
	while (argc < 31 && (argv[argc] = strtok_r(NULL, " \t\n", &save)))
		argc++;
	argv[argc] = NULL;
	if (!argc)
		return 0;

	printf("COWSWAP-BEGIN %s\n", name);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		chdir("/tmp");
		execv(argv[0], argv);
		printf("COWSWAP-INIT exec %s failed: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		printf("COWSWAP-END %s exit=127\n", name);
		return 1;
	}
	if (WIFSIGNALED(status))
		printf("COWSWAP-END %s exit=signal-%d\n", name, WTERMSIG(status));
	else
		printf("COWSWAP-END %s exit=%d\n", name, WEXITSTATUS(status));
	fflush(stdout);
	return 0;
}

int main(void)
{
	char line[1024], buf[64];
	FILE *f;
	int fd;

	mount_one("proc", "/proc", "proc");
	mount_one("sysfs", "/sys", "sysfs");
	mount_one("devtmpfs", "/dev", "devtmpfs");
	mount_one("debugfs", "/sys/kernel/debug", "debugfs");
	mount_one("tmpfs", "/tmp", "tmpfs");
	setvbuf(stdout, NULL, _IOLBF, 0);
	setenv("PATH", "/tests:/bin", 1);

	fd = open("/proc/cmdline", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, cmdline, sizeof(cmdline) - 1);

		cmdline[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	say("start, page size %ld", sysconf(_SC_PAGESIZE));

	if (param("cowswap.fault", buf, sizeof(buf))) {
		if (!strcmp(buf, "exit")) {
			say("deliberate fault: init exits");
			return 1;
		}
		if (!strcmp(buf, "hang")) {
			say("deliberate fault: init hangs");
			for (;;)
				pause();
		}
	}

	load_modules();
	export_disks();
	prepare_swap();

	f = fopen("/etc/cowswap-tests", "r");
	if (!f)
		say("no /etc/cowswap-tests: nothing to run");
	while (f && fgets(line, sizeof(line), f))
		run_test(line);
	if (f)
		fclose(f);

	sync();
	printf("COWSWAP-DONE\n");
	fflush(stdout);
	/*
	 * fflush() only hands the lines to the tty layer; a UART sends them
	 * from its interrupt, and reboot() does not wait for it. Without
	 * tcdrain() the e500 guest lost its last lines (COWSWAP-DONE among
	 * them) in one boot of two. Not a tty (ENOTTY): nothing to wait for.
	 */
	tcdrain(STDOUT_FILENO);
	if (param("cowswap.halt", buf, sizeof(buf)) && !strcmp(buf, "poweroff"))
		reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	/* Not reached; if it is, the host times out and says so. */
	for (;;)
		pause();
}

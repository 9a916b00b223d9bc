// SPDX-License-Identifier: GPL-2.0
/*
 * vmtests: runs the 6.1 tree's mm selftests (tools/testing/selftests/vm)
 * in the test guest, one TAP line per test, for scripts/cowswap/vmtests.py.
 *
 *   vmtests <list> [<dir of the binaries>]
 *
 * <list> is scripts/guest/vmtests.list as initramfs.sh resolved it for
 * the record: "name | timeout | needs | binary args..." per line, the
 * host's needs already turned into "skip=<why>". Left for the guest:
 *   path=<file>:<why>  SKIP "<why> (no <file>)" when the file is missing
 *   uid=<n>            run the binary as that user (setgid/setuid first)
 *   sysctl=<file>=<v>  write <v> to /proc/sys/<file> for the test and put
 *                      the old value back after it
 *   cpuflag=<f>:<why>  x86: SKIP "<why>" when /proc/cpuinfo's flags lack
 *                      <f> (other architectures have no flags line)
 *   retry=<n>          a failing test runs again, up to n more times; a
 *                      later pass is "ok ... # passed after K failed run(s)"
 *   thp=anon           SKIP unless a MADV_HUGEPAGE fault here gets a THP
 *                      (AnonHugePages in /proc/self/smaps_rollup)
 *   skip=<why>         SKIP "<why>"
 *
 * Each test runs in a process group of its own with its output on a
 * pipe: every line it prints is echoed as "# <line>" (so a test's own
 * TAP does not mix with ours), and it is killed at its timeout. Result:
 *   exit 0                      ok N name
 *   exit 4 (KSFT_SKIP)          ok N name # SKIP <its last output line>
 *   other exit, signal, timeout not ok N name # <which>
 * Before each result a "# <name>: ... after S.s s" line says how it
 * ended and how long it took. Exit status 1 when a test failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 128
#define MAX_ARGS 16
#define KSFT_SKIP 4

struct test {
	char name[64];
	int timeout;
	char needs[512];
	char cmd[256];
};

static struct test tests[MAX_TESTS];
static int nr_tests;

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Fill tests[] from the list; 0, or -1 with a Bail out! printed. */
static int read_list(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int lineno = 0;

	if (!f) {
		printf("Bail out! cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *field[4], *p = line, *s = trim(line);
		struct test *t;
		int i;

		lineno++;
		if (!*s || *s == '#')
			continue;
		for (i = 0; i < 4; i++) {
			field[i] = strsep(&p, "|");
			if (!field[i])
				break;
		}
		if (i < 4 || nr_tests == MAX_TESTS) {
			printf("Bail out! %s:%d: not 'name | timeout | needs | command' (or too many tests)\n",
			       path, lineno);
			fclose(f);
			return -1;
		}
		t = &tests[nr_tests++];
		snprintf(t->name, sizeof(t->name), "%s", trim(field[0]));
		t->timeout = atoi(trim(field[1]));
		snprintf(t->needs, sizeof(t->needs), "%s", trim(field[2]));
		snprintf(t->cmd, sizeof(t->cmd), "%s", trim(field[3]));
	}
	fclose(f);
	return 0;
}

/* sysctl=<file>=<value>: the test's own setting of /proc/sys/<file> */
struct sysctl {
	char path[128];
	char value[64];
	char old[64];
	int set;
};

/* Write value to path, the old content kept in old (0 or -errno). */
static int write_sysctl(const char *path, const char *value, char *old, size_t oldlen)
{
	int fd = open(path, O_RDWR), err = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (old) {
		n = read(fd, old, oldlen - 1);
		old[n > 0 ? n : 0] = '\0';
		old[strcspn(old, "\n")] = '\0';
		lseek(fd, 0, SEEK_SET);
	}
	if (write(fd, value, strlen(value)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/*
 * Does a write fault in a MADV_HUGEPAGE region get a THP? 1 yes, 0 no
 * (why says what was seen).
 */
static int anon_thp(char *why, size_t len)
{
	unsigned long pmd = 0, kb = 0;
	char line[256], *map, *p;
	FILE *f;
	int found = 0;

	f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
	if (!f || fscanf(f, "%lu", &pmd) != 1 || !pmd) {
		snprintf(why, len, "no THP here (no /sys/kernel/mm/transparent_hugepage/hpage_pmd_size)");
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	map = mmap(NULL, 2 * pmd, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		snprintf(why, len, "cannot map 2 PMDs to probe for THP: %s", strerror(errno));
		return 0;
	}
	p = (char *)(((unsigned long)map + pmd - 1) & ~(pmd - 1));
	madvise(p, pmd, MADV_HUGEPAGE);
	*p = 1;
	f = fopen("/proc/self/smaps_rollup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			found = 1;
	if (f)
		fclose(f);
	munmap(map, 2 * pmd);
	if (found && kb)
		return 1;
	snprintf(why, len, "no THP for anonymous memory in this guest: a write fault in a "
		 "MADV_HUGEPAGE region left AnonHugePages at %lu kB%s", kb,
		 found ? "" : " (no /proc/self/smaps_rollup)");
	return 0;
}

/* 1 when /proc/cpuinfo has a "flags" line (x86) without the word flag */
static int cpu_lacks(const char *flag)
{
	char line[4096], word[64];
	FILE *f = fopen("/proc/cpuinfo", "r");
	int lacks = 0;

	snprintf(word, sizeof(word), " %s", flag);
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		line[strcspn(line, "\n")] = ' ';
		strcat(word, " ");
		lacks = !strstr(line, word);
		break;
	}
	if (f)
		fclose(f);
	return lacks;
}

/*
 * The first missing need of a test as a SKIP reason in why (empty when
 * it can run); *uid is set from uid=<n>, *sc from sysctl=.
 */
static void check_needs(const struct test *t, char *why, size_t len, long *uid,
			struct sysctl *sc, int *retries)
{
	char buf[sizeof(t->needs)], *p = buf, *w;

	*why = '\0';
	*uid = -1;
	*retries = 0;
	sc->set = 0;
	snprintf(buf, sizeof(buf), "%s", t->needs);
	while ((w = strsep(&p, ";"))) {
		w = trim(w);
		if (!strncmp(w, "skip=", 5)) {
			snprintf(why, len, "%s", w + 5);
			return;
		}
		if (!strncmp(w, "uid=", 4)) {
			*uid = atol(w + 4);
		} else if (!strncmp(w, "retry=", 6)) {
			*retries = atoi(w + 6);
		} else if (!strncmp(w, "sysctl=", 7)) {
			char *eq = strchr(w + 7, '=');

			if (!eq) {
				snprintf(why, len, "bad need '%s' in the list", w);
				return;
			}
			*eq = '\0';
			snprintf(sc->path, sizeof(sc->path), "/proc/sys/%s", w + 7);
			snprintf(sc->value, sizeof(sc->value), "%s", eq + 1);
			if (access(sc->path, W_OK)) {
				snprintf(why, len, "cannot set %s (%s)", sc->path, strerror(errno));
				return;
			}
			sc->set = 1;
		} else if (!strncmp(w, "cpuflag=", 8)) {
			char *flag = w + 8, *reason = strchr(flag, ':');

			if (reason)
				*reason++ = '\0';
			if (cpu_lacks(flag)) {
				snprintf(why, len, "%s (no %s in /proc/cpuinfo)", reason ? reason : "missing",
					 flag);
				return;
			}
		} else if (!strcmp(w, "thp=anon")) {
			if (!anon_thp(why, len))
				return;
		} else if (!strncmp(w, "path=", 5)) {
			char *file = w + 5, *reason = strchr(file, ':');

			if (reason)
				*reason++ = '\0';
			if (access(file, F_OK)) {
				snprintf(why, len, "%s (no %s)", reason ? reason : "missing", file);
				return;
			}
		} else if (*w && strcmp(w, "-")) {
			snprintf(why, len, "unknown need '%s' in the list", w);
			return;
		}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A line of the test's output as the reason of its SKIP: a kselftest
 * "ok N ... # SKIP <why>" gives <why>, which wins over later lines;
 * kselftest's plan and totals say nothing.
 */
static void keep_reason(const char *line, char *last, size_t lastlen, int *from_tap)
{
	const char *skip = strstr(line, "# SKIP ");

	if (!strncmp(line, "ok ", 3) && skip) {
		snprintf(last, lastlen, "%s", skip + 7);
		*from_tap = 1;
	} else if (!*from_tap && *line && strncmp(line, "# Totals", 8) &&
		   strncmp(line, "# Planned tests", 15) && strncmp(line, "TAP version", 11) &&
		   strncmp(line, "1..", 3)) {
		snprintf(last, lastlen, "%s", line);
	}
}

/*
 * Echo what the test printed, a line at a time, as TAP diagnostics; the
 * line that says why it SKIPs (keep_reason) is kept in last.
 */
static void echo_output(char *buf, size_t *used, int final, char *last, size_t lastlen,
			int *from_tap)
{
	char *start = buf, *nl;

	buf[*used] = '\0';
	while ((nl = strchr(start, '\n')) || (final && *start)) {
		if (nl)
			*nl = '\0';
		printf("# %s\n", start);
		keep_reason(trim(start), last, lastlen, from_tap);
		start = nl ? nl + 1 : start + strlen(start);
	}
	*used = strlen(start);
	memmove(buf, start, *used + 1);
	/* a line longer than the buffer: print what there is */
	if (*used > 2048) {
		printf("# %s\n", buf);
		*used = 0;
	}
}

/*
 * Run a test once: 0 it passed, KSFT_SKIP it skipped (why in last), 1 it
 * failed (how in how).
 */
static int run_attempt(const struct test *t, const char *bindir, long uid,
		       char *how, size_t howlen, char *last, size_t lastlen)
{
	char cmd[sizeof(t->cmd)], *argv[MAX_ARGS + 1], *p = cmd, path[512];
	char buf[4096 + 1];
	int fds[2], status = 0, argc = 0, timed_out = 0, from_tap = 0;
	size_t used = 0;
	double t0 = now(), left;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "%s", t->cmd);
	while (argc < MAX_ARGS && (argv[argc] = strsep(&p, " ")))
		if (*argv[argc])
			argc++;
	argv[argc] = NULL;
	*last = '\0';
	if (!argc) {
		snprintf(how, howlen, "no command in the list");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", bindir, argv[0]);
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(how, howlen, "pipe: %s", strerror(errno));
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		dup2(null, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (chdir("/tmp"))
			perror("chdir /tmp");
		if (uid >= 0 && (setgroups(0, NULL) || setgid(uid) || setuid(uid))) {
			perror("setuid");
			_exit(126);
		}
		execv(path, argv);
		fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		snprintf(how, howlen, "fork: %s", strerror(errno));
		return 1;
	}
	setpgid(pid, pid);
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		ssize_t n;

		left = t0 + t->timeout - now();
		if (left <= 0) {
			timed_out = 1;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = read(fds[0], buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			break;
		used += n;
		echo_output(buf, &used, 0, last, lastlen, &from_tap);
	}
	close(fds[0]);
	echo_output(buf, &used, 1, last, lastlen, &from_tap);
	waitpid(pid, &status, 0);
	/* what is left of the group (a forked child of the test) goes too */
	kill(-pid, SIGKILL);

	if (timed_out)
		snprintf(how, howlen, "timed out (limit %d s)", t->timeout);
	else if (WIFSIGNALED(status))
		snprintf(how, howlen, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(how, howlen, "exit=%d", WEXITSTATUS(status));
	printf("# %s: %s, %.1f s\n", t->name, how, now() - t0);
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP)
		return KSFT_SKIP;
	return 1;
}

/*
 * Run one test, again up to retries times while it fails; its TAP line
 * is printed. Returns 1 when it failed.
 */
static int run_one(int num, const struct test *t, const char *bindir, long uid, int retries)
{
	char how[128], last[256];
	int attempt, ret;

	for (attempt = 0;; attempt++) {
		ret = run_attempt(t, bindir, uid, how, sizeof(how), last, sizeof(last));
		if (ret != 1 || attempt == retries)
			break;
		printf("# %s: failed (%s), running it again (%d of %d retries)\n", t->name, how,
		       attempt + 1, retries);
	}
	if (ret == 0 && attempt)
		printf("ok %d %s # passed after %d failed run(s)\n", num, t->name, attempt);
	else if (ret == 0)
		printf("ok %d %s\n", num, t->name);
	/* no reason printed: the judge refuses a SKIP without one */
	else if (ret == KSFT_SKIP)
		printf("ok %d %s # SKIP%s%s\n", num, t->name, *last ? " " : "", last);
	else
		printf("not ok %d %s # %s%s\n", num, t->name, how,
		       attempt ? " (every run)" : "");
	return ret == 1;
}

int main(int argc, char **argv)
{
	const char *bindir = argc > 2 ? argv[2] : "/tests/vm";
	char why[512];
	int i, failed = 0, err, retries;
	long uid;
	struct sysctl sc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: %s <list> [<dir of the binaries>]\n", argv[0]);
		return 2;
	}
	printf("TAP version 13\n");
	if (read_list(argv[1]))
		return 2;
	printf("1..%d\n", nr_tests);
	for (i = 0; i < nr_tests; i++) {
		check_needs(&tests[i], why, sizeof(why), &uid, &sc, &retries);
		if (*why) {
			printf("ok %d %s # SKIP %s\n", i + 1, tests[i].name, why);
			continue;
		}
		if (sc.set) {
			err = write_sysctl(sc.path, sc.value, sc.old, sizeof(sc.old));
			if (err) {
				printf("not ok %d %s # writing %s to %s: %s\n", i + 1, tests[i].name,
				       sc.value, sc.path, strerror(-err));
				failed++;
				continue;
			}
			printf("# %s: %s set to %s (was %s)\n", tests[i].name, sc.path, sc.value, sc.old);
		}
		failed += run_one(i + 1, &tests[i], bindir, uid, retries);
		if (sc.set && (err = write_sysctl(sc.path, sc.old, NULL, 0)))
			printf("# %s: could not put %s back to %s: %s\n", tests[i].name, sc.path,
			       sc.old, strerror(-err));
	}
	printf("# vmtests: %d of %d failed\n", failed, nr_tests);
	return failed ? 1 : 0;
}

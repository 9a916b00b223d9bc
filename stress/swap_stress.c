// SPDX-License-Identifier: GPL-2.0
/*
 * swap_stress - a bounded stress test of anonymous memory across swap.
 *
 * Several worker processes (and threads inside them) run for -t seconds.
 * Every page a worker owns carries a pattern derived from (owner tag, page
 * index, generation); the owner remembers the generation of each page and
 * verifies it periodically, before it rewrites it and once more at the end,
 * after a last MADV_PAGEOUT, so that the final check reads the pages back
 * through swap.  Workers:
 *
 *   pageout   a writer thread verifies and rewrites random runs of pages
 *             while a second thread keeps paging random ranges of the same
 *             region out (MADV_PAGEOUT, MADV_COLD).  The first pageout
 *             worker asks for THP (MADV_HUGEPAGE), the others do not.
 *   odirect   pairs of threads: a reader does an O_DIRECT read of one block
 *             into a page while the other thread pages that page out and
 *             writes the rest of it; afterwards the block must hold the
 *             data from the disk (checked against a buffered reference
 *             read) and the rest of the page the new pattern.  Reads from
 *             COWSWAP_FAST_READ_DEV with random head starts, and (first
 *             worker) one pair reading COWSWAP_SLOW_READ_DEV, throttled so
 *             that every read stays in flight while the page is paged out.
 *             A kernel that forgets PG_anon_exclusive across swap loses
 *             the read data here.  This worker never forks.
 *   fork      pages out its region and forks; the child verifies what it
 *             inherited, writes its own copies of half of the pages, pages
 *             out and verifies again, while the parent rewrites pages of
 *             its own: neither may see the other's writes.  Up to three
 *             children at a time.
 *   race      two threads write-fault (or one read-faults, one writes)
 *             the same swapped-out pages at the same moment, each in its
 *             own half of every page, on a THP-backed region; a third
 *             thread forks in the middle of those faults and the child
 *             checks that no later write of the parent reaches it.
 *             Counts the iterations in which the two faults really
 *             overlapped and the forks that ran during a fault (see the
 *             comment above worker_race()).
 *   swapoff   cycles a second swap area with a higher priority than the
 *             main one: COWSWAP_SLOW_SWAP_DEV (writes throttled to 4 IOPS,
 *             queue/stable_writes alternately off and on, the area limited
 *             to 64 pages so that swapoff does not wait minutes for
 *             writeback) and, with -z 1 or when there is no pressure
 *             worker or no slow disk, an 8 MiB zram device (swap_helpers):
 *             then the slow disk is used in the second and every -S-th
 *             cycle.  zram is left out under memory exhaustion because its
 *             fallback allocation warns ("page allocation failure", with a
 *             stack trace: a splat for the judge).  Its own pages are paged
 *             out to the area, which is then swapped off (unuse_pte())
 *             with everybody else's pages in it.
 *   ksm       a MADV_MERGEABLE region of identical page pairs with KSM
 *             running (run=1); pairs are rewritten, paged out, unmerged
 *             and merged again.
 *   pressure  one process allocates more than the RAM (MemTotal * 5/4, at
 *             most half of RAM + free swap; -m) and sweeps it, verifying
 *             every page and rewriting it every other pass: real reclaim.
 *             The first pass runs at nice -10 on THP (MADV_HUGEPAGE; 6.1
 *             turns THP off below 512 MiB of RAM, so the test switches it
 *             to "madvise" for the run) to get past the RAM size quickly.
 *   fault     a swap area of its own (dm over a null_blk, test_devs.c),
 *             switched on for a cycle at the main area's priority (half
 *             of the page-outs that do not go to the swapoff worker's
 *             area) and off again: its writes fail all
 *             the time (pages must stay in memory, intact) but for one
 *             page-out of the worker's own region, after which reads fail
 *             in the slots of those pages (each comes back intact or
 *             raises SIGBUS, never wrong); the swapoff must succeed.  The
 *             kernel's "Write-error" and "Read-error on swap-device" lines
 *             are announced in the kernel log as expected ("cowswap:
 *             expect swap-io-error").
 *   memcg     a region twice its memory cgroup's memory.high, verified and
 *             rewritten at random: reclaim by the cgroup's limit, no
 *             MADV_PAGEOUT (cgroup_helpers.c).
 *
 * Output: TAP, one line per worker kind plus one for the workers' exits
 * (a kind FAILs on any corruption; "workers" FAILs on a crash, a hang or
 * an error of the test machinery), then one machine-readable line
 *
 *   COWSWAP-STRESS {"seconds":..,"ops":{...},"pages_verified":..,"corruptions":..}
 *
 * Run as root, with swap already active (COWSWAP_SWAP_DEV).  Options: -t
 * seconds (default 60), -m pressure MiB (0: none, default automatic), -p
 * pageout workers, -o odirect workers, -f fork workers, -r race workers,
 * -F fault workers, -M memcg workers (default 2, 2, 1, 1, 1, 1),
 * -S slow swap disk every N swapoff cycles when zram is used too (0: never,
 * default 4), -z 1/0 zram cycles on/off (default: see swapoff), -g grace
 * seconds for the final verification (default 300), -s random seed, -v.
 */
#include "swap_stress.h"
#include "vm_util.h"

static const char *const kind_name[NR_KINDS] = {
	"pageout", "odirect", "fork", "race", "swapoff", "ksm", "pressure", "fault", "memcg",
};

static const char *const op_name[NR_OPS] = {
	"pageout", "swapped_seen", "page_writes", "verify_passes",
	"odirect_reads", "odirect_slow_reads", "odirect_raced", "forks",
	"swapon", "swapoff", "swapoff_slow", "ksm_unmerge",
	"ksm_pages_sharing_max", "pressure_sweeps", "pressure_pages",
	"race_iterations", "race_overlapped", "race_read_overlapped", "race_forks",
	"race_fork_overlapped", "race_thp",
	"faults_injected", "fault_writes_failed", "fault_reads_failed", "sigbus_seen",
	"fault_swapoffs", "memcg_touches", "memcg_high_events", "memcg_major_faults",
};

struct options opt = {
	.seconds = 60,
	.pressure_mb = -1,
	.pageout = 2,
	.odirect = 2,
	.fork = 1,
	.race = 1,
	.fault = 1,
	.memcg = 1,
	.slow_every = 4,
	.zram = -1,
	.grace = 300,
};

struct environment env;

struct shared *sh;
long ps;
size_t words;
unsigned char *ref;
char ref_why[160];
long pressure_pages;
size_t thp_bytes = 2UL << 20;

static void (*const worker_fn[NR_KINDS])(struct wstat *) = {
	[K_PAGEOUT] = worker_pageout,
	[K_ODIRECT] = worker_odirect,
	[K_FORK] = worker_fork,
	[K_RACE] = worker_race,
	[K_SWAPOFF] = worker_swapoff,
	[K_KSM] = worker_ksm,
	[K_PRESSURE] = worker_pressure,
	[K_FAULT] = worker_fault,
	[K_MEMCG] = worker_memcg,
};

static int start_worker(enum kind kind, int id)
{
	struct wstat *w;
	pid_t pid;

	if (sh->nr >= MAX_WORKERS)
		return -1;
	w = &sh->w[sh->nr++];
	w->kind = kind;
	w->id = id;
	snprintf(w->name, sizeof(w->name), "%s%d", kind_name[kind], id);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		w->errors++;
		msg("%s: fork: %s", w->name, strerror(errno));
		w->reaped = 1;
		return -1;
	}
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(0);
		pagemap_reopen();
		worker_fn[kind](w);
		__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
		_exit(0);
	}
	w->pid = pid;
	return 0;
}

/*
 * Where the threads of a hung worker are: state, wait channel and
 * syscall (number and arguments) of each, from /proc.
 */
static void dump_threads(struct wstat *w)
{
	char path[64], stat[512], wchan[64], sc[160], *p;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", w->pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		int tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", w->pid, tid);
		if (sysfs_read(path, stat, sizeof(stat)))
			continue;
		p = strrchr(stat, ')');
		snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", w->pid, tid);
		if (sysfs_read(path, wchan, sizeof(wchan)))
			strcpy(wchan, "?");
		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", w->pid, tid);
		if (sysfs_read(path, sc, sizeof(sc)))
			strcpy(sc, "?");
		msg("%s: thread %d state %c wchan %s syscall %s", w->name, tid,
		    p && p[1] ? p[2] : '?', wchan, sc);
	}
	closedir(d);
}

static void kill_workers(int sig)
{
	int i;

	for (i = 0; i < sh->nr; i++)
		if (sh->w[i].pid > 0 && !sh->w[i].reaped)
			kill(sh->w[i].pid, sig);
}

static void watchdog(int sig)
{
	static const char bail[] = "Bail out! swap_stress: watchdog expired, workers killed\n";

	(void)sig;
	kill_workers(SIGKILL);
	if (write(STDOUT_FILENO, bail, sizeof(bail) - 1) < 0)
		_exit(KSFT_FAIL);
	_exit(KSFT_FAIL);
}

/* Reap what has exited; returns the number of workers still running. */
static int reap_workers(void)
{
	int i, left = 0, status;

	for (i = 0; i < sh->nr; i++) {
		struct wstat *w = &sh->w[i];

		if (w->reaped)
			continue;
		if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
			w->reaped = 1;
			w->status = status;
			if (WIFSIGNALED(status))
				msg("%s: killed by signal %d", w->name, WTERMSIG(status));
			continue;
		}
		left++;
	}
	return left;
}

static void sum(struct totals *t, int kind)
{
	int i, o;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < sh->nr; i++) {
		struct wstat *w = &sh->w[i];

		if (kind >= 0 && w->kind != kind)
			continue;
		for (o = 0; o < NR_OPS; o++) {
			if (o == OP_KSM_SHARING)
				t->ops[o] = t->ops[o] > w->ops[o] ? t->ops[o] : w->ops[o];
			else
				t->ops[o] += w->ops[o];
		}
		t->verified += w->verified;
		t->corruptions += w->corruptions;
		t->errors += w->errors;
	}
}

static long long swap_used_max;

/* Swap in use now, and the maximum seen, in kB. */
static long long swap_used(void)
{
	long long used = proc_value("/proc/meminfo", "SwapTotal") - proc_value("/proc/meminfo", "SwapFree");

	if (used > swap_used_max)
		swap_used_max = used;
	return used;
}

void progress(double t0)
{
	struct totals t;

	sum(&t, -1);
	msg("t=%.0fs: %" PRIu64 " pages verified, %" PRIu64 " corruptions, %" PRIu64
	    " errors; pageout %" PRIu64 ", odirect %" PRIu64 "+%" PRIu64 " (raced %" PRIu64
	    "), forks %" PRIu64 ", swapoff %" PRIu64 ", pressure sweeps %" PRIu64
	    " (%" PRIu64 " pages touched), swap used %lld kB (max %lld), AnonHugePages %lld kB",
	    now() - t0, t.verified, t.corruptions, t.errors,
	    t.ops[OP_PAGEOUT], t.ops[OP_ODIRECT], t.ops[OP_ODIRECT_SLOW],
	    t.ops[OP_ODIRECT_RACED], t.ops[OP_FORK], t.ops[OP_SWAPOFF],
	    t.ops[OP_SWEEP], t.ops[OP_TOUCH], swap_used(), swap_used_max,
	    proc_value("/proc/meminfo", "AnonHugePages"));
}

/* The reference copy of the fast disk's data, read through the page cache. */
static void read_reference(void)
{
	size_t got = 0, i, tl = strlen(REF_TEXT);
	ssize_t n;
	int fd;

	if (!env.fast_read) {
		snprintf(ref_why, sizeof(ref_why), "COWSWAP_FAST_READ_DEV not set");
		return;
	}
	fd = open(env.fast_read, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(ref_why, sizeof(ref_why), "open %s: %s", env.fast_read,
			 strerror(errno));
		return;
	}
	ref = malloc(REF_LEN);
	while (ref && got < REF_LEN) {
		n = read(fd, ref + got, REF_LEN - got);
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	if (!ref || got < REF_LEN) {
		snprintf(ref_why, sizeof(ref_why), "cannot read %d bytes from %s",
			 REF_LEN, env.fast_read);
		free(ref);
		ref = NULL;
		return;
	}
	for (i = 0; i < REF_LEN && ref[i] == (unsigned char)REF_TEXT[i % tl]; i++)
		;
	if (i < REF_LEN)
		msg("note: %s differs from the expected test pattern at byte %zu; "
		    "checking O_DIRECT reads against the buffered read", env.fast_read, i);
}

/*
 * 6.1 turns THP off on machines with less than 512 MiB; our guests are
 * smaller.  Switch it to "madvise" for the MADV_HUGEPAGE regions (the
 * pressure worker, the first pageout worker) and remember the old mode.
 */
static void thp_enable(char *saved, size_t len)
{
	char buf[64], *l, *r;

	saved[0] = '\0';
	if (sysfs_read(THP_DIR "enabled", buf, sizeof(buf)))
		return;
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r || strncmp(l + 1, "never", 5))
		return;
	*r = '\0';
	snprintf(saved, len, "%s", l + 1);
	if (write_text(THP_DIR "enabled", "madvise"))
		saved[0] = '\0';
}

/* The /proc/vmstat counters the report shows, as deltas over the run. */
static const char *const vm_name[] = {
	"thp_fault_alloc", "thp_fault_fallback", "thp_split_pmd", "thp_split_page",
	"thp_swpout", "thp_swpout_fallback", "pswpin", "pswpout",
};

#define NR_VM	ARRAY_SIZE(vm_name)

static void vmstat_read(long long *v)
{
	char name[64];
	long long val;
	size_t i;
	FILE *f;

	for (i = 0; i < NR_VM; i++)
		v[i] = -1;
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return;
	while (fscanf(f, "%63s %lld", name, &val) == 2)
		for (i = 0; i < NR_VM; i++)
			if (!strcmp(name, vm_name[i]))
				v[i] = val;
	fclose(f);
}

static void vmstat_json(char *buf, size_t len, const long long *a, const long long *b)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < NR_VM && off < len; i++) {
		if (a[i] < 0 || b[i] < 0)
			continue;
		off += snprintf(buf + off, len - off, "%s\"%s\":%lld", off ? "," : "",
				vm_name[i], b[i] - a[i]);
	}
}

static void usage(const char *prog, int code)
{
	printf("usage: %s [-t seconds] [-m pressure-MiB] [-p pageout] [-o odirect] [-f fork]\n"
	       "          [-r race] [-F fault] [-M memcg] [-S slow-every] [-z 0|1] [-g grace] [-s seed] [-v]\n"
	       "Environment: COWSWAP_SWAP_DEV, COWSWAP_SLOW_SWAP_DEV, COWSWAP_FAST_READ_DEV,\n"
	       "COWSWAP_SLOW_READ_DEV (see the comment at the top of swap_stress.c)\n", prog);
	exit(code);
}

/* A number argument in [-1, 1000000], else the usage. */
static int num_arg(const char *s, const char *prog)
{
	long v;

	if (parse_num(s, -1, 1000000, &v))
		usage(prog, KSFT_FAIL);
	return (int)v;
}

/* hpage_pmd_size (vm_util's): what MADV_HUGEPAGE regions are aligned to. */
static void thp_size_read(void)
{
	uint64_t v;

	if (access(THP_DIR "hpage_pmd_size", R_OK))
		return;
	v = read_pmd_pagesize();
	if (v > (uint64_t)ps && v % ps == 0)
		thp_bytes = v;
}

static void json_ops(char *buf, size_t len, const struct totals *t)
{
	size_t off = 0;
	int o;

	for (o = 0; o < NR_OPS && off < len; o++)
		off += snprintf(buf + off, len - off, "%s\"%s\":%" PRIu64, o ? "," : "",
				op_name[o], t->ops[o]);
}

static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "t:m:p:o:f:r:F:M:S:z:g:s:vh")) != -1) {
		switch (c) {
		case 't':
			opt.seconds = num_arg(optarg, argv[0]);
			break;
		case 'm':
			opt.pressure_mb = num_arg(optarg, argv[0]);
			break;
		case 'p':
			opt.pageout = num_arg(optarg, argv[0]);
			break;
		case 'o':
			opt.odirect = num_arg(optarg, argv[0]);
			break;
		case 'f':
			opt.fork = num_arg(optarg, argv[0]);
			break;
		case 'r':
			opt.race = num_arg(optarg, argv[0]);
			break;
		case 'F':
			opt.fault = num_arg(optarg, argv[0]);
			break;
		case 'M':
			opt.memcg = num_arg(optarg, argv[0]);
			break;
		case 'S':
			opt.slow_every = num_arg(optarg, argv[0]);
			break;
		case 'z':
			opt.zram = num_arg(optarg, argv[0]);
			break;
		case 'g':
			opt.grace = num_arg(optarg, argv[0]);
			break;
		case 's':
			opt.seed = (unsigned int)num_arg(optarg, argv[0]);
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(argv[0], 0);
			break;
		default:
			usage(argv[0], KSFT_FAIL);
		}
	}
	if (opt.seconds < 1 || opt.grace < 10)
		usage(argv[0], KSFT_FAIL);
}

/* The pressure worker's size: -m, else MemTotal * 5/4, at most half of RAM + free swap. */
static void pressure_size(long long mem_kb, long long swap_free_kb)
{
	if (opt.pressure_mb >= 0) {
		pressure_pages = opt.pressure_mb * (1L << 20) / ps;
	} else if (mem_kb > 0 && swap_free_kb > 0) {
		long long kb = mem_kb * 5 / 4;

		if (kb > mem_kb / 2 + swap_free_kb / 2)
			kb = mem_kb / 2 + swap_free_kb / 2;
		pressure_pages = kb * 1024 / ps;
	}
}

/*
 * The fault workers start first, and the others only once each has its
 * swap area ready or FAULT_SETUP_SECONDS have passed.  Setting the area
 * up writes its null_blk through and runs mkswap; beside the pressure
 * worker's exhaustion that took 159 s on an arm debug kernel, longer
 * than the whole 120 s run, and no fault was ever injected.  The run's
 * clock starts after this.
 */
#define FAULT_SETUP_SECONDS	300

static void start_workers(void)
{
	double limit = now() + FAULT_SETUP_SECONDS;
	int i, first = sh->nr;

	for (i = 0; i < opt.fault; i++)
		start_worker(K_FAULT, i);
	for (i = first; i < sh->nr; i++) {
		while (!sh->w[i].reaped && !__atomic_load_n(&sh->w[i].ready, __ATOMIC_ACQUIRE) &&
		       now() < limit)
			sleep_us(100000);
		if (!sh->w[i].reaped && !__atomic_load_n(&sh->w[i].ready, __ATOMIC_ACQUIRE))
			msg("%s: not set up after %d s; the other workers start anyway",
			    sh->w[i].name, FAULT_SETUP_SECONDS);
	}
	start_worker(K_PRESSURE, 0);
	for (i = 0; i < opt.pageout; i++)
		start_worker(K_PAGEOUT, i);
	for (i = 0; i < opt.odirect; i++)
		start_worker(K_ODIRECT, i);
	for (i = 0; i < opt.fork; i++)
		start_worker(K_FORK, i);
	for (i = 0; i < opt.race; i++)
		start_worker(K_RACE, i);
	start_worker(K_SWAPOFF, 0);
	start_worker(K_KSM, 0);
	for (i = 0; i < opt.memcg; i++)
		start_worker(K_MEMCG, i);
}

/* Run for -t seconds, stop, and give the workers -g seconds to finish; the stop time. */
static double run_and_stop(double t0)
{
	double t_stop, next_progress = t0 + 15;
	int i, left;

	while (now() < t0 + opt.seconds) {
		sleep_us(200000);
		if (!reap_workers())
			break;
		swap_used();
		if (now() >= next_progress) {
			progress(t0);
			next_progress += 15;
		}
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	t_stop = now();
	msg("stop after %.0f s; final verification", t_stop - t0);
	while ((left = reap_workers()) && now() < t_stop + opt.grace)
		sleep_us(200000);
	if (left) {
		for (i = 0; i < sh->nr; i++)
			if (!sh->w[i].reaped) {
				sh->w[i].hung = 1;
				msg("%s: still running %d s after the stop, killed",
				    sh->w[i].name, opt.grace);
				dump_threads(&sh->w[i]);
			}
		kill_workers(SIGKILL);
		while (reap_workers())
			sleep_us(100000);
	}
	return t_stop;
}

/* The TAP line of worker kind k; its JSON object appended to kinds at *off. */
static void report_kind(int k, char *kinds, size_t len, size_t *off)
{
	int i, nr = 0, skipped = 0;
	const char *why = "";
	struct totals t;

	for (i = 0; i < sh->nr; i++) {
		if (sh->w[i].kind != k)
			continue;
		nr++;
		if (sh->w[i].skipped) {
			skipped++;
			why = sh->w[i].skip_why;
		}
	}
	sum(&t, k);
	*off += snprintf(kinds + *off, len - *off,
			 "%s\"%s\":{\"workers\":%d,\"pages_verified\":%" PRIu64
			 ",\"corruptions\":%" PRIu64 ",\"errors\":%" PRIu64 "}",
			 k ? "," : "", kind_name[k], nr, t.verified,
			 t.corruptions, t.errors);
	if (t.corruptions)
		ksft_test_result_fail("stress/%s: %" PRIu64 " corruptions in %" PRIu64
				      " page verifications\n", kind_name[k],
				      t.corruptions, t.verified);
	else if (!nr || skipped == nr)
		ksft_test_result_skip("stress/%s %s\n", kind_name[k],
				      nr ? why : "no workers");
	else if (k == K_FAULT)
		ksft_test_result_pass("stress/fault: %" PRIu64 " pages verified; %" PRIu64
				      " faults injected (%" PRIu64 " writes failed, reads made to fail under %"
				      PRIu64 " pages), %" PRIu64 " SIGBUS seen, %"
				      PRIu64 " swapoffs after faults\n",
				      t.verified, t.ops[OP_FAULT_INJECTED],
				      t.ops[OP_FAULT_WRITE_FAILED], t.ops[OP_FAULT_READ_FAILED],
				      t.ops[OP_SIGBUS], t.ops[OP_FAULT_SWAPOFF]);
	else if (k == K_MEMCG)
		ksft_test_result_pass("stress/memcg: %" PRIu64 " pages verified; %" PRIu64
				      " touched, %" PRIu64 " memory.high events, %" PRIu64
				      " major faults\n", t.verified, t.ops[OP_MEMCG_TOUCH],
				      t.ops[OP_MEMCG_HIGH], t.ops[OP_MEMCG_FAULTS]);
	else if (k == K_RACE)
		ksft_test_result_pass("stress/race: %" PRIu64 " pages verified; %" PRIu64
				      " of %" PRIu64 " iterations overlapped (%" PRIu64
				      " read against write), %" PRIu64 " of %" PRIu64
				      " forks raced a fault, %" PRIu64 " THPs\n",
				      t.verified, t.ops[OP_RACE_OVERLAP],
				      t.ops[OP_RACE_ITER], t.ops[OP_RACE_READ],
				      t.ops[OP_RACE_FORK_OVERLAP], t.ops[OP_RACE_FORK],
				      t.ops[OP_RACE_THP]);
	else
		ksft_test_result_pass("stress/%s: %" PRIu64 " pages verified\n",
				      kind_name[k], t.verified);
}

/* The "workers" TAP line: hangs, crashes, machinery errors. */
static void report_workers(int *hung, int *crashed, struct totals *all)
{
	int i;

	for (i = 0; i < sh->nr; i++) {
		struct wstat *w = &sh->w[i];

		*hung += w->hung;
		if (!w->hung && (WIFSIGNALED(w->status) ||
				 (WIFEXITED(w->status) && WEXITSTATUS(w->status)) ||
				 !w->finished))
			(*crashed)++;
	}
	sum(all, -1);
	if (*hung || *crashed || all->errors)
		ksft_test_result_fail("stress/workers: %d hung, %d crashed, %" PRIu64
				      " errors\n", *hung, *crashed, all->errors);
	else
		ksft_test_result_pass("stress/workers: %d workers finished cleanly\n", sh->nr);
}

/* Root only: every line a SKIP otherwise. */
static void need_root(void)
{
	int k;

	if (geteuid() == 0)
		return;
	for (k = 0; k <= NR_KINDS; k++)
		ksft_test_result_skip("stress/%s needs root\n",
				      k < NR_KINDS ? kind_name[k] : "workers");
	ksft_finished();
}

int main(int argc, char **argv)
{
	char opsbuf[2048], kinds[2048], thp_saved[16], vmbuf[512];
	long long mem_kb, swap_free_kb, vm0[NR_VM], vm1[NR_VM];
	int k, hung = 0, crashed = 0;
	double t0, t_stop, t_end;
	struct totals all;
	size_t off = 0;

	parse_args(argc, argv);
	ksft_print_header();
	ksft_set_plan(NR_KINDS + 1);
	ps = sysconf(_SC_PAGESIZE);
	words = ps / 8;
	if (!opt.seed)
		opt.seed = (unsigned int)time(NULL) ^ getpid();
	env.swap_dev = getenv_nonempty("COWSWAP_SWAP_DEV");
	env.slow_swap = getenv_nonempty("COWSWAP_SLOW_SWAP_DEV");
	env.fast_read = getenv_nonempty("COWSWAP_FAST_READ_DEV");
	env.slow_read = getenv_nonempty("COWSWAP_SLOW_READ_DEV");
	need_root();
	mem_kb = proc_value("/proc/meminfo", "MemTotal");
	swap_free_kb = proc_value("/proc/meminfo", "SwapFree");
	pressure_size(mem_kb, swap_free_kb);
	read_reference();
	thp_enable(thp_saved, sizeof(thp_saved));
	thp_size_read();
	vmstat_read(vm0);
	msg("swap_stress: %d s, page size %ld, seed %u, MemTotal %lld kB, SwapFree %lld kB, "
	    "pressure %ld MiB, THP %zu kB; swap %s, slow swap %s, O_DIRECT %s / throttled %s%s",
	    opt.seconds, ps, opt.seed, mem_kb, swap_free_kb,
	    pressure_pages * ps >> 20, thp_bytes >> 10, env.swap_dev ?: "-", env.slow_swap ?: "-",
	    env.fast_read ?: "-", env.slow_read ?: "-",
	    thp_saved[0] ? "; THP switched from never to madvise" : "");

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		ksft_exit_fail_msg("mmap of the shared statistics: %s\n", strerror(errno));
	memset(sh, 0, sizeof(*sh));

	signal(SIGALRM, watchdog);
	alarm(FAULT_SETUP_SECONDS + opt.seconds + opt.grace + 60);
	start_workers();
	t0 = now();
	/* On time, and not slowed down by the pressure we create. */
	if (setpriority(PRIO_PROCESS, 0, -15))
		msg("setpriority: %s", strerror(errno));
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		msg("mlockall: %s", strerror(errno));
	t_stop = run_and_stop(t0);
	t_end = now();
	progress(t0);
	vmstat_read(vm1);
	vmstat_json(vmbuf, sizeof(vmbuf), vm0, vm1);
	if (thp_saved[0])
		write_text(THP_DIR "enabled", thp_saved);

	for (k = 0; k < NR_KINDS; k++)
		report_kind(k, kinds, sizeof(kinds), &off);
	report_workers(&hung, &crashed, &all);

	json_ops(opsbuf, sizeof(opsbuf), &all);
	printf("COWSWAP-STRESS {\"seconds\":%.0f,\"total_seconds\":%.0f,\"page_size\":%ld,"
	       "\"mem_kb\":%lld,\"pressure_mb\":%ld,\"swap_used_max_kb\":%lld,"
	       "\"seed\":%u,\"thp_kb\":%zu,\"ops\":{%s},\"vmstat\":{%s},"
	       "\"pages_verified\":%" PRIu64 ",\"corruptions\":%" PRIu64 ",\"errors\":%" PRIu64
	       ",\"hung\":%d,\"crashed\":%d,\"kinds\":{%s}}\n",
	       t_stop - t0, t_end - t0, ps, mem_kb, pressure_pages * ps >> 20,
	       swap_used_max, opt.seed, thp_bytes >> 10,
	       opsbuf, vmbuf, all.verified, all.corruptions, all.errors, hung, crashed, kinds);
	fflush(stdout);
	ksft_finished();
	return 0;
}

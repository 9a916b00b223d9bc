// SPDX-License-Identifier: GPL-2.0
/*
 * common.c - what every swap_stress worker uses: messages, counters, page patterns, regions
 * (see swap_stress.c).
 */
#include "swap_stress.h"

bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED);
}

void op_add(struct wstat *me, enum op op, uint64_t n)
{
	__atomic_fetch_add(&me->ops[op], n, __ATOMIC_RELAXED);
}

void op_max(struct wstat *me, enum op op, uint64_t v)
{
	uint64_t cur = __atomic_load_n(&me->ops[op], __ATOMIC_RELAXED);

	while (v > cur &&
	       !__atomic_compare_exchange_n(&me->ops[op], &cur, v, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void cnt_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/*
 * One diagnostic line, written with a single write(2): workers are
 * separate processes and threads sharing the console.
 */
void msg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	strcpy(buf, "# ");
	va_start(ap, fmt);
	n = vsnprintf(buf + 2, sizeof(buf) - 3, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += 2;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, n) < 0)
		return;
}

/* A machinery error: not a corruption, but the run is not trustworthy. */
void error_msg(struct wstat *me, const char *fmt, ...)
{
	char buf[320];
	va_list ap;

	cnt_add(&me->errors, 1);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	msg("%s: error: %s", me->name, buf);
}

void skip_worker(struct wstat *me, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(me->skip_why, sizeof(me->skip_why), fmt, ap);
	va_end(ap);
	me->skipped = 1;
	msg("%s: skipped: %s", me->name, me->skip_why);
}

/* xorshift, per thread */
unsigned int rnd(unsigned int *s)
{
	unsigned int x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x ? x : 0x9e3779b9u;
	return *s;
}

size_t pages_of(size_t bytes, size_t min)
{
	size_t n = bytes / ps;

	return n < min ? min : n;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t pat_seed(uint32_t tag, uint64_t idx, uint32_t gen)
{
	return mix64(mix64(mix64(tag + 0x5157ULL) ^ idx) ^ gen) | 1;
}

/* Words [from, to) of a page get the pattern of (tag, idx, gen). */
void pat_fill(unsigned char *page, size_t from, size_t to, uint32_t tag,
	      uint64_t idx, uint32_t gen)
{
	uint64_t *w = (uint64_t *)page, s = pat_seed(tag, idx, gen);
	size_t i;

	for (i = from; i < to; i++)
		w[i] = s + i * PAT_STEP;
}

/* First word in [from, to) that does not hold the pattern, or -1. */
long pat_check(const unsigned char *page, size_t from, size_t to,
	       uint32_t tag, uint64_t idx, uint32_t gen)
{
	const uint64_t *w = (const uint64_t *)page;
	uint64_t s = pat_seed(tag, idx, gen);
	size_t i;

	for (i = from; i < to; i++)
		if (w[i] != s + i * PAT_STEP)
			return i;
	return -1;
}

/*
 * Describe what a page holds instead of (tag, idx, gen) in words [from,
 * to): zeros, an older or newer generation (a lost or misplaced write),
 * another owner's pattern (alt_tag, e.g. the other side of a fork) or
 * something else.
 */
void pat_explain(const unsigned char *page, size_t from, size_t to,
		 uint32_t tag, uint32_t alt_tag, uint64_t idx,
		 uint32_t gen, char *buf, size_t len)
{
	const uint64_t *w = (const uint64_t *)page;
	long bad = pat_check(page, from, to, tag, idx, gen);
	size_t i, zero = 0;
	int d;

	for (i = from; i < to; i++)
		zero += !w[i];
	if (zero == to - from) {
		snprintf(buf, len, "words %zu-%zu are all zero", from, to - 1);
		return;
	}
	for (d = -4; d <= 4; d++) {
		if (!d || (d < 0 && gen < (uint32_t)-d))
			continue;
		if (pat_check(page, from, to, tag, idx, gen + d) < 0) {
			snprintf(buf, len, "holds generation %u instead of %u (%s)",
				 gen + d, gen, d < 0 ? "a write was lost" :
				 "a newer write showed up");
			return;
		}
	}
	if (alt_tag != tag) {
		for (d = -2; d <= 2; d++) {
			if (pat_check(page, from, to, alt_tag, idx, gen + d) < 0) {
				snprintf(buf, len, "holds the other process's data (tag %#x gen %u)",
					 alt_tag, gen + d);
				return;
			}
		}
	}
	snprintf(buf, len, "word %ld is %#" PRIx64 " (expected %#" PRIx64 "), %zu zero words",
		 bad, w[bad], (uint64_t)(pat_seed(tag, idx, gen) + bad * PAT_STEP), zero);
}

void report(struct wstat *me, const void *page, size_t idx,
	    const char *what)
{
	char d[96];

	cnt_add(&me->corruptions, 1);
	if (__atomic_fetch_add(&me->reports, 1, __ATOMIC_RELAXED) >= MAX_REPORTS)
		return;
	msg("%s: CORRUPTION page %zu at %p: %s (pid %d, now %s)", me->name, idx,
	    page, what, getpid(), pm_describe(pagemap_entry(page), d, sizeof(d)));
}

/* Verify a whole-page pattern; reports and returns false on a mismatch. */
bool verify_page(struct wstat *me, const unsigned char *page,
		 size_t idx, uint32_t tag, uint32_t gen, uint32_t alt_tag)
{
	char why[160];

	cnt_add(&me->verified, 1);
	if (pat_check(page, 0, words, tag, idx, gen) < 0)
		return true;
	pat_explain(page, 0, words, tag, alt_tag, idx, gen, why, sizeof(why));
	report(me, page, idx, why);
	return false;
}

/* Count the pages of [p, p + n pages) that are swap entries right now. */
void count_swapped(struct wstat *me, const unsigned char *p, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += page_swapped(p + i * ps);
	op_add(me, OP_SWAPPED, c);
}

void worker_page_out(struct wstat *me, void *p, size_t n)
{
	if (madvise(p, n * ps, MADV_PAGEOUT) && errno != EAGAIN && errno != ENOMEM) {
		static int once;

		if (!once++)
			error_msg(me, "MADV_PAGEOUT: %s", strerror(errno));
	}
	op_add(me, OP_PAGEOUT, 1);
}

int region_init(struct region *r, size_t n, uint32_t tag, bool thp)
{
	size_t i;

	r->n = n;
	r->tag = tag;
	r->p = map_region(n, thp);
	r->gen = calloc(n, sizeof(*r->gen));
	if (!r->p || !r->gen)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pat_fill(r->p + i * ps, 0, words, tag, i, 0);
	return 0;
}

unsigned char *rpage(struct region *r, size_t i)
{
	return r->p + i * ps;
}

/* Verify page i; on a mismatch rewrite it so it is reported only once. */
void region_verify(struct wstat *me, struct region *r, size_t i,
		   uint32_t alt_tag)
{
	if (!verify_page(me, rpage(r, i), i, r->tag, r->gen[i], alt_tag))
		pat_fill(rpage(r, i), 0, words, r->tag, i, ++r->gen[i]);
}

void region_write(struct wstat *me, struct region *r, size_t i)
{
	pat_fill(rpage(r, i), 0, words, r->tag, i, ++r->gen[i]);
	op_add(me, OP_WRITE, 1);
}

void region_verify_all(struct wstat *me, struct region *r,
		       uint32_t alt_tag)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		region_verify(me, r, i, alt_tag);
	op_add(me, OP_VERIFY_PASS, 1);
}

/* The end of every worker: page everything out, read it back, check. */
void region_final(struct wstat *me, struct region *r, uint32_t alt_tag)
{
	worker_page_out(me, r->p, r->n);
	count_swapped(me, r->p, r->n);
	region_verify_all(me, r, alt_tag);
}

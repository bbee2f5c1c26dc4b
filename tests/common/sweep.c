/*
 * The mutation engine of the sweep suite: see sweep.h.
 */
#include "sweep.h"

#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_MAX_ROWS 256

static struct sweep_row rows[SWEEP_MAX_ROWS];
static size_t n_rows;

size_t sweep_stride(void)
{
	const char *s = getenv("ATTEST_SWEEP_STRIDE");
	long v = s ? strtol(s, NULL, 10) : 1;

	return v > 0 ? (size_t)v : 1;
}

/* CPU time of this process: the cost of a row, whatever else the machine runs. */
static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_accepted(struct sweep_row *r, const struct sweep_target *t, size_t at, bool cut)
{
	if (r->accepted == 0) {
		r->first_bad = at;
		r->first_is_cut = cut;
	}
	r->accepted++;
	if (r->accepted <= 5)
		fprintf(stderr, "ACCEPTED: %s %s: %s %zu still verifies\n", t->vector, t->part,
			cut ? "cut at length" : "flip at byte", at);
}

static void judge(struct sweep_row *r, const struct sweep_target *t, const uint8_t *p, size_t n, size_t at,
		  bool cut)
{
	if (!t->verify(t->arg, p, n))
		r->refused++;
	else if (t->same != NULL && t->same(t->arg, p, n, at, cut))
		r->same++;
	else
		note_accepted(r, t, at, cut);
}

size_t sweep_run(const struct sweep_target *t)
{
	size_t stride = sweep_stride(), to = t->to ? t->to : t->len, count = 0;
	struct sweep_row *r;
	double start = now_seconds();

	if (n_rows == SWEEP_MAX_ROWS) {
		fprintf(stderr, "sweep: more than %d rows\n", SWEEP_MAX_ROWS);
		abort();
	}
	r = &rows[n_rows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->vector, sizeof(r->vector), "%s", t->vector);
	snprintf(r->part, sizeof(r->part), "%s", t->part);
	if (to > t->len)
		to = t->len;
	r->bytes = to > t->from ? to - t->from : 0;
	for (size_t i = t->from; t->mode != SWEEP_NONE && i < to; i++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t mask;

			if (t->mode == SWEEP_BYTES && (size_t)bit != i % 8)
				continue;
			if (count++ % stride != 0)
				continue;
			mask = (uint8_t)(1u << bit);
			t->buf[i] ^= mask;
			judge(r, t, t->buf, t->len, i, false);
			t->buf[i] ^= mask;
			r->flips++;
		}
	}
	for (size_t cut = 0; t->cuts && cut < t->len; cut += stride * (t->cut_every > 1 ? t->cut_every : 1)) {
		/* exactly cut bytes, so the sanitizers see any read past the end */
		uint8_t *copy = malloc(cut ? cut : 1);

		if (copy == NULL)
			abort();
		memcpy(copy, t->buf, cut);
		judge(r, t, copy, cut, cut, true);
		free(copy);
		r->cuts++;
	}
	r->seconds = now_seconds() - start;
	return r->accepted;
}

const struct sweep_row *sweep_rows(size_t *n)
{
	*n = n_rows;
	return rows;
}

static json_t *row_json(const struct sweep_row *r)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "vector", r->vector, "part",
			 r->part, "bytes", (json_int_t)r->bytes, "flips", (json_int_t)r->flips, "cuts",
			 (json_int_t)r->cuts, "refused", (json_int_t)r->refused, "same_content",
			 (json_int_t)r->same, "accepted", (json_int_t)r->accepted, "cpu_seconds", r->seconds);
}

/* Merges this program's rows into the report under suite (the file is locked while rewritten). */
static void merge_report(const char *suite, json_t *mine)
{
	const char *bin = getenv("ATTEST_BINARY_DIR");
	char path[4096], tmp[4200], lock[4200];
	json_t *doc, *suites;
	int fd;

	if (bin == NULL)
		return;
	snprintf(path, sizeof(path), "%s/sweep-report.json", bin);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	snprintf(lock, sizeof(lock), "%s.lock", path);
	fd = open(lock, O_CREAT | O_RDWR, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		fprintf(stderr, "sweep: cannot lock %s\n", lock);
		if (fd >= 0)
			close(fd);
		return;
	}
	doc = json_load_file(path, 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		doc = json_object();
	}
	suites = json_object_get(doc, "suites");
	if (!json_is_object(suites)) {
		suites = json_object();
		json_object_set_new(doc, "suites", suites);
	}
	json_object_set(suites, suite, mine);
	if (json_dump_file(doc, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) != 0 || rename(tmp, path) != 0)
		fprintf(stderr, "sweep: cannot write %s\n", path);
	else
		fprintf(stderr, "sweep: rows of %s written to %s\n", suite, path);
	json_decref(doc);
	flock(fd, LOCK_UN);
	close(fd);
}

size_t sweep_finish(const char *suite)
{
	size_t accepted = 0, flips = 0, cuts = 0, same = 0;
	json_t *list = json_array(), *mine;

	fprintf(stderr, "\n%-58s %-22s %7s %8s %6s %8s %5s %8s %7s\n", "vector", "part", "bytes", "flips",
		"cuts", "refused", "same", "ACCEPTED", "cpu s");
	for (size_t i = 0; i < n_rows; i++) {
		const struct sweep_row *r = &rows[i];

		fprintf(stderr, "%-58s %-22s %7zu %8zu %6zu %8zu %5zu %8zu %7.1f\n", r->vector, r->part,
			r->bytes, r->flips, r->cuts, r->refused, r->same, r->accepted, r->seconds);
		accepted += r->accepted;
		flips += r->flips;
		cuts += r->cuts;
		same += r->same;
		json_array_append_new(list, row_json(r));
	}
	fprintf(stderr,
		"%s: %zu rows, %zu flips and %zu cuts tried (stride %zu), %zu same content, %zu accepted\n\n",
		suite, n_rows, flips, cuts, sweep_stride(), same, accepted);
	mine = json_pack("{s:I, s:I, s:o}", "stride", (json_int_t)sweep_stride(), "finished",
			 (json_int_t)time(NULL), "rows", list);
	merge_report(suite, mine);
	json_decref(mine);
	return accepted;
}

/*
 * The DER of every certificate of a PEM text, concatenated (malloc'd; NULL
 * when none); ends[] gets where each ends. Tolerant as a reader may be: a
 * block is the base64 between "-----BEGIN CERTIFICATE-----" and the next
 * "-----END CERTIFICATE-----" wherever they stand, whitespace ignored, so
 * that text outside the blocks and whitespace carry nothing (the
 * verifiers' own chain parsers accept a tab before BEGIN). A block that
 * does not decode ends the list.
 */
static uint8_t *pem_ders(const uint8_t *pem, size_t len, size_t *out_len, size_t *ends, size_t max_ends,
			 size_t *n_ends)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
	uint8_t *all = NULL;
	size_t n = 0, at = 0;

	while (at < len) {
		const uint8_t *b = memmem(pem + at, len - at, begin, sizeof(begin) - 1), *e;
		char *b64;
		size_t k = 0, pad = 0;
		int dl;
		uint8_t *grown;

		if (b == NULL)
			break;
		b += sizeof(begin) - 1;
		if ((e = memmem(b, len - (size_t)(b - pem), end, sizeof(end) - 1)) == NULL)
			break;
		if ((b64 = malloc((size_t)(e - b) + 1)) == NULL)
			abort();
		for (const uint8_t *c = b; c < e; c++)
			if (!isspace(*c))
				b64[k++] = (char)*c;
		while (k > pad && b64[k - 1 - pad] == '=')
			pad++;
		if (k == 0 || k % 4 != 0 || pad > 2 || (grown = realloc(all, n + k / 4 * 3)) == NULL) {
			free(b64);
			break;
		}
		all = grown;
		dl = EVP_DecodeBlock(all + n, (const unsigned char *)b64, (int)k);
		free(b64);
		if (dl < 0 || (size_t)dl < pad)
			break;
		n += (size_t)dl - pad;
		if (ends != NULL && *n_ends < max_ends)
			ends[(*n_ends)++] = n;
		at = (size_t)(e - pem) + sizeof(end) - 1;
	}
	*out_len = n;
	if (n == 0) {
		free(all);
		return NULL;
	}
	return all;
}

bool sweep_pem_same_certs(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t la = 0, lb = 0;
	uint8_t *da = pem_ders(a, an, &la, NULL, 0, NULL), *db = pem_ders(b, bn, &lb, NULL, 0, NULL);
	bool same = da != NULL && la == lb && memcmp(da, db, la) == 0;

	free(da);
	free(db);
	return same;
}

bool sweep_pem_cert_prefix(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t la = 0, lb = 0, ends[16], n_ends = 0;
	uint8_t *da = pem_ders(a, an, &la, ends, 16, &n_ends), *db = pem_ders(b, bn, &lb, NULL, 0, NULL);
	bool prefix = false;

	for (size_t i = 0; db != NULL && i < n_ends; i++)
		if (ends[i] == lb && memcmp(da, db, lb) == 0)
			prefix = true;
	free(da);
	free(db);
	return prefix;
}

bool sweep_same_hex_case(const uint8_t *a, const uint8_t *b, size_t n, size_t at, const char *member)
{
	char key[80];
	size_t k, open;

	if (at >= n || !isxdigit(a[at]) || !isxdigit(b[at]) || tolower(a[at]) != tolower(b[at]))
		return false;
	/* inside "member":"....": the nearest quote before `at` opens the value that follows the key */
	snprintf(key, sizeof(key), "\"%s\"", member);
	for (open = at; open > 0 && a[open - 1] != '"'; open--)
		;
	if (open == 0)
		return false;
	k = strlen(key);
	/* skip back over the opening quote, the colon and whitespace to the key */
	for (size_t j = open - 1; j > 0; j--) {
		if (a[j - 1] == ':' || a[j - 1] == ' ' || a[j - 1] == '\n' || a[j - 1] == '\t')
			continue;
		return j >= k && memcmp(a + j - k, key, k) == 0;
	}
	return false;
}

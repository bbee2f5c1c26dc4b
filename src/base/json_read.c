/*
 * The JSON reader behind jsonx_parse (jsonx.h, jsonx_load): the same
 * documents accepted, and the same values built, as jansson's
 * json_loadb(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL), a
 * differential unit test (tests/unit/base/test_json_read.c) and fuzz target
 * (fuzz/base/fuzz_json_read.c) holding the two equal. One deliberate
 * difference: jansson skips a NUL byte met after a number or a literal
 * ("[1\0]" loads), this reader refuses any NUL outside a string. Why:
 * jansson reads strings a byte at a time through its UTF-8 stream, about
 * 140 instructions a byte, and attestation bodies are mostly one long
 * base64 string (a 6 KB quote cost 100 us of a 1.1 ms attestation). Here
 * plain ASCII runs go at memchr speed; every byte is still checked (RFC 8259
 * §7: no control characters; RFC 3629: well-formed UTF-8, no surrogates, no
 * overlong forms).
 */
#include "base/jsonx.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <immintrin.h>
#endif

/* jansson's own nesting limit (JSON_PARSER_MAX_DEPTH). */
#define JREAD_MAX_DEPTH 2048
/* Numbers longer than this are parsed from a heap copy. */
#define JREAD_NUM_STACK 64

struct jr {
	const unsigned char *p, *end, *start;
	int depth;
	const char *msg; /* first error, static text */
	size_t at;	 /* its byte offset */
	struct jsonx_doc *doc;
};

static int jr_value(struct jr *r);

static void *jr_fail(struct jr *r, const unsigned char *where, const char *msg)
{
	if (r->msg == NULL) {
		r->msg = msg;
		r->at = (size_t)(where - r->start);
	}
	return NULL;
}

static void jr_ws(struct jr *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629 §4), 0 when
 * it is not one: bad lead byte, bad continuation, overlong, surrogate or
 * above U+10FFFF.
 */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	size_t n = (size_t)(end - p);

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0))
			return 0; /* overlong, or a UTF-16 surrogate */
		return 3;
	}
	if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
			return 0; /* overlong, or above U+10FFFF */
		return 4;
	}
	return 0;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* One \uXXXX escape (with its low surrogate when it is a high one) at p (the 'u'). */
static const unsigned char *jr_unicode(struct jr *r, const unsigned char *p, uint32_t *cp)
{
	uint32_t lo;

	if (r->end - p < 5 || hex4(p + 1, cp) != 0)
		return jr_fail(r, p, "invalid escape");
	p += 5;
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return jr_fail(r, p, "invalid Unicode: a lone low surrogate");
	if (*cp >= 0xD800 && *cp <= 0xDBFF) {
		if (r->end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) != 0 || lo < 0xDC00 ||
		    lo > 0xDFFF)
			return jr_fail(r, p, "invalid Unicode: a high surrogate without its low one");
		*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
		p += 6;
	}
	return p;
}

#define JREAD_ONES  0x0101010101010101ull
#define JREAD_HIGHS 0x8080808080808080ull

/*
 * Whether the 8 bytes at p hold a byte a string's plain run stops at: a
 * control character (< 0x20), '"', '\\' or a non-ASCII byte (>= 0x80,
 * checked as UTF-8 one sequence at a time). The "has a byte less than n /
 * equal to c" bit tricks on one 64-bit word: exact about whether such a
 * byte exists, which is all the caller asks.
 */
static inline bool word_stops_run(const unsigned char *p)
{
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (JREAD_ONES * '"');
	b = x ^ (JREAD_ONES * '\\');
	return ((x & JREAD_HIGHS) |
		(((x - JREAD_ONES * 0x20) | (q - JREAD_ONES) | (b - JREAD_ONES)) & ~x & JREAD_HIGHS)) != 0;
}


/* Room for need more bytes of decoded strings in doc->esc. */
static int esc_reserve(struct jr *r, const unsigned char *at, size_t need)
{
	struct jsonx_doc *d = r->doc;
	size_t cap = d->esc_cap ? d->esc_cap : 256;
	char *s;

	if (d->esc_len + need <= d->esc_cap)
		return 0;
	while (cap < d->esc_len + need)
		cap *= 2;
	if ((s = realloc(d->esc, cap)) == NULL)
		return jr_fail(r, at, "out of memory"), -1;
	d->esc = s;
	d->esc_cap = cap;
	return 0;
}

/* One escape at p (the backslash) decoded to o; the byte after it, or NULL. */
static const unsigned char *jr_escape(struct jr *r, const unsigned char *p, unsigned char *o, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;
	uint32_t cp;

	if (p + 1 >= r->end)
		return jr_fail(r, p, "premature end of input in a string");
	if (p[1] == 'u') {
		if ((p = jr_unicode(r, p + 1, &cp)) == NULL)
			return NULL;
		*n += utf8_put(cp, o + *n);
		return p;
	}
	if (p[1] == '\0' || (k = strchr(from, p[1])) == NULL)
		return jr_fail(r, p, "invalid escape");
	o[(*n)++] = (unsigned char)to[k - from];
	return p + 2;
}

#ifdef __SSE2__
/*
 * The same test 32 bytes per step, where the CPU has AVX2 (out of line: a
 * long run pays the call once): the first block holding a stop byte, or
 * the last partial block.
 */
__attribute__((target("avx2"), noinline)) static const unsigned char *plain_run_avx2(const unsigned char *p,
											const unsigned char *end)
{
	const __m256i quote = _mm256_set1_epi8('"'), bslash = _mm256_set1_epi8('\\');
	const __m256i space = _mm256_set1_epi8(0x20);

	while (end - p >= 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i stop = _mm256_or_si256(_mm256_cmpeq_epi8(x, quote), _mm256_cmpeq_epi8(x, bslash));
		unsigned m = (unsigned)_mm256_movemask_epi8(_mm256_or_si256(stop, _mm256_cmpgt_epi8(space, x)));

		if (m != 0)
			return p + __builtin_ctz(m);
		p += 32;
	}
	return p;
}
#endif

/*
 * Where the plain run starting at p stops, to within the last block: the
 * first byte of a block holding a byte word_stops_run stops at, or the
 * start of the last partial block (the caller finishes byte by byte).
 * SSE2 (every x86-64) looks at 16 bytes per step: a signed compare with
 * 0x20 is true for control characters and for every byte >= 0x80 at once.
 */
static inline const unsigned char *plain_run(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	const unsigned char *start = p;
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);

	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
					    _mm_cmplt_epi8(x, space));
		int m = _mm_movemask_epi8(stop);

		if (m != 0)
			return p + __builtin_ctz((unsigned)m);
		p += 16;
		/* A long run (a base64 value): on 32 bytes at a time. */
		if (p - start == 64 && end - p >= 64 && __builtin_cpu_supports("avx2"))
			p = plain_run_avx2(p, end);
	}
#endif
	while (end - p >= 8 && !word_stops_run(p))
		p += 8;
	return p;
}

/*
 * The string whose opening quote is at r->p: *off and *len locate its
 * value in the text (no escapes, *escaped false) or in doc->esc (escapes
 * decoded there, *escaped true).
 */
static int jr_string(struct jr *r, uint32_t *off, uint32_t *len, bool *escaped)
{
	const unsigned char *p = r->p + 1, *run;
	size_t base = r->doc->esc_len, n = 0;
	bool esc = false;

	for (;;) {
		run = p;
		/* Plain ASCII in blocks (request bodies are mostly one long base64 string). */
		p = plain_run(p, r->end);
		while (p < r->end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (esc || (p < r->end && *p == '\\')) {
			/* Copy the run (and what came before it, at the first escape); 4 spare bytes. */
			const unsigned char *from = esc ? run : r->p + 1;

			if (esc_reserve(r, p, n + (size_t)(p - from) + 4) != 0)
				return -1;
			memcpy(r->doc->esc + base + n, from, (size_t)(p - from));
			n += (size_t)(p - from);
			esc = true;
		}
		if (p >= r->end)
			return jr_fail(r, p, "premature end of input in a string"), -1;
		if (*p == '"')
			break;
		if (*p < 0x20)
			return jr_fail(r, p, "control character in a string"), -1;
		if (*p >= 0x80) {
			size_t k = utf8_seq(p, r->end);

			if (k == 0)
				return jr_fail(r, p, "invalid UTF-8 in a string"), -1;
			if (esc) {
				memcpy(r->doc->esc + base + n, p, k);
				n += k;
			}
			p += k;
			continue;
		}
		if ((p = jr_escape(r, p, (unsigned char *)r->doc->esc + base, &n)) == NULL)
			return -1;
	}
	*escaped = esc;
	if (esc) {
		*off = (uint32_t)base;
		*len = (uint32_t)n;
		r->doc->esc_len = base + n;
	} else {
		*off = (uint32_t)(r->p + 1 - r->start);
		*len = (uint32_t)(p - r->p - 1);
	}
	r->p = p + 1;
	return 0;
}

/* Room for more nodes (out of line: the common path below is inlined). */
static __attribute__((noinline)) int jr_grow(struct jr *r, const unsigned char *at)
{
	struct jsonx_doc *d = r->doc;
	/*
	 * At most one node per byte of a JSONX_MAX_DOC document: no overflow.
	 * The first guess, a node per 24 bytes (capped), saves the regrowths of
	 * a typical document without reserving much for a long string.
	 */
	uint32_t guess = (uint32_t)((r->end - r->start) / 24);
	uint32_t cap = d->cap ? d->cap * 2 : guess < 64 ? 64 : guess > 4096 ? 4096 : guess;
	struct jsonx_node *grown = realloc(d->nodes, (size_t)cap * sizeof(*grown));

	if (grown == NULL)
		return jr_fail(r, at, "out of memory"), -1;
	d->nodes = grown;
	d->cap = cap;
	return 0;
}

/* A new node of kind whose text starts at at; its index, or -1 when out of memory. */
static inline __attribute__((always_inline)) int64_t jr_node(struct jr *r, enum jsonx_kind kind,
							      const unsigned char *at)
{
	struct jsonx_doc *d = r->doc;

	if (d->n == d->cap && jr_grow(r, at) != 0)
		return -1;
	d->nodes[d->n] =
	    (struct jsonx_node){.kind = (uint8_t)kind, .off = (uint32_t)(at - r->start), .end = d->n + 1};
	return d->n++;
}

/* A container's node once its last value is read (r->p just past its closing bracket). */
static int jr_close(struct jr *r, int64_t self, const unsigned char *open, uint32_t count)
{
	struct jsonx_node *x = &r->doc->nodes[self];

	x->count = count;
	x->end = r->doc->n;
	x->len = (uint32_t)(r->p - open);
	return 0;
}

static int jr_string_node(struct jr *r)
{
	int64_t i = jr_node(r, JSONX_STRING, r->p);
	uint32_t off, len;
	bool esc;

	if (i < 0 || jr_string(r, &off, &len, &esc) != 0)
		return -1;
	r->doc->nodes[i].off = off;
	r->doc->nodes[i].len = len;
	r->doc->nodes[i].escaped = esc;
	return 0;
}

/* '.' in a JSON number replaced by the locale's decimal point, when that is another character. */
static void locale_point(char *num)
{
	const struct lconv *lc = localeconv();
	char point = lc != NULL && lc->decimal_point != NULL && lc->decimal_point[0] != '\0'
			 ? lc->decimal_point[0]
			 : '.';
	char *dot;

	if (point != '.' && (dot = strchr(num, '.')) != NULL)
		*dot = point;
}

/* The end of the number at s (RFC 8259 §6 grammar), or NULL; *real when it has a fraction or exponent. */
static const unsigned char *jr_number_end(struct jr *r, const unsigned char *s, bool *real)
{
	const unsigned char *p = s;

	*real = false;
	if (p < r->end && *p == '-')
		p++;
	if (p >= r->end || *p < '0' || *p > '9')
		return jr_fail(r, s, "invalid token");
	if (*p == '0') {
		p++;
		if (p < r->end && *p >= '0' && *p <= '9')
			return jr_fail(r, s, "invalid token: a number with a leading zero");
	} else {
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < r->end && *p == '.') {
		*real = true;
		if (++p >= r->end || *p < '0' || *p > '9')
			return jr_fail(r, s, "invalid token: no digit after the decimal point");
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		*real = true;
		if (++p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= r->end || *p < '0' || *p > '9')
			return jr_fail(r, s, "invalid token: no digit in the exponent");
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

/* The number's value into x (buf holds its text, NUL-terminated); 0, or -1 with the error set. */
static int jr_number_value(struct jr *r, const unsigned char *s, char *buf, size_t n, bool real,
			   struct jsonx_node *x)
{
	char *endp;

	errno = 0;
	if (!real) {
		long long i = strtoll(buf, &endp, 10);

		if (endp != buf + n)
			return jr_fail(r, s, "invalid number"), -1;
		if (errno == ERANGE)
			return jr_fail(r, s, i < 0 ? "too big negative integer" : "too big integer"), -1;
		x->kind = JSONX_INTEGER;
		x->num.i = i;
		return 0;
	}
	/*
	 * strtod reads the decimal point of the process's LC_NUMERIC locale
	 * (an embedder may have set one with a comma): put that character
	 * where JSON has '.', as jansson's jsonp_strtod does.
	 */
	locale_point(buf);
	x->num.d = strtod(buf, &endp);
	if (endp != buf + n)
		return jr_fail(r, s, "invalid number"), -1;
	if (errno == ERANGE && (x->num.d == HUGE_VAL || x->num.d == -HUGE_VAL))
		return jr_fail(r, s, "real number overflow"), -1;
	x->kind = JSONX_REAL;
	return 0;
}

static int jr_number(struct jr *r)
{
	const unsigned char *s = r->p, *p;
	bool real;
	char stack[JREAD_NUM_STACK], *buf = stack;
	size_t n;
	int64_t i;
	int rc;

	if ((p = jr_number_end(r, s, &real)) == NULL || (i = jr_node(r, JSONX_INTEGER, s)) < 0)
		return -1;
	n = (size_t)(p - s);
	r->doc->nodes[i].len = (uint32_t)n;
	if (!real && n <= 18) {
		/* Up to 18 digits cannot overflow: no copy, no strtoll (attestation JSON is full of small indices). */
		const unsigned char *d = s + (*s == '-');
		int64_t v = 0;

		while (d < p)
			v = v * 10 + (*d++ - '0');
		r->doc->nodes[i].num.i = *s == '-' ? -v : v;
		r->p = p;
		return 0;
	}
	if (n >= sizeof(stack) && (buf = malloc(n + 1)) == NULL)
		return jr_fail(r, s, "out of memory"), -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	rc = jr_number_value(r, s, buf, n, real, &r->doc->nodes[i]);
	if (buf != stack)
		free(buf);
	r->p = p;
	return rc;
}

static int jr_literal(struct jr *r, const char *word, enum jsonx_kind kind)
{
	size_t n = strlen(word);
	int64_t i;

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return jr_fail(r, r->p, "invalid token"), -1;
	if ((i = jr_node(r, kind, r->p)) < 0)
		return -1;
	r->doc->nodes[i].len = (uint32_t)n;
	r->p += n;
	return 0;
}

static const char *node_chars(const struct jsonx_doc *d, const struct jsonx_node *x)
{
	return (x->escaped ? d->esc : d->text) + x->off;
}

static bool same_key(const struct jsonx_doc *d, const struct jsonx_node *a, const struct jsonx_node *b)
{
	return a->len == b->len && memcmp(node_chars(d, a), node_chars(d, b), a->len) == 0;
}

/* Objects with more members than this are checked for duplicate keys by sorting, not pairwise. */
#define JREAD_DUP_PAIRWISE 16

/* Whether the object at self already has the key at key (the first `count` members, pairwise). */
static bool key_seen(const struct jsonx_doc *d, int64_t self, int64_t key, uint32_t count)
{
	uint32_t k = (uint32_t)self + 1;

	for (uint32_t m = 0; m < count; m++, k = d->nodes[k + 1].end)
		if (same_key(d, &d->nodes[k], &d->nodes[key]))
			return true;
	return false;
}

struct key_ref {
	const char *p;
	uint32_t len;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->p, y->p, x->len);
}

/*
 * Whether a large object (count members) has a key twice: sorted, in
 * O(n log n) whatever keys an attacker picks (pairwise would be quadratic).
 * -1 when out of memory.
 */
static int keys_repeat(const struct jsonx_doc *d, int64_t self, uint32_t count)
{
	struct key_ref *keys = malloc((size_t)count * sizeof(*keys));
	uint32_t k = (uint32_t)self + 1;
	int dup = 0;

	if (keys == NULL)
		return -1;
	for (uint32_t m = 0; m < count; m++, k = d->nodes[k + 1].end)
		keys[m] = (struct key_ref){node_chars(d, &d->nodes[k]), d->nodes[k].len};
	qsort(keys, count, sizeof(*keys), key_ref_cmp);
	for (uint32_t m = 1; m < count && !dup; m++)
		dup = key_ref_cmp(&keys[m - 1], &keys[m]) == 0;
	free(keys);
	return dup;
}

/* One "key": value member of the object at self, which has count members so far. */
static int jr_member(struct jr *r, int64_t self, uint32_t count)
{
	const unsigned char *at = r->p;
	const struct jsonx_node *k;
	int64_t key = r->doc->n;

	if (r->p >= r->end || *r->p != '"')
		return jr_fail(r, r->p, "string or '}' expected"), -1;
	if (jr_string_node(r) != 0)
		return -1;
	k = &r->doc->nodes[key];
	/* Only an escape (\u0000) can put a NUL in a string: raw control characters are refused. */
	if (k->escaped && memchr(node_chars(r->doc, k), '\0', k->len) != NULL)
		return jr_fail(r, at, "NUL byte in object key not supported"), -1;
	if (count < JREAD_DUP_PAIRWISE && key_seen(r->doc, self, key, count))
		return jr_fail(r, at, "duplicate object key"), -1;
	jr_ws(r);
	if (r->p >= r->end || *r->p != ':')
		return jr_fail(r, r->p, "':' expected"), -1;
	r->p++;
	jr_ws(r);
	return jr_value(r);
}

static int jr_object(struct jr *r)
{
	const unsigned char *open = r->p;
	int64_t self = jr_node(r, JSONX_OBJECT, open);
	uint32_t count = 0;
	int dup;

	if (self < 0)
		return -1;
	r->p++;
	jr_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return jr_close(r, self, open, 0);
	}
	for (;;) {
		jr_ws(r);
		if (jr_member(r, self, count) != 0)
			return -1;
		count++;
		jr_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}')
			break;
		return jr_fail(r, r->p, "'}' expected"), -1;
	}
	if (count > JREAD_DUP_PAIRWISE && (dup = keys_repeat(r->doc, self, count)) != 0)
		return jr_fail(r, r->p, dup < 0 ? "out of memory" : "duplicate object key"), -1;
	r->p++;
	return jr_close(r, self, open, count);
}

static int jr_array(struct jr *r)
{
	const unsigned char *open = r->p;
	int64_t self = jr_node(r, JSONX_ARRAY, open);
	uint32_t count = 0;

	if (self < 0)
		return -1;
	r->p++;
	jr_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return jr_close(r, self, open, 0);
	}
	for (;;) {
		jr_ws(r);
		if (jr_value(r) != 0)
			return -1;
		count++;
		jr_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return jr_close(r, self, open, count);
		}
		return jr_fail(r, r->p, "']' expected"), -1;
	}
}

static int jr_value(struct jr *r)
{
	int rc;

	if (r->p >= r->end)
		return jr_fail(r, r->p, "premature end of input"), -1;
	/* jansson counts every value, scalars included, against its limit. */
	if (++r->depth > JREAD_MAX_DEPTH)
		return jr_fail(r, r->p, "maximum parsing depth reached"), -1;
	switch (*r->p) {
	case '{':
		rc = jr_object(r);
		break;
	case '[':
		rc = jr_array(r);
		break;
	case '"':
		rc = jr_string_node(r);
		break;
	case 't':
		rc = jr_literal(r, "true", JSONX_TRUE);
		break;
	case 'f':
		rc = jr_literal(r, "false", JSONX_FALSE);
		break;
	case 'n':
		rc = jr_literal(r, "null", JSONX_NULL);
		break;
	default:
		rc = jr_number(r);
		break;
	}
	r->depth--;
	return rc;
}

void jsonx_doc_free(struct jsonx_doc *doc)
{
	if (doc == NULL)
		return;
	free(doc->nodes);
	free(doc->esc);
	memset(doc, 0, sizeof(*doc));
}

int jsonx_read(const char *text, size_t len, struct jsonx_doc *doc, char *msg, size_t msglen, size_t *offset)
{
	struct jr r;
	int rc = -1;

	memset(doc, 0, sizeof(*doc));
	memset(&r, 0, sizeof(r));
	doc->text = text ? text : "";
	r.start = r.p = (const unsigned char *)doc->text;
	r.end = r.p + (text ? len : 0);
	r.doc = doc;
	if (len > JSONX_MAX_DOC) {
		jr_fail(&r, r.p, "document over the size limit");
	} else {
		jr_ws(&r);
		if ((rc = jr_value(&r)) == 0) {
			jr_ws(&r);
			if (r.p != r.end)
				rc = -1, jr_fail(&r, r.p, "end of input expected");
		}
	}
	if (rc == 0)
		return ATTEST_OK;
	if (msg != NULL && msglen > 0)
		snprintf(msg, msglen, "%s", r.msg ? r.msg : "invalid JSON");
	if (offset != NULL)
		*offset = r.at;
	jsonx_doc_free(doc);
	return ATTEST_E_PARSE;
}

/* ---- reading an indexed document ------------------------------------------ */

static bool in_doc(const struct jsonx_doc *d, const struct jsonx_node *v)
{
	return v != NULL && d->nodes != NULL && v >= d->nodes && v < d->nodes + d->n;
}

const struct jsonx_node *jsonx_first(const struct jsonx_doc *doc, const struct jsonx_node *container)
{
	if (!in_doc(doc, container) || (container->kind != JSONX_ARRAY && container->kind != JSONX_OBJECT) ||
	    container->count == 0)
		return NULL;
	return container + 1;
}

const struct jsonx_node *jsonx_next(const struct jsonx_doc *doc, const struct jsonx_node *container,
				    const struct jsonx_node *cur)
{
	uint32_t next, at;

	if (!in_doc(doc, container) || !in_doc(doc, cur) || cur <= container)
		return NULL;
	at = (uint32_t)(cur - doc->nodes);
	/* An object's next key comes after the value of this one (which must be in the object). */
	if (at >= container->end || (container->kind == JSONX_OBJECT && at + 1 >= container->end))
		return NULL;
	next = container->kind == JSONX_OBJECT ? cur[1].end : cur->end;
	return next < container->end ? &doc->nodes[next] : NULL;
}

const struct jsonx_node *jsonx_member(const struct jsonx_doc *doc, const struct jsonx_node *obj,
				      const char *key)
{
	size_t n = strlen(key);

	if (!in_doc(doc, obj) || obj->kind != JSONX_OBJECT)
		return NULL;
	/* Key k, its value k + 1, the next key where that value ends (the index is well formed). */
	for (uint32_t k = (uint32_t)(obj - doc->nodes) + 1; k < obj->end; k = doc->nodes[k + 1].end) {
		const struct jsonx_node *kn = &doc->nodes[k];
		const char *c = node_chars(doc, kn);

		if (kn->len == n && (n == 0 || (c[0] == key[0] && memcmp(c, key, n) == 0)))
			return kn + 1;
	}
	return NULL;
}

bool jsonx_is(const struct jsonx_node *v, enum jsonx_kind kind)
{
	return v != NULL && v->kind == kind;
}

bool jsonx_str_is(const struct jsonx_doc *doc, const struct jsonx_node *v, const char *s)
{
	size_t n = 0;
	const char *t = jsonx_str(doc, v, &n);

	return t != NULL && n == strlen(s) && memcmp(t, s, n) == 0;
}

const char *jsonx_str(const struct jsonx_doc *doc, const struct jsonx_node *v, size_t *len)
{
	if (!in_doc(doc, v) || v->kind != JSONX_STRING)
		return NULL;
	*len = v->len;
	return node_chars(doc, v);
}

const char *jsonx_text(const struct jsonx_doc *doc, const struct jsonx_node *v, size_t *len)
{
	if (!in_doc(doc, v) || v->kind == JSONX_STRING)
		return NULL;
	*len = v->len;
	return doc->text + v->off;
}

static json_t *json_of_array(const struct jsonx_doc *d, const struct jsonx_node *v)
{
	json_t *a = json_array(), *e;

	for (const struct jsonx_node *x = jsonx_first(d, v); a != NULL && x != NULL; x = jsonx_next(d, v, x))
		if ((e = jsonx_json(d, x)) == NULL || json_array_append_new(a, e) != 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

static json_t *json_of_object(const struct jsonx_doc *d, const struct jsonx_node *v)
{
	json_t *o = json_object(), *e;

	for (const struct jsonx_node *k = jsonx_first(d, v); o != NULL && k != NULL; k = jsonx_next(d, v, k))
		if ((e = jsonx_json(d, k + 1)) == NULL ||
		    json_object_setn_new_nocheck(o, node_chars(d, k), k->len, e) != 0) {
			json_decref(o);
			o = NULL;
		}
	return o;
}

json_t *jsonx_json(const struct jsonx_doc *doc, const struct jsonx_node *v)
{
	if (!in_doc(doc, v))
		return NULL;
	switch (v->kind) {
	case JSONX_NULL:
		return json_null();
	case JSONX_FALSE:
		return json_false();
	case JSONX_TRUE:
		return json_true();
	case JSONX_INTEGER:
		return json_integer(v->num.i);
	case JSONX_REAL:
		return json_real(v->num.d);
	case JSONX_STRING:
		return json_stringn_nocheck(node_chars(doc, v), v->len);
	case JSONX_ARRAY:
		return json_of_array(doc, v);
	default:
		return json_of_object(doc, v);
	}
}

/* The first string (key or value) with a NUL byte, or NULL; only an escape can put one there. */
static const struct jsonx_node *string_with_nul(const struct jsonx_doc *d)
{
	for (uint32_t i = 0; i < d->n; i++)
		if (d->nodes[i].kind == JSONX_STRING && d->nodes[i].escaped &&
		    memchr(d->esc + d->nodes[i].off, '\0', d->nodes[i].len) != NULL)
			return &d->nodes[i];
	return NULL;
}

int jsonx_loadf(const char *text, size_t len, unsigned flags, json_t **out, char *msg, size_t msglen,
		size_t *offset)
{
	struct jsonx_doc doc;
	int rc = jsonx_read(text, len, &doc, msg, msglen, offset);

	*out = NULL;
	if (rc != ATTEST_OK)
		return rc;
	if ((flags & JSONX_NO_NUL) != 0 && string_with_nul(&doc) != NULL) {
		/* Where: the string's escaped text is not kept, so the document's start. */
		if (msg != NULL && msglen > 0)
			snprintf(msg, msglen, "NUL byte in a string (\\u0000) not allowed here");
		if (offset != NULL)
			*offset = 0;
		jsonx_doc_free(&doc);
		return ATTEST_E_PARSE;
	}
	*out = jsonx_json(&doc, &doc.nodes[0]);
	jsonx_doc_free(&doc);
	if (*out == NULL) {
		if (msg != NULL && msglen > 0)
			snprintf(msg, msglen, "out of memory");
		if (offset != NULL)
			*offset = 0;
		return ATTEST_E_PARSE;
	}
	return ATTEST_OK;
}

int jsonx_load(const char *text, size_t len, json_t **out, char *msg, size_t msglen, size_t *offset)
{
	return jsonx_loadf(text, len, 0, out, msg, msglen, offset);
}

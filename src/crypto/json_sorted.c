/*
 * Compact JSON with member names sorted: the serialisation of JWT claim
 * sets (jose.h, jose_json_dump_sorted). Byte-for-byte what jansson's
 * json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) writes (a unit test holds
 * them equal), several times faster: token signing must stay within 5 % of
 * the RSA operation (issue 2), and jansson's dump alone cost about 6 % of
 * it on a 2 KB claim set.
 */
#include "crypto/jose.h"

#include "base/jsonx.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is refused (jansson's own parse limit is 2048). */
#define JSON_SORTED_MAX_DEPTH 64
/* Objects up to this many members sort on the stack. */
#define JSON_SORTED_STACK_KEYS 64
#define JSON_SORTED_INITIAL    4096

/* A local writer: inline appends, doubling growth, capped at JSONX_MAX_DOC. */
struct jw {
	char *p;
	size_t len, cap;
	int failed;
};

static int jw_grow(struct jw *w, size_t n)
{
	size_t cap = w->cap ? w->cap : JSON_SORTED_INITIAL;
	char *p;

	if (n > JSONX_MAX_DOC || w->len > JSONX_MAX_DOC - n) {
		w->failed = 1;
		return -1;
	}
	while (cap < w->len + n + 1)
		cap *= 2;
	p = realloc(w->p, cap);
	if (p == NULL) {
		w->failed = 1;
		return -1;
	}
	w->p = p;
	w->cap = cap;
	return 0;
}

static inline void jw_put(struct jw *w, const char *s, size_t n)
{
	if (w->failed || (w->len + n + 1 > w->cap && jw_grow(w, n) != 0))
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static inline void jw_ch(struct jw *w, char c)
{
	if (w->failed || (w->len + 2 > w->cap && jw_grow(w, 1) != 0))
		return;
	w->p[w->len++] = c;
}

#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Does any of the 8 bytes at p need escaping (< 0x20, '"' or '\\')?
 * The classic "has a zero/less-than byte" bit tricks; bytes >= 0x80 (UTF-8)
 * are excluded by & ~x, so they never count.
 */
static inline bool word_needs_escape(const char *p)
{
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ONES * '"');
	b = x ^ (ONES * '\\');
	return (((x - ONES * 0x20) | (q - ONES) | (b - ONES)) & ~x & HIGHS) != 0;
}

/* RFC 8259 §7 string escaping, as jansson: '"', '\\' and controls; UTF-8 kept. */
static void put_string(struct jw *w, const char *s, size_t n)
{
	size_t i, run = 0;

	jw_ch(w, '"');
	for (i = 0; i < n; i++) {
		unsigned char c;
		char esc[6];
		size_t elen;

		/* Skip 8 plain bytes at a time (most claim text needs no escape). */
		while (n - i >= 8 && !word_needs_escape(s + i))
			i += 8;
		if (i == n)
			break;
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_put(w, s + run, i - run);
		elen = jsonx_escape_byte(c, esc);
		jw_put(w, esc, elen);
		run = i + 1;
	}
	jw_put(w, s + run, n - run);
	jw_ch(w, '"');
}

struct member {
	const char *key;
	const json_t *value;
};

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->key, ((const struct member *)b)->key);
}

static void put_value(struct jw *w, const json_t *v, int depth);

static void put_object(struct jw *w, const json_t *v, int depth)
{
	struct member stack[JSON_SORTED_STACK_KEYS], *m = stack;
	size_t n = json_object_size(v), i = 0;
	const char *k;
	json_t *val;

	if (n > JSON_SORTED_STACK_KEYS && (m = malloc(n * sizeof(*m))) == NULL) {
		w->failed = 1;
		return;
	}
	json_object_foreach((json_t *)v, k, val)
	{
		if (i < n)
			m[i++] = (struct member){k, val};
	}
	qsort(m, i, sizeof(*m), cmp_member);
	jw_ch(w, '{');
	for (n = i, i = 0; i < n && !w->failed; i++) {
		if (i > 0)
			jw_ch(w, ',');
		put_string(w, m[i].key, strlen(m[i].key));
		jw_ch(w, ':');
		put_value(w, m[i].value, depth + 1);
	}
	jw_ch(w, '}');
	if (m != stack)
		free(m);
}

static void put_array(struct jw *w, const json_t *v, int depth)
{
	size_t i, n = json_array_size(v);

	jw_ch(w, '[');
	for (i = 0; i < n && !w->failed; i++) {
		if (i > 0)
			jw_ch(w, ',');
		put_value(w, json_array_get(v, i), depth + 1);
	}
	jw_ch(w, ']');
}

/* Reals are rare in claims: jansson formats them (its precision rules). */
static void put_real(struct jw *w, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s == NULL) {
		w->failed = 1;
		return;
	}
	jw_put(w, s, strlen(s));
	free(s);
}

static void put_value(struct jw *w, const json_t *v, int depth)
{
	char num[32];
	int n;

	if (v == NULL || depth > JSON_SORTED_MAX_DEPTH) {
		w->failed = 1;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		put_object(w, v, depth);
		return;
	case JSON_ARRAY:
		put_array(w, v, depth);
		return;
	case JSON_STRING:
		put_string(w, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		jw_put(w, num, (size_t)n);
		return;
	case JSON_REAL:
		put_real(w, v);
		return;
	case JSON_TRUE:
		jw_put(w, "true", 4);
		return;
	case JSON_FALSE:
		jw_put(w, "false", 5);
		return;
	case JSON_NULL:
		jw_put(w, "null", 4);
		return;
	}
	w->failed = 1;
}

char *jose_json_dump_sorted(const json_t *v, size_t *len)
{
	struct jw w = {0};

	put_value(&w, v, 0);
	if (w.failed || w.p == NULL) {
		free(w.p);
		return NULL;
	}
	w.p[w.len] = '\0';
	if (len != NULL)
		*len = w.len;
	return w.p;
}

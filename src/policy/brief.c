/*
 * The short rendering of a value in explain texts ("found \"UpToDate\"",
 * "expected >= 3"): jansson's compact JSON text of the value
 * (json_dumps with JSON_ENCODE_ANY | JSON_COMPACT), and when that text is
 * longer than POL_BRIEF_MAX bytes, its first POL_BRIEF_MAX - 3 bytes and
 * "...".
 *
 * Why not json_dumps: explain renders a value for every rule that did not
 * fire, and dumping a whole value (an event log can be megabytes) to keep
 * 72 bytes of it cost most of an explained evaluation (issue 13). This
 * writes the same text into a fixed buffer and stops at the 73rd byte. The
 * text is jansson's byte for byte (test_policy_explain compares the two on
 * generated values): strings escape '"', '\\' and controls (\b \f \n \r \t,
 * else \u00XX in capitals), leave '/', DEL and non-ASCII as they are;
 * objects keep insertion order; reals, rare in claims, are written by
 * jansson itself. A string that is not valid UTF-8 cannot be rendered (as
 * json_dumps refuses it); the part of a container past the 73rd byte is not
 * looked at (json_dumps would also refuse an invalid string there, which
 * only a value built with jansson's *_nocheck calls can hold).
 */
#include "policy/policy_int.h"

#include "base/jsonx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct brief {
	char *p;  /* POL_BRIEF_MAX + 2 bytes: the text, one byte past the limit, the NUL */
	size_t n; /* bytes written, at most POL_BRIEF_MAX + 1 */
	bool bad; /* the value cannot be rendered */
};

/* Appends n bytes, keeping at most one byte past the limit (enough to know the text is longer). */
static void put(struct brief *b, const char *s, size_t n)
{
	size_t room = POL_BRIEF_MAX + 1 - b->n;

	if (n > room)
		n = room;
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static bool full(const struct brief *b)
{
	return b->n > POL_BRIEF_MAX;
}

/* Appends one byte (the text keeps at most one byte past the limit). */
static void put1(struct brief *b, char c)
{
	if (!full(b))
		b->p[b->n++] = c;
}

/* Length of the UTF-8 sequence at s (at most `left` bytes), 0 if invalid (RFC 3629 §3, as jansson's
 * utf8_check_*). */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	size_t k;
	uint32_t cp;

	if (s[0] < 0xC2 || s[0] > 0xF4)
		return 0; /* continuation byte, overlong C0/C1, above U+10FFFF */
	k = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
	if (k > left)
		return 0;
	cp = s[0] & (k == 2 ? 0x1Fu : k == 3 ? 0x0Fu : 0x07u);
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3Fu);
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (k == 3 && cp < 0x800) ||
	    (k == 4 && cp < 0x10000))
		return 0;
	return k;
}

/* Byte b in every byte of a word; bytes of w below b flagged in their top bit (SWAR, exact for ASCII bytes).
 */
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t bytes_below(uint64_t w, unsigned b)
{
	return (w - ONES * b) & ~w & HIGHS;
}
static inline uint64_t bytes_equal(uint64_t w, unsigned b)
{
	return bytes_below(w ^ (ONES * b), 1);
}

/* Whether any of the 8 bytes of w needs more than a copy in a JSON string: non-ASCII, a control, '"' or '\\'.
 */
static inline bool word_special(uint64_t w)
{
	return ((w & HIGHS) | bytes_below(w, 0x20) | bytes_equal(w, '"') | bytes_equal(w, '\\')) != 0;
}

/* Checks that the rest of a string (past the text's limit) is UTF-8, as json_dumps would. */
static void check_rest(struct brief *b, const unsigned char *s, const unsigned char *end)
{
	while (s < end) {
		uint64_t w;

		if (end - s >= 8 && (memcpy(&w, s, 8), (w & HIGHS) == 0)) {
			s += 8;
		} else if (*s < 0x80) {
			s++;
		} else {
			size_t k = utf8_len(s, (size_t)(end - s));

			if (k == 0) {
				b->bad = true;
				return;
			}
			s += k;
		}
	}
}

/*
 * End of the run of plain bytes (printable ASCII other than '"' and '\\',
 * which a JSON string carries as they are) at s, looking no further than
 * lim: eight bytes at a time, since claim values are mostly long hex and
 * base64 strings.
 */
static const unsigned char *plain_run(const unsigned char *s, const unsigned char *lim)
{
	uint64_t w;

	while (lim - s >= 8 && (memcpy(&w, s, 8), !word_special(w)))
		s += 8;
	while (s < lim && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
		s++;
	return s;
}

/* One character that is not plain: a UTF-8 sequence as it is, or an escape (jansson's dump_string). */
static const unsigned char *put_special(struct brief *b, const unsigned char *s, const unsigned char *end)
{
	char esc[6];
	size_t n;

	if (*s >= 0x80) {
		size_t k = utf8_len(s, (size_t)(end - s));

		if (k == 0) {
			b->bad = true;
			return end;
		}
		put(b, (const char *)s, k);
		return s + k;
	}
	n = jsonx_escape_byte(*s, esc);
	put(b, esc, n);
	return s + 1;
}

/*
 * A JSON string. Runs of plain bytes are found without copying and copied
 * once, and only as far as the text has room; once it is full the rest of
 * the string is only checked for UTF-8.
 */
static void put_string(struct brief *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + len;

	put1(b, '"');
	while (s < end && !b->bad) {
		size_t room = POL_BRIEF_MAX + 1 - b->n;
		const unsigned char *lim = (size_t)(end - s) < room ? end : s + room;
		const unsigned char *run = plain_run(s, lim);

		if (run > s) {
			memcpy(b->p + b->n, s, (size_t)(run - s));
			b->n += (size_t)(run - s);
			s = run;
		}
		if (full(b)) {
			check_rest(b, s, end);
			return;
		}
		if (s < end)
			s = put_special(b, s, end);
	}
	if (!b->bad)
		put1(b, '"');
}

static void put_integer(struct brief *b, json_int_t v)
{
	char d[24];
	size_t i = sizeof(d);
	/* Magnitude as unsigned: -INT64_MIN does not fit a signed integer. */
	unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do
		d[--i] = (char)('0' + m % 10);
	while ((m /= 10) != 0);
	if (v < 0)
		d[--i] = '-';
	put(b, d + i, sizeof(d) - i);
}

static void put_value(struct brief *b, const json_t *v)
{
	if (full(b) || b->bad)
		return;
	switch (json_typeof(v)) {
	case JSON_NULL:
		put(b, "null", 4);
		break;
	case JSON_TRUE:
		put(b, "true", 4);
		break;
	case JSON_FALSE:
		put(b, "false", 5);
		break;
	case JSON_INTEGER:
		put_integer(b, json_integer_value(v));
		break;
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_REAL: {
		/* jansson's own shortest round-trip form ("%.17g", ".0" added, exponent trimmed). */
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		if (s == NULL)
			b->bad = true;
		else
			put(b, s, strlen(s));
		free(s);
		break;
	}
	case JSON_ARRAY:
		put1(b, '[');
		for (size_t i = 0; i < json_array_size(v) && !full(b) && !b->bad; i++) {
			if (i > 0)
				put1(b, ',');
			put_value(b, json_array_get(v, i));
		}
		put1(b, ']');
		break;
	case JSON_OBJECT: {
		bool first = true;

		put1(b, '{');
		for (void *it = json_object_iter((json_t *)v); it != NULL && !full(b) && !b->bad;
		     it = json_object_iter_next((json_t *)v, it)) {
			if (!first)
				put1(b, ',');
			first = false;
			put_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
			put1(b, ':');
			put_value(b, json_object_iter_value(it));
		}
		put1(b, '}');
		break;
	}
	}
}

int pol_value_brief_to(const json_t *v, char out[POL_BRIEF_MAX + 2])
{
	struct brief b = {out, 0, false};

	if (v == NULL)
		return -1;
	put_value(&b, v);
	if (b.bad)
		return -1;
	if (b.n > POL_BRIEF_MAX) {
		memcpy(out + POL_BRIEF_MAX - 3, "...", 3);
		b.n = POL_BRIEF_MAX;
	}
	out[b.n] = '\0';
	return (int)b.n;
}

char *pol_value_brief(const json_t *v)
{
	char buf[POL_BRIEF_MAX + 2];
	int n = pol_value_brief_to(v, buf);

	return n < 0 ? NULL : strdup(buf);
}

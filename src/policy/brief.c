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

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct brief {
	char *p;    /* POL_BRIEF_MAX + 2 bytes: the text, one byte past the limit, the NUL */
	size_t n;   /* bytes written, at most POL_BRIEF_MAX + 1 */
	bool bad;   /* the value cannot be rendered */
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

static bool full(const struct brief *b) { return b->n > POL_BRIEF_MAX; }

/* Length of the UTF-8 sequence at s (at most `left` bytes), 0 if invalid (RFC 3629 §3, as jansson's utf8_check_*). */
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
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000))
		return 0;
	return k;
}

/* Byte b in every byte of a word; bytes of w below b flagged in their top bit (SWAR, exact for ASCII bytes). */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t bytes_below(uint64_t w, unsigned b) { return (w - ONES * b) & ~w & HIGHS; }
static inline uint64_t bytes_equal(uint64_t w, unsigned b) { return bytes_below(w ^ (ONES * b), 1); }

/* Whether any of the 8 bytes of w needs more than a copy in a JSON string: non-ASCII, a control, '"' or '\\'. */
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
 * A JSON string. Plain bytes (printable ASCII other than '"' and '\\') are
 * copied eight at a time: claim values are mostly long hex and base64
 * strings. Once the text is full, the rest is only checked for UTF-8.
 */
static void put_string(struct brief *b, const char *str, size_t len)
{
	static const char HEX[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str, *end = s + len;

	put(b, "\"", 1);
	while (s < end) {
		uint64_t w;
		unsigned char c;

		if (end - s >= 8 && POL_BRIEF_MAX + 1 - b->n >= 8 && (memcpy(&w, s, 8), !word_special(w))) {
			memcpy(b->p + b->n, &w, 8);
			b->n += 8;
			s += 8;
			continue;
		}
		if (full(b)) {
			check_rest(b, s, end);
			return;
		}
		c = *s;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			b->p[b->n++] = (char)c;
			s++;
		} else if (c >= 0x80) {
			size_t k = utf8_len(s, (size_t)(end - s));

			if (k == 0) {
				b->bad = true;
				return;
			}
			put(b, (const char *)s, k);
			s += k;
		} else {
			char esc[6] = {'\\', 0, 0, 0, 0, 0};
			size_t n = 2;

			switch (c) {
			case '"': esc[1] = '"'; break;
			case '\\': esc[1] = '\\'; break;
			case '\b': esc[1] = 'b'; break;
			case '\f': esc[1] = 'f'; break;
			case '\n': esc[1] = 'n'; break;
			case '\r': esc[1] = 'r'; break;
			case '\t': esc[1] = 't'; break;
			default:
				memcpy(esc + 1, "u00", 3);
				esc[4] = HEX[c >> 4];
				esc[5] = HEX[c & 0xF];
				n = 6;
				break;
			}
			put(b, esc, n);
			s++;
		}
	}
	put(b, "\"", 1);
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
	case JSON_NULL: put(b, "null", 4); break;
	case JSON_TRUE: put(b, "true", 4); break;
	case JSON_FALSE: put(b, "false", 5); break;
	case JSON_INTEGER: put_integer(b, json_integer_value(v)); break;
	case JSON_STRING: put_string(b, json_string_value(v), json_string_length(v)); break;
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
		put(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v) && !full(b) && !b->bad; i++) {
			if (i > 0)
				put(b, ",", 1);
			put_value(b, json_array_get(v, i));
		}
		put(b, "]", 1);
		break;
	case JSON_OBJECT: {
		bool first = true;

		put(b, "{", 1);
		for (void *it = json_object_iter((json_t *)v); it != NULL && !full(b) && !b->bad;
		     it = json_object_iter_next((json_t *)v, it)) {
			if (!first)
				put(b, ",", 1);
			first = false;
			put_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
			put(b, ":", 1);
			put_value(b, json_object_iter_value(it));
		}
		put(b, "}", 1);
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

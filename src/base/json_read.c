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

/* jansson's own nesting limit (JSON_PARSER_MAX_DEPTH). */
#define JREAD_MAX_DEPTH 2048
/* Numbers longer than this are parsed from a heap copy. */
#define JREAD_NUM_STACK 64

struct jr {
	const unsigned char *p, *end, *start;
	int depth;
	const char *msg;	/* first error, static text */
	size_t at;		/* its byte offset */
	unsigned char *scratch; /* escaped-string buffer, grown as needed */
	size_t scratch_cap;
};

static json_t *jr_value(struct jr *r);

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

/*
 * The string whose opening quote is at r->p; *out and *len point into the
 * input (no escapes) or into r->scratch (escapes decoded).
 */
static int jr_string(struct jr *r, const unsigned char **out, size_t *len)
{
	const unsigned char *p = r->p + 1, *run;
	size_t n = 0;
	bool esc = false;

	for (;;) {
		run = p;
		/* Plain ASCII 8 bytes at a time (request bodies are mostly one long base64 string). */
		while (r->end - p >= 8 && !word_stops_run(p))
			p += 8;
		while (p < r->end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (esc || (p < r->end && *p == '\\')) {
			/* Copy the run to the scratch buffer (worst case: every byte kept). */
			size_t kept = esc ? n : (size_t)(run - r->p - 1);
			size_t need = kept + (size_t)(p - run) + 4;

			if (need > r->scratch_cap) {
				size_t cap = r->scratch_cap ? r->scratch_cap : 256;
				unsigned char *s;

				while (cap < need)
					cap *= 2;
				if ((s = realloc(r->scratch, cap)) == NULL)
					return jr_fail(r, p, "out of memory"), -1;
				r->scratch = s;
				r->scratch_cap = cap;
			}
			if (!esc) {
				memcpy(r->scratch, r->p + 1, (size_t)(run - r->p - 1));
				n = (size_t)(run - r->p - 1);
				esc = true;
			}
			memcpy(r->scratch + n, run, (size_t)(p - run));
			n += (size_t)(p - run);
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
				memcpy(r->scratch + n, p, k);
				n += k;
			}
			p += k;
			continue;
		}
		/* A backslash: esc is set and the scratch buffer has 4 spare bytes. */
		if (p + 1 >= r->end)
			return jr_fail(r, p, "premature end of input in a string"), -1;
		switch (p[1]) {
		case '"':
		case '\\':
		case '/':
			r->scratch[n++] = p[1];
			p += 2;
			break;
		case 'b':
			r->scratch[n++] = '\b', p += 2;
			break;
		case 'f':
			r->scratch[n++] = '\f', p += 2;
			break;
		case 'n':
			r->scratch[n++] = '\n', p += 2;
			break;
		case 'r':
			r->scratch[n++] = '\r', p += 2;
			break;
		case 't':
			r->scratch[n++] = '\t', p += 2;
			break;
		case 'u': {
			uint32_t cp;

			if ((p = jr_unicode(r, p + 1, &cp)) == NULL)
				return -1;
			n += utf8_put(cp, r->scratch + n);
			break;
		}
		default:
			return jr_fail(r, p, "invalid escape"), -1;
		}
	}
	if (esc) {
		*out = r->scratch;
		*len = n;
	} else {
		*out = r->p + 1;
		*len = (size_t)(p - r->p - 1);
	}
	r->p = p + 1;
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

static json_t *jr_number(struct jr *r)
{
	const unsigned char *s = r->p, *p = r->p;
	bool real = false;
	char stack[JREAD_NUM_STACK], *buf = stack, *endp;
	size_t n;
	json_t *v = NULL;

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
		real = true;
		if (++p >= r->end || *p < '0' || *p > '9')
			return jr_fail(r, s, "invalid token: no digit after the decimal point");
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		real = true;
		if (++p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= r->end || *p < '0' || *p > '9')
			return jr_fail(r, s, "invalid token: no digit in the exponent");
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	n = (size_t)(p - s);
	if (n >= sizeof(stack) && (buf = malloc(n + 1)) == NULL)
		return jr_fail(r, s, "out of memory");
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	if (!real) {
		long long i = strtoll(buf, &endp, 10);

		if (endp != buf + n)
			jr_fail(r, s, "invalid number");
		else if (errno == ERANGE)
			jr_fail(r, s, i < 0 ? "too big negative integer" : "too big integer");
		else if ((v = json_integer(i)) == NULL)
			jr_fail(r, s, "out of memory");
	} else {
		double d;

		/*
		 * strtod reads the decimal point of the process's LC_NUMERIC locale
		 * (an embedder may have set one with a comma): put that character
		 * where JSON has '.', as jansson's jsonp_strtod does.
		 */
		locale_point(buf);
		d = strtod(buf, &endp);
		if (endp != buf + n)
			jr_fail(r, s, "invalid number");
		else if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
			jr_fail(r, s, "real number overflow");
		else if ((v = json_real(d)) == NULL)
			jr_fail(r, s, "out of memory");
	}
	if (buf != stack)
		free(buf);
	r->p = p;
	return v;
}

static json_t *jr_literal(struct jr *r, const char *word, json_t *v)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return jr_fail(r, r->p, "invalid token");
	r->p += n;
	return v;
}

static json_t *jr_object(struct jr *r)
{
	json_t *obj = json_object(), *v;
	const unsigned char *k, *at;
	size_t klen;
	char small[64], *key;

	if (obj == NULL)
		return jr_fail(r, r->p, "out of memory");
	r->p++;
	jr_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return obj;
	}
	for (;;) {
		jr_ws(r);
		at = r->p;
		if (r->p >= r->end || *r->p != '"' || jr_string(r, &k, &klen) != 0)
			goto fail_key;
		if (memchr(k, '\0', klen) != NULL) {
			jr_fail(r, at, "NUL byte in object key not supported");
			goto fail;
		}
		/* The key may live in the scratch buffer the value will reuse: copy it. */
		key = klen < sizeof(small) ? small : malloc(klen + 1);
		if (key == NULL) {
			jr_fail(r, at, "out of memory");
			goto fail;
		}
		memcpy(key, k, klen);
		key[klen] = '\0';
		if (json_object_getn(obj, key, klen) != NULL) {
			jr_fail(r, at, "duplicate object key");
			goto fail_free;
		}
		jr_ws(r);
		if (r->p >= r->end || *r->p != ':') {
			jr_fail(r, r->p, "':' expected");
			goto fail_free;
		}
		r->p++;
		jr_ws(r);
		if ((v = jr_value(r)) == NULL)
			goto fail_free;
		if (json_object_setn_new_nocheck(obj, key, klen, v) != 0) {
			jr_fail(r, at, "out of memory");
			goto fail_free;
		}
		if (key != small)
			free(key);
		jr_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return obj;
		}
		jr_fail(r, r->p, "'}' expected");
		goto fail;
	}
fail_free:
	if (key != small)
		free(key);
	goto fail;
fail_key:
	jr_fail(r, r->p, "string or '}' expected");
fail:
	json_decref(obj);
	return NULL;
}

static json_t *jr_array(struct jr *r)
{
	json_t *arr = json_array(), *v;

	if (arr == NULL)
		return jr_fail(r, r->p, "out of memory");
	r->p++;
	jr_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return arr;
	}
	for (;;) {
		jr_ws(r);
		if ((v = jr_value(r)) == NULL)
			break;
		if (json_array_append_new(arr, v) != 0) {
			jr_fail(r, r->p, "out of memory");
			break;
		}
		jr_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return arr;
		}
		jr_fail(r, r->p, "']' expected");
		break;
	}
	json_decref(arr);
	return NULL;
}

static json_t *jr_value(struct jr *r)
{
	const unsigned char *s;
	size_t n;
	json_t *v;

	if (r->p >= r->end)
		return jr_fail(r, r->p, "premature end of input");
	/* jansson counts every value, scalars included, against its limit. */
	if (++r->depth > JREAD_MAX_DEPTH)
		return jr_fail(r, r->p, "maximum parsing depth reached");
	switch (*r->p) {
	case '{':
		v = jr_object(r);
		break;
	case '[':
		v = jr_array(r);
		break;
	case '"':
		v = NULL;
		if (jr_string(r, &s, &n) == 0 && (v = json_stringn_nocheck((const char *)s, n)) == NULL)
			jr_fail(r, r->p, "out of memory");
		break;
	case 't':
		v = jr_literal(r, "true", json_true());
		break;
	case 'f':
		v = jr_literal(r, "false", json_false());
		break;
	case 'n':
		v = jr_literal(r, "null", json_null());
		break;
	default:
		v = jr_number(r);
		break;
	}
	r->depth--;
	return v;
}

int jsonx_load(const char *text, size_t len, json_t **out, char *msg, size_t msglen, size_t *offset)
{
	struct jr r;
	json_t *v = NULL;

	memset(&r, 0, sizeof(r));
	r.start = r.p = (const unsigned char *)(text ? text : "");
	r.end = r.p + (text ? len : 0);
	*out = NULL;
	if (len > JSONX_MAX_DOC) {
		jr_fail(&r, r.p, "document over the size limit");
	} else {
		jr_ws(&r);
		if ((v = jr_value(&r)) != NULL) {
			jr_ws(&r);
			if (r.p != r.end) {
				jr_fail(&r, r.p, "end of input expected");
				json_decref(v);
				v = NULL;
			}
		}
	}
	free(r.scratch);
	if (v == NULL) {
		if (msg != NULL && msglen > 0)
			snprintf(msg, msglen, "%s", r.msg ? r.msg : "invalid JSON");
		if (offset != NULL)
			*offset = r.at;
		return ATTEST_E_PARSE;
	}
	*out = v;
	return ATTEST_OK;
}

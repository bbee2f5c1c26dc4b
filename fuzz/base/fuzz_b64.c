/*
 * libFuzzer target: base64 (both alphabets), hex and RFC 3339 decoders.
 * b64_decode (vector blocks on AVX2 CPUs, tables after) is held to a plain
 * RFC 4648 decoder written here, and b64_decode_to / b64url_decode_nopad
 * to b64_decode.
 */
#include "base/codec.h"
#include "base/timeutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of c in the standard (url = 0) or URL alphabet, or -1. */
static int b64_value(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* RFC 4648 §4/§5, one character at a time: the decoded length, or -1. */
static long reference_decode(const unsigned char *in, size_t len, uint8_t *out)
{
	size_t n = len, pad = 0;

	while (n > 0 && in[n - 1] == '=' && pad < 2)
		n--, pad++;
	if ((pad > 0 && (n + pad) % 4 != 0) || n % 4 == 1)
		return -1;
	for (int url = 0; url < 2; url++) {
		uint32_t acc = 0;
		int bits = 0;
		long o = 0;
		size_t i;

		for (i = 0; i < n && b64_value(in[i], url) >= 0; i++) {
			acc = (acc << 6) | (uint32_t)b64_value(in[i], url);
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				out[o++] = (uint8_t)(acc >> bits);
			}
		}
		if (i == n && (acc & ((1u << bits) - 1)) == 0)
			return o;
	}
	return -1;
}

static void held_to_the_reference(const uint8_t *data, size_t size)
{
	uint8_t *want = malloc(size + 1), *got = NULL, *url = NULL, small[48];
	long ref = want != NULL ? reference_decode(data, size, want) : -1;
	size_t n = 0, m = 0;
	int rc = b64_decode((const char *)data, size, &got, &n);

	if (want == NULL)
		goto out;
	if ((ref < 0) != (rc != 0) || (ref >= 0 && ((size_t)ref != n || memcmp(got, want, n) != 0)))
		abort();
	if (b64_decode_to((const char *)data, size, small, sizeof(small), &m) == 0 &&
	    (ref < 0 || (size_t)ref != m || memcmp(small, want, m) != 0))
		abort();
	/* Accepted only when b64_decode accepts it and it has no '=', '+' or '/'. */
	if (b64url_decode_nopad((const char *)data, size, &url, &m) == 0 &&
	    (ref < 0 || (size_t)ref != m || memcmp(url, want, m) != 0 || memchr(data, '=', size) != NULL ||
	     memchr(data, '+', size) != NULL || memchr(data, '/', size) != NULL))
		abort();
out:
	free(url);
	free(got);
	free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL;
	size_t n = 0;
	char *text = malloc(size + 1);
	int64_t t;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	held_to_the_reference(data, size);
	if (b64_decode(text, size, &out, &n) == 0) {
		/* Whatever decodes must re-encode to the same bytes. */
		char *again = b64url_encode(out, n);
		uint8_t *back = NULL;
		size_t m = 0;

		if (again == NULL || b64_decode(again, strlen(again), &back, &m) != 0 || m != n ||
		    memcmp(back, out, n) != 0)
			abort();
		free(back);
		free(again);
		free(out);
	}
	if (hex_decode(text, size, &out, &n) == 0)
		free(out);
	(void)time_parse_rfc3339(text, &t);
	free(text);
	return 0;
}

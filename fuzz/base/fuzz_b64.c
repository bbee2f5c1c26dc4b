/*
 * libFuzzer target: base64 (both alphabets), hex and RFC 3339 decoders.
 * b64_decode (vector blocks on AVX2 CPUs, tables after) is held to a plain
 * RFC 4648 decoder (tests/common/b64_reference.h), and b64_decode_to /
 * b64url_decode_nopad to b64_decode.
 */
#include "b64_reference.h"
#include "base/codec.h"
#include "base/timeutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void held_to_the_reference(const uint8_t *data, size_t size)
{
	uint8_t *want = malloc(size + 1), *got = NULL, *url = NULL, *big = NULL, small[48];
	long ref = want != NULL ? b64_reference_decode(data, size, want) : -1;
	size_t n = 0, m = 0;
	int rc = b64_decode((const char *)data, size, &got, &n);

	if (want == NULL)
		goto out;
	if ((ref < 0) != (rc != 0) || (ref >= 0 && ((size_t)ref != n || memcmp(got, want, n) != 0)))
		abort();
	if (b64_decode_to((const char *)data, size, small, sizeof(small), &m) == 0 &&
	    (ref < 0 || (size_t)ref != m || memcmp(small, want, m) != 0))
		abort();
	/* Into a buffer of the input's size (the vector blocks run): the reference's verdict and bytes. */
	big = malloc(size + 3);
	if (big != NULL && (b64_decode_to((const char *)data, size, big, size + 3, &m) == 0) != (ref >= 0))
		abort();
	if (big != NULL && ref >= 0 && ((size_t)ref != m || memcmp(big, want, m) != 0))
		abort();
	/* Accepted exactly when b64_decode accepts it and it has no '=', '+' or '/'. */
	if ((b64url_decode_nopad((const char *)data, size, &url, &m) == 0) !=
	    (ref >= 0 && memchr(data, '=', size) == NULL && memchr(data, '+', size) == NULL &&
	     memchr(data, '/', size) == NULL))
		abort();
	if (url != NULL && ((size_t)ref != m || memcmp(url, want, m) != 0))
		abort();
out:
	free(big);
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

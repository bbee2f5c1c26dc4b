#ifndef ATTEST_TESTS_B64_REFERENCE_H
#define ATTEST_TESTS_B64_REFERENCE_H

/*
 * A plain base64 decoder written from RFC 4648 §4 and §5, one character at
 * a time, that b64_decode (tables, AVX2 blocks) is held to by
 * test_codec_b64 and fuzz_b64: one alphabet for the whole text (the one
 * every character belongs to), optional '=' padding completing the last
 * group, zero left-over bits.
 */

#include <stddef.h>
#include <stdint.h>

/* The value of c in the standard (url = 0) or URL alphabet, or -1. */
static inline int b64_reference_value(unsigned char c, int url)
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

/* The decoded length (out holds at least len bytes), or -1 when the text is no base64. */
static inline long b64_reference_decode(const unsigned char *in, size_t len, uint8_t *out)
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

		for (i = 0; i < n && b64_reference_value(in[i], url) >= 0; i++) {
			acc = (acc << 6) | (uint32_t)b64_reference_value(in[i], url);
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

#endif

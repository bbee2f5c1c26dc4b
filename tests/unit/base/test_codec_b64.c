/*
 * b64_decode (src/base/codec.c) decodes a group of four characters with
 * four per-position tables and checks the characters' flags once at the
 * end. These tests hold it to a plain decoder written here from RFC 4648
 * §4 and §5, character by character, for every byte value in every
 * position of a whole group and of a last partial group.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "attest/error.h"
#include "base/codec.h"

#include <stdlib.h>
#include <string.h>

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of c in alphabet a, or -1. */
static int value_in(const char *a, unsigned char c)
{
	const char *p = c != 0 ? strchr(a, c) : NULL;

	return p != NULL ? (int)(p - a) : -1;
}

/*
 * The reference: one alphabet for the whole text (the one every character
 * belongs to), optional '=' padding completing the last group, zero
 * left-over bits. Returns the decoded length or -1.
 */
static int reference_decode(const char *in, size_t len, uint8_t *out)
{
	size_t n = len, pad = 0;
	uint32_t acc = 0;
	int bits = 0, o = 0;

	while (n > 0 && in[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if ((pad > 0 && (n + pad) % 4 != 0) || n % 4 == 1)
		return -1;
	for (int alpha = 0; alpha < 2; alpha++) {
		const char *a = alpha == 0 ? STD : URL;
		size_t i;

		acc = 0;
		bits = 0;
		o = 0;
		for (i = 0; i < n; i++) {
			int v = value_in(a, (unsigned char)in[i]);

			if (v < 0)
				break;
			acc = (acc << 6) | (uint32_t)v;
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

static void expect_same(const char *in, size_t len)
{
	uint8_t want[16], *got = NULL;
	size_t n = 0;
	int ref = reference_decode(in, len, want);
	int rc = b64_decode(in, len, &got, &n);

	if (ref < 0) {
		assert_int_equal(rc, ATTEST_E_PARSE);
		return;
	}
	assert_int_equal(rc, ATTEST_OK);
	assert_int_equal(n, (size_t)ref);
	assert_memory_equal(got, want, n);
	free(got);
}

static void every_byte_in_every_position_of_a_whole_group(void **state)
{
	(void)state;
	for (int pos = 0; pos < 8; pos++) {
		for (int c = 0; c < 256; c++) {
			char text[8];

			memcpy(text, "QUJDRA+/", 8); /* two groups, the second of the standard alphabet */
			text[pos] = (char)c;
			expect_same(text, 8);
			memcpy(text, "QUJDRA-_", 8); /* the same in the URL alphabet */
			text[pos] = (char)c;
			expect_same(text, 8);
		}
	}
}

static void every_byte_in_every_position_of_a_last_partial_group(void **state)
{
	static const char *const bases[] = {"QUJDRA", "QUJDREU", "QUJDRA==", "QUJDREU=", "+/+/QQ", "-_-_QQ"};

	(void)state;
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		size_t len = strlen(bases[b]);

		for (size_t pos = 0; pos < len; pos++) {
			for (int c = 0; c < 256; c++) {
				char text[8];

				memcpy(text, bases[b], len);
				text[pos] = (char)c;
				expect_same(text, len);
			}
		}
	}
}

/* A character of either alphabet's own pair anywhere, with the other's anywhere else, refuses. */
static void mixing_the_alphabets_anywhere_refuses(void **state)
{
	static const char *const mixed[] = {"+AAA-AAA", "AAA+AAA_", "/AAAAA-A",
					    "AA_AAA+A", "AAAA+A-A", "+-AA"};
	uint8_t *out = NULL;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(mixed) / sizeof(mixed[0]); i++)
		assert_int_equal(b64_decode(mixed[i], strlen(mixed[i]), &out, &n), ATTEST_E_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_byte_in_every_position_of_a_whole_group),
	    cmocka_unit_test(every_byte_in_every_position_of_a_last_partial_group),
	    cmocka_unit_test(mixing_the_alphabets_anywhere_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

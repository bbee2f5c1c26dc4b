/*
 * b64_decode (src/base/codec.c) decodes a group of four characters with
 * four per-position tables and checks the characters' flags once at the
 * end; on CPUs with AVX-512 VBMI it decodes 64 characters (16 groups) at
 * a time with vector instructions first, then 32 at a time with AVX2. These tests hold it to a plain decoder
 * from RFC 4648 §4 and §5 (tests/common/b64_reference.h, which fuzz_b64
 * also uses), character by character, for every
 * byte value in every position of a whole group, of a last partial group
 * and of every vector block, and on random texts of every length to 300.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "attest/error.h"
#include "base/codec.h"
#include "b64_reference.h"

#include <stdlib.h>
#include <string.h>

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void expect_same(const char *in, size_t len)
{
	uint8_t want[512], *got = NULL;
	size_t n = 0;
	long ref = b64_reference_decode((const unsigned char *)in, len, want);
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

/* Random characters of alphabet a (its whole 64, the pair included). */
static void random_text(char *t, size_t n, const char *a, uint64_t *seed)
{
	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
		t[i] = a[(*seed >> 33) % 64];
	}
}

/*
 * Texts long enough for every kind of vector block (64 characters with
 * AVX-512 VBMI, 32 with AVX2) and a tail: every byte value in every
 * position of two 64-character blocks, a 32-character block and a partial
 * group.
 */
static void every_byte_in_every_position_of_the_vector_blocks(void **state)
{
	char text[2 * 64 + 32 + 3], base[sizeof(text)];
	uint64_t seed = 42;

	(void)state;
	for (int alpha = 0; alpha < 2; alpha++) {
		random_text(base, sizeof(base), alpha ? URL : STD, &seed);
		/* A canonical last group: its 3 characters leave 2 bits, which must be zero. */
		base[sizeof(base) - 1] = 'A';
		expect_same(base, sizeof(base));
		for (size_t pos = 0; pos < sizeof(text); pos++) {
			for (int c = 0; c < 256; c++) {
				memcpy(text, base, sizeof(text));
				text[pos] = (char)c;
				expect_same(text, sizeof(text));
			}
		}
	}
}

/* Random texts of every length to 300, both alphabets, with and without padding. */
static void random_texts_of_every_length_decode_as_the_reference(void **state)
{
	char text[304] = {0};
	uint64_t seed = 7;

	(void)state;
	for (size_t len = 0; len <= 300; len++) {
		for (int alpha = 0; alpha < 2; alpha++) {
			size_t n = len;

			random_text(text, len, alpha ? URL : STD, &seed);
			expect_same(text, len); /* canonical or not, as the reference says */
			if (len % 4 == 2 || len % 4 == 3) {
				text[n++] = '=';
				if (len % 4 == 2)
					text[n++] = '=';
				expect_same(text, n);
			}
		}
	}
}

/* The JWS decoder: URL alphabet, no padding; everything else as b64_decode. */
static void url_only_unpadded_decoding_refuses_the_standard_pair_and_padding(void **state)
{
	char text[100];
	uint8_t *a = NULL, *b = NULL;
	size_t an = 0, bn = 0;
	uint64_t seed = 3;

	(void)state;
	random_text(text, 99, URL, &seed);
	text[98] = 'A';
	assert_int_equal(b64url_decode_nopad(text, 99, &a, &an), ATTEST_OK);
	assert_int_equal(b64_decode(text, 99, &b, &bn), ATTEST_OK);
	assert_int_equal(an, bn);
	assert_memory_equal(a, b, an);
	free(a);
	free(b);
	for (size_t pos = 0; pos < 99; pos += 7) { /* in a vector block and in the tail */
		char t[100];

		memcpy(t, text, 99);
		t[pos] = pos % 2 ? '+' : '/';
		assert_int_equal(b64url_decode_nopad(t, 99, &a, &an), ATTEST_E_PARSE);
	}
	assert_int_equal(b64url_decode_nopad("QUI=", 4, &a, &an), ATTEST_E_PARSE);
	assert_int_equal(b64url_decode_nopad("QUI", 3, &a, &an), ATTEST_OK);
	assert_int_equal(an, 2);
	free(a);
}

/* Into a caller's buffer: the same bytes, and a refusal (no write past cap) when it could not hold them. */
static void decoding_into_a_buffer_checks_its_size(void **state)
{
	uint8_t buf[40];
	size_t n = 0;
	char text[44];
	uint64_t seed = 9;

	(void)state;
	random_text(text, 43, STD, &seed);
	text[42] = 'A'; /* 43 characters: 32 bytes, canonical */
	assert_int_equal(b64_decode_to(text, 43, buf, sizeof(buf), &n), ATTEST_OK);
	assert_int_equal(n, 32);
	expect_same(text, 43);
	assert_int_equal(b64_decode_to(text, 43, buf, 32, &n), ATTEST_E_PARSE);
	assert_int_equal(b64_decode_to("QU*=", 4, buf, sizeof(buf), &n), ATTEST_E_PARSE);
}

/* A character of either alphabet's own pair anywhere, with the other's anywhere else, refuses. */
static void mixing_the_alphabets_anywhere_refuses(void **state)
{
	static const char *const mixed[] = {
	    "+AAA-AAA", "AAA+AAA_", "/AAAAA-A", "AA_AAA+A", "AAAA+A-A", "+-AA",
	    /* across vector blocks, and between a block and the tail */
	    "+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_AAA",
	    /* between a 64-character block and a 32-character one */
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_AAAA"};
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
	    cmocka_unit_test(every_byte_in_every_position_of_the_vector_blocks),
	    cmocka_unit_test(random_texts_of_every_length_decode_as_the_reference),
	    cmocka_unit_test(url_only_unpadded_decoding_refuses_the_standard_pair_and_padding),
	    cmocka_unit_test(decoding_into_a_buffer_checks_its_size),
	    cmocka_unit_test(mixing_the_alphabets_anywhere_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

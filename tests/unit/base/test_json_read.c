/*
 * jsonx_load (src/base/json_read.c), the reader behind jsonx_parse,
 * against jansson: for every input both accept, or both refuse; when they
 * accept, the values are equal (json_equal, which tells integers from
 * reals). One difference is meant: jansson skips a NUL byte after a number
 * or literal ("[1\0]" loads), this reader refuses NUL outside strings.
 * Inputs: hand-written edge cases of RFC 8259 and RFC 3629, the real
 * attestation request body and TCB Info / QE identity documents of the
 * vectors, and a few thousand seeded mutations of them (bytes flipped,
 * dropped, duplicated).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/jsonx.h"
#include "testutil.h"

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* 0 when both readers agree on text; prints the input otherwise. */
static int agree(const char *text, size_t len)
{
	json_t *mine = NULL, *theirs = json_loadb(text, len, FLAGS, NULL);
	char msg[128];
	size_t off = 0;
	int rc = jsonx_load(text, len, &mine, msg, sizeof(msg), &off), bad;

	bad = (rc == ATTEST_OK && theirs == NULL) || (mine != NULL && !json_equal(mine, theirs)) ||
	      (rc != ATTEST_OK && theirs != NULL && memchr(text, 0, len) == NULL);
	if (bad)
		fprintf(stderr, "disagree (ours %s: %s at %zu, jansson %s) on %zu bytes: %.*s\n",
			rc == ATTEST_OK ? "accepts" : "refuses", rc == ATTEST_OK ? "-" : msg, off,
			theirs ? "accepts" : "refuses", len, (int)(len > 200 ? 200 : len), text);
	if (rc != ATTEST_OK)
		assert_non_null(msg[0] ? msg : NULL); /* a refusal says why */
	json_decref(mine);
	json_decref(theirs);
	return bad;
}

static void agrees_on_edge_cases(void **state)
{
	static const char *const cases[] = {
	    "",
	    " ",
	    "{}",
	    "[]",
	    "{ }",
	    "[ ]",
	    "null",
	    "true",
	    "false",
	    "nul",
	    "truex",
	    "[truex]",
	    "0",
	    "-0",
	    "01",
	    "-01",
	    "1.",
	    "1.5",
	    ".5",
	    "1e5",
	    "1E+5",
	    "1e-5",
	    "1e",
	    "1e+",
	    "-",
	    "--1",
	    "+1",
	    "1.5e3",
	    "9223372036854775807",
	    "9223372036854775808",
	    "-9223372036854775808",
	    "-9223372036854775809",
	    "1e400",
	    "-1e400",
	    "1e-400",
	    "0.0000000000000000000000000001",
	    "123456789012345678901234567890.5",
	    "\"\"",
	    "\"abc\"",
	    "\"a\\\"b\"",
	    "\"\\\\\"",
	    "\"\\/\"",
	    "\"\\b\\f\\n\\r\\t\"",
	    "\"\\x\"",
	    "\"\\u\"",
	    "\"\\u00e9\"",
	    "\"\\u00E9\"",
	    "\"\\u0000\"",
	    "\"a\\u0000b\"",
	    "\"\\ud83d\\ude00\"",
	    "\"\\ud83d\"",
	    "\"\\ud83dx\"",
	    "\"\\ude00\"",
	    "\"\\ud83d\\u0041\"",
	    "\"\\u12\"",
	    "\"\\u12g4\"",
	    "\"abc",
	    "\"\\",
	    "\"\t\"",
	    "\"\x01\"",
	    "\"\x7f\"",
	    "\"\xc3\xa9\"",
	    "\"\xc3\"",
	    "\"\xc0\xaf\"",
	    "\"\xe0\x80\xaf\"",
	    "\"\xed\xa0\x80\"",
	    "\"\xef\xbf\xbf\"",
	    "\"\xf0\x9f\x98\x80\"",
	    "\"\xf4\x90\x80\x80\"",
	    "\"\xf5\x80\x80\x80\"",
	    "\"\xff\"",
	    "\"\x80\"",
	    "{\"a\":1}",
	    "{\"a\":1,\"a\":2}",
	    "{\"a\":1,\"b\":{\"a\":2}}",
	    "{\"a\" : 1 , \"b\" : [1 ,2] }",
	    "{\"a\"}",
	    "{\"a\":}",
	    "{\"a\":1,}",
	    "{,}",
	    "{1:2}",
	    "[1,]",
	    "[,1]",
	    "[1 2]",
	    "[1,[2,[3]]]",
	    "{\"\\u0000\":1}",
	    "{\"\":1}",
	    "{\"a\\u0000\":1}",
	    "{\"\\u00e9\":1,\"\xc3\xa9\":2}",
	    "{\"x\":1}{",
	    "[] []",
	    " \n\t\r[1]\r\n ",
	    "\xef\xbb\xbf[]",
	    "[1]\x00",
	    "\x00",
	    "{\"a\":\"b\"}x",
	    "[\"a\\u00\"]",
	    "[-]",
	    "[0x10]",
	    "[Infinity]",
	    "[NaN]",
	    "[1e5.5]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(agree(cases[i], strlen(cases[i])), 0);
	/* Embedded NUL bytes, which strlen would hide. */
	assert_int_equal(agree("\"a\0b\"", 5), 0);
	assert_int_equal(agree("[1,\0]", 5), 0);
	/* jansson loads these (it skips the NUL); a NUL outside a string is refused here. */
	{
		json_t *v = NULL;

		assert_int_equal(jsonx_load("[1\0]", 4, &v, NULL, 0, NULL), ATTEST_E_PARSE);
		assert_int_equal(jsonx_load("true\0", 5, &v, NULL, 0, NULL), ATTEST_E_PARSE);
		assert_null(v);
	}
}

/*
 * Long plain runs are read in blocks (16 bytes, then 32 with AVX2 past the
 * first 64, then 8, then byte by byte near the end): a byte that ends the
 * run is seen at every offset of every kind of block, in runs of lengths
 * around each block boundary.
 */
static void agrees_on_every_run_stopping_byte_at_every_offset(void **state)
{
	static const unsigned char stops[] = {'"', '\\', 0x00, 0x01, 0x1f, 0x20, 0x7f, 0x80, 0xc3, 0xff, 'n'};
	static const size_t lens[] = {40, 63, 64, 65, 79, 80, 96, 97, 127, 128, 129, 160, 200};
	char doc[256];

	(void)state;
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		for (size_t s = 0; s < sizeof(stops); s++) {
			for (size_t at = 0; at <= lens[l]; at++) { /* at == len: no stop byte at all */
				size_t n = 0;

				doc[n++] = '[';
				doc[n++] = '"';
				for (size_t i = 0; i < lens[l]; i++)
					doc[n++] = i == at ? (char)stops[s] : (char)('A' + i % 26);
				doc[n++] = '"';
				doc[n++] = ']';
				assert_int_equal(agree(doc, n), 0);
			}
		}
	}
}

/* Nesting at and past jansson's depth limit (2048 values, scalars counted). */
static void agrees_on_depth_limit(void **state)
{
	static const size_t depths[] = {2046, 2047, 2048, 2049, 2050};
	char *buf = malloc(2 * 2100 + 8);

	(void)state;
	assert_non_null(buf);
	for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
		for (int scalar = 0; scalar < 2; scalar++) {
			size_t n = 0;

			for (size_t i = 0; i < depths[d]; i++)
				buf[n++] = '[';
			if (scalar)
				buf[n++] = '1';
			for (size_t i = 0; i < depths[d]; i++)
				buf[n++] = ']';
			assert_int_equal(agree(buf, n), 0);
		}
	}
	free(buf);
}

/* jsonx_parse's error: the caller's code, why, line and column; nothing left in *out. */
static void parse_error_names_line_and_column(void **state)
{
	struct attest_err err;
	json_t *v = NULL;

	(void)state;
	attest_err_clear(&err);
	assert_int_equal(jsonx_parse("{\n  \"a\": 1,\n  \"a\": 2}", 22, &v, "x.body.json", "body", &err),
			 ATTEST_E_PARSE);
	assert_null(v);
	assert_string_equal(err.name, "x.body.json");
	assert_non_null(strstr(err.msg, "body is not valid JSON: duplicate object key"));
	assert_string_equal(err.where, "body line 3 column 3");
	assert_int_equal(jsonx_parse("[1]", 3, &v, "x", "body", &err), ATTEST_OK);
	assert_true(json_is_array(v));
	json_decref(v);
	/* Over the size limit: refused on the length alone, before a byte is read. */
	attest_err_clear(&err);
	assert_int_equal(jsonx_parse("[]", (size_t)JSONX_MAX_DOC + 1, &v, "x.big", "body", &err),
			 ATTEST_E_PARSE);
	assert_null(v);
	assert_string_equal(err.name, "x.big");
	assert_non_null(strstr(err.msg, "over the 4194304-byte limit"));
}

/* Reals read the same whatever LC_NUMERIC an embedder set (a comma decimal point here). */
static void reals_ignore_the_locale(void **state)
{
	static const char *const locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8"};
	json_t *v = NULL;
	bool comma = false;

	(void)state;
	for (size_t i = 0; i < sizeof(locales) / sizeof(locales[0]) && !comma; i++)
		comma = setlocale(LC_NUMERIC, locales[i]) != NULL && localeconv()->decimal_point[0] == ',';
	assert_int_equal(jsonx_load("[1.5,-2.25e1]", 13, &v, NULL, 0, NULL), ATTEST_OK);
	assert_true(json_real_value(json_array_get(v, 0)) == 1.5);
	assert_true(json_real_value(json_array_get(v, 1)) == -22.5);
	json_decref(v);
	setlocale(LC_NUMERIC, "C");
	if (!comma)
		skip(); /* no locale with a comma decimal point installed: only the "C" path was checked */
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mutations of doc: each agrees. */
static void mutate_and_compare(const char *doc, size_t len, int rounds, uint64_t seed)
{
	static const char alphabet[] = "{}[]\",:\\u0e.-+19 \t\n\x00\x7f\x80\xc3\xa9\xed\xf0tfn";
	char *buf = malloc(len + 16);
	int bad = 0;

	assert_non_null(buf);
	assert_int_equal(agree(doc, len), 0);
	for (int r = 0; r < rounds && !bad; r++) {
		size_t n = len, at = (size_t)(rng(&seed) % (len ? len : 1));

		memcpy(buf, doc, len);
		switch (rng(&seed) % 4) {
		case 0: /* replace a byte with a JSON-significant one */
			if (n)
				buf[at] = alphabet[rng(&seed) % (sizeof(alphabet) - 1)];
			break;
		case 1: /* flip a bit */
			if (n)
				buf[at] ^= (char)(1u << (rng(&seed) % 8));
			break;
		case 2: /* cut */
			n = at;
			break;
		default: /* drop a byte */
			if (n) {
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
			}
			break;
		}
		bad = agree(buf, n);
	}
	free(buf);
	assert_int_equal(bad, 0);
}

static void agrees_on_mutations_of_a_small_document(void **state)
{
	static const char doc[] = "{\"quote\":\"AQID\\u00e9\\ud83d\\ude00x\",\"runtimeData\":{\"data\":\"eyJ"
				  "hIjoxfQ\",\"dataType\":\"JSON\"},\"n\":[1,-2.5e3,true,false,null,{}],"
				  "\"\xc3\xa9\":\"\\n\"}";

	(void)state;
	mutate_and_compare(doc, sizeof(doc) - 1, 4000, 0x9e3779b97f4a7c15u);
}

/* The real documents: a recorded attestation request and Intel collateral. */
static void agrees_on_real_documents(void **state)
{
	static const char *const files[] = {
	    "maa-tokens/js-2022-01-28-sharedwus/exchanges/03-attest-SgxEnclave-binary-runtime/request.json",
	    "sgx/phala-sgx-v3-00a067110000-2023-11/tcb_info.json",
	    "sgx/phala-sgx-v3-00a067110000-2023-11/qe_identity.json",
	    "tdx/phala-tdx-v4-b0c06f000000-2025-06/tcb_info.json",
	};
	const char *vectors = test_vectors_dir();
	int seen = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len = 0;
		uint8_t *doc = vectors ? test_read_vector(vectors, files[i], &len) : NULL;

		if (doc == NULL)
			continue;
		seen++;
		mutate_and_compare((const char *)doc, len, 300, 0x1234567u + i);
		free(doc);
	}
	if (seen == 0)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(agrees_on_edge_cases),
	    cmocka_unit_test(agrees_on_every_run_stopping_byte_at_every_offset),
	    cmocka_unit_test(agrees_on_depth_limit),
	    cmocka_unit_test(parse_error_names_line_and_column),
	    cmocka_unit_test(reals_ignore_the_locale),
	    cmocka_unit_test(agrees_on_mutations_of_a_small_document),
	    cmocka_unit_test(agrees_on_real_documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

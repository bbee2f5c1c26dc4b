/* Unit tests of src/base: cursor, buffers, codecs, time, arena, errors, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "attest/error.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/codec.h"
#include "base/cur.h"
#include "base/jsonx.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const uint8_t BYTES[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

static void cursor_reads_integers_in_both_byte_orders(void **state)
{
	struct cur c;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	uint8_t v8;

	cur_init(&c, BYTES, sizeof(BYTES));
	assert_int_equal(cur_u8(&c, &v8), 0);
	assert_int_equal(v8, 0x01);
	assert_int_equal(cur_u16le(&c, &v16), 0);
	assert_int_equal(v16, 0x0302);
	assert_int_equal(cur_u16be(&c, &v16), 0);
	assert_int_equal(v16, 0x0405);
	assert_int_equal(cur_u32le(&c, &v32), 0);
	assert_int_equal(v32, 0x09080706);
	assert_true(cur_empty(&c));
	assert_int_equal(c.off, 9);

	cur_init(&c, BYTES, sizeof(BYTES));
	assert_int_equal(cur_u64be(&c, &v64), 0);
	assert_true(v64 == 0x0102030405060708ull);
	cur_init(&c, BYTES, sizeof(BYTES));
	assert_int_equal(cur_u64le(&c, &v64), 0);
	assert_true(v64 == 0x0807060504030201ull);
	assert_int_equal(cur_u32be(&c, &v32), -1);
}

static void cursor_short_read_fails_and_leaves_state_unchanged(void **state)
{
	struct cur c, sub;
	const uint8_t *p = (const uint8_t *)"untouched";
	uint8_t copy[16] = {0};
	uint64_t v64 = 42;
	uint32_t v32 = 42;
	uint16_t v16 = 42;

	cur_init(&c, BYTES, 3);
	assert_int_equal(cur_take(&c, 4, &p), -1);
	assert_string_equal((const char *)p, "untouched");
	assert_int_equal(cur_u64le(&c, &v64), -1);
	assert_int_equal(v64, 42);
	assert_int_equal(cur_u32le(&c, &v32), -1);
	assert_int_equal(cur_u32be(&c, &v32), -1);
	assert_int_equal(v32, 42);
	assert_int_equal(cur_u16be(&c, &v16), 0);
	assert_int_equal(cur_u16le(&c, &v16), -1);
	assert_int_equal(cur_copy(&c, copy, 2), -1);
	assert_int_equal(copy[0], 0);
	assert_int_equal(cur_skip(&c, 2), -1);
	assert_int_equal(cur_sub(&c, 2, &sub), -1);
	assert_int_equal(cur_left(&c), 1);
	assert_int_equal(c.off, 2);
}

static void cursor_huge_length_cannot_wrap(void **state)
{
	struct cur c;
	const uint8_t *p;

	cur_init(&c, BYTES, sizeof(BYTES));
	assert_int_equal(cur_skip(&c, 1), 0);
	assert_int_equal(cur_take(&c, SIZE_MAX, &p), -1);
	assert_int_equal(cur_take(&c, SIZE_MAX - 1, &p), -1);
	assert_false(range_ok(10, 4, SIZE_MAX - 2));
	assert_false(range_ok(10, 11, 0));
	assert_true(range_ok(10, 10, 0));
	assert_true(range_ok(10, 4, 6));
	assert_false(range_ok(10, 4, 7));
}

static void cursor_sub_keeps_origin_offsets(void **state)
{
	struct cur c, sub;
	uint8_t v;

	cur_init(&c, BYTES, sizeof(BYTES));
	assert_int_equal(cur_skip(&c, 2), 0);
	assert_int_equal(cur_sub(&c, 3, &sub), 0);
	assert_int_equal(sub.off, 2);
	assert_int_equal(cur_u8(&sub, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(sub.off, 3);
	assert_int_equal(cur_left(&sub), 2);
	assert_int_equal(c.off, 5);
}

static void buf_refuses_growth_past_its_cap(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "12345678", 8), ATTEST_OK);
	assert_int_equal(buf_append(&b, "9", 1), ATTEST_E_NOMEM);
	assert_int_equal(b.len, 8);
	assert_string_equal((char *)b.p, "12345678");
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%d-%s", 12, "ab"), ATTEST_OK);
	assert_string_equal((char *)b.p, "12-ab");
	assert_int_equal(buf_printf(&b, "%s", "toolong"), ATTEST_E_NOMEM);
	buf_free(&b);
}

static void b64_decodes_both_alphabets_with_and_without_padding(void **state)
{
	static const struct {
		const char *in;
		const char *out;
		size_t outlen;
	} cases[] = {
		{"", "", 0},        {"Zg", "f", 1},       {"Zg==", "f", 1},   {"Zm8", "fo", 2},
		{"Zm8=", "fo", 2},  {"Zm9v", "foo", 3},   {"-_8", "\xfb\xff", 2},
		{"+/8=", "\xfb\xff", 2},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *out = NULL;
		size_t n = 0;

		assert_int_equal(b64_decode(cases[i].in, strlen(cases[i].in), &out, &n), ATTEST_OK);
		assert_int_equal(n, cases[i].outlen);
		assert_memory_equal(out, cases[i].out, n);
		free(out);
	}
}

static void b64_refuses_malformed_input(void **state)
{
	static const char *const bad[] = {
		"Z",      /* one character cannot hold a byte */
		"Zg=",    /* padding that does not complete a group */
		"Zh",     /* non-zero left-over bits */
		"Z g=",   /* whitespace */
		"+_8=",   /* mixed alphabets */
		"Zg===",  /* too much padding */
		"Zm9v\n", /* trailing newline */
		"Z*==",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *out = (uint8_t *)"x";
		size_t n = 7;

		assert_int_equal(b64_decode(bad[i], strlen(bad[i]), &out, &n), ATTEST_E_PARSE);
		assert_int_equal(n, 7);
	}
}

static void b64url_encodes_without_padding(void **state)
{
	char *s;

	s = b64url_encode((const uint8_t *)"\xfb\xff", 2);
	assert_string_equal(s, "-_8");
	free(s);
	s = b64url_encode((const uint8_t *)"", 0);
	assert_string_equal(s, "");
	free(s);
	s = b64std_encode((const uint8_t *)"\xfb\xff", 2);
	assert_string_equal(s, "+/8=");
	free(s);
	s = b64std_encode((const uint8_t *)"f", 1);
	assert_string_equal(s, "Zg==");
	free(s);
	assert_int_equal(b64url_encoded_len(4), 6);
}

static void b64_round_trips_every_length(void **state)
{
	uint8_t in[64];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(in); len++) {
		char *u = b64url_encode(in, len), *s = b64std_encode(in, len);
		uint8_t *out;
		size_t n;

		assert_int_equal(b64_decode(u, strlen(u), &out, &n), ATTEST_OK);
		assert_int_equal(n, len);
		assert_memory_equal(out, in, len);
		free(out);
		assert_int_equal(b64_decode(s, strlen(s), &out, &n), ATTEST_OK);
		assert_int_equal(n, len);
		assert_memory_equal(out, in, len);
		free(out);
		free(u);
		free(s);
	}
}

static void hex_round_trips_and_refuses_bad_digits(void **state)
{
	uint8_t *out;
	size_t n;
	char *s;
	uint8_t fixed[2];

	assert_int_equal(hex_decode("00aBff", 6, &out, &n), ATTEST_OK);
	assert_int_equal(n, 3);
	s = hex_encode(out, n);
	assert_string_equal(s, "00abff");
	free(s);
	free(out);
	assert_int_equal(hex_decode("abc", 3, &out, &n), ATTEST_E_PARSE);
	assert_int_equal(hex_decode("zz", 2, &out, &n), ATTEST_E_PARSE);
	assert_int_equal(hex_decode_to("0102", 4, fixed, 2), ATTEST_OK);
	assert_int_equal(hex_decode_to("010203", 6, fixed, 2), ATTEST_E_PARSE);
}

static void time_parses_intel_and_microsoft_timestamps(void **state)
{
	int64_t t;
	char s[32];

	assert_int_equal(time_parse_rfc3339("2023-11-22T00:00:00Z", &t), ATTEST_OK);
	assert_int_equal(t, 1700611200);
	assert_int_equal(time_parse_rfc3339("2025-06-05T03:45:00.123Z", &t), ATTEST_OK);
	assert_int_equal(t, 1749095100);
	assert_int_equal(time_parse_rfc3339("2025-06-05T03:45:00+00:00", &t), ATTEST_OK);
	assert_int_equal(t, 1749095100);
	assert_int_equal(time_parse_rfc3339("1970-01-01T00:00:00Z", &t), ATTEST_OK);
	assert_int_equal(t, 0);
	time_format_rfc3339(1700611200, s, sizeof(s));
	assert_string_equal(s, "2023-11-22T00:00:00Z");
	assert_int_equal(time_parse_rfc3339("2023-13-01T00:00:00Z", &t), ATTEST_E_PARSE);
	assert_int_equal(time_parse_rfc3339("2023-11-22 00:00:00Z", &t), ATTEST_E_PARSE);
	assert_int_equal(time_parse_rfc3339("2023-11-22T00:00:00", &t), ATTEST_E_PARSE);
	assert_int_equal(time_parse_rfc3339("2023-11-22T00:00:00+01:00", &t), ATTEST_E_PARSE);
	assert_int_equal(time_parse_rfc3339("2023-11-22T00:00:00Zjunk", &t), ATTEST_E_PARSE);
	assert_int_equal(time_parse_rfc3339("", &t), ATTEST_E_PARSE);
	/* Found by fuzz_b64: a zone followed by more text must not be skipped past the end. */
	assert_int_equal(time_parse_rfc3339("2023-11-22T00:00:00.41Z+00", &t), ATTEST_E_PARSE);
	assert_int_equal(time_parse_rfc3339("2023-11-22T00:00:00+00:00x", &t), ATTEST_E_PARSE);
	assert_int_equal(time_parse_rfc3339("2023-11-22T00:00:00+00", &t), ATTEST_E_PARSE);
}

/* time_from_utc against libc's timegm, every day of 1950-2100 (X.509's UTCTime and GeneralizedTime years). */
static void time_from_utc_agrees_with_timegm_on_every_day(void **state)
{
	(void)state;
	for (int y = 1950; y <= 2100; y++)
		for (int mo = 1; mo <= 12; mo++)
			for (int d = 1; d <= 31; d++) {
				struct tm tm = {.tm_year = y - 1900,
						.tm_mon = mo - 1,
						.tm_mday = d,
						.tm_hour = (d * 7) % 24,
						.tm_min = (d * 13) % 60,
						.tm_sec = (d * 17) % 60};
				int64_t want = (int64_t)timegm(&tm);

				if (tm.tm_mday != d) /* no such day: timegm moved it into the next month */
					continue;
				assert_int_equal(
				    time_from_utc(y, mo, d, (d * 7) % 24, (d * 13) % 60, (d * 17) % 60),
				    want);
			}
}

static void arena_allocates_aligned_zeroed_and_respects_cap(void **state)
{
	struct arena a;
	char *s;
	uint8_t *p;

	arena_init(&a, 64 * 1024);
	p = arena_alloc(&a, 10);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 16, 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(p[i], 0);
	s = arena_strdup(&a, "hello");
	assert_string_equal(s, "hello");
	assert_non_null(arena_alloc(&a, 20000)); /* its own block */
	assert_null(arena_alloc(&a, 1024 * 1024));
	assert_null(arena_alloc(&a, SIZE_MAX));
	arena_release(&a);
	assert_int_equal(a.used, 0);
}

static void err_first_error_wins_and_names_are_kept(void **state)
{
	struct attest_err e;

	attest_err_clear(&e);
	assert_int_equal(attest_err_set(&e, ATTEST_E_PARSE, "sgx.quote.truncated", "needs %d", 48), ATTEST_E_PARSE);
	attest_err_where(&e, "quote+0x%x", 0x30);
	assert_int_equal(attest_err_set(&e, ATTEST_E_VERIFY, "outer", "later"), ATTEST_E_VERIFY);
	assert_int_equal(e.rc, ATTEST_E_PARSE);
	assert_string_equal(e.name, "sgx.quote.truncated");
	assert_string_equal(e.msg, "needs 48");
	assert_string_equal(e.where, "quote+0x30");
	attest_err_prefix(&e, "quote: ");
	assert_string_equal(e.msg, "quote: needs 48");
	assert_string_equal(attest_rc_str(ATTEST_E_VERIFY), "verify");
	assert_string_equal(attest_rc_str(999), "unknown");
	assert_int_equal(attest_err_set(NULL, ATTEST_E_IO, "x", "y"), ATTEST_E_IO);
}

static void jsonx_names_the_missing_or_mistyped_member(void **state)
{
	struct attest_err e;
	json_t *doc;
	const char *s;
	int64_t i;
	bool b;

	attest_err_clear(&e);
	assert_int_equal(jsonx_parse("{\"a\":\"x\",\"n\":3,\"t\":true}", 24, &doc, "t.json", "doc", &e), ATTEST_OK);
	assert_int_equal(jsonx_get_str(doc, "a", &s, "t.json", "doc", &e), ATTEST_OK);
	assert_string_equal(s, "x");
	assert_int_equal(jsonx_get_int(doc, "n", &i, "t.json", "doc", &e), ATTEST_OK);
	assert_int_equal(i, 3);
	assert_int_equal(jsonx_get_bool(doc, "t", &b, "t.json", "doc", &e), ATTEST_OK);
	assert_true(b);
	assert_int_equal(jsonx_get_str(doc, "n", &s, "t.json", "doc", &e), ATTEST_E_PARSE);
	assert_string_equal(e.msg, "doc: member \"n\" must be a string");
	attest_err_clear(&e);
	assert_int_equal(jsonx_get_int(doc, "zz", &i, "t.json", "doc", &e), ATTEST_E_PARSE);
	assert_string_equal(e.msg, "doc: member \"zz\" is missing");
	json_decref(doc);
	attest_err_clear(&e);
	assert_int_equal(jsonx_parse("{\"a\":1,\"a\":2}", 13, &doc, "t.json", "doc", &e), ATTEST_E_PARSE);
	attest_err_clear(&e);
	assert_int_equal(jsonx_parse("{\"a\":", 5, &doc, "t.json", "doc", &e), ATTEST_E_PARSE);
	assert_string_equal(e.name, "t.json");
}

/* Every byte a JSON string cannot hold as it is escapes as jansson writes it. */
static void json_escapes_match_jansson(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 0x80; c++) {
		char one[2] = {(char)c, 0}, esc[8], want[16];
		json_t *v;
		char *text;
		size_t n;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		v = json_stringn(one, 1);
		text = json_dumps(v, JSON_ENCODE_ANY);
		assert_non_null(text);
		n = jsonx_escape_byte((unsigned char)c, esc);
		snprintf(want, sizeof(want), "\"%.*s\"", (int)n, esc);
		assert_string_equal(text, want);
		free(text);
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cursor_reads_integers_in_both_byte_orders),
	    cmocka_unit_test(cursor_short_read_fails_and_leaves_state_unchanged),
	    cmocka_unit_test(cursor_huge_length_cannot_wrap),
	    cmocka_unit_test(cursor_sub_keeps_origin_offsets),
	    cmocka_unit_test(buf_refuses_growth_past_its_cap),
	    cmocka_unit_test(b64_decodes_both_alphabets_with_and_without_padding),
	    cmocka_unit_test(b64_refuses_malformed_input),
	    cmocka_unit_test(b64url_encodes_without_padding),
	    cmocka_unit_test(b64_round_trips_every_length),
	    cmocka_unit_test(hex_round_trips_and_refuses_bad_digits),
	    cmocka_unit_test(time_parses_intel_and_microsoft_timestamps),
	    cmocka_unit_test(time_from_utc_agrees_with_timegm_on_every_day),
	    cmocka_unit_test(arena_allocates_aligned_zeroed_and_respects_cap),
	    cmocka_unit_test(err_first_error_wins_and_names_are_kept),
	    cmocka_unit_test(jsonx_names_the_missing_or_mistyped_member),
	    cmocka_unit_test(json_escapes_match_jansson),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

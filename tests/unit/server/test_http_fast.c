/*
 * The server's hand-written JSON (issue 13) against what jansson wrote
 * before: the access log line (log.h, srv_log_request_format) and the
 * attest answer {"token": ...} (http.h, http_resp_json_str_member). Each
 * reference below is the code the fast path replaced (jansson's own
 * formatting of strings and reals included), so any byte of
 * difference fails here: log shippers and clients see the same text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/http.h"
#include "server/log.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- references: the jansson code the fast paths replaced ------------------------ */

static void ref_set_str(json_t *o, const char *k, const char *v)
{
	if (v != NULL && v[0] != '\0')
		json_object_set_new(o, k, json_string(v));
}

/* The access line as log.c built it through jansson (caller frees). */
static char *ref_request_line(const struct srv_log_request *r, const char *ts)
{
	json_t *o = json_object();
	char *text;

	ref_set_str(o, "time", ts);
	ref_set_str(o, "kind", "request");
	ref_set_str(o, "request_id", r->request_id);
	ref_set_str(o, "method", r->method);
	ref_set_str(o, "path", r->path);
	json_object_set_new(o, "status", json_integer(r->status));
	json_object_set_new(o, "duration_ms", json_real(r->duration_ms));
	ref_set_str(o, "provider", r->provider);
	ref_set_str(o, "type", r->type);
	ref_set_str(o, "error", r->error_code);
	ref_set_str(o, "message", r->error_msg);
	ref_set_str(o, "client_request_id", r->client_request_id);
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)r->bytes_in));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)r->bytes_out));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	return text;
}

static void assert_line_matches(const struct srv_log_request *r, const char *ts)
{
	char *want = ref_request_line(r, ts);
	char got[16384];
	size_t n = srv_log_request_format(r, ts, got, sizeof(got));

	assert_non_null(want);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(got, want, n);
	free(want);
}

static struct srv_log_request typical(void)
{
	struct srv_log_request r = {
	    .request_id = "6b1f3c2e-9d4a-4f0e-8a7b-2c5d9e1f0a3b",
	    .method = "POST",
	    .path = "/attest/SgxEnclave",
	    .status = 200,
	    .duration_ms = 1.234567891,
	    .provider = "default",
	    .type = "SgxEnclave",
	    .error_code = "",
	    .error_msg = "",
	    .client_request_id = "",
	    .bytes_in = 6011,
	    .bytes_out = 3402,
	};
	return r;
}

/* ---- the access line ------------------------------------------------------------------ */

static void access_line_is_what_jansson_wrote_for_a_success(void **state)
{
	struct srv_log_request r = typical();

	(void)state;
	assert_line_matches(&r, "2026-11-28T03:40:00.123Z");
}

static void access_line_is_what_jansson_wrote_for_an_error(void **state)
{
	struct srv_log_request r = typical();

	(void)state;
	r.status = 400;
	r.error_code = "InvalidParameter";
	r.error_msg = "quote ends early (sgx.quote.truncated at quote+0x30) \"x\" \\ \t\n\r\b\f\x01\x1f\x7f";
	r.client_request_id = "abc-\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80"; /* é € 😀: UTF-8 kept */
	assert_line_matches(&r, "2026-11-28T03:40:00.123Z");
}

static void access_line_leaves_out_empty_null_and_non_utf8_members(void **state)
{
	struct srv_log_request r = typical();
	static const char *const bad[] = {
	    "\x80",
	    "a\xc0\xafz",
	    "\xc1\xbf",
	    "\xe0\x80\xaf",
	    "\xed\xa0\x80", /* surrogate */
	    "\xf4\x90\x80\x80",
	    "\xf5\x80\x80\x80",
	    "\xe2\x82",
	    "\xff",
	    "ok\xc3",
	};

	(void)state;
	r.provider = NULL;
	r.type = "";
	r.request_id = NULL;
	assert_line_matches(&r, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.path = bad[i];
		assert_line_matches(&r, "2026-11-28T03:40:00.123Z");
	}
}

static void access_line_formats_durations_as_jansson(void **state)
{
	static const double d[] = {0.0,	       1.0,	 0.1,  1e-7,	       123456.789,
				   12345678.9, 1e21,	 -3.5, 0.000123456789, NAN,
				   INFINITY,   -INFINITY};
	struct srv_log_request r = typical();

	(void)state;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		r.duration_ms = d[i];
		assert_line_matches(&r, "t");
	}
	/* every decade from 1e-12 to 1e22, both signs, with digits that round at the 6th place */
	for (int e = -12; e <= 22; e++) {
		for (int m = 0; m < 40; m++) {
			r.duration_ms = (1.0 + m * 0.2345678901) * pow(10.0, e) * (m % 2 ? -1 : 1);
			assert_line_matches(&r, "t");
		}
	}
	r.status = -1;
	r.bytes_in = 0;
	r.bytes_out = (size_t)INT64_MAX;
	assert_line_matches(&r, "t");
}

/* Random bytes (mostly near the escaping and UTF-8 boundaries) in every string member. */
static void access_line_matches_jansson_on_random_text(void **state)
{
	static const unsigned char pick[] = {'a',  '"',	 '\\', 0x01, 0x1f, 0x20, 0x7f, 0x80, 0xbf, 0xc2,
					     0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, '/',  '\n'};
	struct srv_log_request r = typical();
	char s[4][24];
	uint32_t x = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		for (int k = 0; k < 4; k++) {
			size_t n = (x >> 3) % 20;
			for (size_t i = 0; i < n; i++) {
				x = x * 1103515245u + 12345u;
				s[k][i] = (char)pick[(x >> 16) % sizeof(pick)];
			}
			s[k][n] = '\0';
		}
		r.path = s[0];
		r.error_msg = s[1];
		r.client_request_id = s[2];
		r.method = s[3];
		assert_line_matches(&r, "2026-11-28T03:40:00.123Z");
	}
}

static void access_line_that_does_not_fit_is_refused(void **state)
{
	struct srv_log_request r = typical();
	char small[64];

	(void)state;
	assert_int_equal(srv_log_request_format(&r, "t", small, sizeof(small)), 0);
}

/* ---- the attest answer ----------------------------------------------------------------- */

static void assert_member_matches(const char *name, const char *value)
{
	struct http_response fast, ref;
	json_t *o = json_pack("{s:s}", name, value);

	memset(&fast, 0, sizeof(fast));
	memset(&ref, 0, sizeof(ref));
	assert_non_null(o);
	assert_int_equal(http_resp_json(&ref, 200, o), ATTEST_OK);
	assert_int_equal(http_resp_json_str_member(&fast, 200, name, value), ATTEST_OK);
	assert_int_equal(fast.status, 200);
	assert_string_equal(fast.content_type, ref.content_type);
	assert_int_equal(fast.body.len, ref.body.len);
	assert_memory_equal(fast.body.p, ref.body.p, ref.body.len);
	json_decref(o);
	buf_free(&fast.body);
	buf_free(&ref.body);
}

static void token_answer_is_what_jansson_wrote(void **state)
{
	char jwt[3200];

	(void)state;
	for (size_t i = 0; i < sizeof(jwt) - 1; i++)
		jwt[i] = "ABCXYZabcxyz0189-_."[i % 19];
	jwt[sizeof(jwt) - 1] = '\0';
	assert_member_matches("token", jwt);
	assert_member_matches("token", "");
	assert_member_matches("token", "a b ~ / ' ` { } < >");
}

static void token_answer_escapes_like_jansson_when_it_must(void **state)
{
	(void)state;
	assert_member_matches("token", "a\"b\\c\n\x01\x7f\xc3\xa9/");
	assert_member_matches("to\"ken", "x");
}

/* Every ASCII byte, and a UTF-8 letter, at every place of the 8-byte words and of the tail. */
static void token_answer_checks_every_byte_of_every_word(void **state)
{
	char s[24];

	(void)state;
	for (size_t at = 0; at < sizeof(s) - 1; at++) {
		for (int c = 1; c < 0x80; c++) {
			memset(s, 'A', sizeof(s) - 1);
			s[sizeof(s) - 1] = '\0';
			s[at] = (char)c;
			assert_member_matches("token", s);
		}
		if (at + 2 < sizeof(s)) {
			memset(s, 'A', sizeof(s) - 1);
			memcpy(s + at, "\xc3\xa9", 2);
			assert_member_matches("token", s);
		}
	}
}

static void token_answer_that_is_not_utf8_or_null_is_an_internal_error(void **state)
{
	struct http_response resp;

	(void)state;
	memset(&resp, 0, sizeof(resp));
	assert_int_equal(http_resp_json_str_member(&resp, 200, "token", "ab\xff"), ATTEST_OK);
	assert_int_equal(resp.status, 500);
	assert_string_equal(resp.error_code, "InternalError");
	buf_free(&resp.body);
	memset(&resp, 0, sizeof(resp));
	assert_int_equal(http_resp_json_str_member(&resp, 200, "token", NULL), ATTEST_OK);
	assert_int_equal(resp.status, 500);
	buf_free(&resp.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(access_line_is_what_jansson_wrote_for_a_success),
	    cmocka_unit_test(access_line_is_what_jansson_wrote_for_an_error),
	    cmocka_unit_test(access_line_leaves_out_empty_null_and_non_utf8_members),
	    cmocka_unit_test(access_line_formats_durations_as_jansson),
	    cmocka_unit_test(access_line_matches_jansson_on_random_text),
	    cmocka_unit_test(access_line_that_does_not_fit_is_refused),
	    cmocka_unit_test(token_answer_is_what_jansson_wrote),
	    cmocka_unit_test(token_answer_escapes_like_jansson_when_it_must),
	    cmocka_unit_test(token_answer_checks_every_byte_of_every_word),
	    cmocka_unit_test(token_answer_that_is_not_utf8_or_null_is_an_internal_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

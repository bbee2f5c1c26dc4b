/*
 * POST /attest/{type} of a real attestd over HTTPS, raw (libcurl): a real
 * recorded request gives a token that verifies against the server's own
 * /certs, and bad requests of every kind get the right 4xx with MAA's error
 * body and x-ms-error-code, never a 5xx, and never take the server down.
 * The server's clock is fixed at the date of the real Intel collateral.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "harness.h"

#include "crypto/jose.h"

#define JS_DIR	"maa-tokens/js-2022-01-28-sharedwus/exchanges"
#define OE_COLL "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26"
#define OE_NOW	1651017600

static struct attestd_proc srv;
static char *sgx_body; /* the recorded SgxEnclave request body */

static char *recorded_body(const char *vectors, const char *exchange)
{
	char path[2048];
	json_t *rec, *body;
	char *text;

	snprintf(path, sizeof(path), "%s/" JS_DIR "/%s/request.json", vectors, exchange);
	rec = json_load_file(path, 0, NULL);
	if (rec == NULL)
		return NULL;
	body = json_object_get(rec, "body");
	text = json_dumps(body, JSON_COMPACT);
	json_decref(rec);
	return text;
}

static int group_setup(void **state)
{
	const char *vectors = test_vectors_dir();
	char coll[1200], now[32];

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (vectors == NULL)
		return -1;
	snprintf(coll, sizeof(coll), "%s/" OE_COLL, vectors);
	snprintf(now, sizeof(now), "%d", OE_NOW);
	{
		const char *extra[] = {"--test-fixed-time", now, "--collateral-dir", coll, NULL};

		if (attestd_start(&srv, extra) != 0)
			return -1;
	}
	sgx_body = recorded_body(vectors, "03-attest-SgxEnclave-binary-runtime");
	return sgx_body ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(sgx_body);
	attestd_cleanup(&srv);
	curl_global_cleanup();
	return 0;
}

static void post(const char *path, const void *body, size_t len, struct http_reply *r)
{
	const char *headers[] = {"Content-Type: application/json", NULL};

	assert_int_equal(http_do(&srv, "POST", path, headers, body, len, NULL, r), 0);
}

/* MAA's error answer: status, {"error":{"code","message"}}, x-ms-error-code. */
static void assert_maa_error(const struct http_reply *r, long status, const char *code,
			     const char *in_message)
{
	json_t *j = http_json(r);
	const char *c, *m;
	char hdr[128];

	if (r->status != status)
		fail_msg("status %ld, want %ld: %s", r->status, status, r->body);
	assert_non_null(j);
	c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
	m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	assert_non_null(c);
	assert_non_null(m);
	assert_string_equal(c, code);
	if (in_message != NULL && strstr(m, in_message) == NULL)
		fail_msg("message \"%s\" does not mention %s", m, in_message);
	assert_true(http_header(r, "x-ms-error-code", hdr, sizeof(hdr)));
	assert_string_equal(hdr, code);
	json_decref(j);
}

static void recorded_request_gives_a_token_that_verifies_against_certs(void **state)
{
	struct http_reply r, c;
	json_t *body, *jwks, *claims = NULL;
	const char *tok;
	struct jws *j = NULL;
	struct attest_err err;
	char hdr[128];

	post("/attest/SgxEnclave?api-version=2020-10-01", sgx_body, strlen(sgx_body), &r);
	if (r.status != 200)
		fail_msg("%ld %s", r.status, r.body);
	assert_true(http_header(&r, "x-ms-request-id", hdr, sizeof(hdr)));
	assert_true(http_header(&r, "content-type", hdr, sizeof(hdr)));
	assert_string_equal(hdr, "application/json; charset=utf-8");
	body = http_json(&r);
	tok = json_string_value(json_object_get(body, "token"));
	assert_non_null(tok);
	assert_int_equal(http_do(&srv, "GET", "/certs", NULL, NULL, 0, NULL, &c), 0);
	jwks = http_json(&c);
	attest_err_clear(&err);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), 0);
	assert_int_equal(jws_verify_jwks(j, jwks, 0, &err), 0);
	assert_int_equal(jwt_claims(j, &claims, &err), 0);
	assert_string_equal(json_string_value(json_object_get(claims, "iss")), srv.base);
	assert_int_equal(json_integer_value(json_object_get(claims, "iat")), OE_NOW);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-sgx-mrsigner")),
			    "2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa");
	assert_string_equal(jws_header_str(j, "typ"), "JWT");
	json_decref(claims);
	jws_free(j);
	json_decref(jwks);
	json_decref(body);
	http_reply_free(&c);
	http_reply_free(&r);
}

/* Both api-versions the SDKs use, and the 2018 preview and 2025 ones, are accepted. */
static void every_listed_api_version_is_accepted(void **state)
{
	static const char *const versions[] = {"2018-09-01-preview", "2020-10-01",	   "2022-08-01",
					       "2022-09-01-preview", "2023-04-01-preview", "2025-06-01"};

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		char path[128];
		struct http_reply r;

		snprintf(path, sizeof(path), "/attest/SgxEnclave?api-version=%s", versions[i]);
		post(path, sgx_body, strlen(sgx_body), &r);
		if (r.status != 200)
			fail_msg("%s: %ld %s", versions[i], r.status, r.body);
		http_reply_free(&r);
	}
}

struct bad_case {
	const char *what;
	const char *path;
	const char *body;
	long status;
	const char *code;
	const char *in_message;
};

#define V "?api-version=2020-10-01"

static const struct bad_case BAD[] = {
    {"empty body", "/attest/SgxEnclave" V, "", 400, "InvalidParameter", "request.body.json"},
    {"malformed JSON", "/attest/SgxEnclave" V, "{\"quote\":", 400, "InvalidParameter", "request.body.json"},
    {"duplicate member", "/attest/SgxEnclave" V, "{\"quote\":\"AAAA\",\"quote\":\"AAAA\"}", 400,
     "InvalidParameter", NULL},
    {"array body", "/attest/SgxEnclave" V, "[1,2,3]", 400, "InvalidParameter", "request.body.not_object"},
    {"string body", "/attest/SgxEnclave" V, "\"quote\"", 400, "InvalidParameter", "request.body.not_object"},
    {"quote missing", "/attest/SgxEnclave" V, "{}", 400, "InvalidParameter", "request.quote.missing"},
    {"quote a number", "/attest/SgxEnclave" V, "{\"quote\":42}", 400, "InvalidParameter",
     "request.quote.type"},
    {"quote an object", "/attest/SgxEnclave" V, "{\"quote\":{}}", 400, "InvalidParameter",
     "request.quote.type"},
    {"quote not base64", "/attest/SgxEnclave" V, "{\"quote\":\"**not base64**\"}", 400, "InvalidParameter",
     "request.quote.base64"},
    {"quote mixed alphabets", "/attest/SgxEnclave" V, "{\"quote\":\"ab+_\"}", 400, "InvalidParameter",
     "request.quote.base64"},
    {"quote empty", "/attest/SgxEnclave" V, "{\"quote\":\"\"}", 400, "InvalidParameter",
     "request.quote.empty"},
    {"quote garbage bytes", "/attest/SgxEnclave" V, "{\"quote\":\"AAECAwQFBgcICQoLDA0ODw\"}", 400,
     "InvalidParameter", "sgx."},
    {"runtimeData a string", "/attest/SgxEnclave" V, "{\"quote\":\"AAAA\",\"runtimeData\":\"x\"}", 400,
     "InvalidParameter", "request.runtime_data.type"},
    {"runtimeData dataType unknown", "/attest/SgxEnclave" V,
     "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"AAAA\",\"dataType\":\"XML\"}}", 400, "InvalidParameter",
     "request.runtime_data.data_type"},
    {"runtimeData JSON not JSON", "/attest/SgxEnclave" V,
     "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"AAAA\",\"dataType\":\"JSON\"}}", 400,
     "InvalidParameter", "request.runtime_data.json"},
    {"nonce a number", "/attest/SgxEnclave" V, "{\"quote\":\"AAAA\",\"nonce\":1}", 400, "InvalidParameter",
     "request.nonce.type"},
    {"draft policy an array", "/attest/SgxEnclave" V, "{\"quote\":\"AAAA\",\"draftPolicyForAttestation\":[]}",
     400, "InvalidParameter", "request.draft_policy.type"},
    {"OE report missing", "/attest/OpenEnclave" V, "{\"quote\":\"AAAA\"}", 400, "InvalidParameter",
     "request.report.missing"},
    {"SevSnpVm envelope not JSON", "/attest/SevSnpVm" V, "{\"report\":\"AAAA\"}", 400, "InvalidParameter",
     NULL},
    {"TdxVm quote garbage", "/attest/TdxVm" V, "{\"quote\":\"AAECAwQFBgcICQoLDA0ODw\"}", 400,
     "InvalidParameter", "tdx."},
    {"Tpm message not JSON", "/attest/Tpm" V, "{\"data\":\"AAAA\"}", 400, "InvalidParameter", "tpm."},
    {"unknown type", "/attest/FooEnclave" V, "{\"quote\":\"AAAA\"}", 400, "InvalidParameter",
     "unknown attestation type"},
    {"unknown api-version", "/attest/SgxEnclave?api-version=1999-01-01", "{\"quote\":\"AAAA\"}", 400, NULL,
     NULL},
    {"missing api-version", "/attest/SgxEnclave", "{\"quote\":\"AAAA\"}", 400, NULL, NULL},
};

static void bad_requests_get_the_right_4xx_and_error_code(void **state)
{
	for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		struct http_reply r;

		post(BAD[i].path, BAD[i].body, strlen(BAD[i].body), &r);
		if (r.status >= 500 || r.status != BAD[i].status)
			fail_msg("%s: %ld %s", BAD[i].what, r.status, r.body);
		if (BAD[i].code != NULL)
			assert_maa_error(&r, BAD[i].status, BAD[i].code, BAD[i].in_message);
		http_reply_free(&r);
	}
}

/* A body of n bytes: {"quote":"AAAA","pad":"xxxx..."}. */
static char *padded_body(size_t n)
{
	char *s = malloc(n + 1);
	const char head[] = "{\"quote\":\"AAAA\",\"pad\":\"";

	memset(s, 'x', n);
	memcpy(s, head, sizeof(head) - 1);
	s[n - 2] = '"';
	s[n - 1] = '}';
	s[n] = '\0';
	return s;
}

static void huge_and_hostile_bodies_are_refused_without_5xx(void **state)
{
	struct http_reply r;
	char *big = padded_body(2u * 1024 * 1024), *deep = malloc(200001);

	/* Chunked, so the cap is found while the body is read (an announced
	 * Content-Length over it is refused before a byte is read, racing the
	 * client's upload: the server's own tests cover that case). */
	{
		const char *headers[] = {"Content-Type: application/json", "Transfer-Encoding: chunked",
					 NULL};

		assert_int_equal(
		    http_do(&srv, "POST", "/attest/SgxEnclave" V, headers, big, strlen(big), NULL, &r), 0);
		assert_maa_error(&r, 413, "RequestEntityTooLarge", NULL);
		http_reply_free(&r);
	}
	/* nesting far deeper than any parser stack */
	memset(deep, '[', 200000);
	deep[200000] = '\0';
	post("/attest/SgxEnclave" V, deep, 200000, &r);
	assert_maa_error(&r, 400, "InvalidParameter", "request.body.json");
	http_reply_free(&r);
	/* binary garbage with NULs */
	memset(deep, 0, 4096);
	post("/attest/SgxEnclave" V, deep, 4096, &r);
	assert_maa_error(&r, 400, "InvalidParameter", NULL);
	http_reply_free(&r);
	/* a quote of 900 KB of zeros: decodes, then the verifier refuses it */
	{
		size_t n = 900 * 1024;
		char *q = malloc(n + 32);

		memcpy(q, "{\"quote\":\"", 10);
		memset(q + 10, 'A', n);
		memcpy(q + 10 + n, "\"}", 3);
		post("/attest/SgxEnclave" V, q, strlen(q), &r);
		assert_maa_error(&r, 400, "InvalidParameter", "sgx.");
		http_reply_free(&r);
		free(q);
	}
	free(big);
	free(deep);
}

static void wrong_method_is_405(void **state)
{
	struct http_reply r;

	assert_int_equal(http_do(&srv, "GET", "/attest/SgxEnclave" V, NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 405);
	http_reply_free(&r);
}

/* Azure guest attestation with an empty AttestationInfo: a clear 400 naming what is missing, not a crash. */
static void azure_guest_empty_attestation_info_says_so(void **state)
{
	struct http_reply r;

	post("/attest/AzureGuest" V, "{\"AttestationInfo\":\"e30\"}", 25, &r);
	assert_maa_error(&r, 400, "InvalidParameter", "AttestationProtocolVersion");
	http_reply_free(&r);
}

/* After all of the above the server still answers, and still attests. */
static void server_survives_and_still_attests(void **state)
{
	struct http_reply r;

	assert_int_equal(http_do(&srv, "GET", "/certs", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	post("/attest/SgxEnclave" V, sgx_body, strlen(sgx_body), &r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	assert_true(kill(srv.pid, 0) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(recorded_request_gives_a_token_that_verifies_against_certs),
	    cmocka_unit_test(every_listed_api_version_is_accepted),
	    cmocka_unit_test(bad_requests_get_the_right_4xx_and_error_code),
	    cmocka_unit_test(huge_and_hostile_bodies_are_refused_without_5xx),
	    cmocka_unit_test(wrong_method_is_405),
	    cmocka_unit_test(azure_guest_empty_attestation_info_says_so),
	    cmocka_unit_test(server_survives_and_still_attests),
	};

	REQUIRE_VECTORS_OR_EXIT();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

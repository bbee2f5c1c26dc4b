/*
 * Unit tests of src/token/request.c: attest request bodies (maa-interface.md
 * §1.3) decode into the evidence and data a verifier takes, real recorded
 * bodies included, and every malformation has its own error name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "attest/error.h"
#include "base/codec.h"
#include "base/jsonx.h"
#include "claims/claims.h"
#include "token/catalogue.h"
#include "token/request.h"

#include <stdlib.h>
#include <string.h>

#define JS_DIR "maa-tokens/js-2022-01-28-sharedwus/exchanges"
#define OE_DIR "oe/azure-sdk-js-oe-report-00906ed50000-2022-01"

static int decode(enum maa_type type, const char *body, struct attest_request **req, struct attest_err *err)
{
	attest_err_clear(err);
	*req = NULL;
	return attest_request_decode(type, body, strlen(body), req, err);
}

/* Decoding must fail with this error name and leave no request. */
static void refuse(enum maa_type type, const char *body, const char *name)
{
	struct attest_request *req = NULL;
	struct attest_err err;

	if (decode(type, body, &req, &err) == ATTEST_OK)
		fail_msg("accepted %s", body);
	assert_null(req);
	if (strcmp(err.name, name) != 0)
		fail_msg("%s: got %s (%s), want %s", body, err.name, err.msg, name);
	assert_true(err.msg[0] != '\0');
}

static char *recorded_body(const char *dir, const char *exchange)
{
	char rel[256];
	size_t len = 0;
	unsigned char *text;
	json_t *rec = NULL;
	char *body;
	struct attest_err err;

	snprintf(rel, sizeof(rel), JS_DIR "/%s/request.json", exchange);
	text = test_read_vector(dir, rel, &len);
	assert_non_null(text);
	attest_err_clear(&err);
	assert_int_equal(jsonx_parse((const char *)text, len, &rec, "t", rel, &err), 0);
	body = json_dumps(json_object_get(rec, "body"), JSON_COMPACT);
	json_decref(rec);
	free(text);
	return body;
}

static void assert_file_bytes(const char *dir, const char *rel, const uint8_t *p, size_t n)
{
	size_t len = 0;
	unsigned char *want = test_read_vector(dir, rel, &len);

	assert_non_null(want);
	assert_int_equal(n, len);
	assert_memory_equal(p, want, len);
	free(want);
}

static void recorded_openenclave_body_decodes_to_the_report_and_runtime_data(void **state)
{
	REQUIRE_VECTORS(dir);
	char *body = recorded_body(dir, "01-attest-OpenEnclave-binary-runtime");
	struct attest_request *req = NULL;
	struct attest_err err;
	struct evidence_input in;

	assert_int_equal(decode(MAA_TYPE_OPEN_ENCLAVE, body, &req, &err), ATTEST_OK);
	assert_file_bytes(dir, OE_DIR "/report.bin", req->evidence, req->evidence_len);
	assert_file_bytes(dir, OE_DIR "/runtime_data.bin", req->runtime.bytes, req->runtime.len);
	assert_int_equal(req->runtime.type, EVIDENCE_DATA_BINARY);
	assert_int_equal(req->init.type, EVIDENCE_DATA_NONE);
	assert_null(req->nonce);
	assert_null(req->draft_policy);
	attest_request_input(req, &in);
	assert_ptr_equal(in.evidence, req->evidence);
	assert_int_equal(in.runtime_data_len, req->runtime.len);
	assert_int_equal(in.runtime_data_type, EVIDENCE_DATA_BINARY);
	assert_null(in.init_data);
	attest_request_free(req);
	free(body);
}

static void recorded_json_runtime_body_parses_the_runtime_json(void **state)
{
	REQUIRE_VECTORS(dir);
	char *body = recorded_body(dir, "02-attest-OpenEnclave-json-runtime");
	struct attest_request *req = NULL;
	struct attest_err err;

	assert_int_equal(decode(MAA_TYPE_OPEN_ENCLAVE, body, &req, &err), ATTEST_OK);
	assert_int_equal(req->runtime.type, EVIDENCE_DATA_JSON);
	assert_true(json_is_object(req->runtime.json));
	assert_non_null(json_object_get(req->runtime.json, "jwk"));
	attest_request_free(req);
	free(body);
}

static void recorded_sgx_body_decodes_to_the_bare_quote(void **state)
{
	REQUIRE_VECTORS(dir);
	char *body = recorded_body(dir, "03-attest-SgxEnclave-binary-runtime");
	struct attest_request *req = NULL;
	struct attest_err err;

	assert_int_equal(decode(MAA_TYPE_SGX_ENCLAVE, body, &req, &err), ATTEST_OK);
	assert_file_bytes(dir, OE_DIR "/quote.bin", req->evidence, req->evidence_len);
	attest_request_free(req);
	/* the SgxEnclave shape has "quote", not "report" */
	refuse(MAA_TYPE_OPEN_ENCLAVE, body, "request.report.missing");
	free(body);
}

/* §1.1: standard base64 with padding is the same bytes as base64url. */
static void both_base64_alphabets_decode_alike(void **state)
{
	struct attest_request *a = NULL, *b = NULL, *c = NULL;
	struct attest_err err;

	assert_int_equal(decode(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"-_-_AA\"}", &a, &err), ATTEST_OK);
	assert_int_equal(decode(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"+/+/AA==\"}", &b, &err), ATTEST_OK);
	assert_int_equal(decode(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"+/+/AA\"}", &c, &err), ATTEST_OK);
	assert_int_equal(a->evidence_len, 4);
	assert_int_equal(b->evidence_len, 4);
	assert_memory_equal(a->evidence, b->evidence, 4);
	assert_memory_equal(a->evidence, c->evidence, 4);
	assert_int_equal(a->evidence[0], 0xfb);
	attest_request_free(a);
	attest_request_free(b);
	attest_request_free(c);
}

static void bad_base64_is_refused_by_member(void **state)
{
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"-_+/\"}", "request.quote.base64"); /* mixed alphabets */
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAA*\"}", "request.quote.base64");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"A\"}", "request.quote.base64");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AA AA\"}", "request.quote.base64");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"%%\"}}",
	       "request.runtime_data.base64");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"initTimeData\":{\"data\":\"A===\"}}",
	       "request.init_time_data.base64");
}

static void malformed_bodies_are_refused(void **state)
{
	refuse(MAA_TYPE_SGX_ENCLAVE, "", "request.body.json");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":", "request.body.json");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"quote\":\"AAAA\"}", "request.body.json");
	refuse(MAA_TYPE_SGX_ENCLAVE, "[\"AAAA\"]", "request.body.not_object");
	refuse(MAA_TYPE_SGX_ENCLAVE, "\"AAAA\"", "request.body.not_object");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{}", "request.quote.missing");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":null}", "request.quote.missing");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":42}", "request.quote.type");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":[\"AAAA\"]}", "request.quote.type");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"\"}", "request.quote.empty");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AA\\u0000A\"}", "request.quote.nul");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"Quote\":\"AAAA\"}", "request.quote.duplicate");
}

static void wrongly_typed_optional_members_are_refused(void **state)
{
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"runtimeData\":\"AAAA\"}",
	       "request.runtime_data.type");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"runtimeData\":{}}",
	       "request.runtime_data.missing");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":1}}",
	       "request.runtime_data.type");
	refuse(MAA_TYPE_SGX_ENCLAVE,
	       "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"AAAA\",\"dataType\":\"Text\"}}",
	       "request.runtime_data.data_type");
	refuse(MAA_TYPE_SGX_ENCLAVE,
	       "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"AAAA\",\"dataType\":7}}",
	       "request.runtime_data.data_type");
	/* "AAAA" is three zero bytes: not JSON */
	refuse(MAA_TYPE_SGX_ENCLAVE,
	       "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"AAAA\",\"dataType\":\"JSON\"}}",
	       "request.runtime_data.json");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"nonce\":5}", "request.nonce.type");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"nonce\":\"a\\u0000b\"}", "request.nonce.nul");
	refuse(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"draftPolicyForAttestation\":{}}",
	       "request.draft_policy.type");
	refuse(MAA_TYPE_SGX_ENCLAVE,
	       "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"AAAA\"},\"enclaveHeldData\":\"AAAA\"}",
	       "request.runtime_data.duplicate");
}

/* {"a":1} in base64url */
#define JSON_A1 "eyJhIjoxfQ"

static void optional_members_decode(void **state)
{
	struct attest_request *req = NULL;
	struct attest_err err;

	assert_int_equal(
	    decode(MAA_TYPE_SGX_ENCLAVE,
		   "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"" JSON_A1 "\",\"dataType\":\"json\"},"
		   "\"initTimeData\":{\"data\":\"AQID\",\"dataType\":\"Binary\"},\"nonce\":\"n0nce\","
		   "\"draftPolicyForAttestation\":\"version=1.0;\",\"unknownMember\":[1,2]}",
		   &req, &err),
	    ATTEST_OK);
	assert_int_equal(req->runtime.type, EVIDENCE_DATA_JSON);
	assert_int_equal(json_integer_value(json_object_get(req->runtime.json, "a")), 1);
	assert_int_equal(req->init.type, EVIDENCE_DATA_BINARY);
	assert_int_equal(req->init.len, 3);
	assert_null(req->init.json);
	assert_string_equal(req->nonce, "n0nce");
	assert_string_equal(req->draft_policy, "version=1.0;");
	attest_request_free(req);
}

static void null_and_empty_optional_members_are_absent(void **state)
{
	struct attest_request *req = NULL;
	struct attest_err err;

	assert_int_equal(
	    decode(MAA_TYPE_SGX_ENCLAVE,
		   "{\"quote\":\"AAAA\",\"runtimeData\":null,\"initTimeData\":null,\"nonce\":null,"
		   "\"draftPolicyForAttestation\":\"\"}",
		   &req, &err),
	    ATTEST_OK);
	assert_int_equal(req->runtime.type, EVIDENCE_DATA_NONE);
	assert_null(req->runtime.bytes);
	assert_null(req->nonce);
	assert_null(req->draft_policy);
	attest_request_free(req);
}

/* A missing dataType means Binary; empty data is zero bytes, not absent. */
static void missing_data_type_is_binary_and_empty_data_is_allowed(void **state)
{
	struct attest_request *req = NULL;
	struct attest_err err;

	assert_int_equal(
	    decode(MAA_TYPE_SGX_ENCLAVE, "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"\"}}", &req, &err),
	    ATTEST_OK);
	assert_int_equal(req->runtime.type, EVIDENCE_DATA_BINARY);
	assert_non_null(req->runtime.bytes);
	assert_int_equal(req->runtime.len, 0);
	attest_request_free(req);
}

/* §1.3.2: 2018-era bodies. */
static void legacy_member_names_are_accepted(void **state)
{
	struct attest_request *req = NULL;
	struct attest_err err;

	assert_int_equal(
	    decode(MAA_TYPE_SGX_ENCLAVE, "{\"Quote\":\"AAAA\",\"EnclaveHeldData\":\"AQID\"}", &req, &err),
	    ATTEST_OK);
	assert_int_equal(req->evidence_len, 3);
	assert_int_equal(req->runtime.type, EVIDENCE_DATA_BINARY);
	assert_int_equal(req->runtime.len, 3);
	attest_request_free(req);
}

static void each_type_has_its_request_shape(void **state)
{
	struct attest_request *req = NULL;
	struct attest_err err;

	assert_int_equal(
	    decode(MAA_TYPE_SEV_SNP_VM, "{\"report\":\"" JSON_A1 "\",\"nonce\":\"x\"}", &req, &err), 0);
	assert_memory_equal(req->evidence, "{\"a\":1}", 7);
	attest_request_free(req);
	assert_int_equal(decode(MAA_TYPE_TDX_VM, "{\"quote\":\"AAAA\"}", &req, &err), 0);
	attest_request_free(req);
	assert_int_equal(decode(MAA_TYPE_TPM, "{\"data\":\"" JSON_A1 "\"}", &req, &err), 0);
	assert_int_equal(req->evidence_len, 7);
	attest_request_free(req);
	assert_int_equal(decode(MAA_TYPE_AZURE_GUEST, "{\"AttestationInfo\":\"" JSON_A1 "\"}", &req, &err),
			 0);
	attest_request_free(req);
	assert_int_equal(decode(MAA_TYPE_AZURE_GUEST, "{\"attestationInfo\":\"" JSON_A1 "\"}", &req, &err),
			 0);
	attest_request_free(req);
	refuse(MAA_TYPE_TPM, "{\"quote\":\"AAAA\"}", "request.data.missing");
	refuse(MAA_TYPE_AZURE_GUEST, "{\"AttestationInfo\":\"AAAA\",\"attestationInfo\":\"AAAA\"}",
	       "request.attestation_info.duplicate");
	refuse(MAA_TYPE_SEV_SNP_VM, "{\"quote\":\"AAAA\"}", "request.report.missing");
	assert_int_equal(attest_request_decode(MAA_TYPE_COUNT, "{}", 2, &req, &err), ATTEST_E_UNSUPPORTED);
}

/* A JSON string of n copies of c, as a body member value. */
static char *body_with(const char *before, size_t n, char c, const char *after)
{
	size_t bl = strlen(before), al = strlen(after);
	char *s = malloc(bl + n + al + 1);

	assert_non_null(s);
	memcpy(s, before, bl);
	memset(s + bl, c, n);
	memcpy(s + bl + n, after, al + 1);
	return s;
}

static void oversized_members_and_bodies_are_refused(void **state)
{
	char *s;

	/* 1 MiB + 3 bytes of evidence */
	s = body_with("{\"quote\":\"", (ATTEST_REQUEST_MAX_EVIDENCE / 3 + 1) * 4, 'A', "\"}");
	refuse(MAA_TYPE_SGX_ENCLAVE, s, "request.quote.too_large");
	free(s);
	s = body_with("{\"quote\":\"AAAA\",\"nonce\":\"", ATTEST_REQUEST_MAX_NONCE + 1, 'n', "\"}");
	refuse(MAA_TYPE_SGX_ENCLAVE, s, "request.nonce.too_large");
	free(s);
	s = body_with("{\"quote\":\"AAAA\",\"draftPolicyForAttestation\":\"", ATTEST_REQUEST_MAX_DRAFT + 1,
		      ' ', "\"}");
	refuse(MAA_TYPE_SGX_ENCLAVE, s, "request.draft_policy.too_large");
	free(s);
	s = body_with("{\"quote\":\"AAAA\",\"pad\":\"", ATTEST_REQUEST_MAX_BODY, ' ', "\"}");
	refuse(MAA_TYPE_SGX_ENCLAVE, s, "request.body.too_large");
	free(s);
	/* exactly at the nonce limit is fine */
	s = body_with("{\"quote\":\"AAAA\",\"nonce\":\"", ATTEST_REQUEST_MAX_NONCE, 'n', "\"}");
	{
		struct attest_request *req = NULL;
		struct attest_err err;

		assert_int_equal(decode(MAA_TYPE_SGX_ENCLAVE, s, &req, &err), ATTEST_OK);
		assert_int_equal(strlen(req->nonce), ATTEST_REQUEST_MAX_NONCE);
		attest_request_free(req);
	}
	free(s);
}

/* Every cut of a real body is refused cleanly (ASan checks the reads). */
static void every_truncation_of_a_real_body_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	char *body = recorded_body(dir, "02-attest-OpenEnclave-json-runtime");
	const char *stride_env = getenv("ATTEST_SWEEP_STRIDE");
	size_t stride = stride_env ? strtoul(stride_env, NULL, 10) : 1;
	size_t len = strlen(body);

	if (stride == 0)
		stride = 1;
	for (size_t cut = 0; cut < len; cut += stride) {
		struct attest_request *req = NULL;
		struct attest_err err;

		attest_err_clear(&err);
		assert_int_not_equal(attest_request_decode(MAA_TYPE_OPEN_ENCLAVE, body, cut, &req, &err),
				     ATTEST_OK);
		assert_null(req);
		assert_true(strncmp(err.name, "request.", 8) == 0);
	}
	free(body);
}

static void request_claims_follow_the_data_type(void **state)
{
	struct attest_request *req = NULL;
	struct claim_set *in = claim_set_new();
	struct attest_err err;

	/* Binary runtime data of SGX becomes x-ms-sgx-ehd, not x-ms-runtime */
	assert_int_equal(decode(MAA_TYPE_SGX_ENCLAVE,
				"{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"AQID\"},"
				"\"initTimeData\":{\"data\":\"" JSON_A1 "\",\"dataType\":\"JSON\"}}",
				&req, &err),
			 0);
	assert_int_equal(token_add_request_claims(token_catalogue_get(MAA_TYPE_SGX_ENCLAVE), req, in, &err),
			 0);
	assert_string_equal(json_string_value(claim_set_get(in, "x-ms-sgx-ehd")), "AQID");
	assert_string_equal(json_string_value(claim_set_get(in, "x-ms-attestation-type")), "sgx");
	assert_null(claim_set_get(in, "x-ms-runtime"));
	assert_int_equal(json_integer_value(json_object_get(claim_set_get(in, "x-ms-inittime"), "a")), 1);
	attest_request_free(req);
	claim_set_free(in);

	/* SEV-SNP Binary runtime data has no token claim */
	in = claim_set_new();
	assert_int_equal(decode(MAA_TYPE_SEV_SNP_VM,
				"{\"report\":\"AAAA\",\"runtimeData\":{\"data\":\"AQID\"}}", &req, &err),
			 0);
	assert_int_equal(token_add_request_claims(token_catalogue_get(MAA_TYPE_SEV_SNP_VM), req, in, &err),
			 0);
	assert_null(claim_set_get(in, "x-ms-sgx-ehd"));
	assert_null(claim_set_get(in, "x-ms-runtime"));
	assert_string_equal(json_string_value(claim_set_get(in, "x-ms-attestation-type")), "sevsnpvm");
	attest_request_free(req);
	claim_set_free(in);
}

static void request_claims_do_not_duplicate_verifier_claims(void **state)
{
	struct attest_request *req = NULL;
	struct claim_set *in = claim_set_new();
	struct attest_err err;

	assert_int_equal(claim_set_add_str(in, "x-ms-sgx-ehd", "from-verifier"), 0);
	assert_int_equal(decode(MAA_TYPE_SGX_ENCLAVE,
				"{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"AQID\"}}", &req, &err),
			 0);
	assert_int_equal(token_add_request_claims(token_catalogue_get(MAA_TYPE_SGX_ENCLAVE), req, in, &err),
			 0);
	assert_int_equal(claim_set_count(in), 2);
	assert_string_equal(json_string_value(claim_set_get(in, "x-ms-sgx-ehd")), "from-verifier");
	attest_request_free(req);
	claim_set_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(recorded_openenclave_body_decodes_to_the_report_and_runtime_data),
	    cmocka_unit_test(recorded_json_runtime_body_parses_the_runtime_json),
	    cmocka_unit_test(recorded_sgx_body_decodes_to_the_bare_quote),
	    cmocka_unit_test(both_base64_alphabets_decode_alike),
	    cmocka_unit_test(bad_base64_is_refused_by_member),
	    cmocka_unit_test(malformed_bodies_are_refused),
	    cmocka_unit_test(wrongly_typed_optional_members_are_refused),
	    cmocka_unit_test(optional_members_decode),
	    cmocka_unit_test(null_and_empty_optional_members_are_absent),
	    cmocka_unit_test(missing_data_type_is_binary_and_empty_data_is_allowed),
	    cmocka_unit_test(legacy_member_names_are_accepted),
	    cmocka_unit_test(each_type_has_its_request_shape),
	    cmocka_unit_test(oversized_members_and_bodies_are_refused),
	    cmocka_unit_test(every_truncation_of_a_real_body_is_refused),
	    cmocka_unit_test(request_claims_follow_the_data_type),
	    cmocka_unit_test(request_claims_do_not_duplicate_verifier_claims),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The attest pipeline in-process (src/server/pipeline.c): real recorded
 * requests of the @azure/attestation test suite, verified against real
 * Intel collateral at its date, evaluated with the default policy and
 * signed, give tokens with the claims Azure Attestation gave for the same
 * evidence; every refusal maps to the reference's status and error code.
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
#include "collateral/collateral.h"
#include "crypto/jose.h"
#include "policy/policy.h"
#include "server/pipeline.h"
#include "token/request.h"
#include "token/token.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#define JS_DIR	 "maa-tokens/js-2022-01-28-sharedwus"
#define OE_COLL	 "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26"
#define COLL_NOW 1651017600 /* 2022-04-27T00:00:00Z: the collateral is current */
#define ISSUER	 "https://attestd.test:8443"

struct fixture {
	struct pipeline_ctx *ctx;
	EVP_PKEY *key;
	struct jws_signer *signer;
	const char *dir;
};

/* The token signer of the tests: RS256, MAA's header members. */
static int test_sign(void *arg, const char *jku, const json_t *claims, char **jwt, struct attest_err *err)
{
	struct fixture *f = arg;
	char *text = token_json_dump(claims);
	int rc;

	assert_string_equal(jku, ISSUER "/certs");
	rc = jws_sign(f->signer, text, strlen(text), jwt, err);
	free(text);
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct attest_err err;
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	json_t *hdr = json_pack("{s:s, s:s, s:s}", "jku", ISSUER "/certs", "kid", "test-kid", "typ", "JWT");
	char path[4096];

	attest_err_clear(&err);
	assert_non_null(kc);
	assert_int_equal(EVP_PKEY_keygen_init(kc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(kc, 2048), 1);
	assert_int_equal(EVP_PKEY_keygen(kc, &f->key), 1);
	EVP_PKEY_CTX_free(kc);
	assert_int_equal(jws_signer_new(f->key, JWS_ALG_RS256, hdr, &f->signer, &err), ATTEST_OK);
	json_decref(hdr);
	assert_int_equal(pipeline_ctx_new(0, &f->ctx, &err), ATTEST_OK);
	f->dir = test_vectors_dir();
	if (f->dir != NULL) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, OE_COLL);
		assert_int_equal(collateral_file_source_new(path, &f->ctx->collateral, &err), ATTEST_OK);
		f->ctx->collateral_cache = collateral_cache_new(64);
		f->ctx->collateral->cache = f->ctx->collateral_cache;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pipeline_ctx_free(f->ctx);
	jws_signer_free(f->signer);
	EVP_PKEY_free(f->key);
	free(f);
	return 0;
}

/* The recorded request body of an exchange, compact JSON (malloc'd). */
static char *recorded_body(const char *dir, const char *exchange)
{
	char rel[256];
	size_t len = 0;
	unsigned char *text;
	json_t *rec = NULL;
	char *body;
	struct attest_err err;

	snprintf(rel, sizeof(rel), JS_DIR "/exchanges/%s/request.json", exchange);
	text = test_read_vector(dir, rel, &len);
	assert_non_null(text);
	attest_err_clear(&err);
	assert_int_equal(jsonx_parse((const char *)text, len, &rec, "t", rel, &err), 0);
	body = json_dumps(json_object_get(rec, "body"), JSON_COMPACT);
	json_decref(rec);
	free(text);
	return body;
}

static json_t *vector_json(const char *dir, const char *rel)
{
	size_t len = 0;
	unsigned char *text = test_read_vector(dir, rel, &len);
	json_t *v = NULL;
	struct attest_err err;

	assert_non_null(text);
	attest_err_clear(&err);
	assert_int_equal(jsonx_parse((const char *)text, len, &v, "t", rel, &err), ATTEST_OK);
	free(text);
	return v;
}

static json_t *real_claims(const char *dir, const char *token_file)
{
	char rel[256];
	size_t len = 0;
	unsigned char *text;
	json_t *h = NULL, *p = NULL;
	struct attest_err err;

	snprintf(rel, sizeof(rel), JS_DIR "/tokens/%s", token_file);
	text = test_read_vector(dir, rel, &len);
	assert_non_null(text);
	while (len > 0 && text[len - 1] == '\n')
		len--;
	attest_err_clear(&err);
	assert_int_equal(token_decode_unverified((const char *)text, len, &h, &p, &err), ATTEST_OK);
	json_decref(h);
	free(text);
	return p;
}

static void run(struct fixture *f, enum maa_type type, const char *body, const char *policy,
		struct pipeline_outcome *out)
{
	struct pipeline_attest in = {0};

	in.type = type;
	in.body = body;
	in.body_len = strlen(body);
	in.policy_text = policy;
	in.policy_len = policy ? strlen(policy) : 0;
	in.issuer = ISSUER;
	in.now = COLL_NOW;
	in.sign = test_sign;
	in.sign_arg = f;
	pipeline_attest_run(f->ctx, &in, out);
}

/* Verifies our token's signature and returns its claims. */
static json_t *token_claims(struct fixture *f, const char *jwt)
{
	struct jws *j = NULL;
	json_t *claims = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(jws_parse(jwt, strlen(jwt), &j, &err), ATTEST_OK);
	assert_int_equal(jws_verify(j, f->key, 0, &err), ATTEST_OK);
	assert_string_equal(jws_header_str(j, "kid"), "test-kid");
	assert_string_equal(jws_header_str(j, "jku"), ISSUER "/certs");
	assert_int_equal(jwt_claims(j, &claims, &err), ATTEST_OK);
	jws_free(j);
	return claims;
}

static int kind(const json_t *v)
{
	return json_is_boolean(v) ? JSON_TRUE : (int)json_typeof(v);
}

/*
 * Our token for the evidence Azure Attestation signed: same claim names and
 * types, and the same values for everything that depends on the evidence
 * and the request (not on time, issuer, collateral date or token id).
 */
static void compare_with_real(const json_t *real, const json_t *ours)
{
	static const char *const differ[] = {"iss",
					     "iat",
					     "nbf",
					     "exp",
					     "jti",
					     "x-ms-policy-hash",
					     "x-ms-sgx-collateral",
					     "maa-attestationcollateral"};
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)real, k, v)
	{
		json_t *o = json_object_get(ours, k);
		bool may_differ = false;

		if (o == NULL)
			fail_msg("claim %s of the real token is missing", k);
		if (kind(o) != kind(v))
			fail_msg("claim %s has another JSON type", k);
		for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++)
			may_differ = may_differ || strcmp(differ[i], k) == 0;
		if (!may_differ && !json_equal(o, v))
			fail_msg("claim %s differs from the real token", k);
	}
	json_object_foreach((json_t *)ours, k, v)
	{
		if (json_object_get(real, k) == NULL)
			fail_msg("claim %s is not in the real token", k);
	}
	/* the quote is the same bytes: its hash is the same */
	assert_true(json_equal(json_object_get(json_object_get(real, "x-ms-sgx-collateral"), "quotehash"),
			       json_object_get(json_object_get(ours, "x-ms-sgx-collateral"), "quotehash")));
	assert_int_equal(json_integer_value(json_object_get(ours, "exp")) -
			     json_integer_value(json_object_get(ours, "iat")),
			 28800);
	assert_string_equal(json_string_value(json_object_get(ours, "iss")), ISSUER);
}

static void check_exchange(void **state, const char *exchange, const char *token_file, enum maa_type type)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	char *body = recorded_body(dir, exchange);
	struct pipeline_outcome out;
	json_t *real, *ours;

	run(f, type, body, NULL, &out);
	if (out.status != 200)
		fail_msg("%d %s: %s (%s)", out.status, out.code, out.err.msg, out.err.name);
	assert_false(out.unsigned_token);
	real = real_claims(dir, token_file);
	ours = token_claims(f, out.token);
	compare_with_real(real, ours);
	json_decref(real);
	json_decref(ours);
	pipeline_outcome_clear(&out);
	free(body);
}

static void recorded_openenclave_binary_request_gives_the_real_token_claims(void **state)
{
	check_exchange(state, "01-attest-OpenEnclave-binary-runtime", "attest-OpenEnclave-binary-runtime.jwt",
		       MAA_TYPE_OPEN_ENCLAVE);
}

static void recorded_openenclave_json_request_gives_the_real_token_claims(void **state)
{
	check_exchange(state, "02-attest-OpenEnclave-json-runtime", "attest-OpenEnclave-json-runtime.jwt",
		       MAA_TYPE_OPEN_ENCLAVE);
}

static void recorded_sgx_request_gives_the_real_token_claims(void **state)
{
	check_exchange(state, "03-attest-SgxEnclave-binary-runtime", "attest-SgxEnclave-binary-runtime.jwt",
		       MAA_TYPE_SGX_ENCLAVE);
}

/*
 * The default SGX policy is the one the real service restores on reset:
 * its hash equals that of the policy a real GET returned after a reset.
 */
static void default_sgx_policy_is_the_real_services_default(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	size_t len = 0;
	unsigned char *text = test_read_vector(
	    dir, "maa-tokens/cpp-2022-11-17-policy-sgx-aad/tokens/06-policies-get-SgxEnclave.response.jwt",
	    &len);
	json_t *h = NULL, *p = NULL, *ph = NULL, *pp = NULL;
	const char *inner;
	struct policy_plan *plan = NULL;
	struct attest_err err;
	char hash[POLICY_HASH_B64_LEN + 1];

	assert_non_null(text);
	while (len > 0 && text[len - 1] == '\n')
		len--;
	attest_err_clear(&err);
	assert_int_equal(token_decode_unverified((const char *)text, len, &h, &p, &err), ATTEST_OK);
	inner = json_string_value(json_object_get(p, "x-ms-policy"));
	assert_non_null(inner);
	/* the unsigned policy JWS: "<header>.<payload>." */
	assert_int_equal(token_decode_unverified(inner, strlen(inner), &ph, &pp, &err), ATTEST_OK);
	assert_int_equal(policy_hash_b64(json_string_value(json_object_get(pp, "AttestationPolicy")),
					 json_string_length(json_object_get(pp, "AttestationPolicy")), hash),
			 ATTEST_OK);
	assert_int_equal(pipeline_plan_get(f->ctx, MAA_TYPE_SGX_ENCLAVE, NULL, 0, &plan, &err), ATTEST_OK);
	assert_string_equal(policy_plan_hash(plan), hash);
	policy_plan_free(plan);
	json_decref(h);
	json_decref(p);
	json_decref(ph);
	json_decref(pp);
	free(text);
}

/* The newest TDX vector the shared collateral marks UpToDate. */
#define TDX_VECTOR "tdx/phala-tdx-v4-b0c06f000000-2025-06"

/* A TD quote through the same pipeline: the TDX EAT profile token of §2.7. */
static void tdx_quote_gives_the_documented_eat_profile_token(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	struct pipeline_ctx *ctx = NULL;
	struct pipeline_attest in = {0};
	struct pipeline_outcome out;
	struct attest_err err;
	char path[4096];
	size_t qlen = 0;
	unsigned char *quote = test_read_vector(dir, TDX_VECTOR "/quote.bin", &qlen);
	char *b64 = b64url_encode(quote, qlen), *body = NULL;
	json_t *bundle, *doc = vector_json(dir, "maa-tokens/docs-examples/tdxvm.claims.json"), *ours;
	const char *k;
	json_t *v;

	snprintf(path, sizeof(path), "%s/" TDX_VECTOR "/bundle.json", dir);
	bundle = json_load_file(path, 0, NULL);
	assert_non_null(bundle);
	attest_err_clear(&err);
	assert_int_equal(pipeline_ctx_new(0, &ctx, &err), ATTEST_OK);
	snprintf(path, sizeof(path), "%s/" TDX_VECTOR, dir);
	assert_int_equal(collateral_file_source_new(path, &ctx->collateral, &err), ATTEST_OK);
	assert_true(asprintf(&body, "{\"quote\":\"%s\"}", b64) > 0);
	in.type = MAA_TYPE_TDX_VM;
	in.body = body;
	in.body_len = strlen(body);
	in.issuer = ISSUER;
	in.now = json_integer_value(json_object_get(bundle, "now_unix"));
	in.sign = test_sign;
	in.sign_arg = f;
	pipeline_attest_run(ctx, &in, &out);
	if (out.status != 200)
		fail_msg("%d %s: %s (%s)", out.status, out.code, out.err.msg, out.err.name);
	ours = token_claims(f, out.token);
	/* every documented claim but those of data this request did not send */
	json_object_foreach(doc, k, v)
	{
		json_t *o = json_object_get(ours, k);

		if (strcmp(k, "x-ms-runtime") == 0 || strcmp(k, "x-ms-compliance-status") == 0)
			continue;
		if (o == NULL || kind(o) != kind(v))
			fail_msg("claim %s missing or of another type", k);
	}
	assert_string_equal(json_string_value(json_object_get(ours, "x-ms-attestation-type")), "tdxvm");
	assert_string_equal(json_string_value(json_object_get(ours, "eat_profile")),
			    "https://aka.ms/maa-eat-profile-tdxvm");
	assert_string_equal(json_string_value(json_object_get(ours, "tdx_mrtd")),
			    "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27"
			    "428b2538873118b7");
	assert_string_equal(json_string_value(json_object_get(ours, "attester_tcb_status")), "UpToDate");
	json_decref(ours);
	pipeline_outcome_clear(&out);
	pipeline_ctx_free(ctx);
	json_decref(bundle);
	json_decref(doc);
	free(body);
	free(b64);
	free(quote);
}

#define SNP_VECTOR "snp/teekit-gcp-milan-v5-reportdata-2025-12"
#define SNP_NOW	   1767225600 /* the vector's verdict time; its VCEK chain carries no CRL */
#define SNP_TOKEN  "maa-tokens/samples-2025-04-08-sevsnpvm-sharedweu-test/sev-snp-jwt.txt"

/* {"SnpReport", "VcekCertChain"} of a real report, as the SevSnpVm request carries it (§1.3.3). */
static char *snp_request_body(const char *dir)
{
	size_t rlen = 0, vlen = 0, clen = 0;
	unsigned char *report = test_read_vector(dir, SNP_VECTOR "/report.bin", &rlen);
	unsigned char *vcek = test_read_vector(dir, SNP_VECTOR "/vcek.pem", &vlen);
	unsigned char *chain = test_read_vector(dir, SNP_VECTOR "/ask_ark_milan.pem", &clen);
	char *pem = malloc(vlen + clen + 1), *r64, *c64, *env, *e64, *body = NULL;

	assert_non_null(report);
	assert_non_null(vcek);
	assert_non_null(chain);
	memcpy(pem, vcek, vlen);
	memcpy(pem + vlen, chain, clen);
	r64 = b64url_encode(report, rlen);
	c64 = b64url_encode((const uint8_t *)pem, vlen + clen);
	assert_true(asprintf(&env, "{\"SnpReport\":\"%s\",\"VcekCertChain\":\"%s\"}", r64, c64) > 0);
	e64 = b64url_encode((const uint8_t *)env, strlen(env));
	assert_true(asprintf(&body, "{\"report\":\"%s\"}", e64) > 0);
	free(report);
	free(vcek);
	free(chain);
	free(pem);
	free(r64);
	free(c64);
	free(env);
	free(e64);
	return body;
}

/* A real SEV-SNP report through the pipeline: the claims of the real sevsnpvm token. */
static void snp_report_gives_the_real_sevsnpvm_token_shape(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	struct pipeline_ctx *ctx = NULL;
	struct pipeline_attest in = {0};
	struct pipeline_outcome out;
	struct attest_err err;
	char *body = snp_request_body(dir);
	size_t len = 0;
	unsigned char *text = test_read_vector(dir, SNP_TOKEN, &len);
	json_t *h = NULL, *real = NULL, *ours;
	const char *k;
	json_t *v;

	assert_non_null(text);
	while (len > 0 && text[len - 1] == '\n')
		len--;
	attest_err_clear(&err);
	assert_int_equal(token_decode_unverified((const char *)text, len, &h, &real, &err), ATTEST_OK);
	assert_int_equal(pipeline_ctx_new(0, &ctx, &err), ATTEST_OK);
	ctx->evidence_flags = EVIDENCE_NO_REVOCATION;
	in.type = MAA_TYPE_SEV_SNP_VM;
	in.body = body;
	in.body_len = strlen(body);
	in.issuer = ISSUER;
	in.now = SNP_NOW;
	in.sign = test_sign;
	in.sign_arg = f;
	pipeline_attest_run(ctx, &in, &out);
	if (out.status != 200)
		fail_msg("%d %s: %s (%s)", out.status, out.code, out.err.msg, out.err.name);
	ours = token_claims(f, out.token);
	json_object_foreach(real, k, v)
	{
		json_t *o = json_object_get(ours, k);

		if (o == NULL || kind(o) != kind(v))
			fail_msg("claim %s missing or of another type", k);
	}
	json_object_foreach(ours, k, v)
	{
		if (json_object_get(real, k) == NULL)
			fail_msg("claim %s is not in the real sevsnpvm token", k);
	}
	json_decref(ours);
	json_decref(h);
	json_decref(real);
	pipeline_outcome_clear(&out);
	pipeline_ctx_free(ctx);
	free(body);
	free(text);
}

static void draft_policy_gives_an_unsigned_token_with_its_claims(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	char *rec = recorded_body(dir, "03-attest-SgxEnclave-binary-runtime");
	json_t *doc = json_loads(rec, 0, NULL), *h = NULL, *p = NULL;
	char *body;
	struct pipeline_outcome out;
	struct attest_err err;
	char hash[POLICY_HASH_B64_LEN + 1];
	static const char draft[] =
	    "version=1.0; authorizationrules { => permit(); }; issuancerules { "
	    "c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"signer\", value=c.value); };";

	json_object_set_new(doc, "draftPolicyForAttestation", json_string(draft));
	json_object_set_new(doc, "nonce", json_string("n-42"));
	body = json_dumps(doc, JSON_COMPACT);
	run(f, MAA_TYPE_SGX_ENCLAVE, body, NULL, &out);
	assert_int_equal(out.status, 200);
	assert_true(out.unsigned_token);
	assert_int_equal(out.token[strlen(out.token) - 1], '.');
	attest_err_clear(&err);
	assert_int_equal(token_decode_unverified(out.token, strlen(out.token), &h, &p, &err), ATTEST_OK);
	assert_string_equal(json_string_value(json_object_get(h, "alg")), "none");
	assert_string_equal(json_string_value(json_object_get(p, "signer")),
			    "2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa");
	assert_string_equal(json_string_value(json_object_get(p, "nonce")), "n-42");
	/* the draft's own hash, not the stored policy's */
	assert_int_equal(policy_hash_text(draft, strlen(draft), hash), ATTEST_OK);
	assert_string_equal(json_string_value(json_object_get(p, "x-ms-policy-hash")), hash);
	assert_null(json_object_get(p, "is-debuggable")); /* the default policy did not run */
	json_decref(h);
	json_decref(p);
	pipeline_outcome_clear(&out);
	json_decref(doc);
	free(body);
	free(rec);
}

static void denying_policy_answers_400_naming_rule_and_claim(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	char *body = recorded_body(dir, "03-attest-SgxEnclave-binary-runtime");
	struct pipeline_outcome out;
	static const char policy[] =
	    "version=1.0;\nauthorizationrules {\n"
	    "  [type==\"x-ms-sgx-svn\", value>=3] => permit();\n};\nissuancerules { };";

	run(f, MAA_TYPE_SGX_ENCLAVE, body, policy, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.code, "PolicyEvaluationError");
	assert_string_equal(out.stage, "policy");
	assert_non_null(strstr(out.err.msg, "x-ms-sgx-svn"));
	assert_null(out.token);
	pipeline_outcome_clear(&out);
	free(body);
}

static void draft_that_does_not_compile_is_a_parsing_error(void **state)
{
	struct fixture *f = *state;
	struct pipeline_outcome out;

	run(f, MAA_TYPE_SGX_ENCLAVE,
	    "{\"quote\":\"AAAA\",\"draftPolicyForAttestation\":\"version=1.0; nonsense\"}", NULL, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.code, "PolicyParsingError");
	assert_true(strncmp(out.err.name, "policy.", 7) == 0);
	pipeline_outcome_clear(&out);
}

static void malformed_request_is_invalid_parameter(void **state)
{
	struct fixture *f = *state;
	struct pipeline_outcome out;

	run(f, MAA_TYPE_SGX_ENCLAVE, "{\"quote\":12}", NULL, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.code, "InvalidParameter");
	assert_string_equal(out.err.name, "request.quote.type");
	assert_string_equal(out.stage, "request");
	pipeline_outcome_clear(&out);
}

/* A tampered quote is the verifier's refusal, with the verifier's error name. */
static void altered_evidence_is_refused_with_the_verifier_error(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	char *body = recorded_body(dir, "03-attest-SgxEnclave-binary-runtime");
	char *q = strstr(body, "\"quote\":\"") + 9;
	struct pipeline_outcome out;

	q[200] = q[200] == 'A' ? 'B' : 'A'; /* inside the signed report body */
	run(f, MAA_TYPE_SGX_ENCLAVE, body, NULL, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.code, "InvalidParameter");
	assert_string_equal(out.stage, "verify");
	assert_true(strncmp(out.err.name, "sgx.", 4) == 0);
	pipeline_outcome_clear(&out);
	free(body);
}

static void runtime_data_not_bound_to_the_quote_is_refused(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	char *rec = recorded_body(dir, "03-attest-SgxEnclave-binary-runtime");
	json_t *doc = json_loads(rec, 0, NULL);
	char *body;
	struct pipeline_outcome out;

	json_object_set_new(doc, "runtimeData",
			    json_pack("{s:s, s:s}", "data", "AQID", "dataType", "Binary"));
	body = json_dumps(doc, JSON_COMPACT);
	run(f, MAA_TYPE_SGX_ENCLAVE, body, NULL, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.err.name, "sgx.runtime_data.mismatch");
	pipeline_outcome_clear(&out);
	json_decref(doc);
	free(body);
	free(rec);
}

/* Every routed type has a verifier now: AzureGuest refuses a malformed AttestationInfo with a 400. */
static void azure_guest_malformed_attestation_info_answers_400(void **state)
{
	struct fixture *f = *state;
	struct pipeline_outcome out;

	run(f, MAA_TYPE_AZURE_GUEST, "{\"AttestationInfo\":\"eyJhIjoxfQ\"}", NULL, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.code, "InvalidParameter");
	assert_string_equal(out.err.name, "azureguest.member");
	assert_string_equal(out.stage, "verify");
	pipeline_outcome_clear(&out);
}

/* Verification happens at the request's time: after the collateral expired, refused. */
static void evidence_is_refused_once_its_collateral_expired(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	char *body = recorded_body(dir, "03-attest-SgxEnclave-binary-runtime");
	struct pipeline_attest in = {0};
	struct pipeline_outcome out;

	in.type = MAA_TYPE_SGX_ENCLAVE;
	in.body = body;
	in.body_len = strlen(body);
	in.issuer = ISSUER;
	in.now = COLL_NOW + 60 * 86400;
	in.sign = test_sign;
	in.sign_arg = f;
	pipeline_attest_run(f->ctx, &in, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.stage, "verify");
	pipeline_outcome_clear(&out);
	free(body);
}

/*
 * Every byte of a real request flipped (one bit, every ATTEST_SWEEP_STRIDE-th
 * position): never a 5xx, and a 200 only for the same evidence, with the
 * same runtime data or none (a misspelt "runtimeData" is an unknown member,
 * ignored: the token then simply carries no runtime data).
 */
static void every_flipped_byte_of_a_real_request_is_refused_or_harmless(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	char *body = recorded_body(dir, "03-attest-SgxEnclave-binary-runtime");
	size_t len = strlen(body), accepted = 0, tried = 0;
	const char *stride_env = getenv("ATTEST_SWEEP_STRIDE");
	size_t stride = stride_env && atoi(stride_env) > 0 ? (size_t)atoi(stride_env) : 1;
	struct attest_request *orig = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(attest_request_decode(MAA_TYPE_SGX_ENCLAVE, body, len, &orig, &err), ATTEST_OK);
	for (size_t i = 0; i < len; i += stride) {
		struct pipeline_outcome out;

		body[i] ^= 0x01;
		run(f, MAA_TYPE_SGX_ENCLAVE, body, NULL, &out);
		tried++;
		if (out.status >= 500)
			fail_msg("byte %zu flipped: %d %s (%s)", i, out.status, out.err.msg, out.err.name);
		if (out.status == 200) {
			struct attest_request *req = NULL;

			assert_int_equal(attest_request_decode(MAA_TYPE_SGX_ENCLAVE, body, len, &req, &err),
					 ATTEST_OK);
			if (req->evidence_len != orig->evidence_len ||
			    memcmp(req->evidence, orig->evidence, orig->evidence_len) != 0)
				fail_msg("byte %zu flipped: other evidence accepted", i);
			if (req->runtime.bytes != NULL &&
			    (req->runtime.len != orig->runtime.len ||
			     memcmp(req->runtime.bytes, orig->runtime.bytes, orig->runtime.len) != 0))
				fail_msg("byte %zu flipped: other runtime data accepted", i);
			attest_request_free(req);
			accepted++;
		} else {
			assert_int_equal(out.status, 400);
		}
		pipeline_outcome_clear(&out);
		body[i] ^= 0x01;
	}
	fprintf(stderr, "%zu mutations, %zu accepted with the same evidence\n", tried, accepted);
	attest_request_free(orig);
	free(body);
}

/* A context trusting development anchors marks every token (issue 10). */
static void development_context_marks_every_token(void **state)
{
	struct fixture *f = *state;
	REQUIRE_VECTORS(dir);
	char *body = recorded_body(dir, "03-attest-SgxEnclave-binary-runtime");
	struct pipeline_outcome out;
	json_t *claims;

	f->ctx->development = true;
	run(f, MAA_TYPE_SGX_ENCLAVE, body, NULL, &out);
	f->ctx->development = false;
	assert_int_equal(out.status, 200);
	claims = token_claims(f, out.token);
	assert_true(json_is_true(json_object_get(claims, PIPELINE_DEV_CLAIM)));
	json_decref(claims);
	pipeline_outcome_clear(&out);
	run(f, MAA_TYPE_SGX_ENCLAVE, body, NULL, &out);
	claims = token_claims(f, out.token);
	assert_null(json_object_get(claims, PIPELINE_DEV_CLAIM));
	json_decref(claims);
	pipeline_outcome_clear(&out);
	free(body);
}

/* Extra anchors join the built-in roots, sorted by what they anchor. */
static void extra_anchors_join_the_builtin_roots_by_vendor(void **state)
{
	struct pipeline_ctx *ctx = NULL;
	struct attest_err err;
	char path[] = "/tmp/attest-anchors-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	EVP_PKEY *key = EVP_EC_gen("P-256");
	static const char *const cns[] = {"Intel SGX Root CA", "Test AIK CA"};
	int intel0, amd0;

	assert_non_null(f);
	for (int i = 0; i < 2; i++) {
		X509 *c = X509_new();
		X509_NAME *n = X509_NAME_new();

		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cns[i], -1, -1, 0);
		X509_set_subject_name(c, n);
		X509_set_issuer_name(c, n);
		X509_gmtime_adj(X509_getm_notBefore(c), 0);
		X509_gmtime_adj(X509_getm_notAfter(c), 3600);
		X509_set_pubkey(c, key);
		X509_sign(c, key, EVP_sha256());
		PEM_write_X509(f, c);
		X509_NAME_free(n);
		X509_free(c);
	}
	fclose(f);
	attest_err_clear(&err);
	assert_int_equal(pipeline_ctx_new(0, &ctx, &err), ATTEST_OK);
	intel0 = sk_X509_num(ctx->anchors.intel_sgx_roots);
	amd0 = sk_X509_num(ctx->anchors.amd_arks);
	assert_true(intel0 >= 1); /* the built-in Intel SGX Root CA */
	assert_true(amd0 >= 1);	  /* the built-in AMD ARKs */
	assert_null(ctx->anchors.tpm_roots);
	assert_int_equal(pipeline_ctx_load_anchors(ctx, path, &err), ATTEST_OK);
	assert_int_equal(sk_X509_num(ctx->anchors.intel_sgx_roots), intel0 + 1);
	assert_int_equal(sk_X509_num(ctx->anchors.amd_arks), amd0);
	assert_int_equal(sk_X509_num(ctx->anchors.tpm_roots), 1);
	/* a missing file, and a file that is not PEM, are refused */
	attest_err_clear(&err);
	assert_int_not_equal(pipeline_ctx_load_anchors(ctx, "/nonexistent/anchors.pem", &err), ATTEST_OK);
	assert_string_equal(err.name, "pipeline.anchors");
	f = fopen(path, "w");
	fputs("not a certificate\n", f);
	fclose(f);
	attest_err_clear(&err);
	assert_int_not_equal(pipeline_ctx_load_anchors(ctx, path, &err), ATTEST_OK);
	assert_true(strncmp(err.name, "pipeline.anchors", 16) == 0);
	unlink(path);
	EVP_PKEY_free(key);
	pipeline_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(recorded_openenclave_binary_request_gives_the_real_token_claims),
	    cmocka_unit_test(recorded_openenclave_json_request_gives_the_real_token_claims),
	    cmocka_unit_test(recorded_sgx_request_gives_the_real_token_claims),
	    cmocka_unit_test(default_sgx_policy_is_the_real_services_default),
	    cmocka_unit_test(tdx_quote_gives_the_documented_eat_profile_token),
	    cmocka_unit_test(snp_report_gives_the_real_sevsnpvm_token_shape),
	    cmocka_unit_test(draft_policy_gives_an_unsigned_token_with_its_claims),
	    cmocka_unit_test(denying_policy_answers_400_naming_rule_and_claim),
	    cmocka_unit_test(draft_that_does_not_compile_is_a_parsing_error),
	    cmocka_unit_test(malformed_request_is_invalid_parameter),
	    cmocka_unit_test(altered_evidence_is_refused_with_the_verifier_error),
	    cmocka_unit_test(runtime_data_not_bound_to_the_quote_is_refused),
	    cmocka_unit_test(azure_guest_malformed_attestation_info_answers_400),
	    cmocka_unit_test(evidence_is_refused_once_its_collateral_expired),
	    cmocka_unit_test(extra_anchors_join_the_builtin_roots_by_vendor),
	    cmocka_unit_test(development_context_marks_every_token),
	    cmocka_unit_test(every_flipped_byte_of_a_real_request_is_refused_or_harmless),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

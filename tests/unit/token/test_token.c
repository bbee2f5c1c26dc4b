/*
 * Unit tests of src/token (token.h, catalogue.h): the tokens we build have
 * the claim names, JSON types, header members and lifetimes of the real
 * Azure Attestation tokens in vectors/maa-tokens, built from the same
 * inputs (the real request bodies; the verifier's claims as the real
 * service reported them).
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
#include "token/token.h"

#include <stdlib.h>
#include <string.h>

#define JS_DIR	  "maa-tokens/js-2022-01-28-sharedwus"
#define CPP_DIR	  "maa-tokens/cpp-2022-11-17-policy-sgx-aad"
#define SNP_TOKEN "maa-tokens/samples-2025-04-08-sevsnpvm-sharedweu-test/sev-snp-jwt.txt"

/* A real token file (text followed by a newline) decoded, unverified. */
static void real_token(const char *dir, const char *rel, json_t **header, json_t **payload)
{
	size_t len = 0;
	unsigned char *text = test_read_vector(dir, rel, &len);
	struct attest_err err;

	assert_non_null(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	attest_err_clear(&err);
	assert_int_equal(token_decode_unverified((const char *)text, len, header, payload, &err), ATTEST_OK);
	free(text);
}

/* The JSON document of a vector file. */
static json_t *vector_json(const char *dir, const char *rel)
{
	size_t len = 0;
	unsigned char *text = test_read_vector(dir, rel, &len);
	json_t *v = NULL;
	struct attest_err err;

	assert_non_null(text);
	attest_err_clear(&err);
	assert_int_equal(jsonx_parse((const char *)text, len, &v, "test", rel, &err), ATTEST_OK);
	free(text);
	return v;
}

/* The recorded request body of an exchange, decoded as an attest request. */
static struct attest_request *real_request(const char *dir, const char *exchange, enum maa_type type)
{
	char rel[256];
	json_t *rec;
	char *body;
	struct attest_request *req = NULL;
	struct attest_err err;

	snprintf(rel, sizeof(rel), JS_DIR "/exchanges/%s/request.json", exchange);
	rec = vector_json(dir, rel);
	body = json_dumps(json_object_get(rec, "body"), JSON_COMPACT);
	assert_non_null(body);
	attest_err_clear(&err);
	assert_int_equal(attest_request_decode(type, body, strlen(body), &req, &err), ATTEST_OK);
	free(body);
	json_decref(rec);
	return req;
}

/*
 * What a verifier reports for the real token's evidence: the catalogue's
 * non-request claims, with the values the real service put in its token.
 */
static struct claim_set *verifier_claims_from(const json_t *payload, const struct token_catalogue *cat)
{
	struct claim_set *set = claim_set_new();

	assert_non_null(set);
	for (size_t i = 0; i < cat->n_claims; i++) {
		const struct token_claim_def *def = &cat->claims[i];
		json_t *v = json_object_get(payload, def->name);

		if (v != NULL && !(def->flags & TOKEN_CLAIM_FROM_REQUEST))
			assert_int_equal(claim_set_add(set, def->name, json_deep_copy(v)), ATTEST_OK);
	}
	return set;
}

/* The claims the real token's x-ms-policy says the policy issued. */
static struct claim_set *issued_from(const json_t *payload)
{
	struct claim_set *set = claim_set_new();
	const json_t *pol = json_object_get(payload, "x-ms-policy");
	const char *k;
	json_t *v;

	assert_non_null(set);
	json_object_foreach((json_t *)pol, k, v)
	{
		assert_int_equal(claim_set_add_issued(set, k, CLAIM_ISSUER_POLICY, json_deep_copy(v)),
				 ATTEST_OK);
	}
	return set;
}

static int json_kind(const json_t *v)
{
	/* true and false are one kind: a boolean */
	return json_is_boolean(v) ? JSON_TRUE : (int)json_typeof(v);
}

/* Same member names, and each member of the same JSON type. */
static void assert_same_shape(const json_t *want, const json_t *got)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)want, k, v)
	{
		json_t *g = json_object_get(got, k);

		if (g == NULL)
			fail_msg("claim \"%s\" of the real token is missing from ours", k);
		if (json_kind(g) != json_kind(v))
			fail_msg("claim \"%s\" has JSON type %d in ours, %d in the real token", k,
				 json_kind(g), json_kind(v));
	}
	json_object_foreach((json_t *)got, k, v)
	{
		if (json_object_get(want, k) == NULL)
			fail_msg("claim \"%s\" of ours is not in the real token", k);
	}
}

static void assert_claim_equal(const json_t *a, const json_t *b, const char *name)
{
	const json_t *x = json_object_get(a, name), *y = json_object_get(b, name);

	if ((x == NULL) != (y == NULL) || (x != NULL && !json_equal(x, y)))
		fail_msg("claim \"%s\" differs from the real token", name);
}

/* Builds our token for a real exchange: same request, same verifier output. */
static json_t *build_like(const json_t *real, const struct token_catalogue *cat,
			  const struct attest_request *req)
{
	struct claim_set *incoming = verifier_claims_from(real, cat);
	struct claim_set *issued = issued_from(real);
	struct token_attest_params p = {0};
	struct attest_err err;
	json_t *ours = NULL;

	attest_err_clear(&err);
	if (req != NULL)
		assert_int_equal(token_add_request_claims(cat, req, incoming, &err), ATTEST_OK);
	p.cat = cat;
	p.issuer = json_string_value(json_object_get(real, "iss"));
	p.now = json_integer_value(json_object_get(real, "iat"));
	p.policy_hash = json_string_value(json_object_get(real, "x-ms-policy-hash"));
	p.incoming = incoming;
	p.issued = issued;
	p.nonce = json_string_value(json_object_get(real, "nonce"));
	assert_int_equal(token_attest_claims(&p, &ours, &err), ATTEST_OK);
	claim_set_free(incoming);
	claim_set_free(issued);
	return ours;
}

static void check_sgx_exchange(const char *token_rel, const char *exchange, enum maa_type type)
{
	REQUIRE_VECTORS(dir);
	json_t *hdr, *real, *ours;
	struct attest_request *req = real_request(dir, exchange, type);

	real_token(dir, token_rel, &hdr, &real);
	ours = build_like(real, token_catalogue_get(type), req);
	assert_same_shape(real, ours);
	/* Values we derive ourselves, from the request and the type. */
	assert_claim_equal(real, ours, "x-ms-attestation-type");
	assert_claim_equal(real, ours, "x-ms-ver");
	assert_claim_equal(real, ours, "x-ms-sgx-ehd");
	assert_claim_equal(real, ours, "maa-ehd");
	assert_claim_equal(real, ours, "aas-ehd");
	assert_claim_equal(real, ours, "x-ms-runtime");
	assert_claim_equal(real, ours, "maa-attestationcollateral");
	assert_claim_equal(real, ours, "x-ms-policy");
	assert_claim_equal(real, ours, "tee");
	assert_claim_equal(real, ours, "exp");
	assert_claim_equal(real, ours, "nbf");
	assert_int_equal(strlen(json_string_value(json_object_get(ours, "jti"))), 64);
	json_decref(hdr);
	json_decref(real);
	json_decref(ours);
	attest_request_free(req);
}

static void sgx_token_has_the_real_openenclave_binary_runtime_shape(void **state)
{
	check_sgx_exchange(JS_DIR "/tokens/attest-OpenEnclave-binary-runtime.jwt",
			   "01-attest-OpenEnclave-binary-runtime", MAA_TYPE_OPEN_ENCLAVE);
}

static void sgx_token_has_the_real_openenclave_json_runtime_shape(void **state)
{
	check_sgx_exchange(JS_DIR "/tokens/attest-OpenEnclave-json-runtime.jwt",
			   "02-attest-OpenEnclave-json-runtime", MAA_TYPE_OPEN_ENCLAVE);
}

static void sgx_token_has_the_real_sgxenclave_binary_runtime_shape(void **state)
{
	check_sgx_exchange(JS_DIR "/tokens/attest-SgxEnclave-binary-runtime.jwt",
			   "03-attest-SgxEnclave-binary-runtime", MAA_TYPE_SGX_ENCLAVE);
}

static void snp_token_has_the_real_sevsnpvm_shape_without_x_ms_policy(void **state)
{
	REQUIRE_VECTORS(dir);
	json_t *hdr, *real, *ours;

	real_token(dir, SNP_TOKEN, &hdr, &real);
	ours = build_like(real, token_catalogue_get(MAA_TYPE_SEV_SNP_VM), NULL);
	assert_same_shape(real, ours);
	assert_null(json_object_get(ours, "x-ms-policy"));
	assert_claim_equal(real, ours, "x-ms-attestation-type");
	assert_claim_equal(real, ours, "exp");
	json_decref(hdr);
	json_decref(real);
	json_decref(ours);
}

/* The documented TDX sample (payload only) and its EAT profile claims. */
static void tdx_token_has_the_documented_eat_profile_shape(void **state)
{
	REQUIRE_VECTORS(dir);
	json_t *real = vector_json(dir, "maa-tokens/docs-examples/tdxvm.claims.json");
	const struct token_catalogue *cat = token_catalogue_get(MAA_TYPE_TDX_VM);
	struct claim_set *incoming = verifier_claims_from(real, cat);
	struct token_attest_params p = {0};
	struct attest_err err;
	json_t *ours = NULL;

	/* dbgstat and the profile constants are ours to derive, not the verifier's. */
	assert_int_equal(
	    claim_set_add(incoming, "x-ms-runtime", json_deep_copy(json_object_get(real, "x-ms-runtime"))),
	    ATTEST_OK);
	p.cat = cat;
	p.issuer = json_string_value(json_object_get(real, "iss"));
	p.now = json_integer_value(json_object_get(real, "iat"));
	p.policy_hash = json_string_value(json_object_get(real, "x-ms-policy-hash"));
	p.incoming = incoming;
	attest_err_clear(&err);
	/* drop the verifier-side dbgstat so the derivation is what is tested */
	{
		struct claim_set *v2 = claim_set_new();

		for (size_t i = 0; i < claim_set_count(incoming); i++) {
			const struct claim *c = claim_set_at(incoming, i);

			if (strcmp(c->type, "dbgstat") != 0)
				claim_set_add(v2, c->type, json_deep_copy(c->value));
		}
		claim_set_free(incoming);
		incoming = v2;
		p.incoming = incoming;
	}
	assert_int_equal(token_attest_claims(&p, &ours, &err), ATTEST_OK);
	assert_same_shape(real, ours);
	assert_claim_equal(real, ours, "eat_profile");
	assert_claim_equal(real, ours, "intuse");
	assert_claim_equal(real, ours, "dbgstat");
	assert_claim_equal(real, ours, "exp");
	claim_set_free(incoming);
	json_decref(real);
	json_decref(ours);
}

/* §2.1: alg, jku, kid, typ and nothing else, as on every real token. */
static void header_has_the_real_members(void **state)
{
	REQUIRE_VECTORS(dir);
	json_t *hdr, *real;
	json_t *ours = token_header("RS256", "https://sharedwus.wus.attest.azure.net/certs",
				    "rPtBGRWTlPmzs5u35L0QRD9WdymeKPRxteTeTlwN0Ec=");

	real_token(dir, JS_DIR "/tokens/attest-SgxEnclave-binary-runtime.jwt", &hdr, &real);
	assert_true(json_equal(hdr, ours));
	json_decref(hdr);
	json_decref(real);
	json_decref(ours);
}

/* Compact, member-sorted: our serialiser writes the real payload byte for byte. */
static void serialisation_reproduces_the_real_payload_text(void **state)
{
	REQUIRE_VECTORS(dir);
	static const char *const files[] = {
	    JS_DIR "/tokens/attest-OpenEnclave-binary-runtime.jwt",
	    JS_DIR "/tokens/attest-OpenEnclave-json-runtime.jwt",
	    CPP_DIR "/tokens/03-policies-get-SgxEnclave.response.jwt",
	    SNP_TOKEN,
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len = 0;
		unsigned char *text = test_read_vector(dir, files[i], &len);
		json_t *hdr, *payload;
		char *again, *dot1, *dot2;

		assert_non_null(text);
		real_token(dir, files[i], &hdr, &payload);
		again = token_signing_input(hdr, payload);
		assert_non_null(again);
		dot1 = strchr((char *)text, '.');
		dot2 = strchr(dot1 + 1, '.');
		assert_int_equal(strlen(again), (size_t)(dot2 - (char *)text));
		assert_memory_equal(again, text, (size_t)(dot2 - (char *)text));
		free(again);
		free(text);
		json_decref(hdr);
		json_decref(payload);
	}
}

/* §2.8: policy results carry exactly iat, nbf, exp (1 h), iss and the result. */
static void management_token_has_the_real_policy_result_shape(void **state)
{
	REQUIRE_VECTORS(dir);
	json_t *hdr, *real;
	json_t *ours;

	real_token(dir, CPP_DIR "/tokens/05-policies-reset-SgxEnclave.response.jwt", &hdr, &real);
	ours = token_mgmt_claims(json_string_value(json_object_get(real, "iss")),
				 json_integer_value(json_object_get(real, "iat")));
	assert_non_null(ours);
	json_object_set_new(ours, "x-ms-policy-result", json_string("Removed"));
	assert_true(json_equal(real, ours));
	json_decref(hdr);
	json_decref(real);
	json_decref(ours);
}

/* A minimal verifier output for SGX. */
static struct claim_set *sgx_claims(void)
{
	struct claim_set *s = claim_set_new();
	uint8_t m[64] = {1, 2, 3};

	assert_int_equal(claim_set_add_bool(s, "x-ms-sgx-is-debuggable", false), 0);
	assert_int_equal(claim_set_add_hex(s, "x-ms-sgx-mrenclave", m, 32), 0);
	assert_int_equal(claim_set_add_hex(s, "x-ms-sgx-mrsigner", m, 32), 0);
	assert_int_equal(claim_set_add_int(s, "x-ms-sgx-product-id", 1), 0);
	assert_int_equal(claim_set_add_int(s, "x-ms-sgx-svn", 2), 0);
	assert_int_equal(claim_set_add_hex(s, "x-ms-sgx-report-data", m, 64), 0);
	return s;
}

static int build_sgx(struct claim_set *incoming, struct claim_set *issued, json_t **out,
		     struct attest_err *err)
{
	struct token_attest_params p = {0};

	p.cat = token_catalogue_get(MAA_TYPE_SGX_ENCLAVE);
	p.issuer = "https://attestd.example";
	p.now = 1700000000;
	p.policy_hash = "abc";
	p.incoming = incoming;
	p.issued = issued;
	p.nonce = "n-1";
	attest_err_clear(err);
	return token_attest_claims(&p, out, err);
}

static void missing_required_claim_is_a_verifier_contract_error(void **state)
{
	struct claim_set *s = claim_set_new();
	struct attest_err err;
	json_t *out = NULL;

	assert_int_equal(claim_set_add_int(s, "x-ms-sgx-svn", 2), 0);
	assert_int_equal(build_sgx(s, NULL, &out, &err), ATTEST_E_INTERNAL);
	assert_string_equal(err.name, "token.claim.missing");
	assert_null(out);
	claim_set_free(s);
}

static void wrongly_typed_claim_is_refused(void **state)
{
	struct claim_set *s = claim_set_new();
	uint8_t m[32] = {0};
	struct attest_err err;
	json_t *out = NULL;

	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-is-debuggable", "false"), 0);
	assert_int_equal(claim_set_add_hex(s, "x-ms-sgx-mrenclave", m, 32), 0);
	assert_int_equal(build_sgx(s, NULL, &out, &err), ATTEST_E_INTERNAL);
	assert_string_equal(err.name, "token.claim.type");
	claim_set_free(s);
}

static void measurement_of_wrong_length_is_refused(void **state)
{
	struct claim_set *s = sgx_claims();
	struct claim_set *bad = claim_set_new();
	uint8_t m[31] = {0};
	struct attest_err err;
	json_t *out = NULL;

	/* the same claims with a 31-byte MRENCLAVE */
	for (size_t i = 0; i < claim_set_count(s); i++) {
		const struct claim *c = claim_set_at(s, i);

		if (strcmp(c->type, "x-ms-sgx-mrenclave") == 0)
			assert_int_equal(claim_set_add_hex(bad, c->type, m, sizeof(m)), 0);
		else
			assert_int_equal(claim_set_add(bad, c->type, json_deep_copy(c->value)), 0);
	}
	assert_int_equal(build_sgx(bad, NULL, &out, &err), ATTEST_E_INTERNAL);
	assert_string_equal(err.name, "token.claim.hex");
	claim_set_free(s);
	claim_set_free(bad);
}

static void policy_cannot_shadow_service_claims(void **state)
{
	struct claim_set *s = sgx_claims();
	struct claim_set *issued = claim_set_new();
	struct attest_err err;
	json_t *out = NULL;

	assert_int_equal(
	    claim_set_add_issued(issued, "iss", CLAIM_ISSUER_POLICY, json_string("https://evil")), 0);
	assert_int_equal(claim_set_add_issued(issued, "x-ms-sgx-svn", CLAIM_ISSUER_POLICY, json_integer(99)),
			 0);
	assert_int_equal(claim_set_add_issued(issued, "custom", CLAIM_ISSUER_POLICY, json_true()), 0);
	/* attestd's own namespace: a production token must not be marked development by a policy. */
	assert_int_equal(
	    claim_set_add_issued(issued, "x-attestd-development", CLAIM_ISSUER_POLICY, json_true()), 0);
	assert_int_equal(build_sgx(s, issued, &out, &err), ATTEST_OK);
	assert_null(json_object_get(out, "x-attestd-development"));
	assert_true(
	    json_is_true(json_object_get(json_object_get(out, "x-ms-policy"), "x-attestd-development")));
	assert_string_equal(json_string_value(json_object_get(out, "iss")), "https://attestd.example");
	assert_int_equal(json_integer_value(json_object_get(out, "x-ms-sgx-svn")), 2);
	assert_true(json_is_true(json_object_get(out, "custom")));
	/* x-ms-policy still says what the policy issued */
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(out, "x-ms-policy"), "x-ms-sgx-svn")), 99);
	json_decref(out);
	claim_set_free(s);
	claim_set_free(issued);
}

static void policy_added_claim_does_not_replace_verifier_claim(void **state)
{
	struct claim_set *s = claim_set_new();
	struct claim_set *v = sgx_claims();
	struct attest_err err;
	json_t *out = NULL;

	/* an add() of the policy earlier in the incoming set than the verifier's claim */
	assert_int_equal(
	    claim_set_add_issued(s, "x-ms-sgx-product-id", CLAIM_ISSUER_POLICY, json_integer(42)), 0);
	for (size_t i = 0; i < claim_set_count(v); i++)
		assert_int_equal(
		    claim_set_add(s, claim_set_at(v, i)->type, json_deep_copy(claim_set_at(v, i)->value)), 0);
	assert_int_equal(build_sgx(s, NULL, &out, &err), ATTEST_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "x-ms-sgx-product-id")), 1);
	json_decref(out);
	claim_set_free(s);
	claim_set_free(v);
}

static void nonce_signer_and_lifetime_are_set(void **state)
{
	struct claim_set *s = sgx_claims();
	struct token_attest_params p = {0};
	json_t *signer = json_pack("{s:s, s:[s]}", "kty", "RSA", "x5c", "MIIB");
	struct attest_err err;
	json_t *out = NULL;

	p.cat = token_catalogue_get(MAA_TYPE_SGX_ENCLAVE);
	p.issuer = "https://a.example";
	p.now = 1000;
	p.policy_hash = "h";
	p.policy_signer = signer;
	p.incoming = s;
	p.nonce = "my nonce";
	attest_err_clear(&err);
	assert_int_equal(token_attest_claims(&p, &out, &err), ATTEST_OK);
	assert_string_equal(json_string_value(json_object_get(out, "nonce")), "my nonce");
	assert_true(json_equal(json_object_get(out, "x-ms-policy-signer"), signer));
	assert_int_equal(json_integer_value(json_object_get(out, "exp")), 1000 + 28800);
	assert_int_equal(json_integer_value(json_object_get(out, "nbf")), 1000);
	assert_null(json_object_get(out, "x-ms-policy"));  /* nothing issued */
	assert_null(json_object_get(out, "x-ms-sgx-ehd")); /* no runtime data */
	json_decref(out);
	json_decref(signer);
	claim_set_free(s);
}

/* A type present several times: the first the verifier issued is the token's, another issuer's never. */
static void catalogue_takes_the_first_service_claim_of_a_type(void **state)
{
	struct claim_set *s = claim_set_new(), *base = sgx_claims();
	struct attest_err err;
	json_t *out = NULL;

	(void)state;
	assert_int_equal(claim_set_add_issued(s, "x-ms-sgx-svn", CLAIM_ISSUER_POLICY, json_integer(7)), 0);
	for (size_t i = 0; i < claim_set_count(base); i++) {
		const struct claim *c = claim_set_at(base, i);
		assert_int_equal(claim_set_add(s, c->type, json_incref(c->value)), 0);
	}
	assert_int_equal(claim_set_add_int(s, "x-ms-sgx-svn", 9), 0);
	assert_int_equal(claim_set_add_int(s, "x-ms-sgx-config-svn", 3), 0);
	assert_int_equal(claim_set_add_int(s, "x-ms-sgx-config-svn", 4), 0);
	assert_int_equal(build_sgx(s, NULL, &out, &err), ATTEST_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "x-ms-sgx-svn")), 2);
	assert_int_equal(json_integer_value(json_object_get(out, "x-ms-sgx-config-svn")), 3);
	json_decref(out);
	claim_set_free(s);
	claim_set_free(base);
}

static void jti_is_random_unless_given(void **state)
{
	struct claim_set *s = sgx_claims();
	struct attest_err err;
	json_t *a = NULL, *b = NULL, *c = NULL;
	struct token_attest_params p = {0};
	uint8_t id[TOKEN_JTI_BYTES];

	assert_int_equal(build_sgx(s, NULL, &a, &err), ATTEST_OK);
	assert_int_equal(build_sgx(s, NULL, &b, &err), ATTEST_OK);
	assert_string_not_equal(json_string_value(json_object_get(a, "jti")),
				json_string_value(json_object_get(b, "jti")));
	memset(id, 0xab, sizeof(id));
	p.cat = token_catalogue_get(MAA_TYPE_SGX_ENCLAVE);
	p.issuer = "i";
	p.policy_hash = "h";
	p.incoming = s;
	p.jti = id;
	assert_int_equal(token_attest_claims(&p, &c, &err), ATTEST_OK);
	assert_string_equal(json_string_value(json_object_get(c, "jti")),
			    "abababababababababababababababababababababababababababababababab");
	json_decref(a);
	json_decref(b);
	json_decref(c);
	claim_set_free(s);
}

static void own_claims_pass_through_others_do_not(void **state)
{
	struct claim_set *s = sgx_claims();
	struct attest_err err;
	json_t *out = NULL;

	assert_int_equal(claim_set_add_bool(s, "x-attestd-development", true), 0);
	assert_int_equal(claim_set_add_str(s, "x-ms-sgx-internal-detail", "x"), 0);
	assert_int_equal(build_sgx(s, NULL, &out, &err), ATTEST_OK);
	assert_true(json_is_true(json_object_get(out, "x-attestd-development")));
	assert_null(json_object_get(out, "x-ms-sgx-internal-detail"));
	json_decref(out);
	claim_set_free(s);
}

/* §1.3.1: a draft-policy token is unsigned: alg none, empty signature. */
static void draft_token_is_unsigned(void **state)
{
	json_t *payload = json_pack("{s:s, s:i}", "iss", "https://x", "iat", 5);
	char *jwt = token_encode_unsigned(payload);
	json_t *h = NULL, *p = NULL;
	struct attest_err err;

	assert_non_null(jwt);
	assert_int_equal(jwt[strlen(jwt) - 1], '.');
	attest_err_clear(&err);
	assert_int_equal(token_decode_unverified(jwt, strlen(jwt), &h, &p, &err), ATTEST_OK);
	assert_string_equal(json_string_value(json_object_get(h, "alg")), "none");
	assert_true(json_equal(p, payload));
	free(jwt);
	json_decref(h);
	json_decref(p);
	json_decref(payload);
}

static void decode_refuses_malformed_tokens(void **state)
{
	static const char *const bad[] = {"",	     "abc",	"a.b",	     "a.b.c.d",
					  "e30.e30", "!!.e30.", "e30.WzFd.", "bm90anNvbg.e30."};
	static const char *const names[] = {"token.decode.parts", "token.decode.parts", "token.decode.parts",
					    "token.decode.parts", "token.decode.parts", "token.decode.base64",
					    "token.decode.json",  "token.decode.json"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *h = NULL, *p = NULL;
		struct attest_err err;

		attest_err_clear(&err);
		assert_int_equal(token_decode_unverified(bad[i], strlen(bad[i]), &h, &p, &err),
				 ATTEST_E_PARSE);
		assert_string_equal(err.name, names[i]);
	}
}

static void type_names_resolve_case_insensitively(void **state)
{
	enum maa_type t;

	assert_int_equal(maa_type_from_name("SgxEnclave", 10, &t), ATTEST_OK);
	assert_int_equal(t, MAA_TYPE_SGX_ENCLAVE);
	assert_int_equal(maa_type_from_name("sevsnpvm", 8, &t), ATTEST_OK);
	assert_int_equal(t, MAA_TYPE_SEV_SNP_VM);
	assert_int_equal(maa_type_from_name("TdxVmX", 6, &t), ATTEST_E_NOT_FOUND);
	assert_int_equal(maa_type_from_name("Tdx", 3, &t), ATTEST_E_NOT_FOUND);
	assert_string_equal(maa_type_name(MAA_TYPE_AZURE_GUEST), "AzureGuest");
	assert_string_equal(token_catalogue_get(MAA_TYPE_OPEN_ENCLAVE)->tee, "sgx");
	assert_null(token_catalogue_get(MAA_TYPE_COUNT));
}

/* A signer that keeps insertion order writes a sorted copy as MAA does. */
static void sorted_copy_serialises_in_maa_member_order(void **state)
{
	json_t *v = json_pack("{s:i, s:{s:b, s:[{s:i, s:i}]}, s:s}", "zeta", 1, "alpha", "y", 1, "b", "n", 2,
			      "m", 3, "mid", "x");
	json_t *sorted = token_json_sorted(v);
	char *a = json_dumps(sorted, JSON_COMPACT), *b = token_json_dump(v);

	assert_string_equal(a, "{\"alpha\":{\"b\":[{\"m\":3,\"n\":2}],\"y\":true},\"mid\":\"x\",\"zeta\":1}");
	assert_string_equal(a, b);
	assert_true(json_equal(v, sorted));
	free(a);
	free(b);
	json_decref(v);
	json_decref(sorted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sgx_token_has_the_real_openenclave_binary_runtime_shape),
	    cmocka_unit_test(sgx_token_has_the_real_openenclave_json_runtime_shape),
	    cmocka_unit_test(sgx_token_has_the_real_sgxenclave_binary_runtime_shape),
	    cmocka_unit_test(snp_token_has_the_real_sevsnpvm_shape_without_x_ms_policy),
	    cmocka_unit_test(tdx_token_has_the_documented_eat_profile_shape),
	    cmocka_unit_test(header_has_the_real_members),
	    cmocka_unit_test(serialisation_reproduces_the_real_payload_text),
	    cmocka_unit_test(management_token_has_the_real_policy_result_shape),
	    cmocka_unit_test(missing_required_claim_is_a_verifier_contract_error),
	    cmocka_unit_test(wrongly_typed_claim_is_refused),
	    cmocka_unit_test(measurement_of_wrong_length_is_refused),
	    cmocka_unit_test(policy_cannot_shadow_service_claims),
	    cmocka_unit_test(policy_added_claim_does_not_replace_verifier_claim),
	    cmocka_unit_test(nonce_signer_and_lifetime_are_set),
	    cmocka_unit_test(jti_is_random_unless_given),
	    cmocka_unit_test(own_claims_pass_through_others_do_not),
	    cmocka_unit_test(draft_token_is_unsigned),
	    cmocka_unit_test(decode_refuses_malformed_tokens),
	    cmocka_unit_test(type_names_resolve_case_insensitively),
	    cmocka_unit_test(sorted_copy_serialises_in_maa_member_order),
	    cmocka_unit_test(catalogue_takes_the_first_service_claim_of_a_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

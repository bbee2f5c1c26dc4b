/*
 * POST /attest/Tpm through the attest pipeline (src/server/pipeline.c), in
 * process: the two-leg protocol of maa-interface.md §1.3.5 with the
 * synthetic TPM of src/devplat (a generated boot log, a software quote over
 * the challenge, an AIK certified by a test CA), the provider's Tpm policy
 * (its configuration rules feeding the TPM checks, its issuance rules the
 * token), and the token wrapped as {"report": jwt} in the request's form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "attest/error.h"
#include "base/buf.h"
#include "base/codec.h"
#include "crypto/jose.h"
#include "devplat/tpm_ca.h"
#include "devplat/tpm_dev.h"
#include "evidence/tpm_protocol.h"
#include "server/pipeline.h"
#include "token/token.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define T_NOW  1767225600 /* 2026-01-01 */
#define ISSUER "https://attestd.test"

struct fixture {
	struct pipeline_ctx *ctx;
	uint8_t tpm_key[32]; /* the service key the context is given */
	EVP_PKEY *sign_key, *aik, *req_key;
	struct jws_signer *signer;
	struct devplat_tpm_ca *ca;
	uint8_t *aik_cert;
	size_t aik_cert_len;
	struct devplat_tcg_log log;
	struct tpm_pcr_values pcrs;
	const char *provider; /* the provider the requests come to (NULL: none) */
};

static int test_sign(void *arg, const char *jku, const json_t *claims, char **jwt, struct attest_err *err)
{
	struct fixture *f = arg;
	char *text = token_json_dump(claims);
	int rc = jws_sign(f->signer, text, strlen(text), jwt, err);

	free(text);
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct devplat_boot boot = {.secure_boot = true, .vbs = false, .extra_events = 2};
	json_t *hdr = json_pack("{s:s, s:s, s:s}", "jku", ISSUER "/certs", "kid", "k1", "typ", "JWT");
	X509 *cert = NULL;
	unsigned char *der = NULL;
	int n;

	f->sign_key = EVP_RSA_gen(2048);
	f->aik = EVP_RSA_gen(2048);
	f->req_key = EVP_RSA_gen(2048);
	assert_int_equal(jws_signer_new(f->sign_key, JWS_ALG_RS256, hdr, &f->signer, NULL), 0);
	json_decref(hdr);
	assert_int_equal(pipeline_ctx_new(0, &f->ctx, NULL), 0);
	memset(f->tpm_key, 0x5a, sizeof(f->tpm_key));
	assert_int_equal(pipeline_ctx_set_tpm_key(f->ctx, f->tpm_key, NULL), 0);
	assert_int_equal(devplat_tpm_ca_new("AIK CA", T_NOW - 86400, T_NOW + 86400 * 30, &f->ca, NULL), 0);
	assert_int_equal(devplat_tpm_ca_issue(f->ca, f->aik, "AIK", T_NOW - 3600, T_NOW + 86400, &cert, NULL),
			 0);
	n = i2d_X509(cert, &der);
	f->aik_cert = malloc((size_t)n);
	memcpy(f->aik_cert, der, (size_t)n);
	f->aik_cert_len = (size_t)n;
	OPENSSL_free(der);
	X509_free(cert);
	f->ctx->anchors.tpm_roots = sk_X509_new_null();
	X509_up_ref(f->ca->cert);
	sk_X509_push(f->ctx->anchors.tpm_roots, f->ca->cert);
	assert_int_equal(devplat_tcg_log_init(&f->log), 0);
	assert_int_equal(devplat_tcg_log_boot(&f->log, &boot), 0);
	devplat_tcg_log_pcrs(&f->log, &f->pcrs);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pipeline_ctx_free(f->ctx);
	jws_signer_free(f->signer);
	devplat_tpm_ca_free(f->ca);
	EVP_PKEY_free(f->sign_key);
	EVP_PKEY_free(f->aik);
	EVP_PKEY_free(f->req_key);
	free(f->aik_cert);
	devplat_tcg_log_free(&f->log);
	free(f);
	return 0;
}

/* {"data": b64url(msg)} as the SDK sends it (attestTpm). */
static char *envelope(const char *msg)
{
	char *b64 = b64url_encode((const uint8_t *)msg, strlen(msg)), *body = NULL;

	assert_true(asprintf(&body, "{\"data\":\"%s\"}", b64) > 0);
	free(b64);
	return body;
}

/* The inner message of a {"data": b64url(...)} response. */
static json_t *open_envelope(const char *body)
{
	json_t *doc = json_loads(body, 0, NULL), *msg;
	const char *data = json_string_value(json_object_get(doc, "data"));
	uint8_t *raw = NULL;
	size_t len = 0;

	assert_non_null(data);
	assert_int_equal(b64_decode(data, strlen(data), &raw, &len), 0);
	msg = json_loadb((const char *)raw, len, 0, NULL);
	assert_non_null(msg);
	free(raw);
	json_decref(doc);
	return msg;
}

static void run(struct fixture *f, const char *body, const char *policy, struct pipeline_outcome *out)
{
	struct pipeline_attest in = {0};

	in.type = MAA_TYPE_TPM;
	in.body = body;
	in.body_len = strlen(body);
	in.policy_text = policy;
	in.policy_len = policy ? strlen(policy) : 0;
	in.issuer = ISSUER;
	in.provider = f->provider;
	in.now = T_NOW;
	in.sign = test_sign;
	in.sign_arg = f;
	pipeline_attest_run(f->ctx, &in, out);
}

/* Leg 1: the challenge and context (payload-wrapped, as the SDKs ask). */
static void init_leg(struct fixture *f, char **challenge, char **context)
{
	char *body = envelope("{\"payload\":{\"type\":\"aikcert\"}}");
	struct pipeline_outcome out;
	json_t *msg, *payload;

	run(f, body, NULL, &out);
	if (out.status != 200)
		fail_msg("init: %d %s %s", out.status, out.err.name, out.err.msg);
	assert_non_null(out.body);
	msg = open_envelope(out.body);
	payload = json_object_get(msg, "payload");
	assert_non_null(payload);
	*challenge = strdup(json_string_value(json_object_get(payload, "challenge")));
	*context = strdup(json_string_value(json_object_get(payload, "service_context")));
	json_decref(msg);
	pipeline_outcome_clear(&out);
	free(body);
}

/* Leg 2's request message, quoting the challenge with the AIK, wrapped in "payload". */
static char *request_leg(struct fixture *f, const char *challenge, const char *context)
{
	uint8_t *ch = NULL, *quote = NULL, *sig = NULL;
	size_t chl = 0, ql = 0, sl = 0;
	char *msg = NULL, *wrapped = NULL, *body;
	struct devplat_tpm_attestation cur = {0};
	struct devplat_tpm_request rq = {0};
	struct attest_err err;

	assert_int_equal(b64_decode(challenge, strlen(challenge), &ch, &chl), 0);
	assert_int_equal(devplat_tpm_quote(f->aik, &f->pcrs, TPM_BANK_SHA256, 0xFFFFFF, ch, chl, &quote, &ql,
					   &sig, &sl, NULL),
			 0);
	cur.quote = quote, cur.quote_len = ql, cur.sig = sig, cur.sig_len = sl;
	cur.pcrs = &f->pcrs, cur.log = f->log.log.p, cur.log_len = f->log.log.len, cur.aik = f->aik;
	cur.aik_cert_der = f->aik_cert, cur.aik_cert_len = f->aik_cert_len;
	rq.version = 2, rq.challenge = challenge, rq.service_context = context;
	rq.rp_id = "https://rp.example", rq.rp_data = "cnBkYXRh", rq.current = &cur,
	rq.request_key = f->req_key;
	attest_err_clear(&err);
	if (devplat_tpm_request_build(&rq, &msg, &err) != 0)
		fail_msg("%s: %s", err.name, err.msg);
	assert_true(asprintf(&wrapped, "{\"payload\":%s}", msg) > 0);
	body = envelope(wrapped);
	free(wrapped);
	free(msg);
	free(ch);
	free(quote);
	free(sig);
	return body;
}

/* The token of a {"data": {"payload": {"report": jwt}}} response, verified. */
static json_t *report_claims(struct fixture *f, const char *body)
{
	json_t *msg = open_envelope(body), *claims = NULL;
	const char *jwt = json_string_value(json_object_get(json_object_get(msg, "payload"), "report"));
	struct jws *j = NULL;

	assert_non_null(jwt);
	assert_int_equal(jws_parse(jwt, strlen(jwt), &j, NULL), 0);
	assert_int_equal(jws_verify(j, f->sign_key, 0, NULL), 0);
	assert_int_equal(jwt_claims(j, &claims, NULL), 0);
	jws_free(j);
	json_decref(msg);
	return claims;
}

/* The TPM sample policy of maa-interface.md §3.7, reduced to claims our synthetic boot has. */
static const char POLICY[] =
    "version=1.1;\n"
    "configurationrules { => issueproperty(type=\"required_pcr_mask\", value=15); };\n"
    "authorizationrules { => permit(); };\n"
    "issuancerules {\n"
    "  [type==\"aikValidated\", value==true] && [type==\"secureBootEnabled\", value==true]\n"
    "     => issue(type=\"PlatformAttested\", value=true);\n"
    "};";

static void two_legs_give_a_signed_tpm_token_in_the_request_form(void **state)
{
	struct fixture *f = *state;
	char *challenge = NULL, *context = NULL, *body;
	struct pipeline_outcome out;
	json_t *claims;

	init_leg(f, &challenge, &context);
	body = request_leg(f, challenge, context);
	run(f, body, POLICY, &out);
	if (out.status != 200)
		fail_msg("request: %d %s %s (%s)", out.status, out.code, out.err.msg, out.err.name);
	claims = report_claims(f, out.body);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-attestation-type")), "tpm");
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-ver")), "1.0");
	assert_true(json_is_true(json_object_get(claims, "PlatformAttested")));
	assert_true(
	    json_is_true(json_object_get(json_object_get(claims, "x-ms-policy"), "PlatformAttested")));
	assert_true(json_is_object(json_object_get(json_object_get(claims, "cnf"), "jwk")));
	assert_string_equal(json_string_value(json_object_get(claims, "rp_data")), "cnBkYXRh");
	assert_string_equal(json_string_value(json_object_get(claims, "iss")), ISSUER);
	/* the incoming TPM claims stay policy inputs, not token claims */
	assert_null(json_object_get(claims, "aikValidated"));
	json_decref(claims);
	pipeline_outcome_clear(&out);

	/* the same request again is a replay */
	run(f, body, POLICY, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.code, "InvalidParameter");
	assert_true(strncmp(out.err.name, "tpm.", 4) == 0);
	pipeline_outcome_clear(&out);
	/* /metrics: the one redeemed id, in its provider's set, under the node's first epoch */
	{
		struct buf m;

		buf_init(&m, 1 << 16);
		pipeline_tpm_metrics(f->ctx, &m);
		assert_int_equal(buf_append(&m, "", 1), 0);
		assert_non_null(strstr((const char *)m.p, "\nattestd_tpm_replay_ids 1\n"));
		assert_non_null(strstr((const char *)m.p, "\nattestd_tpm_replay_providers 1\n"));
		assert_non_null(strstr((const char *)m.p, "\nattestd_tpm_context_epochs_started_total 1\n"));
		buf_free(&m);
	}
	free(body);
	free(challenge);
	free(context);
}

static void denying_tpm_policy_answers_policy_evaluation_error(void **state)
{
	struct fixture *f = *state;
	char *challenge = NULL, *context = NULL, *body;
	struct pipeline_outcome out;
	static const char deny[] =
	    "version=1.0; authorizationrules { [type==\"secureBootEnabled\", value==true] => "
	    "deny(); => permit(); }; issuancerules { };";

	init_leg(f, &challenge, &context);
	body = request_leg(f, challenge, context);
	run(f, body, deny, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.code, "PolicyEvaluationError");
	assert_non_null(strstr(out.err.msg, "secureBootEnabled"));
	assert_null(out.body);
	pipeline_outcome_clear(&out);
	free(body);
	free(challenge);
	free(context);
}

/* The context is sealed with the service key: another service's key cannot open it. */
static void context_from_another_service_key_is_refused(void **state)
{
	struct fixture *f = *state;
	char *challenge = NULL, *context = NULL, *body;
	struct pipeline_outcome out;

	init_leg(f, &challenge, &context);
	body = request_leg(f, challenge, context);
	f->tpm_key[0] ^= 1;
	assert_int_equal(pipeline_ctx_set_tpm_key(f->ctx, f->tpm_key, NULL), 0);
	run(f, body, POLICY, &out);
	f->tpm_key[0] ^= 1;
	assert_int_equal(pipeline_ctx_set_tpm_key(f->ctx, f->tpm_key, NULL), 0);
	assert_int_equal(out.status, 400);
	assert_true(strncmp(out.err.name, "tpm.context", 11) == 0);
	pipeline_outcome_clear(&out);
	free(body);
	free(challenge);
	free(context);
}

/* A context from provider contoso's init is refused at fabrikam, and then still redeemed at contoso. */
static void context_is_redeemed_only_at_the_provider_that_issued_it(void **state)
{
	struct fixture *f = *state;
	char *challenge = NULL, *context = NULL, *body;
	struct pipeline_outcome out;

	f->provider = "contoso";
	init_leg(f, &challenge, &context);
	body = request_leg(f, challenge, context);
	f->provider = "fabrikam";
	run(f, body, POLICY, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.code, "InvalidParameter");
	assert_string_equal(out.err.name, "tpm.context.provider");
	pipeline_outcome_clear(&out);
	f->provider = "contoso";
	run(f, body, POLICY, &out);
	if (out.status != 200)
		fail_msg("at the issuing provider: %d %s %s", out.status, out.err.name, out.err.msg);
	pipeline_outcome_clear(&out);
	f->provider = NULL;
	free(body);
	free(challenge);
	free(context);
}

/*
 * One provider's replay set full of live contexts (a tenant redeeming
 * contexts at its rate limit) answers 503 to that provider only: another
 * provider's protocol goes on.
 */
static void a_full_replay_set_refuses_only_its_own_provider(void **state)
{
	struct fixture *f = *state;
	char *challenge = NULL, *context = NULL, *body;
	struct pipeline_outcome out;
	uint8_t id[TPM_PROTO_ID_LEN] = {0xF1};
	uint64_t i = 0;

	/* fill noisy's set as its own verified requests would */
	while (tpm_replay_sets_check(f->ctx->tpm_replay, "noisy", id, T_NOW + 300, T_NOW) == 0) {
		uint64_t h = ++i * UINT64_C(0x9E3779B97F4A7C15);

		memcpy(id, &h, sizeof(h));
	}
	assert_int_equal(i, 65536); /* its own bound, the whole node's before */
	for (int p = 0; p < 2; p++) {
		f->provider = p == 0 ? "noisy" : "quiet";
		init_leg(f, &challenge, &context);
		body = request_leg(f, challenge, context);
		run(f, body, POLICY, &out);
		if (p == 0) {
			assert_int_equal(out.status, 503);
			assert_string_equal(out.code, "ServiceUnavailable");
			assert_string_equal(out.err.name, "tpm.context.replay_store");
		} else if (out.status != 200) {
			fail_msg("another provider: %d %s %s", out.status, out.err.name, out.err.msg);
		}
		pipeline_outcome_clear(&out);
		free(body);
		free(challenge);
		free(context);
	}
	f->provider = NULL;
}

static void malformed_tpm_messages_are_invalid_parameter(void **state)
{
	struct fixture *f = *state;
	static const char *const bodies[] = {
	    "", "{", "[]", "{\"data\":\"%%%\"}", "{\"data\":\"e30\"}", "{\"type\":\"other\"}"};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct pipeline_outcome out;

		run(f, bodies[i], NULL, &out);
		if (out.status != 400)
			fail_msg("%s: %d %s", bodies[i], out.status, out.err.name);
		assert_string_equal(out.code, "InvalidParameter");
		pipeline_outcome_clear(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(two_legs_give_a_signed_tpm_token_in_the_request_form),
	    cmocka_unit_test(denying_tpm_policy_answers_policy_evaluation_error),
	    cmocka_unit_test(context_from_another_service_key_is_refused),
	    cmocka_unit_test(context_is_redeemed_only_at_the_provider_that_issued_it),
	    cmocka_unit_test(a_full_replay_set_refuses_only_its_own_provider),
	    cmocka_unit_test(malformed_tpm_messages_are_invalid_parameter),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
